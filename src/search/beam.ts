// Step-level search over a cohort of problems in lockstep: the paper's beam search (top B across
// parents, scored by PRM or PAV) and DVTS (independent subtrees, greedy per subtree). Every round
// sends all live beams of all problems to the policy and all children to the verifier in one
// batch each, then prunes every problem with one segmented native call. Beams are nodes of a
// StepTree (no per-beam objects or step arrays): see BeamNodes.
import { effectiveRewards } from '../ops/advantages.ts';
import { selectTopK } from '../ops/prune.ts';
import { ErrorCodes, PavError } from '../errors.ts';
import { addPhases, chargeCall, chargeScores, zeroPhases, type Phase } from './compute.ts';
import { checkScoreBatch, checkStepBatch } from './backend_checks.ts';
import { extendKeyInto, rootKeyInto } from './keys.ts';
import { PrefixList, prefixesFor } from './prefixes.ts';
import type { VerifierBackend } from './backends.ts';
import { grown, ROOT, StepTree } from './step_tree.ts';
import { abortError, CallbackError, emptyResult, pastDeadline, type DriverContext, type ProblemResult } from './result.ts';
import { fmix32, MIX_START, mixIn, stringCode } from './seeds.ts';

/**
 * The beams a cohort keeps, as nodes of one StepTree with a column per field: a kept child costs a
 * few stores, nothing is allocated per beam, and a node's chain of parents gives its trace and the
 * Q^pi after each step. Each problem (and DVTS subtree) starts at a root node of depth 0.
 */
class BeamNodes<S> {
  readonly tree: StepTree<S>;
  /** Q^pi of the node's prefix. */
  q: Float64Array;
  /** Separate prover's value of the prefix (only with a prover verifier). */
  mu: Float64Array;
  /** DVTS subtree; 0 for beam search. */
  group: Uint32Array;
  /** 64-bit dedupe key of the prefix as [lo, hi] pairs (dedupe only; see keys.ts). */
  keys: Uint32Array;
  finished: Uint8Array;

  /** `capacity`: nodes to allocate room for up front (growing by doubling copies every column). */
  constructor(capacity: number) {
    const n = Math.max(16, Math.floor(capacity));
    this.tree = new StepTree<S>(n);
    this.q = new Float64Array(n);
    this.mu = new Float64Array(n);
    this.group = new Uint32Array(n);
    this.keys = new Uint32Array(2 * n);
    this.finished = new Uint8Array(n);
  }

  root(q: number, mu: number, group: number, keys: Uint32Array): number {
    const n = this.tree.addRoot();
    this.set(n, q, mu, group, keys, 0, 0);
    return n;
  }

  /** A kept child: `step` after `parent`, its values, and its key at pair `k` of `keys`. */
  child(parent: number, step: S, q: number, mu: number, keys: Uint32Array | undefined, k: number, finished: number): number {
    const n = this.tree.add(parent, step);
    this.set(n, q, mu, this.group[parent], keys, k, finished);
    return n;
  }

  private set(n: number, q: number, mu: number, group: number, keys: Uint32Array | undefined, k: number, finished: number): void {
    if (n === this.q.length) this.grow();
    this.q[n] = q;
    this.mu[n] = mu;
    this.group[n] = group;
    this.finished[n] = finished;
    if (keys) {
      this.keys[2 * n] = keys[2 * k];
      this.keys[2 * n + 1] = keys[2 * k + 1];
    }
  }

  private grow(): void {
    const size = 2 * this.q.length;
    this.q = grown(this.q, size);
    this.mu = grown(this.mu, size);
    this.group = grown(this.group, size);
    this.keys = grown(this.keys, 2 * size);
    this.finished = grown(this.finished, size);
  }
}

/**
 * A per-round array only the engine and the native ops read, reused across the rounds of a cohort:
 * a fresh typed array of this size costs more than the native op that reads it. (Arrays handed to
 * backends are fresh each round, since a backend may keep them.)
 */
