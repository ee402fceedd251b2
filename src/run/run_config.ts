// The main job's configuration: every key has a CLI flag and a config-file key (JSON or YAML);
// flags override the file, the file overrides the defaults. Defaults are the paper's reference
// configuration on the embedded planted-subsequence benchmark. The `backend` section (real models)
// lives mainly in the file; flags cover its common keys only.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

export const METHODS = ['best-of-n/orm', 'beam/prm', 'beam/pav', 'dvts/pav', 'pav-rerank/pav', 'dvts/prm'] as const;

// ---- real models: an OpenAI-compatible policy server and a PRM (ONNX in the pool, or vLLM pooling) ----

const retrySchema = z
  .object({
    maxAttempts: z.number().int().min(1).max(100).optional().describe('attempts per call, the first included (default 5)'),
    baseDelayMs: z.number().min(0).optional(),
    maxDelayMs: z.number().min(0).optional(),
    timeoutMs: z.number().int().min(1).optional().describe('per-attempt timeout (default 120000)'),
  })
  .strict();

const circuitSchema = z
  .object({
    failures: z.number().int().min(0).max(1000).optional().describe('failures in a row (no answer, or 502/503/504) that take an endpoint out of the rotation (default 3; 0 = never)'),
    cooldownMs: z.number().min(0).optional().describe('first cooldown, doubling while the endpoint keeps failing (default 1000)'),
    maxCooldownMs: z.number().min(0).optional().describe('longest cooldown (default 30000)'),
  })
  .strict();

const endpointSchema = z.union([
  z.string().min(1),
  z
    .object({
      url: z.string().min(1).describe('base URL, e.g. http://10.0.0.5:8000/v1'),
      maxConcurrency: z.number().int().min(1).optional().describe('requests in flight on this endpoint (default 32)'),
      apiKeyEnv: z.string().min(1).optional().describe('environment variable holding the API key (keys never go in the config)'),
    })
    .strict(),
]);

const prmTemplateSchema = z.union([
  z.enum(['qwen-prm', 'math-shepherd', 'plain']),
  z.object({ prefix: z.string(), step: z.string(), separator: z.string().optional(), suffix: z.string().optional() }).strict(),
]);

export const onnxPrmVerifierSchema = z
  .object({
    kind: z.literal('onnx-prm'),
    modelPath: z.string().min(1).describe('the PRM exported to ONNX (input_ids, attention_mask -> logits [B,T,C])'),
    tokenizerPath: z.string().min(1).describe("the model's tokenizer.json"),
    stepTag: z.string().min(1).default('<extra_0>').describe('text after each step; its positions are read'),
    stepTagId: z.number().int().min(0).optional().describe('id of the tag when its text is not one token by itself'),
    head: z
      .discriminatedUnion('kind', [
        z
          .object({
            kind: z.literal('classification'),
            positiveIndex: z.number().int().min(0).default(1),
            activation: z.enum(['softmax', 'sigmoid']).default('softmax'),
          })
          .strict(),
        z
          .object({
            kind: z.literal('lm'),
            goodTokenId: z.number().int().min(0).optional(),
            badTokenId: z.number().int().min(0).optional(),
            goodToken: z.string().min(1).optional(),
            badToken: z.string().min(1).optional(),
          })
          .strict(),
      ])
      .prefault({ kind: 'classification' }),
    template: prmTemplateSchema.default('qwen-prm'),
    maxLength: z.number().int().min(2).default(4096),
    truncation: z.enum(['left', 'error']).default('left'),
    padMultiple: z.number().int().min(1).default(64),
    padTokenId: z.number().int().min(0).default(0),
    emptyPrefixValue: z.number().min(0).max(1).default(0.5),
    workers: z.number().int().min(1).max(64).default(1),
    intraOpThreads: z.number().int().min(1).optional(),
    tokenizerWorkers: z.number().int().min(0).max(64).optional().describe('threads that tokenize prefixes (0: the main thread; default: up to 4 spare cores)'),
    maxBatchRows: z.number().int().min(1).default(64),
    executionProviders: z.array(z.string().min(1)).min(1).default(['cpu']),
    inputNames: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
    outputName: z.string().min(1).optional(),
  })
  .strict();

