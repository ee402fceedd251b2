// The verifier pool with real piscina worker threads running onnxruntime sessions.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, ConfigError, ErrorCodes, PavRangeError } from '../../src/errors.ts';
import { buildToyPrmMlp, buildTransformerPrm, randomTransformerWeights, toyMlpForward, transformerForward, type ToyMlpWeights } from '../../src/onnx/models.ts';
import { createVerifierPool, type VerifierPool } from '../../src/verifier/pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-pool-'));
const tw = randomTransformerWeights({ vocab: 30, hidden: 8, layers: 1, maxSeq: 16, seed: 2 });
const transformerPath = join(dir, 'transformer.onnx');
let s = 3;
const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
const mw: ToyMlpWeights = { vocab: 5, seqLen: 6, hidden: 4, w1: Float32Array.from({ length: 120 }, r), b1: Float32Array.from({ length: 4 }, r), w2: Float32Array.from({ length: 4 }, r), b2: new Float32Array([0.1]) };
const mlpPath = join(dir, 'mlp.onnx');
const osThreads = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

function inputs(rows: number, T: number, base: number, vocab: number) {
  const ids = BigInt64Array.from({ length: rows * T }, (_, i) => BigInt((base * 7 + i * 3) % vocab));
  const mask = BigInt64Array.from({ length: rows * T }, (_, i) => (i % T < T - ((base + Math.floor(i / T)) % 3) ? 1n : 0n));
  return { ids, mask };
}
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
};

