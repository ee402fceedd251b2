// Step-level search over a cohort of problems in lockstep: the paper's beam search (top B across
// parents, scored by PRM or PAV) and DVTS (independent subtrees, greedy per subtree). Every round
// sends all live beams of all problems to the policy and all children to the verifier in one
// batch each, then prunes every problem with one segmented native call.
import { effectiveRewards } from '../ops/advantages.ts';
import { selectTopK } from '../ops/prune.ts';
import { ErrorCodes, PavError } from '../errors.ts';
import { chargeScores, type Phase } from './compute.ts';
import { checkScoreBatch, checkStepBatch } from './backend_checks.ts';
import { extendKeyInto, rootKeyInto } from './keys.ts';
import { PrefixList } from './prefixes.ts';
import { abortError, emptyResult, timeShared, type DriverContext, type ProblemResult } from './result.ts';
import { fmix32, MIX_START, mixIn, stringCode } from './seeds.ts';

interface Beam<S> {
  steps: S[];
  /** Q^pi of the prefix. */
  q: number;
  /** Separate prover's value of the prefix (only with a prover verifier). */
  mu: number;
  /** The beam this one extends (null at the root): the chain gives Q^pi after each step, for reports. */
  parent: Beam<S> | null;
  /** DVTS subtree; 0 for beam search. */
  group: number;
  /** 64-bit key of the prefix as two 32-bit lanes (dedupe only; see keys.ts). */
  keyLo: number;
  keyHi: number;
  finished: boolean;
}

interface ProblemState<S> {
  problem: number;
  live: Beam<S>[];
  done: Beam<S>[];
  result: ProblemResult<S>;
}