class Reused<T extends Uint32Array | Float64Array> {
  private buf: T;
  constructor(private readonly make: (n: number) => T) {
    this.buf = make(0);
  }
  /** The first n elements (contents left from earlier rounds: the caller overwrites them). */
  take(n: number): T {
    if (this.buf.length < n) this.buf = this.make(n);
    return this.buf.subarray(0, n) as T;
  }
}

interface ProblemState<S> {
  problem: number;
  /**
   * Node ids of the live beams and of the finished (or step-capped) traces: live[0 .. nLive) and
   * done[0 .. nDone). Together they never exceed the problem's slots, so both are sized once.
   */
  live: Int32Array;
  nLive: number;
  done: Int32Array;
  nDone: number;
  /** Whether its phase shares are in result.phases (see StepSearch.settle). */
  settled: boolean;
  result: ProblemResult<S>;
}

/** Run beam search or DVTS on a cohort of problems; results in the order of `problems`. */
export async function runStepSearch<S>(ctx: DriverContext<S>, problems: readonly number[]): Promise<ProblemResult<S>[]> {
  const search = new StepSearch(ctx, problems);
  await search.run();
  return search.results();
}

/**
 * One cohort's search. A class, not closures inside runStepSearch: V8 specialises optimised code
 * on the closures a function calls, and every cohort made new ones, so the round loop deoptimised
 * at the start of each cohort and ran unoptimised for much of a run.
 */
class StepSearch<S> {
  private readonly config: DriverContext<S>['config'];
  private readonly dvts: boolean;
  private readonly pav: boolean;
  /** Beam: B live beams share one pool of B slots. DVTS: N / width subtrees, one beam each. */
  private readonly subtrees: number;
  private readonly capacity: number;
  private readonly samplesPerBeam: number;
  private readonly algoCode: number;
  private readonly states: ProblemState<S>[];
  private readonly nodes: BeamNodes<S>;
  /** Time per phase charged to each problem still active (see timed). */
  private readonly shares = zeroPhases();
  private readonly parentIndexBuf = new Reused((n) => new Uint32Array(n));
  private readonly parentQBuf = new Reused((n) => new Float64Array(n));
  private readonly parentMuBuf = new Reused((n) => new Float64Array(n));
  private readonly rewardsBuf = new Reused((n) => new Float64Array(n));
  private readonly groupsBuf = new Reused((n) => new Uint32Array(n));

  constructor(
    private readonly ctx: DriverContext<S>,
    private readonly problems: readonly number[],
  ) {
    const config = (this.config = ctx.config);
    this.dvts = config.algorithm === 'dvts';
    if (config.algorithm !== 'beam' && !this.dvts) throw new PavError(`runStepSearch cannot run ${config.algorithm}`, ErrorCodes.INTERNAL);
    // A budget below the subtree width runs one subtree of the budget's width (N candidates a step).
    const width = Math.min(config.dvtsWidth, config.budget);
    this.subtrees = this.dvts ? Math.max(1, Math.floor(config.budget / width)) : 1;
    this.capacity = this.dvts ? this.subtrees : config.budget;
    this.samplesPerBeam = this.dvts ? width : config.expansions;
    this.pav = config.score === 'pav';
    this.algoCode = stringCode(config.algorithm);
    this.states = problems.map((p) => ({
      problem: p,
      live: new Int32Array(this.capacity),
      nLive: 0,
      done: new Int32Array(this.capacity),
      nDone: 0,
      settled: false,
      result: emptyResult(ctx.task, config, p),
    }));
    // Room for the roots and ~8 rounds of kept beams, capped at 2^18 nodes (~12 MB) so a huge window
    // does not reserve memory up front that an early finish never uses; past it the columns double.
    this.nodes = new BeamNodes<S>(Math.min(1 << 18, problems.length * (this.subtrees + 8 * this.capacity)));
  }