export const poolingVerifierSchema = z
  .object({
    kind: z.literal('vllm-pooling'),
    model: z.string().min(1),
    endpoints: z.array(endpointSchema).min(1),
    stepTag: z.string().min(1).default('<extra_0>'),
    format: z.enum(['qwen-prm', 'plain']).default('qwen-prm'),
    rewardIndex: z.number().int().min(0).default(1),
    transform: z.enum(['none', 'sigmoid']).default('none'),
    emptyPrefixValue: z.number().min(0).max(1).default(0.5),
    maxBatch: z.number().int().min(1).default(16),
    retry: retrySchema.optional(),
    circuit: circuitSchema.optional(),
  })
  .strict();

export const openaiBackendSchema = z
  .object({
    kind: z.literal('openai'),
    problemsFile: z.string().min(1).describe('JSONL of {id, problem, answer} (MATH-500, GSM8K exports)'),
    limit: z.number().int().min(1).optional().describe('use the first N problems'),
    policy: z
      .object({
        model: z.string().min(1).describe('model name as the server knows it'),
        endpoints: z.array(endpointSchema).min(1),
        promptTemplate: z.string().optional().describe('prompt head with {problem}; default: the problem, then the delimiter'),
        delimiter: z.string().min(1).default('\n\n').describe('ends a step'),
        maxStepTokens: z.number().int().min(1).default(512),
        maxCompletionTokens: z.number().int().min(1).default(2048),
        temperature: z.number().min(0).optional(),
        topP: z.number().gt(0).max(1).optional(),
        seedMode: z.enum(['request', 'sample']).default('request'),
        extraBody: z.record(z.string(), z.unknown()).optional().describe("extra request fields (vLLM's top_k, ...)"),
        retry: retrySchema.optional(),
        circuit: circuitSchema.optional(),
      })
      .strict(),
    verifier: z.discriminatedUnion('kind', [onnxPrmVerifierSchema, poolingVerifierSchema]),
    prover: z
      .discriminatedUnion('kind', [onnxPrmVerifierSchema, poolingVerifierSchema])
      .optional()
      .describe("a separate prover verifier for PAV scores (a PRM trained on a prover policy's rollouts); absent: Best-of-K of the verifier"),
    gradeTimeoutMs: z.number().int().min(1).default(1000).describe('time limit of one symbolic answer comparison'),
  })
  .strict();

export type OpenAIBackendConfig = z.output<typeof openaiBackendSchema>;

