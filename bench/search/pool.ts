// Throughput of the verifier pool on a transformer-shaped PRM (random weights, written to a temp dir):
// W pool workers vs W x one in-process session (both with intraOpNumThreads = 1), and the dynamic
// batcher's effect on many small concurrent requests. Prints a table and one JSON line.
//   npx tsx bench/search/pool.ts [--workers 2] [--seconds 3] [--rows 512] [--seq 32] [--hidden 64] [--layers 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildTransformerPrm, randomTransformerWeights } from '../../src/onnx/models.ts';
import { createVerifierPool } from '../../src/verifier/pool.ts';

const { values: a } = parseArgs({
  options: {
    workers: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '3' },
    rows: { type: 'string', default: '512' },
    seq: { type: 'string', default: '32' },
    hidden: { type: 'string', default: '64' },
    layers: { type: 'string', default: '2' },
    vocab: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '2' },
  },
});
const W = Number(a.workers), SECONDS = Number(a.seconds), ROWS = Number(a.rows), T = Number(a.seq);
const cfg = { vocab: Number(a.vocab), hidden: Number(a.hidden), layers: Number(a.layers), maxSeq: T, seed: 1 };

const dir = mkdtempSync(join(tmpdir(), 'pav-bench-pool-'));
const modelPath = join(dir, 'prm.onnx');
await buildTransformerPrm(randomTransformerWeights(cfg)).save(modelPath);

function inputs(rows: number, seed: number) {
  const ids = new BigInt64Array(rows * T);
  const mask = new BigInt64Array(rows * T);
  let s = seed >>> 0;
  for (let r = 0; r < rows; r++) {
    const len = T - (r % 8); // some right padding
    for (let t = 0; t < T; t++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      ids[r * T + t] = BigInt(s % cfg.vocab);
      mask[r * T + t] = t < len ? 1n : 0n;
    }
  }
  return { ids, mask };
}

async function inProcess(): Promise<number> {
  const s = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const { ids, mask } = inputs(ROWS, 1);
  const feeds = { input_ids: new ort.Tensor('int64', ids, [ROWS, T]), attention_mask: new ort.Tensor('int64', mask, [ROWS, T]) };
  await s.run(feeds);
  let rows = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    await s.run(feeds);
    rows += ROWS;
  }
  const rate = rows / ((performance.now() - t0) / 1000);
  await s.release();
  return rate;
}

async function poolThroughput(): Promise<number> {
  const pool = await createVerifierPool({ modelPath, workers: W, intraOpThreads: 1, maxBatchRows: ROWS, maxWaitMs: 0 });
  const warm = inputs(ROWS, 2);
  await pool.run(warm.ids, warm.mask, ROWS, T);
  // Keep 2 requests per worker outstanding (fresh arrays each time: run() takes ownership).
  const template = inputs(ROWS, 3);
  let rows = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const lane = async () => {
    while (performance.now() < deadline) {
      await pool.run(template.ids.slice(), template.mask.slice(), ROWS, T);
      rows += ROWS;
    }
  };
  await Promise.all(Array.from({ length: 2 * W }, lane));
  const rate = rows / ((performance.now() - t0) / 1000);
  await pool.close();
  return rate;
}

/** `clients` concurrent searches, each awaiting requests of `small` rows in a loop. */
async function smallRequests(coalesce: boolean, clients: number, small: number) {
  const pool = await createVerifierPool({
    modelPath, workers: W, intraOpThreads: 1,
    maxBatchRows: coalesce ? 4096 : small, // without coalescing every request is its own task
    maxWaitMs: coalesce ? 1 : 0,
  });
  const template = inputs(small, 4);
  await pool.run(template.ids.slice(), template.mask.slice(), small, T);
  let rows = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const s = performance.now();
      await pool.run(template.ids.slice(), template.mask.slice(), small, T);
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

// Interleave the two measurements and keep each one's best round: other load on the machine then
// hits both sides alike.
const singles: number[] = [], pools: number[] = [];
for (let r = 0; r < Number(a.rounds); r++) {
  singles.push(await inProcess());
  pools.push(await poolThroughput());
}
const single = Math.max(...singles), poolRate = Math.max(...pools);
const ratio = poolRate / (W * single);

const CLIENTS = 64, SMALL = 8;
const withC = await smallRequests(true, CLIENTS, SMALL);
const without = await smallRequests(false, CLIENTS, SMALL);
rmSync(dir, { recursive: true, force: true });

const f = (x: number) => x.toFixed(0).padStart(10);
console.log(`transformer PRM vocab=${cfg.vocab} hidden=${cfg.hidden} layers=${cfg.layers} seq=${T}; ${availableParallelism()} cores; intraOpNumThreads=1`);
console.log(`${'setup'.padEnd(44)}${'rows/s'.padStart(10)}`);
console.log(`${'one in-process session'.padEnd(44)}${f(single)}`);
console.log(`${`${W} x one in-process session (expected)`.padEnd(44)}${f(W * single)}`);
console.log(`${`pool, ${W} workers, ${ROWS}-row requests`.padEnd(44)}${f(poolRate)}   (${(100 * ratio).toFixed(1)}% of expected; target >= 90%)`);
console.log(`\n${CLIENTS} clients x ${SMALL}-row requests`.padEnd(45) + 'rows/s'.padStart(10) + 'tasks'.padStart(8) + 'rows/task'.padStart(11) + 'p50 ms'.padStart(9) + 'p99 ms'.padStart(9));
for (const [name, r] of [['with coalescing (maxWaitMs 1)', withC], ['without coalescing', without]] as const)
  console.log(`${name.padEnd(44)}${f(r.rowsPerSec)}${String(r.tasks).padStart(8)}${r.meanRowsPerTask.toFixed(1).padStart(11)}${r.p50Ms.toFixed(2).padStart(9)}${r.p99Ms.toFixed(2).padStart(9)}`);
console.log(JSON.stringify({
  bench: 'search/pool', model: { ...cfg, seq: T }, workers: W, rowsPerRequest: ROWS, cores: availableParallelism(),
  singleRowsPerSec: Math.round(single), poolRowsPerSec: Math.round(poolRate), poolVsExpected: Number(ratio.toFixed(3)),
  singleRounds: singles.map(Math.round), poolRounds: pools.map(Math.round),
  smallRequests: { clients: CLIENTS, rows: SMALL, withCoalescing: withC, withoutCoalescing: without, speedup: Number((withC.rowsPerSec / without.rowsPerSec).toFixed(2)) },
}));