let pool: VerifierPool;
beforeAll(async () => {
  await buildTransformerPrm(tw).save(transformerPath);
  await buildToyPrmMlp(mw).save(mlpPath);
  pool = await createVerifierPool({ modelPath: transformerPath, workers: 2, intraOpThreads: 1, maxBatchRows: 256, maxWaitMs: 20 });
});
afterAll(async () => {
  await pool?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('verifier pool', () => {
  it('starts one session per real worker thread', () => {
    const st = pool.stats();
    expect(st.workers).toBe(2);
    expect(new Set(st.threadIds).size).toBe(2);
    expect(st.threadIds).not.toContain(threadId);
    expect(pool.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(pool.outputNames).toEqual(['logits']);
    expect(pool.providers).toEqual(['cpu']);
  });

  it('coalesces concurrent requests and routes each its own rows', async () => {
    const before = pool.stats();
    const T = 9;
    const reqs = Array.from({ length: 24 }, (_, i) => ({ rows: 1 + (i % 5), ...inputs(1 + (i % 5), T, i, 30) }));
    const refs = reqs.map((q) => transformerForward(tw, q.ids, q.mask, q.rows, T));
    const outs = await Promise.all(reqs.map((q) => pool.run(q.ids, q.mask, q.rows, T)));
    outs.forEach((o, i) => close(o, refs[i], 1e-4));
    const st = pool.stats();
    const batches = st.batches - before.batches;
    expect(st.requests - before.requests).toBe(24);
    expect(batches).toBeLessThan(24);
    expect(st.coalescedBatches).toBeGreaterThan(before.coalescedBatches);
    expect(st.maxRequestsPerBatch).toBeGreaterThan(1);
  });

  it('transfers the inputs of a request sent alone (no copy) and splits big requests', async () => {
    const q = inputs(4, 5, 1, 30);
    const ref = transformerForward(tw, q.ids, q.mask, 4, 5);
    const out = await pool.run(q.ids, q.mask, 4, 5);
    close(out, ref, 1e-4);
    expect(q.ids.length).toBe(0); // detached: moved to the worker
    const big = inputs(600, 3, 2, 30);
    const bigRef = transformerForward(tw, big.ids, big.mask, 600, 3);
    const before = pool.stats().batches;
    close(await pool.run(big.ids, big.mask, 600, 3), bigRef, 1e-4);
    expect(pool.stats().batches - before).toBe(3); // 256 + 256 + 88
  });

  it('a model error rejects only its batch, typed', async () => {
    const good = inputs(3, 4, 0, 30);
    const bad = inputs(3, 7, 0, 30);
    bad.ids[2] = 999n; // outside the embedding table
    const [g, b] = await Promise.allSettled([pool.run(good.ids, good.mask, 3, 4), pool.run(bad.ids, bad.mask, 3, 7)]);
    expect(g.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect((b as PromiseRejectedResult).reason).toBeInstanceOf(BackendError);
    await expect(pool.failTask('boom')).rejects.toMatchObject({ code: ErrorCodes.BACKEND, message: expect.stringMatching(/boom/) });
    // The pool still works afterwards.
    const again = inputs(2, 4, 5, 30);
    const ref = transformerForward(tw, again.ids, again.mask, 2, 4);
    close(await pool.run(again.ids, again.mask, 2, 4), ref, 1e-4);
  });

  it('serves the toy MLP (one score per sequence)', async () => {
    const p = await createVerifierPool({ modelPath: mlpPath, workers: 2, intraOpThreads: 1, maxBatchRows: 64, maxWaitMs: 1 });
    expect(p.outputNames).toEqual(['scores']);
    const q = inputs(10, 6, 3, 5);
    const ref = toyMlpForward(mw, q.ids, q.mask, 10);
    close(await p.run(q.ids, q.mask, 10, 6), ref, 1e-5);
    await p.close();
  });

  it('refuses a missing or broken model with ConfigError', async () => {
    await expect(createVerifierPool({ modelPath: join(dir, 'nope.onnx'), workers: 1 })).rejects.toBeInstanceOf(ConfigError);
    const broken = join(dir, 'broken.onnx');
    writeFileSync(broken, 'not a model');
    await expect(createVerifierPool({ modelPath: broken, workers: 1, intraOpThreads: 1 })).rejects.toBeInstanceOf(ConfigError);
  });

  it('outputColumns: bad indices are typed errors naming the index', async () => {
    await expect(createVerifierPool({ modelPath: mlpPath, workers: 1, outputColumns: [] })).rejects.toThrow(/outputColumns must be a non-empty array/);
    await expect(createVerifierPool({ modelPath: mlpPath, workers: 1, outputColumns: [1, -2] })).rejects.toThrow(/outputColumns\[1\] must be an integer >= 0, got -2/);
    await expect(createVerifierPool({ modelPath: mlpPath, workers: 1, outputColumns: [0.5] })).rejects.toBeInstanceOf(PavRangeError);
  });

  it('refuses bad batching options before starting any worker thread', async () => {
    // Warm first: onnxruntime keeps one process-wide thread once loaded.
    await (await createVerifierPool({ modelPath: mlpPath, workers: 1, intraOpThreads: 1 })).close();
    await new Promise((res) => setTimeout(res, 50));
    const baseline = osThreads();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ maxBatchRows: 0 }, /maxBatchRows/],
      [{ maxBatchRows: '4' }, /maxBatchRows/],
      [{ maxWaitMs: -1 }, /maxWaitMs/],
      [{ maxWaitMs: Infinity }, /maxWaitMs/],
      [{ maxInFlight: 0 }, /maxInFlight/],
      [{ maxQueuedRows: 2.5 }, /maxQueuedRows/],
      [{ onQueueFull: 'drop' }, /onQueueFull/],
    ];
    for (const [o, msg] of bad) {
      const p = createVerifierPool({ modelPath: mlpPath, workers: 2, intraOpThreads: 1, ...o });
      await expect(p).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_PAV_(INVALID_ARG|INVALID_TYPE|NON_FINITE)$/) });
      await expect(p).rejects.toThrow(msg);
    }
    await new Promise((res) => setTimeout(res, 50));
    expect(osThreads()).toBe(baseline);
  });

  it('close() drains pending work, refuses new work, and returns the thread count to normal', async () => {
    // Baseline after one open/close cycle (onnxruntime keeps one process-wide thread once loaded).
    const warm = await createVerifierPool({ modelPath: mlpPath, workers: 2, intraOpThreads: 1 });
    await warm.close();
    await new Promise((res) => setTimeout(res, 50));
    const baseline = osThreads();
    const p = await createVerifierPool({ modelPath: mlpPath, workers: 2, intraOpThreads: 1, maxBatchRows: 64, maxWaitMs: 10_000 });
    expect(osThreads()).toBeGreaterThanOrEqual(baseline + 2);
    const q = inputs(5, 6, 1, 5);
    const ref = toyMlpForward(mw, q.ids, q.mask, 5);
    const pending = p.run(q.ids, q.mask, 5, 6); // would wait 10 s for company; close dispatches it now
    await p.close();
    close(await pending, ref, 1e-5);
    await expect(p.run(new BigInt64Array(6), new BigInt64Array(6), 1, 6)).rejects.toBeInstanceOf(BackendError);
    await new Promise((res) => setTimeout(res, 50));
    expect(osThreads()).toBe(baseline);
  });

  it('a process that closes its pool exits on its own (no hung handles)', () => {
    const script = join(dir, 'exit.mts');
    writeFileSync(script, `
      import { createVerifierPool } from ${JSON.stringify(new URL('../../src/verifier/pool.ts', import.meta.url).pathname)};
      const p = await createVerifierPool({ modelPath: ${JSON.stringify(mlpPath)}, workers: 2, intraOpThreads: 1 });
      const out = await p.run(new BigInt64Array(12), new BigInt64Array(12).fill(1n), 2, 6);
      await p.close();
      console.log('scores', out.length);
    `);
    const res = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), timeout: 20_000, encoding: 'utf8' });
    expect(res.signal).toBeNull();
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('scores 2');
  });
});
