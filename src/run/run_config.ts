// The main job's configuration: every key has a CLI flag and a config-file key (JSON or YAML);
// flags override the file, the file overrides the defaults. Defaults are the paper's reference
// configuration on the embedded planted-subsequence benchmark.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

export const METHODS = ['best-of-n/orm', 'beam/prm', 'beam/pav', 'dvts/pav', 'pav-rerank/pav', 'dvts/prm'] as const;

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
        model: z.string().optional().describe('ONNX file of the learned verifier'),
        workers: z.number().int().min(1).max(64).default(2).describe('verifier pool workers (learned)'),
      })
      .strict()
      .prefault({}),
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
      .object({ policyParams: z.number().positive().optional(), verifierParams: z.number().positive().optional() })
      .strict()
      .prefault({}),
    out: z.string().default('results/latest'),
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

/** Deep-merge b over a (plain objects only; arrays and scalars replace). */
export function mergeConfig(a: unknown, b: unknown): unknown {
  if (isPlain(a) && isPlain(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = mergeConfig(out[k], v);
    return out;
  }
  return b === undefined ? a : b;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseRunConfig(input: unknown, where = 'run config'): RunConfig {
  const r = runConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(`invalid ${where}:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** Hash of everything that determines the rows (not where they go, nor batching, which cannot change them). */
export function configHash(c: RunConfig): string {
  const { out: _out, trace: _trace, engine: _engine, ...rest } = c;
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 16);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isPlain(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  return JSON.stringify(v);
}
