// Engine overhead on the embedded benchmark: 500 problems x beam B = 16 x C = 4 with the native toy
// policy and two verifiers: the exact oracle (native, ~0.1 us a prefix: the worst case for overhead)
// and the learned ONNX PRM served by the worker pool (a model call, still tiny). Two measures:
//  - 1 lane (generate, score, prune strictly in turn): the engine's own cost, wall time outside
//    policy and verifier calls; the prune phase (native advantages and top-k) is shown apart from
//    the engine's bookkeeping;
//  - 2 lanes (the default schedule): the share of wall time with NO policy or verifier call
//    outstanding (union of their spans across lanes). A call stays outstanding until the engine
//    takes its result, so for in-process backends sharing the main thread this flatters the engine;
//  - both schedules, replayed: every policy and verifier call of the run is recorded and, after it,
//    the same calls are made again in the same lanes (each lane's calls in order, the lanes
//    concurrently) with no engine in between. 1 - (replay wall / search wall) is the share of the
//    search's wall time the engine adds over its backends alone: for 1 lane it is the strict figure
//    again, for 2 lanes it counts engine work that kept the main thread from the backends' own
//    JavaScript, which the in-flight measure hides.
// Garbage collection pauses that fall outside policy and verifier calls are shown apart (a V8 'gc'
// observer): they count as engine time, whoever made the garbage (the median run rarely has one).
// Prints a table per verifier and one JSON line.
//   npx tsx bench/search/engine_overhead.ts [--problems 500] [--budget 16] [--expansions 4] [--reps 5]
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { runSearchBatch } from '../../src/search/engine.ts';
import { busySeconds, PhaseClock } from '../../src/search/compute.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PolicyBackend, VerifierBackend } from '../../src/search/backends.ts';
import { OracleVerifier, ToyPolicy, ToyTask } from '../../src/toy/backends.ts';
import { collectPavData, readPavData } from '../../src/toy/collect.ts';
import { fitToyPrm, writeToyPrm } from '../../src/toy/fit.ts';
import { LearnedVerifier } from '../../src/toy/learned.ts';
import { generateSuite, ProblemTable } from '../../src/toy/task.ts';
import { formatTable } from '../../src/run/table.ts';

const { values: a } = parseArgs({
  options: {
    problems: { type: 'string', default: '500' },
    budget: { type: 'string', default: '16' },
    expansions: { type: 'string', default: '4' },
    reps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '3' },
    window: { type: 'string', default: '500' },
  },
});
/** The target: engine overhead under 5% of wall time. */
const TARGET = 0.05;
const P = Number(a.problems), B = Number(a.budget), C = Number(a.expansions), REPS = Number(a.reps), WARMUP = Number(a.warmup);
const table = new ProblemTable(generateSuite({ size: P, seed: 1 }));
const problems = Array.from({ length: P }, (_, i) => i);

