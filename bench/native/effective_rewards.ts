// Effective rewards over 1M candidate steps (K = 4, float32): native CPU (new output array, and into a
// reused `out`) vs the TypeScript reference vs a plain copy of the 12 bytes a step touches (q,
// parentIndex, output), plus CUDA where present.
// Prints a table and one JSON line. Run: npx tsx bench/native/effective_rewards.ts [steps]
import { backendInfo } from '../../src/native/binding.ts';
import { effectiveRewards } from '../../src/ops/advantages.ts';
import * as ref from '../../test/reference/advantages.ts';

const N = Number(process.argv[2] ?? 1 << 20);
const C = 3; // children per parent, as in the paper's beam search
const M = Math.ceil(N / C);
const RUNS = 15;

let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
const q = Float32Array.from({ length: N }, rand);
const parentQ = Float32Array.from({ length: M }, rand);
const parentIndex = Uint32Array.from({ length: N }, (_, i) => Math.floor(i / C));
const opts = { q, parentIndex, parentQ, alpha: 0.5, K: 4 };

function median(f: () => void): number {
  f(); // warm-up: page in the output, JIT the reference
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    f();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return t.sort((a, b) => a - b)[RUNS >> 1];
}

const src = new Uint8Array(12 * N).fill(1);
const dst = new Uint8Array(12 * N);
const rows: { name: string; ms: number }[] = [];
rows.push({ name: 'plain copy (12 B/step)', ms: median(() => dst.set(src)) });
// The op returns a fresh output array; this is what allocating and filling one costs on its own.
rows.push({ name: 'fresh 4 B/step output', ms: median(() => new Float32Array(N).fill(1)) });
rows.push({ name: 'native cpu (new output)', ms: median(() => effectiveRewards({ ...opts, device: 'cpu' })) });
const out = new Float32Array(N);
rows.push({ name: 'native cpu (into out)', ms: median(() => effectiveRewards({ ...opts, out, device: 'cpu' })) });
rows.push({ name: 'typescript reference', ms: median(() => ref.effectiveRewards(opts)) });
const info = backendInfo();
if (info.cuda.devices > 0)
  rows.push({ name: 'native cuda (incl. copies)', ms: median(() => effectiveRewards({ ...opts, out, device: 'cuda' })) });

// Same answer from both (the bench is worthless otherwise).
const a = effectiveRewards({ ...opts, device: 'cpu' });
const b = ref.effectiveRewards(opts);
for (let i = 0; i < N; i += 997) if (Math.abs(a[i] - b[i]) > 1e-6 * Math.abs(b[i]) + 1e-12) throw new Error(`mismatch at ${i}`);

const copyMs = rows[0].ms;
console.log(`effective rewards, ${N} steps, ${M} parents, K = 4, float32 (median of ${RUNS})`);
console.log('name'.padEnd(28) + 'ms'.padStart(9) + 'GB/s'.padStart(9) + 'Msteps/s'.padStart(11) + 'x copy'.padStart(9));
for (const r of rows)
  console.log(
    r.name.padEnd(28) +
      r.ms.toFixed(3).padStart(9) +
      ((12 * N) / r.ms / 1e6).toFixed(2).padStart(9) +
      (N / r.ms / 1e3).toFixed(1).padStart(11) +
      (r.ms / copyMs).toFixed(2).padStart(9),
  );
console.log(
  JSON.stringify({
    bench: 'effective_rewards',
    steps: N,
    parents: M,
    K: 4,
    dtype: 'float32',
    cuda: info.cuda.devices > 0,
    results: Object.fromEntries(rows.map((r) => [r.name, { ms: r.ms, gbps: (12 * N) / r.ms / 1e6, stepsPerSec: (N / r.ms) * 1e3 }])),
    nativeVsCopy: rows[3].ms / copyMs,
    nativeNewOutputVsCopy: rows[2].ms / copyMs,
  }),
);
