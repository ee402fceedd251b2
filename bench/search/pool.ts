// Throughput of the verifier pool on a transformer-shaped PRM (random weights, written to a temp dir):
// W pool workers vs W x one in-process session (both with intraOpNumThreads = 1), and the dynamic
// batcher's effect on many small concurrent requests. Prints a table and one JSON line.
//   npx tsx bench/search/pool.ts [--workers 2] [--seconds 3] [--rows 128] [--seq 32] [--hidden 64] [--layers 2]
// Rows per request default to 128: on this model a session is fastest per row at 32-128 rows
// (512-row batches are ~20% slower per row: their activations fall out of cache).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildToyPrmMlp, buildTransformerPrm, randomTransformerWeights } from '../../src/onnx/models.ts';
import { createVerifierPool } from '../../src/verifier/pool.ts';

const { values: a } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '128' },
    seq: { type: 'string', default: '32' },
    hidden: { type: 'string', default: '64' },
    layers: { type: 'string', default: '2' },
    vocab: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
  },
});
const W = Number(a.workers), SECONDS = Number(a.seconds), ROWS = Number(a.rows), T = Number(a.seq);
const cfg = { vocab: Number(a.vocab), hidden: Number(a.hidden), layers: Number(a.layers), maxSeq: T, seed: 1 };

const dir = mkdtempSync(join(tmpdir(), 'pav-bench-pool-'));
const modelPath = join(dir, 'prm.onnx');
await buildTransformerPrm(randomTransformerWeights(cfg)).save(modelPath);
// The toy PRM's shape (V = 18, L = 21, 64 hidden, match features): microseconds of compute per row,
// so per-task overhead is what coalescing saves.
const toyPath = join(dir, 'toy.onnx');
{
  const [V, L, H, Tm, Lp] = [18, 21, 64, 6, 14];
  let s = 5;
  const r = (n: number) => Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.2);
  await buildToyPrmMlp({ vocab: V, seqLen: L, hidden: H, w1: r(L * V * H), b1: r(H), w2: r(H), b2: r(1), match: { targetLen: Tm, prefixStart: Tm + 1, prefixLen: Lp, w: r(Tm * Lp * H) } }).save(toyPath);
}

function inputs(rows: number, seed: number, T = Number(a.seq), vocab = cfg.vocab) {
  const ids = new BigInt64Array(rows * T);
  const mask = new BigInt64Array(rows * T);
  let s = seed >>> 0;
  for (let r = 0; r < rows; r++) {
    const len = T - (r % 8); // some right padding
    for (let t = 0; t < T; t++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      ids[r * T + t] = BigInt(s % vocab);
      mask[r * T + t] = t < len ? 1n : 0n;
    }
  }
  return { ids, mask };
}

const cpuSeconds = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1e6;

/** rows/s of wall time, and rows per CPU-second of the whole process (all threads). */
async function inProcess(): Promise<{ rate: number; cpuRate: number }> {
  const s = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const { ids, mask } = inputs(ROWS, 1);
  const feeds = { input_ids: new ort.Tensor('int64', ids, [ROWS, T]), attention_mask: new ort.Tensor('int64', mask, [ROWS, T]) };
  await s.run(feeds);
  let rows = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    await s.run(feeds);
    rows += ROWS;
  }
  const rate = rows / ((performance.now() - t0) / 1000);
  const cpuRate = rows / cpuSeconds(process.cpuUsage(c0));
  await s.release();
  return { rate, cpuRate };
}

async function poolThroughput(workers = W): Promise<{ rate: number; cpuRate: number }> {
  const pool = await createVerifierPool({ modelPath, workers, intraOpThreads: 1, maxBatchRows: ROWS, maxWaitMs: 0 });
  const warm = inputs(ROWS, 2);
  await pool.run(warm.ids, warm.mask, ROWS, T);
  // Keep 2 requests per worker outstanding (fresh arrays each time: run() takes ownership).
  const template = inputs(ROWS, 3);
  let rows = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      await pool.run(template.ids.slice(), template.mask.slice(), ROWS, T);
      rows += ROWS;
    }
  };
  await Promise.all(Array.from({ length: 2 * workers }, lane));
  const rate = rows / ((performance.now() - t0) / 1000);
  const cpuRate = rows / cpuSeconds(process.cpuUsage(c0));
  await pool.close();
  return { rate, cpuRate };
}

/** `clients` concurrent searches, each awaiting requests of `small` rows in a loop. */
async function smallRequests(model: 'transformer' | 'toy', coalesce: boolean, clients: number, small: number) {
  const [path, seq, vocab] = model === 'toy' ? [toyPath, 21, 18] : [modelPath, T, cfg.vocab];
  const pool = await createVerifierPool({
    modelPath: path, workers: W, intraOpThreads: 1,
    maxBatchRows: coalesce ? 4096 : small, // without coalescing every request is its own task
    maxWaitMs: coalesce ? 1 : 0,
  });
  const template = inputs(small, 4, seq, vocab);
  await pool.run(template.ids.slice(), template.mask.slice(), small, seq);
  let rows = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const s = performance.now();
      await pool.run(template.ids.slice(), template.mask.slice(), small, seq);
      lat.push(performance.now() - s);
      rows += small;
    }
  };
  const st0 = pool.stats();
  await Promise.all(Array.from({ length: clients }, client));
  const secs = (performance.now() - t0) / 1000;
  const st = pool.stats();
  await pool.close();
  lat.sort((x, y) => x - y);
  return {
    rowsPerSec: rows / secs,
    tasks: st.batches - st0.batches,
    meanRowsPerTask: (st.rows - st0.rows) / Math.max(1, st.batches - st0.batches),
    p50Ms: lat[Math.floor(lat.length / 2)],
    p99Ms: lat[Math.floor(lat.length * 0.99)],
  };
}