export const runConfigSchema = z
  .object({
    benchmark: z
      .object({
        problems: z.number().int().min(1).max(1_000_000).default(500).describe('problems in the embedded suite'),
        seed: z.number().int().min(0).default(1).describe('seed of the suite generation'),
      })
      .strict()
      .prefault({}),
    policy: z
      .object({
        gamma: z.number().positive().finite().default(5).describe('base policy mu_gamma (paper: 5)'),
      })
      .strict()
      .prefault({}),
    verifier: z
      .object({
        kind: z.enum(['oracle', 'noisy', 'learned']).default('noisy').describe('verifier of the toy'),
        noise: z.number().min(0).finite().default(1).describe('logit-space noise of the noisy verifier'),
        noiseCorrelation: z.number().min(0).lt(1).default(0).describe("correlation of a prefix's noise with its extension's (0: independent)"),
        model: z.string().optional().describe('ONNX file of the learned verifier'),
        workers: z.number().int().min(1).max(64).default(2).describe('verifier pool workers (learned)'),
      })
      .strict()
      .prefault({}),
    prover: z
      .object({
        kind: z.enum(['oracle', 'noisy', 'learned']).describe('a separate prover verifier for PAV scores (absent: Best-of-K of the verifier)'),
        gamma: z.number().positive().finite().default(10).describe('prover policy mu_gamma whose Q it reports (oracle, noisy)'),
        noise: z.number().min(0).finite().default(1).describe('logit-space noise of a noisy prover'),
        noiseCorrelation: z.number().min(0).lt(1).default(0).describe("correlation of a prefix's noise with its extension's (noisy)"),
        seed: z.number().int().min(0).max(0xffffffff).default(7).describe("noise seed of a noisy prover (the verifier's is 0)"),
        model: z.string().optional().describe('ONNX file of a learned prover (fitted on mu_gamma data)'),
      })
      .strict()
      .optional()
      .describe('embedded benchmark only'),
    methods: z.array(z.enum(METHODS)).min(1).default(['best-of-n/orm', 'beam/prm', 'beam/pav', 'dvts/pav', 'pav-rerank/pav']),
    budgets: z.array(z.number().int().min(1).max(1 << 16)).min(1).default([2, 4, 8, 16, 32, 64, 128]),
    search: z
      .object({
        expansions: z.number().int().min(1).default(3),
        alpha: z.number().finite().default(0.5),
        proverK: z.number().int().min(1).default(4),
        dvtsWidth: z.number().int().min(1).default(4),
        selection: z.enum(['max', 'weighted', 'majority']).default('max'),
        rerankAggregate: z.enum(['last', 'min', 'prod', 'mean']).default('min'),
        dedupe: z.boolean().default(false),
        maxSteps: z.number().int().min(1).default(64),
        seed: z.number().int().min(0).max(0xffffffff).default(0),
      })
      .strict()
      .prefault({}),
    engine: z
      .object({
        window: z.number().int().min(1).default(64).describe('problems in flight'),
        lanes: z.number().int().min(1).default(2).describe('concurrent cohorts (overlap)'),
      })
      .strict()
      .prefault({}),
    modelSizes: z
      // Bounded so that 2 x parameters x tokens stays finite (1e308 made every FLOPs figure Infinity).
      .object({ policyParams: z.number().positive().max(1e15).optional(), verifierParams: z.number().positive().max(1e15).optional(), proverParams: z.number().positive().max(1e15).optional() })
      .strict()
      .prefault({}),
    backend: z
      .discriminatedUnion('kind', [z.object({ kind: z.literal('toy') }).strict(), openaiBackendSchema])
      .optional()
      .describe('models searched: the embedded toy benchmark (absent or toy), or real models behind an OpenAI-compatible server'),
    /** Results folder; default results/run-<UTC timestamp>, with results/latest pointing at the newest. */
    out: z.string().min(1).optional(),
    trace: z.boolean().default(false).describe('write a Chrome trace-event file of the phases'),
  })
  .strict();

export type RunConfig = z.output<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Read a JSON or YAML config file; errors name the file. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { merge: true });
  } catch (err) {
    throw new ConfigError(`config file ${path} does not parse: ${(err as Error).message}`);
  }
}

/**
 * Deep-merge b over a (plain objects only; arrays and scalars replace). Undefined values in b (flags
 * not given) are dropped, and a section of b with nothing defined leaves a's value as it is: the
 * merged config then holds only what was set, so its hash does not depend on where a value came from,
 * and a malformed file section still reaches the schema instead of being replaced.
 */
export function mergeConfig(a: unknown, b: unknown): unknown {
  if (isPlain(b)) {
    const set = Object.entries(b).filter(([, v]) => v !== undefined);
    if (set.length === 0) return a;
    if (!isPlain(a) && a !== undefined) return a; // a malformed file value: the schema names it
    const out: Record<string, unknown> = { ...(a ?? {}) };
    for (const [k, v] of set) out[k] = mergeConfig(out[k], v);
    return out;
  }
  return b === undefined ? a : b;
}

/** A plain object (not null, not an array): a config mapping. */
export function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sections that configure the embedded benchmark only (a real-model backend would ignore them). */
const TOY_SECTIONS = ['benchmark', 'policy', 'verifier', 'prover'] as const;

export function parseRunConfig(input: unknown, where = 'run config'): RunConfig {
  const r = runConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(`invalid ${where}:\n${z.prettifyError(r.error)}`);
  if (r.data.backend?.kind === 'openai' && isPlain(input)) {
    const given = TOY_SECTIONS.filter((k) => input[k] !== undefined);
    if (given.length > 0)
      throw new ConfigError(
        `invalid ${where}: ${given.join(', ')} configure${given.length === 1 ? 's' : ''} the embedded benchmark, which backend kind openai does not run ` +
          `(its problems, policy and verifiers are in backend: problemsFile and limit, policy, verifier, prover)`,
      );
  }
  return r.data;
}

/** Hash of everything that determines the rows (not where they go, nor batching, which cannot change them). */
export function configHash(c: RunConfig): string {
  const { out: _out, trace: _trace, engine: _engine, ...rest } = c;
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  // An absent key and one set to undefined are the same config.
  if (isPlain(v))
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