  /**
   * Time a call shared by the `active` problems. Each is charged an equal share, accumulated once
   * for the cohort: a problem only ever leaves the active set, so its phases are the running sums
   * at the moment it leaves (settle), not a write per problem per call.
   */
  private async timed<T>(phase: Phase, name: string, active: ProblemState<S>[], fn: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await this.ctx.clock.time(phase, name, this.ctx.lane, fn, { problems: active.length });
    } finally {
      this.shares[phase] += (performance.now() - t0) / 1000 / Math.max(1, active.length);
    }
  }

  /** Charge a problem that left the active set (or the search ended) its phase shares so far. */
  private settle(s: ProblemState<S>): void {
    if (s.settled) return;
    s.settled = true;
    addPhases(s.result.phases, this.shares);
  }

  private pastDeadline(): boolean {
    return pastDeadline(this.ctx);
  }

  async run(): Promise<void> {
    const { ctx, config, states, nodes } = this;
    const { verifier, prover } = ctx;
    // The root: value of the bare problem (the parent value of the first step under PAV).
    const rootQ = new Float64Array(states.length);
    const rootMu = new Float64Array(states.length);
    if (this.pav) {
      const req = { problems: Uint32Array.from(this.problems), prefixes: this.problems.map(() => [] as S[]), signal: ctx.signal };
      // With a separate prover the first step's reward reads the prover's root value alone
      // (q + alpha (mu_child - mu_root)): the verifier's root value would be a call for nothing.
      const root = prover ?? verifier;
      const scored = await this.timed('score', 'score root', states, () => root.scorePrefixes(req));
      checkScoreBatch(root.name, scored, states.length);
      (prover ? rootMu : rootQ).set(scored.values);
      states.forEach((s, i) => chargeCall(s.result.compute, prover !== undefined, scored.tokens[i]));
    }
    const rootKey = new Uint32Array(2);
    states.forEach((s, i) => {
      if (config.dedupe) rootKeyInto(rootKey, 0, s.problem);
      for (let g = 0; g < this.subtrees; g++) s.live[s.nLive++] = nodes.root(rootQ[i], rootMu[i], g, rootKey);
    });

    for (let depth = 0; depth < config.maxSteps; depth++) {
      const active: ProblemState<S>[] = [];
      for (const s of states) {
        if (s.nLive > 0 && s.nDone < this.capacity) active.push(s);
        else this.settle(s);
      }
      if (active.length === 0) break;
      if (this.pastDeadline()) {
        for (const s of states) s.result.status = 'deadline';
        break;
      }
      if (ctx.signal?.aborted) throw abortError(ctx.signal);
      try {
        await this.expand(depth, active);
      } catch (err) {
        // A call cut short by the deadline: keep what earlier rounds found. (A caller's callback
        // error is the caller's, deadline or not.)
        if (err instanceof CallbackError || !this.pastDeadline()) throw err;
        for (const s of states) s.result.status = 'deadline';
        break;
      }
    }
  }

  private async expand(depth: number, active: ProblemState<S>[]): Promise<void> {
    const { ctx, config, nodes, samplesPerBeam, capacity, dvts } = this;
    const { policy, verifier, prover } = ctx;
    const tree = nodes.tree;
    const prov0 = this.pav ? prover : undefined;
    // 1. Generate: C next steps for every live beam of every active problem. Problem a's parents
    // are rows [parentOffsets[a], parentOffsets[a + 1]); its children follow in the same order.
    let nParents = 0;
    for (const s of active) nParents += s.nLive;
    const parentNodes = new Int32Array(nParents);
    const reqProblems = new Uint32Array(nParents);
    const seeds = new Uint32Array(nParents);
    const parentOffsets = new Uint32Array(active.length + 1);
    for (let a = 0, r = 0; a < active.length; a++) {
      const s = active[a];
      // mixSeed(seed, algorithm, problem, depth, beam, group), its shared head folded once.
      const head = mixIn(mixIn(mixIn(mixIn(MIX_START, config.seed), this.algoCode), s.problem), depth);
      for (let bi = 0; bi < s.nLive; bi++, r++) {
        const node = s.live[bi];
        parentNodes[r] = node;
        reqProblems[r] = s.problem;
        seeds[r] = fmix32(mixIn(mixIn(head, bi), nodes.group[node]));
      }
      parentOffsets[a + 1] = r;
    }
    const gen = await this.timed('generate', `generate d${depth}`, active, () =>
      policy.sampleSteps({
        problems: reqProblems,
        prefixes: prefixesFor(policy, PrefixList.inTree(tree, parentNodes)),
        n: samplesPerBeam,
        seeds,
        signal: ctx.signal,
      }),
    );
    const nChildren = nParents * samplesPerBeam;
    checkStepBatch(policy.name, gen, nChildren);
    // Children stay (parent node, new step) until pruning: only the kept ones become nodes. Child i
    // is sample i % C of parent row floor(i / C).
    const parentIndex = this.parentIndexBuf.take(nChildren);
    const childProblems = new Uint32Array(nChildren);
    const childOffsets = new Uint32Array(active.length + 1);
    const sampleTokens = gen.tokens;
    for (let a = 0, i = 0; a < active.length; a++) {
      const problem = active[a].problem;
      let tokens = 0;
      for (let r = parentOffsets[a]; r < parentOffsets[a + 1]; r++)
        for (let j = 0; j < samplesPerBeam; j++, i++) {
          parentIndex[i] = r;
          childProblems[i] = problem;
          tokens += sampleTokens[i];
        }
      childOffsets[a + 1] = i;
      const c = active[a].result.compute;
      c.policyCalls += parentOffsets[a + 1] - parentOffsets[a];
      c.policySamples += i - childOffsets[a];
      c.policyTokens += tokens;
    }
    const children = PrefixList.inTree(tree, parentNodes, gen.steps, samplesPerBeam);
    // Dedupe keys chain from the parent's key: one step hash per child, no prefix rehashing.
    const keys = config.dedupe ? new BigUint64Array(nChildren) : undefined;
    const childKeys = keys ? new Uint32Array(keys.buffer) : undefined;
    if (childKeys)
      for (let i = 0; i < nChildren; i++) extendKeyInto(childKeys, i, nodes.keys, parentNodes[parentIndex[i]], gen.steps[i]);

    // 2. Score every child (and with a separate prover, its prover value too).
    const scoreReq = (b: VerifierBackend<S>) => ({ problems: childProblems, prefixes: prefixesFor(b, children), signal: ctx.signal });
    const [base, prov] = await this.timed('score', `score d${depth}`, active, () =>
      Promise.all([verifier.scorePrefixes(scoreReq(verifier)), prov0?.scorePrefixes(scoreReq(prov0))]),
    );
    checkScoreBatch(verifier.name, base, nChildren);
    if (prover && prov) checkScoreBatch(prover.name, prov, nChildren);
    for (let a = 0; a < active.length; a++) chargeScores(active[a].result.compute, base, prov, childOffsets[a], childOffsets[a + 1]);

    // 3. Prune: one segmented call for all problems (segment = problem, DVTS groups = subtrees).
    const kept = await this.timed('prune', `prune d${depth}`, active, () => {
      let scores: Float64Array = base.values;
      if (this.pav) {
        const parentQ = this.parentQBuf.take(nParents);
        const parentMu = this.parentMuBuf.take(nParents);
        for (let r = 0; r < nParents; r++) {
          parentQ[r] = nodes.q[parentNodes[r]];
          parentMu[r] = nodes.mu[parentNodes[r]];
        }
        scores = effectiveRewards({
          q: base.values,
          parentIndex,
          parentQ,
          alpha: config.alpha,
          K: config.proverK,
          ...(prov ? { proverChild: prov.values, proverParent: parentMu } : {}),
          out: this.rewardsBuf.take(nChildren),
        });
      }
      // Beam keeps the free slots of each problem: select the largest and cut per problem below.
      let k = 1;
      if (!dvts) for (const s of active) k = Math.max(k, capacity - s.nDone);
      let groups: Uint32Array | undefined;
      if (dvts) {
        groups = this.groupsBuf.take(nChildren);
        for (let i = 0; i < nChildren; i++) groups[i] = nodes.group[parentNodes[parentIndex[i]]];
      }
      return selectTopK({ scores, offsets: childOffsets, k, ...(keys ? { keys } : {}), ...(groups ? { groups } : {}) });
    });

    // The kept children become nodes, overwriting the live lists (their parents were read above).
    const maxSteps = config.maxSteps;
    const { indices: keptIndex, offsets: keptOffsets } = kept;
    const { steps, finished } = gen;
    const q = base.values;
    const mu = prov?.values;
    for (let a = 0; a < active.length; a++) {
      const s = active[a];
      const end = dvts ? keptOffsets[a + 1] : Math.min(keptOffsets[a + 1], keptOffsets[a] + capacity - s.nDone);
      let nLive = 0;
      for (let j = keptOffsets[a]; j < end; j++) {
        const i = keptIndex[j];
        const node = nodes.child(parentNodes[parentIndex[i]], steps[i], q[i], mu ? mu[i] : 0, childKeys, i, finished[i]);
        if (finished[i] === 1 || tree.depthOf(node) >= maxSteps) s.done[s.nDone++] = node;
        else s.live[nLive++] = node;
      }
      s.nLive = nLive;
    }
    ctx.onProgress?.({
      lane: ctx.lane,
      depth,
      liveBeams: active.reduce((n, s) => n + s.nLive, 0),
      activeProblems: active.length,
      bestValue: this.states.length === 1 ? bestValueOf(nodes, this.states[0]) : undefined,
    });
  }

  results(): ProblemResult<S>[] {
    const { nodes, states } = this;
    for (const s of states) this.settle(s);
    const tree = nodes.tree;
    const task = this.ctx.task;
    for (const s of states) {
      const node = bestOf(nodes, s);
      const r = s.result;
      // A root node is the bare problem: no round finished (a deadline before the first), no trace.
      if (node === ROOT || tree.depthOf(node) === 0) {
        if (r.status === 'deadline') r.error = 'the deadline came before the first round finished: no trace';
        continue;
      }
      r.trace = tree.path(node);
      r.value = nodes.q[node];
      r.stepValues = stepValuesOf(nodes, node);
      r.finished = nodes.finished[node] === 1;
      r.answer = task.answerKey(s.problem, r.trace);
      r.correct = task.isCorrect(s.problem, r.trace);
    }
    return states.map((s) => s.result);
  }
}

