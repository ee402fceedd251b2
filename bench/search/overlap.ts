// Overlapped against sequential generate-then-score on the same components: the native toy policy
// (async on the libuv pool for big batches) and the learned ONNX verifier served by the piscina pool.
// lanes = 1 waits for the verifier before generating again; lanes = 2 lets one cohort generate
// while the other is scored. The model is fitted here (a few seconds; its quality does not matter
// for throughput). Prints a table and one JSON line.
//   npx tsx bench/search/overlap.ts [--problems 400] [--budget 16] [--workers 2] [--reps 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runSearchBatch } from '../../src/search/engine.ts';
import { ToyPolicy, ToyTask } from '../../src/toy/backends.ts';
import { collectPavData, readPavData } from '../../src/toy/collect.ts';
import { fitToyPrm, writeToyPrm } from '../../src/toy/fit.ts';
import { LearnedVerifier } from '../../src/toy/learned.ts';
import { generateSuite, ProblemTable } from '../../src/toy/task.ts';
import { formatTable } from '../../src/run/table.ts';

const { values: a } = parseArgs({
  options: {
    problems: { type: 'string', default: '400' },
    budget: { type: 'string', default: '16' },
    workers: { type: 'string', default: '2' },
    reps: { type: 'string', default: '3' },
  },
});
const P = Number(a.problems), B = Number(a.budget), W = Number(a.workers), REPS = Number(a.reps);
const dir = mkdtempSync(join(tmpdir(), 'pav-overlap-'));
try {
  const table = new ProblemTable(generateSuite({ size: P, seed: 1 }));
  const data = await collectPavData({ table, gamma: 5, nCov: 4, nMc: 8, seed: 1, out: join(dir, 'data.jsonl') });
  const fit = fitToyPrm(await readPavData(data.path), { hidden: 32, epochs: 2, seed: 1 });
  const modelPath = await writeToyPrm(fit, join(dir, 'prm.onnx'));
  const verifier = await LearnedVerifier.create(table, { modelPath, workers: W, intraOpThreads: 1, maxBatchRows: 2048 });
  const backends = { policy: new ToyPolicy(table, { gamma: 5 }), verifier, task: new ToyTask(table) };
  const problems = Array.from({ length: P }, (_, i) => i);
  const config = { algorithm: 'beam', budget: B, expansions: 3, score: 'pav' } as const;
  const time = async (lanes: number) => {
    const t0 = performance.now();
    const rs = await runSearchBatch(backends, config, problems, { window: P, lanes });
    return { s: (performance.now() - t0) / 1000, traces: rs.map((r) => r.trace?.join(',')).join(';') };
  };
  await time(2); // warm-up: sessions, JIT
  const seq: number[] = [];
  const ovl: number[] = [];
  let same = true;
  for (let r = 0; r < REPS; r++) {
    const x = await time(1);
    const y = await time(2);
    seq.push(x.s);
    ovl.push(y.s);
    same &&= x.traces === y.traces;
  }
  await verifier.close();
  const med = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)];
  const s = med(seq), o = med(ovl);
  console.log(`beam (PAV) B=${B} C=3 over ${P} problems; toy policy + learned ONNX verifier (${W} pool workers); median of ${REPS}`);
  console.log(
    formatTable(
      ['schedule', 'seconds', 'speedup'],
      [
        ['sequential (1 lane: generate, then score)', s.toFixed(3), '1.00x'],
        ['overlapped (2 lanes)', o.toFixed(3), `${(s / o).toFixed(2)}x`],
      ],
    ),
  );
  console.log(`same traces in both schedules: ${same}`);
  console.log(JSON.stringify({ bench: 'overlap', problems: P, budget: B, workers: W, sequentialS: s, overlappedS: o, speedup: s / o, sameResults: same }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
