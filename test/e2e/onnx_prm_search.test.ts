// End to end on text: searches over a JSONL problem set with the HTTP policy (a scripted loopback
// OpenAI-compatible server), the ONNX PRM in the verifier pool (generated tokenizer and random
// transformer) and TextTask; then the main job configured with a `backend` section, where one
// problem's calls fail with HTTP 500 and are recorded as failed rows while the run goes on.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { writeTinyPrm, type TinyPrmFiles } from '../../src/real/fixtures.ts';
import { OnnxPrmVerifier } from '../../src/real/onnx_prm_verifier.ts';
import { OpenAIPolicy } from '../../src/real/openai_policy.ts';
import { loadProblems } from '../../src/real/problems.ts';
import { TextTask } from '../../src/real/text_task.ts';
import { readResults } from '../../src/run/results_store.ts';
import { runMainJob } from '../../src/run/main_job.ts';
import { parseRunConfig } from '../../src/run/run_config.ts';
import { createTextBackends } from '../../src/run/text_backends.ts';
import { solveAndDescribe } from '../../src/run/solve_report.ts';
import { parseSearchConfig } from '../../src/search/config.ts';
import { runSearchBatch } from '../../src/search/engine.ts';
import { resolveRunConfig } from '../../src/cli/main.ts';
import { startTextPolicyServer, type TextPolicyServer } from '../fixtures/text_policy_server.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-text-e2e-'));
const problemsFile = join(dir, 'problems.jsonl');
const rows = [
  { id: 'a', problem: 'What is 12 + 5?', answer: '17' },
  { id: 'b', problem: 'What is 3 + 4?', answer: '7' },
  { id: 'c', problem: 'What is 20 + 22? (this one will explode)', answer: '42' },
  { id: 'd', problem: 'What is 8 + 9?', answer: '\\frac{34}{2}' },
  { id: 'e', problem: 'What is 100 + 1?', answer: 101 },
];
const FAILING = 2;
let prm: TinyPrmFiles;
let server: TextPolicyServer;
const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 5000 };