/** Run beam search or DVTS on a cohort of problems; results in the order of `problems`. */
export async function runStepSearch<S>(ctx: DriverContext<S>, problems: readonly number[]): Promise<ProblemResult<S>[]> {
  const { config, policy, verifier, prover, task } = ctx;
  const dvts = config.algorithm === 'dvts';
  if (config.algorithm !== 'beam' && !dvts) throw new PavError(`runStepSearch cannot run ${config.algorithm}`, ErrorCodes.INTERNAL);
  // Beam: B live beams share one pool of B slots. DVTS: N / width subtrees, one beam each.
  // A budget below the subtree width runs one subtree of the budget's width (N candidates a step).
  const width = Math.min(config.dvtsWidth, config.budget);
  const subtrees = dvts ? Math.max(1, Math.floor(config.budget / width)) : 1;
  const capacity = dvts ? subtrees : config.budget;
  const samplesPerBeam = dvts ? width : config.expansions;
  const pav = config.score === 'pav';
  const algoCode = stringCode(config.algorithm);

  const states: ProblemState<S>[] = problems.map((p) => ({
    problem: p,
    live: [],
    done: [],
    result: emptyResult(task, config, p),
  }));

  const timed = <T>(phase: Phase, name: string, active: ProblemState<S>[], fn: () => Promise<T> | T): Promise<T> =>
    timeShared(ctx, phase, name, active.map((s) => s.result), fn);

  // The root: value of the bare problem (the parent value of the first step under PAV).
  const rootQ = new Float64Array(states.length);
  const rootMu = new Float64Array(states.length);
  if (pav) {
    const req = { problems: Uint32Array.from(problems), prefixes: problems.map(() => [] as S[]), signal: ctx.signal };
    const [base, prov] = await timed('score', 'score root', states, () =>
      Promise.all([verifier.scorePrefixes(req), prover?.scorePrefixes(req)]),
    );
    checkScoreBatch(verifier.name, base, states.length);
    if (prover && prov) checkScoreBatch(prover.name, prov, states.length);
    rootQ.set(base.values);
    if (prov) rootMu.set(prov.values);
    states.forEach((s, i) => chargeScores(s.result.compute, base, prov, i, i + 1));
  }
  const rootKey = new Uint32Array(2);
  states.forEach((s, i) => {
    if (config.dedupe) rootKeyInto(rootKey, 0, s.problem);
    for (let g = 0; g < subtrees; g++)
      s.live.push({ steps: [], q: rootQ[i], mu: rootMu[i], parent: null, group: g, finished: false, keyLo: rootKey[0], keyHi: rootKey[1] });
  });

  let rewardBuffer: Float64Array | undefined;
  const pastDeadline = () => ctx.deadline !== undefined && performance.now() >= ctx.deadline;
  for (let depth = 0; depth < config.maxSteps; depth++) {
    const active = states.filter((s) => s.live.length > 0 && s.done.length < capacity);
    if (active.length === 0) break;
    if (pastDeadline()) {
      for (const s of states) s.result.status = 'deadline';
      break;
    }
    if (ctx.signal?.aborted) throw abortError(ctx.signal);
    try {
      await expand(depth, active);
    } catch (err) {
      // A call cut short by the deadline: keep what earlier rounds found.
      if (!pastDeadline()) throw err;
      for (const s of states) s.result.status = 'deadline';
      break;
    }
  }

  async function expand(depth: number, active: ProblemState<S>[]): Promise<void> {

    // 1. Generate: C next steps for every live beam of every active problem.
    let nParents = 0;
    for (const s of active) nParents += s.live.length;
    const parents: Beam<S>[] = new Array(nParents);
    const parentSteps: S[][] = new Array(nParents);
    const parentProblem = new Uint32Array(nParents);
    const reqProblems = new Uint32Array(nParents);
    const seeds = new Uint32Array(nParents);
    const parentKeys = config.dedupe ? new Uint32Array(2 * nParents) : undefined;
    for (let a = 0, r = 0; a < active.length; a++) {
      const s = active[a];
      // mixSeed(seed, algorithm, problem, depth, beam, group), its shared head folded once.
      const head = mixIn(mixIn(mixIn(mixIn(MIX_START, config.seed), algoCode), s.problem), depth);
      for (let bi = 0; bi < s.live.length; bi++, r++) {
        const b = s.live[bi];
        parents[r] = b;
        parentSteps[r] = b.steps;
        parentProblem[r] = a;
        reqProblems[r] = s.problem;
        seeds[r] = fmix32(mixIn(mixIn(head, bi), b.group));
        if (parentKeys) {
          parentKeys[2 * r] = b.keyLo;
          parentKeys[2 * r + 1] = b.keyHi;
        }
      }
    }
    const gen = await timed('generate', `generate d${depth}`, active, () =>
      policy.sampleSteps({
        problems: reqProblems,
        prefixes: parentSteps, // plain arrays: the live beams are materialised already
        n: samplesPerBeam,
        seeds,
        signal: ctx.signal,
      }),
    );
    const nChildren = parents.length * samplesPerBeam;
    checkStepBatch(policy.name, gen, nChildren);
    const parentIndex = new Uint32Array(nChildren);
    const childProblems = new Uint32Array(nChildren);
    for (let r = 0; r < parents.length; r++) {
      const c = active[parentProblem[r]].result.compute;
      let tokens = 0;
      for (let j = 0; j < samplesPerBeam; j++) {
        const i = r * samplesPerBeam + j;
        parentIndex[i] = r;
        childProblems[i] = reqProblems[r];
        tokens += gen.tokens[i];
      }
      c.policyCalls += 1;
      c.policySamples += samplesPerBeam;
      c.policyTokens += tokens;
    }
    // Children stay (parent steps, new step) until pruning: only the kept ones become arrays.
    const children = PrefixList.extending(parentSteps, parentIndex, gen.steps);
    // Dedupe keys chain from the parent's key: one step hash per child, no prefix rehashing.
    const keys = parentKeys ? new BigUint64Array(nChildren) : undefined;
    const childKeys = keys ? new Uint32Array(keys.buffer) : undefined;
    if (childKeys && parentKeys) for (let i = 0; i < nChildren; i++) extendKeyInto(childKeys, i, parentKeys, parentIndex[i], gen.steps[i]);

    // 2. Score every child (and with a separate prover, its prover value too).
    const scoreReq = { problems: childProblems, prefixes: children, signal: ctx.signal };
    const [base, prov] = await timed('score', `score d${depth}`, active, () =>
      Promise.all([verifier.scorePrefixes(scoreReq), pav ? prover?.scorePrefixes(scoreReq) : undefined]),
    );
    checkScoreBatch(verifier.name, base, nChildren);
    if (prover && prov) checkScoreBatch(prover.name, prov, nChildren);
    for (let r = 0; r < parents.length; r++)
      chargeScores(active[parentProblem[r]].result.compute, base, prov, r * samplesPerBeam, (r + 1) * samplesPerBeam);

    // 3. Prune: one segmented call for all problems (segment = problem, DVTS groups = subtrees).
    const kept = await timed('prune', `prune d${depth}`, active, () => {
      let scores: Float64Array = base.values;
      if (pav) {
        const parentQ = new Float64Array(parents.length);
        const parentMu = new Float64Array(parents.length);
        for (let r = 0; r < parents.length; r++) {
          parentQ[r] = parents[r].q;
          parentMu[r] = parents[r].mu;
        }
        // One reward buffer per cohort, reused every round: a fresh output costs more than the op.
        if (!rewardBuffer || rewardBuffer.length < nChildren) rewardBuffer = new Float64Array(nChildren);
        scores = effectiveRewards({
          q: base.values,
          parentIndex,
          parentQ,
          alpha: config.alpha,
          K: config.proverK,
          ...(prov ? { proverChild: prov.values, proverParent: parentMu } : {}),
          out: rewardBuffer.subarray(0, nChildren),
        });
      }
      const offsets = new Uint32Array(active.length + 1);
      for (let r = 0; r < parents.length; r++) offsets[parentProblem[r] + 1] += samplesPerBeam;
      for (let a = 0; a < active.length; a++) offsets[a + 1] += offsets[a];
      // Beam keeps the free slots of each problem: select the largest and cut per problem below.
      const k = dvts ? 1 : Math.max(...active.map((s) => capacity - s.done.length));
      return selectTopK({
        scores,
        offsets,
        k,
        ...(keys ? { keys } : {}),
        ...(dvts ? { groups: subtreeOf(parentIndex, parents) } : {}),
      });
    });

    for (let a = 0; a < active.length; a++) {
      const s = active[a];
      const slots = dvts ? Number.POSITIVE_INFINITY : capacity - s.done.length;
      const next: Beam<S>[] = [];
      for (let j = kept.offsets[a]; j < kept.offsets[a + 1] && j - kept.offsets[a] < slots; j++) {
        const i = kept.indices[j];
        const parent = parents[parentIndex[i]];
        const beam: Beam<S> = {
          steps: children.at(i) as S[],
          q: base.values[i],
          mu: prov ? prov.values[i] : 0,
          parent,
          group: parent.group,
          finished: gen.finished[i] === 1,
          keyLo: childKeys ? childKeys[2 * i] : 0,
          keyHi: childKeys ? childKeys[2 * i + 1] : 0,
        };
        if (beam.finished || beam.steps.length >= config.maxSteps) s.done.push(beam);
        else next.push(beam);
      }
      s.live = next;
    }
    ctx.onProgress?.({
      lane: ctx.lane,
      depth,
      liveBeams: active.reduce((n, s) => n + s.live.length, 0),
      activeProblems: active.length,
      bestValue: states.length === 1 ? bestOf(states[0]).beam?.q : undefined,
    });
  }

  for (const s of states) {
    const { beam, finished } = bestOf(s);
    const r = s.result;
    if (!beam) continue;
    r.trace = beam.steps;
    r.value = beam.q;
    r.stepValues = stepValuesOf(beam);
    r.finished = finished;
    r.answer = task.answerKey(s.problem, beam.steps);
    r.correct = task.isCorrect(s.problem, beam.steps);
  }
  return states.map((s) => s.result);
}

/** Q^pi after each step of a beam's trace, read off its chain of parents. */
function stepValuesOf<S>(beam: Beam<S>): number[] {
  const values: number[] = [];
  for (let b: Beam<S> | null = beam; b && b.parent; b = b.parent) values.push(b.q);
  return values.reverse();
}

/** DVTS group of each child: the subtree of its parent. */
function subtreeOf<S>(parentIndex: Uint32Array, parents: Beam<S>[]): Uint32Array {
  const groups = new Uint32Array(parentIndex.length);
  for (let i = 0; i < parentIndex.length; i++) groups[i] = parents[parentIndex[i]].group;
  return groups;
}

/** The final answer: the finished trace with the highest Q^pi; else the best live beam. */
function bestOf<S>(s: ProblemState<S>): { beam: Beam<S> | undefined; finished: boolean } {
  const pick = (list: Beam<S>[]) => list.reduce<Beam<S> | undefined>((best, b) => (!best || b.q > best.q ? b : best), undefined);
  const done = pick(s.done);
  if (done) return { beam: done, finished: done.finished };
  return { beam: pick(s.live), finished: false };
}