// Interleave the two measurements and keep each one's best round, so that load from other processes
// hits both sides alike. Wall-clock rates need W idle cores for the pool; rows per CPU-second (the
// whole process, main thread and workers) measure the pool's own overhead whatever the load.
const best = (xs: { rate: number; cpuRate: number }[], k: 'rate' | 'cpuRate') => Math.max(...xs.map((x) => x[k]));
// A one-worker pool against the same single session separates the pool's own cost from how well W
// concurrent sessions scale on this hardware.
const singles: { rate: number; cpuRate: number }[] = [], pools: { rate: number; cpuRate: number }[] = [], ones: { rate: number; cpuRate: number }[] = [];
for (let r = 0; r < Number(a.rounds); r++) {
  singles.push(await inProcess());
  pools.push(await poolThroughput());
  ones.push(await poolThroughput(1));
}
const one = best(ones, 'rate');
const single = best(singles, 'rate'), poolRate = best(pools, 'rate');
const singleCpu = best(singles, 'cpuRate'), poolCpu = best(pools, 'cpuRate');
const ratio = poolRate / (W * single);
const cpuRatio = poolCpu / singleCpu;

const CLIENTS = 64, SMALL = 8;
const small = {
  toy: { with: await smallRequests('toy', true, CLIENTS, SMALL), without: await smallRequests('toy', false, CLIENTS, SMALL) },
  transformer: { with: await smallRequests('transformer', true, CLIENTS, SMALL), without: await smallRequests('transformer', false, CLIENTS, SMALL) },
};
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(0).padStart(10);
console.log(`transformer PRM vocab=${cfg.vocab} hidden=${cfg.hidden} layers=${cfg.layers} seq=${T}; ${availableParallelism()} cores; intraOpNumThreads=1`);
console.log(`${'setup'.padEnd(44)}${'rows/s'.padStart(10)}`);
console.log(`${'one in-process session'.padEnd(44)}${f(single)}`);
console.log(`${`${W} x one in-process session (expected)`.padEnd(44)}${f(W * single)}`);
console.log(`${`pool, ${W} workers, ${ROWS}-row requests`.padEnd(44)}${f(poolRate)}   (${(100 * ratio).toFixed(1)}% of expected; target >= 90%)`);
console.log(`${`pool, 1 worker, ${ROWS}-row requests`.padEnd(44)}${f(one)}   (${(100 * one / single).toFixed(1)}% of one in-process session)`);
console.log(`${'rows per CPU-second: in-process session'.padEnd(44)}${f(singleCpu)}`);
console.log(`${'rows per CPU-second: pool (all threads)'.padEnd(44)}${f(poolCpu)}   (${(100 * cpuRatio).toFixed(1)}%: the pool's efficiency)`);
console.log(`load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')} on ${availableParallelism()} cores`);
console.log(`\n${CLIENTS} clients x ${SMALL}-row requests`.padEnd(45) + 'rows/s'.padStart(10) + 'tasks'.padStart(8) + 'rows/task'.padStart(11) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9));
for (const m of ['toy', 'transformer'] as const)
  for (const [name, r] of [[`${m}: with coalescing (maxWaitMs 1)`, small[m].with], [`${m}: without coalescing`, small[m].without]] as const)
    console.log(`${name.padEnd(44)}${f(r.rowsPerSec)}${String(r.tasks).padStart(8)}${r.meanRowsPerTask.toFixed(1).padStart(11)}${r.p50Ms.toFixed(2).padStart(9)}${r.p99Ms.toFixed(2).padStart(9)}`);
console.log(JSON.stringify({
  bench: 'search/pool', model: { ...cfg, seq: T }, workers: W, rowsPerRequest: ROWS, cores: availableParallelism(),
  singleRowsPerSec: Math.round(single), poolRowsPerSec: Math.round(poolRate), poolVsExpected: Number(ratio.toFixed(3)),
  singleCpuRowsPerSec: Math.round(singleCpu), poolCpuRowsPerSec: Math.round(poolCpu), poolCpuEfficiency: Number(cpuRatio.toFixed(3)),
  onePoolRowsPerSec: Math.round(one), onePoolVsSingle: Number((one / single).toFixed(3)),
  singleRounds: singles.map((x) => Math.round(x.rate)), poolRounds: pools.map((x) => Math.round(x.rate)),
  smallRequests: {
    clients: CLIENTS, rows: SMALL,
    toy: { ...small.toy, speedup: Number((small.toy.with.rowsPerSec / small.toy.without.rowsPerSec).toFixed(2)) },
    transformer: { ...small.transformer, speedup: Number((small.transformer.with.rowsPerSec / small.transformer.without.rowsPerSec).toFixed(2)) },
  },
  loadAverage: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2))),
}));