beforeAll(async () => {
  writeFileSync(problemsFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  prm = await writeTinyPrm(join(dir, 'prm'));
  server = await startTextPolicyServer();
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('text search with OpenAIPolicy + OnnxPrmVerifier + TextTask', () => {
  it('returns a result for every problem, counts compute, and isolates the failing problem', async () => {
    const problems = await loadProblems(problemsFile);
    const policy = new OpenAIPolicy({ model: 'fake', endpoints: [server.url], problems: problems.map((p) => p.problem), retry });
    const verifier = await OnnxPrmVerifier.create({ modelPath: prm.modelPath, tokenizerPath: prm.tokenizerPath, problems, workers: 1, intraOpThreads: 1 });
    const task = new TextTask(problems);
    const ids = problems.map((_, i) => i);
    try {
      for (const config of [
        { algorithm: 'beam', score: 'pav', budget: 4 },
        { algorithm: 'best-of-n', budget: 4 },
        { algorithm: 'dvts', score: 'prm', budget: 4, dvtsWidth: 2 },
      ] as const) {
        const results = await runSearchBatch({ policy, verifier, task }, config, ids, { window: 4, lanes: 2 });
        expect(results.map((r) => r.problem)).toEqual(ids);
        for (const r of results) {
          if (r.problem === FAILING) {
            expect(r.status).toBe('failed');
            expect(r.error).toMatch(/500/);
            continue;
          }
          expect(r.status, `${config.algorithm} problem ${r.problem}: ${r.error}`).toBe('ok');
          expect(r.trace).not.toBeNull();
          expect(r.trace!.at(-1)).toMatch(/\\boxed\{\d+\}/);
          expect(r.finished).toBe(true);
          expect(r.compute.policyTokens).toBeGreaterThan(0);
          expect(r.compute.verifierCalls).toBeGreaterThan(0);
          expect(r.compute.verifierTokens).toBeGreaterThan(0);
          expect(r.value).toBeGreaterThan(0);
          expect(r.value).toBeLessThan(1);
          expect(r.correct).toBe(task.isCorrect(r.problem, r.trace!));
          if (config.algorithm === 'best-of-n') expect(r.passAtN).toBe(true); // 4 samples, 1 in 3 wrong: some right
        }
      }
      expect(server.failures).toBeGreaterThan(0);
      expect(verifier.pool.stats().batches).toBeGreaterThan(0);
    } finally {
      await policy.close();
      await verifier.close();
    }
  });
});

describe('PAV rerank with a PRM that scores every step in one pass', () => {
  it('picks what per-prefix scoring picks, with one verifier call per response and fewer tokens', async () => {
    const problems = await loadProblems(problemsFile);
    const policy = new OpenAIPolicy({ model: 'fake', endpoints: [server.url], problems: problems.map((p) => p.problem), retry });
    const verifier = await OnnxPrmVerifier.create({ modelPath: prm.modelPath, tokenizerPath: prm.tokenizerPath, problems, workers: 1, intraOpThreads: 1 });
    // The same model without scoreSteps: the engine scores every prefix of every response.
    const perPrefix = { name: verifier.name, scorePrefixes: verifier.scorePrefixes.bind(verifier) };
    const task = new TextTask(problems);
    const ids = [0, 1, 3, 4];
    const config = { algorithm: 'pav-rerank', budget: 4 } as const;
    try {
      const a = await runSearchBatch({ policy, verifier, task }, config, ids);
      const b = await runSearchBatch({ policy, verifier: perPrefix, task }, config, ids);
      for (let i = 0; i < ids.length; i++) {
        expect(a[i].status, a[i].error).toBe('ok');
        expect(b[i].status, b[i].error).toBe('ok');
        expect(a[i].trace).toEqual(b[i].trace);
        expect(Math.abs(a[i].value! - b[i].value!)).toBeLessThan(1e-5);
        a[i].stepValues!.forEach((x, h) => expect(Math.abs(x - b[i].stepValues![h])).toBeLessThan(1e-5));
        expect(a[i].compute.policySamples).toBeGreaterThan(config.budget); // responses of several steps
        // One call per response plus the root; per prefix, one per step plus the root.
        expect(a[i].compute.verifierCalls).toBe(config.budget + 1);
        expect(b[i].compute.verifierCalls).toBe(a[i].compute.policySamples + 1);
        expect(a[i].compute.verifierTokens).toBeLessThan(b[i].compute.verifierTokens);
      }
    } finally {
      await policy.close();
      await verifier.close();
    }
  });
});

describe('main job with a backend section', () => {
  const backend = () => ({
    kind: 'openai' as const,
    problemsFile,
    policy: { model: 'fake', endpoints: [{ url: server.url, maxConcurrency: 8 }], retry, circuit: { failures: 0 } },
    verifier: { kind: 'onnx-prm' as const, modelPath: prm.modelPath, tokenizerPath: prm.tokenizerPath, workers: 1, intraOpThreads: 1 },
  });

  it('writes a row per problem and method; the failing problem is a failed row and the run completes', async () => {
    const out = join(dir, 'run');
    const config = parseRunConfig({ backend: backend(), methods: ['best-of-n/orm', 'beam/pav'], budgets: [2, 4], out, engine: { window: 4 } });
    const { summary } = await runMainJob(config);
    const lines = readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { problem: number; id: string; status: string; configKey: string; trace: string | null; error?: string });
    expect(lines).toHaveLength(rows.length * 4);
    for (const r of lines) {
      if (r.problem === FAILING) {
        expect(r.status).toBe('failed');
        expect(r.error).toMatch(/500/);
      } else {
        expect(r.status, r.error).toBe('ok');
        expect(r.trace).toContain(`Problem ${r.id}:`);
      }
    }
    expect(summary.problems).toBe(rows.length);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { config: { backend: { kind: string } } };
    expect(manifest.config.backend.kind).toBe('openai');
    // --resume tries the failed problem again (its 4 rows; the server still fails it, so the new
    // failed rows take the old ones' place) and redoes nothing else.
    await runMainJob(config, { resume: true });
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(rows.length * 4 + 4);
    const effective = readResults(join(out, 'results.jsonl'));
    expect(effective).toHaveLength(rows.length * 4);
    expect(effective.filter((r) => r.status === 'failed').map((r) => r.problem)).toEqual([FAILING, FAILING, FAILING, FAILING]);
  });

  it('`search` on real-model backends: one problem, its trace and per-step Q, A and PAV score', async () => {
    const b = await createTextBackends(parseRunConfig({ backend: backend() }).backend as never);
    try {
      const text = await solveAndDescribe(b, parseSearchConfig({ algorithm: 'beam', score: 'pav', budget: 2 }), 0);
      expect(text).toMatch(/status ok/);
      expect(text).toMatch(/answer: \d+ {2}-> {2}(correct|wrong)/);
      expect(text).toMatch(/\n1 +We add 12 and 5\./);
      expect(text).toMatch(/step\s+text\s+Q\^pi\s+A\^mu \(BoK 4\)/);
      expect(text).toMatch(/\\boxed\{\d+\}/);
      // A single solve reports the backend's error to its caller (a batch run records a failed row instead).
      await expect(solveAndDescribe(b, parseSearchConfig({ algorithm: 'beam', budget: 2 }), FAILING)).rejects.toThrow(/500/);
    } finally {
      await b.close();
    }
  });

  it('a separate prover verifier (backend.prover): PAV reads its values; both PRMs are charged', async () => {
    const prover = await writeTinyPrm(join(dir, 'prover'), { seed: 11 });
    const withProver = await createTextBackends(
      parseRunConfig({ backend: { ...backend(), prover: { kind: 'onnx-prm', modelPath: prover.modelPath, tokenizerPath: prover.tokenizerPath, workers: 1, intraOpThreads: 1 } } }).backend as never,
    );
    const plain = await createTextBackends(parseRunConfig({ backend: backend() }).backend as never);
    try {
      expect(withProver.prover?.name).toBe('onnx-prm:prm.onnx');
      // retry and circuit settings reach the policy's endpoint pool (defaults where not set).
      expect((plain.policy as OpenAIPolicy).pool.circuit).toEqual({ failures: 0, cooldownMs: 1000, maxCooldownMs: 30_000 });
      const config = parseSearchConfig({ algorithm: 'beam', score: 'pav', budget: 2, alpha: 2 });
      const ids = [0, 1, 3, 4];
      const a = await runSearchBatch(withProver, config, ids);
      const b = await runSearchBatch(plain, config, ids);
      for (let i = 0; i < ids.length; i++) {
        expect(a[i].status, a[i].error).toBe('ok');
        // Every child scored by both the verifier and the prover; the root by the prover alone.
        expect(a[i].compute.verifierCalls).toBe(a[i].compute.policySamples);
        expect(a[i].compute.proverCalls).toBe(a[i].compute.policySamples + 1);
        expect(a[i].compute.proverTokens).toBeGreaterThan(0);
        expect(b[i].compute.verifierCalls).toBe(b[i].compute.policySamples + 1);
        expect(b[i].compute.proverCalls).toBe(0);
      }
      const text = await solveAndDescribe(withProver, config, 0);
      expect(text).toMatch(/prover onnx-prm:prm\.onnx/);
      expect(text).toMatch(/A\^mu \(onnx-prm:prm\.onnx\)/);
    } finally {
      await withProver.close();
      await plain.close();
    }
  });

  it('createTextBackends: the pooling verifier option and config errors that name the key', async () => {
    const b = await createTextBackends(parseRunConfig({ backend: { ...backend(), limit: 2, verifier: { kind: 'vllm-pooling', model: 'prm', endpoints: ['http://127.0.0.1:1'] } } }).backend as never);
    expect(b.task.problemCount).toBe(2);
    expect(b.verifier.name).toBe('vllm-pooling:prm');
    await b.close();
    expect(() => parseRunConfig({ backend: { ...backend(), verifier: { kind: 'onnx-prm', modelPath: 'x.onnx' } } })).toThrow(/tokenizerPath/);
    expect(() => parseRunConfig({ backend: { ...backend(), verifier: { ...backend().verifier, head: { kind: 'lm', good: 1 } } } })).toThrow(/good/);
    await expect(createTextBackends(parseRunConfig({ backend: { ...backend(), policy: { model: 'm', endpoints: [{ url: 'http://x', apiKeyEnv: 'PAV_TEST_NO_SUCH_KEY' }] } } }).backend as never)).rejects.toThrow(
      /backend\.policy\.endpoints\[0\]\.apiKeyEnv: environment variable PAV_TEST_NO_SUCH_KEY is not set/,
    );
    await expect(createTextBackends(parseRunConfig({ backend: { ...backend(), problemsFile: join(dir, 'none.jsonl') } }).backend as never)).rejects.toThrow(ConfigError);
  });

  it('CLI flags fill the backend section over the config file; no flags keep the toy default', () => {
    expect(resolveRunConfig({}).backend).toBeUndefined();
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, `backend:\n  kind: openai\n  problemsFile: ${problemsFile}\n  policy:\n    model: from-file\n    endpoints: [http://127.0.0.1:9/v1]\n  verifier:\n    kind: onnx-prm\n    modelPath: a.onnx\n    tokenizerPath: t.json\n    template: math-shepherd\n    stepTag: ки\n`);
    const c = resolveRunConfig({ config: cfg, policyModel: 'from-flag', prmOnnx: 'b.onnx' });
    expect(c.backend).toMatchObject({
      kind: 'openai',
      policy: { model: 'from-flag', endpoints: ['http://127.0.0.1:9/v1'], delimiter: '\n\n' },
      verifier: { kind: 'onnx-prm', modelPath: 'b.onnx', tokenizerPath: 't.json', template: 'math-shepherd', stepTag: 'ки', head: { kind: 'classification', positiveIndex: 1 } },
    });
    const d = resolveRunConfig({ problemsFile, policyUrl: ['http://h:1/v1', 'http://h:2/v1'], policyModel: 'm', prmOnnx: 'p.onnx', tokenizer: 't.json' });
    expect(d.backend).toMatchObject({ kind: 'openai', problemsFile, policy: { model: 'm', endpoints: ['http://h:1/v1', 'http://h:2/v1'] }, verifier: { modelPath: 'p.onnx', tokenizerPath: 't.json' } });
    expect(() => resolveRunConfig({ problemsFile })).toThrow(/policy/);
  });
});
