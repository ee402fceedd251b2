// Throughput of beam pruning (selectTopK) on the standard input: 4096 segments x 256 candidates
// keeping 64 (1M float32 scores in [0, 1)). Native sync (one thread), native async (all cores),
// the TypeScript reference, a plain JS baseline (per-segment Array sort), CUDA where present, and
// lines with dedupe keys, groups and sampling. Prints a table and one JSON line.
//   npx tsx bench/native/prune.ts [--reps 7] [--segments 4096] [--len 256] [--k 64]
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { backendInfo } from '../../src/native/binding.ts';
import { selectTopK, selectTopKAsync, type SelectTopKOptions } from '../../src/ops/prune.ts';
import { selectTopKRef } from '../../test/reference/prune.ts';

const { values: a } = parseArgs({
  options: {
    reps: { type: 'string', default: '7' },
    segments: { type: 'string', default: '4096' },
    len: { type: 'string', default: '256' },
    k: { type: 'string', default: '64' },
  },
});
const REPS = Number(a.reps), S = Number(a.segments), L = Number(a.len), K = Number(a.k);
const N = S * L;

let state = 12345;
const rand = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
};
const scores = new Float32Array(N).map(() => rand());
const offsets = new Uint32Array(S + 1).map((_, i) => i * L);
// Dedupe: about a quarter of each segment's candidates repeat another's text.
const keys = new BigUint64Array(N).map((_, i) => BigInt(Math.floor(rand() * L * 0.75)) + (BigInt(Math.floor(i / L)) << 32n));
// Groups: 16 parent beams per segment, keep k / 16 children each.
const groups = new Uint32Array(N).map((_, i) => i % 16);

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

interface Row {
  scenario: string;
  ms: number;
  bestMs: number;
  cpuMs: number;
  mCandPerS: number;
  vsReference: number;
  vsJsSort: number;
}
const rows: Row[] = [];
const raw: { scenario: string; ms: number; bestMs: number; cpuMs: number }[] = [];

async function bench(scenario: string, fn: () => unknown, reps = REPS): Promise<void> {
  await fn(); // warm up (and the addon load)
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  raw.push({ scenario, ms: median(times), bestMs: Math.min(...times), cpuMs: median(cpu) });
}

// The plain JS way: per segment, sort candidate indices with a comparator, keep the first k.
function jsSort(o: { scores: Float32Array; offsets: Uint32Array; k: number }) {
  const out: number[] = [];
  const off = [0];
  for (let s = 0; s + 1 < o.offsets.length; s++) {
    const idx: number[] = [];
    for (let i = o.offsets[s]; i < o.offsets[s + 1]; i++) idx.push(i);
    idx.sort((x, y) => o.scores[y] - o.scores[x] || x - y);
    for (let j = 0; j < Math.min(o.k, idx.length); j++) out.push(idx[j]);
    off.push(out.length);
  }
  return { indices: Uint32Array.from(out), offsets: Uint32Array.from(off) };
}

const base = { scores, offsets, k: K, device: 'cpu' as const } satisfies SelectTopKOptions;
const info = backendInfo();
await bench('native cpu sync (1 thread)', () => selectTopK({ ...base, threads: 1 }));
await bench(`native cpu async (${availableParallelism()} threads)`, () => selectTopKAsync(base));
await bench('TS reference', () => selectTopKRef(base), Math.min(REPS, 3));
await bench('plain JS sort', () => jsSort(base));
if (info.cuda.devices > 0) await bench('native cuda (incl. copies)', () => selectTopK({ ...base, device: 'cuda' }));
await bench('native cpu sync + dedupe keys', () => selectTopK({ ...base, keys, threads: 1 }));
await bench('native cpu sync + groups (16, k/16 each)', () => selectTopK({ ...base, groups, k: Math.max(1, K / 16), threads: 1 }));
await bench('native cpu sync + sample (T=0.5)', () => selectTopK({ ...base, sample: { temperature: 0.5, seed: 1 }, threads: 1 }));

const refMs = raw.find((r) => r.scenario === 'TS reference')!.ms;
const jsMs = raw.find((r) => r.scenario === 'plain JS sort')!.ms;
for (const r of raw)
  rows.push({
    scenario: r.scenario,
    ms: +r.ms.toFixed(3),
    bestMs: +r.bestMs.toFixed(3),
    cpuMs: +r.cpuMs.toFixed(3),
    mCandPerS: +(N / r.ms / 1e3).toFixed(1),
    vsReference: +(refMs / r.ms).toFixed(1),
    vsJsSort: +(jsMs / r.ms).toFixed(1),
  });

console.log(`selectTopK: ${S} segments x ${L} candidates, keep ${K} (${N} candidates), median of ${REPS} runs`);
// cpuMs is this process's CPU time per call (all threads): on a shared machine it shows the work
// done when wall time (ms) is inflated by other processes; mCandPerS uses wall time.
console.log(`addon: ${info.path} (cuda compiled=${info.cuda.compiled}, devices=${info.cuda.devices})`);
console.table(rows);
console.log(JSON.stringify({ bench: 'prune', segments: S, len: L, k: K, candidates: N, reps: REPS, cores: availableParallelism(), rows }));