async function measure(verifier: VerifierBackend<number>) {
  const policy = new ToyPolicy(table, { gamma: 5 });
  const task = new ToyTask(table);
  const run = async (lanes: number) => {
    const recorder = new Recorder(lanes, Number(a.window));
    const backends = { policy: recorder.policy(policy), verifier: recorder.verifier(verifier), task };
    const gcs: [number, number][] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcs.push([e.startTime, e.startTime + e.duration]);
    });
    observer.observe({ entryTypes: ['gc'] });
    const clock = new PhaseClock(true);
    const t0 = performance.now();
    const rs = await runSearchBatch(backends, { algorithm: 'beam', budget: B, expansions: C, score: 'pav' }, problems, {
      window: Number(a.window),
      lanes,
      clock,
    });
    const wall = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 20)); // GC entries arrive asynchronously (not by the next immediate)
    observer.disconnect();
    const children = rs.reduce((n, r) => n + r.compute.policySamples, 0);
    const idle = wall - busySeconds(clock.spans!, ['generate', 'score']);
    const calls = clock.spans!.filter((sp) => sp.phase === 'generate' || sp.phase === 'score').map((sp) => [t0 + sp.ts / 1000, t0 + (sp.ts + sp.dur) / 1000] as [number, number]);
    const gcOutside = outside(gcs.filter(([s]) => s >= t0), calls) / 1000;
    const alone = await recorder.replay();
    return { wall, ...clock.totals, other: wall - clock.totals.generate - clock.totals.score - clock.totals.prune, idle, children, gcOutside, alone };
  };
  // Warm-ups: the JIT and the allocator settle over the first runs (a service runs for hours).
  for (let w = 0; w < WARMUP; w++) await run(w % 2 === 0 ? 1 : 2);
  const seq: Awaited<ReturnType<typeof run>>[] = [];
  const ovl: Awaited<ReturnType<typeof run>>[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    seq.push(await run(1));
    ovl.push(await run(2));
  }
  const median = <T extends { wall: number }>(v: T[]) => [...v].sort((x, y) => x.wall - y.wall)[Math.floor(v.length / 2)];
  const m = median(seq);
  const o = median(ovl);
  const share = (x: number, wall = m.wall) => `${((100 * x) / wall).toFixed(1)}%`;
  console.log(`\nbeam (PAV) B=${B} C=${C} over ${P} problems, verifier ${verifier.name}; median of ${REPS} (after ${WARMUP} warm-ups)`);
  console.log(
    formatTable(
      ['1 lane: phase', 'seconds', 'share of wall', 'us / child'],
      [
        ['generate (policy)', m.generate.toFixed(3), share(m.generate), ((1e6 * m.generate) / m.children).toFixed(3)],
        ['score (verifier)', m.score.toFixed(3), share(m.score), ((1e6 * m.score) / m.children).toFixed(3)],
        ['prune (native advantages + top-k)', m.prune.toFixed(3), share(m.prune), ((1e6 * m.prune) / m.children).toFixed(3)],
        ['engine bookkeeping', m.other.toFixed(3), share(m.other), ((1e6 * m.other) / m.children).toFixed(3)],
        ['  of which GC pauses (any source)', m.gcOutside.toFixed(3), share(m.gcOutside), ((1e6 * m.gcOutside) / m.children).toFixed(3)],
        ['wall', m.wall.toFixed(3), '100%', ((1e6 * m.wall) / m.children).toFixed(3)],
      ],
    ),
  );
  const overhead = m.prune + m.other;
  console.log(`1 lane: engine overhead (outside policy and verifier) ${share(overhead)} of wall; ${(m.children / m.wall / 1e6).toFixed(2)} M children/s`);
  console.log(
    `2 lanes: no policy or verifier call in flight for ${share(o.idle, o.wall)} of wall (${o.wall.toFixed(3)} s); ${(o.children / o.wall / 1e6).toFixed(2)} M children/s`,
  );
  // The replayed share per rep (search and replay of the same rep), then the median of those.
  const added = (v: typeof seq) => medianOf(v.map((r) => 1 - r.alone / r.wall));
  const addedSeq = added(seq), addedOvl = added(ovl);
  console.log(
    `replayed (the same calls with no engine): engine adds ${(100 * addedSeq).toFixed(1)}% of wall with 1 lane, ${(100 * addedOvl).toFixed(1)}% with 2 lanes (median of the ${REPS} reps' shares)`,
  );
  const verdict = (x: number) => (x < TARGET ? 'met' : 'not met');
  console.log(
    `target: engine overhead under ${100 * TARGET}% of wall: strict ${verdict(overhead / m.wall)}, replayed ${verdict(Math.max(addedSeq, addedOvl))}, in flight ${verdict(o.idle / o.wall)} (the in-flight share flatters: see the header)`,
  );
  return {
    verifier: verifier.name,
    sequential: {
      wallS: m.wall,
      phasesS: { generate: m.generate, score: m.score, prune: m.prune, other: m.other },
      gcOutsideCallsS: m.gcOutside,
      overheadShare: overhead / m.wall,
      overheadShareWithoutGc: (overhead - m.gcOutside) / m.wall,
      childrenPerS: m.children / m.wall,
    },
    overlapped: { wallS: o.wall, idleShare: o.idle / o.wall, childrenPerS: o.children / o.wall },
    replayed: { addedShareOneLane: addedSeq, addedShareTwoLanes: addedOvl, backendsAloneS: { oneLane: m.alone, twoLanes: o.alone } },
  };
}