/** Q^pi after each step of a node's trace, read off its chain of parents. */
function stepValuesOf<S>(nodes: BeamNodes<S>, node: number): number[] {
  const values: number[] = new Array(nodes.tree.depthOf(node));
  for (let n = node, t = values.length - 1; t >= 0; n = nodes.tree.parentOf(n), t--) values[t] = nodes.q[n];
  return values;
}

/**
 * The final answer: the finished trace with the highest Q^pi (the first on ties), as in the paper;
 * without one, the best step-capped trace (done but not finished); without those, the best live beam.
 */
function bestOf<S>(nodes: BeamNodes<S>, s: ProblemState<S>): number {
  const pick = (list: Int32Array, n: number, finishedOnly: boolean) => {
    let best = ROOT;
    for (let j = 0; j < n; j++) {
      const node = list[j];
      if (finishedOnly && nodes.finished[node] !== 1) continue;
      if (best === ROOT || nodes.q[node] > nodes.q[best]) best = node;
    }
    return best;
  };
  const ended = pick(s.done, s.nDone, true);
  if (ended !== ROOT) return ended;
  const capped = pick(s.done, s.nDone, false);
  return capped !== ROOT ? capped : pick(s.live, s.nLive, false);
}

function bestValueOf<S>(nodes: BeamNodes<S>, s: ProblemState<S>): number | undefined {
  const n = bestOf(nodes, s);
  return n === ROOT ? undefined : nodes.q[n];
}