function medianOf(v: number[]): number {
  return [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
}

/**
 * Wraps the backends of one run so each policy and verifier call is recorded with its cohort, to be
 * made again without the engine (replay) on the engine's schedule: runSearchBatch splits the
 * problems into cohorts of ceil(window / lanes) consecutive problems, and each lane takes the next
 * cohort when its last one ends, running a cohort's calls in turn. A request's first problem names
 * its cohort. Requests are kept as they were sent (their PrefixLists read the search's StepTree,
 * which only grows), and the toy backends are pure, so a replayed call does the same work.
 */
class Recorder {
  private readonly cohorts = new Map<number, (() => Promise<unknown>)[]>();
  private readonly size: number;
  constructor(
    private readonly lanes: number,
    window: number,
  ) {
    // As runSearchBatch does: the window is at most the problem count.
    const inFlight = Math.min(window, P);
    this.size = Math.ceil(inFlight / Math.min(lanes, inFlight));
  }
  private record(problems: Uint32Array, call: () => Promise<unknown>): void {
    const c = Math.floor(problems[0] / this.size);
    const calls = this.cohorts.get(c) ?? [];
    if (calls.length === 0) this.cohorts.set(c, calls);
    calls.push(call);
  }
  policy(p: PolicyBackend<number>): PolicyBackend<number> {
    return {
      name: p.name,
      readsPrefixLists: p.readsPrefixLists,
      sampleSteps: (batch) => (this.record(batch.problems, () => p.sampleSteps(batch)), p.sampleSteps(batch)),
      sampleCompletions: (batch) => p.sampleCompletions(batch),
    };
  }
  verifier(v: VerifierBackend<number>): VerifierBackend<number> {
    return {
      name: v.name,
      readsPrefixLists: v.readsPrefixLists,
      scorePrefixes: (batch) => (this.record(batch.problems, () => v.scorePrefixes(batch)), v.scorePrefixes(batch)),
    };
  }
  /** Seconds to make the recorded calls again: `lanes` workers taking cohorts in order, each cohort's calls in turn. */
  async replay(): Promise<number> {
    const queue = [...this.cohorts.keys()].sort((x, y) => x - y).map((c) => this.cohorts.get(c)!);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: this.lanes }, async () => {
        for (let calls = queue.shift(); calls; calls = queue.shift()) for (const call of calls) await call();
      }),
    );
    return (performance.now() - t0) / 1000;
  }
}

/** Milliseconds of the intervals `xs` that no interval of `cover` overlaps. */
function outside(xs: [number, number][], cover: [number, number][]): number {
  const c: [number, number][] = [];
  for (const [s, e] of [...cover].sort((p, q) => p[0] - q[0])) {
    const last = c[c.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else c.push([s, e]);
  }
  let total = 0;
  for (const [s, e] of xs) {
    let free = e - s;
    for (const [cs, ce] of c) if (ce > s && cs < e) free -= Math.min(e, ce) - Math.max(s, cs);
    total += Math.max(0, free);
  }
  return total;
}

const oracle = await measure(new OracleVerifier(table, { gamma: 5 }));
// The learned verifier: fitted here in a few seconds (its accuracy does not matter for timing).
const dir = mkdtempSync(join(tmpdir(), 'pav-overhead-'));
let learned;
try {
  const data = await collectPavData({ table, gamma: 5, nCov: 4, nMc: 8, seed: 1, out: join(dir, 'data.jsonl') });
  const fit = fitToyPrm(await readPavData(data.path), { hidden: 32, epochs: 2, seed: 1 });
  const v = await LearnedVerifier.create(table, { modelPath: await writeToyPrm(fit, join(dir, 'prm.onnx')), workers: 2, intraOpThreads: 1 });
  try {
    learned = await measure(v);
  } finally {
    await v.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bench: 'engine_overhead', problems: P, budget: B, expansions: C, runs: [oracle, learned] }));
