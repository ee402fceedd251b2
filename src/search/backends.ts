// The contracts between the search drivers and the models they drive. Batches are columnar:
// one call carries the live candidates of every problem in flight, request-major.
//
// S is the step type: a token id for the embedded toy task, a string for text models.
// Prefixes come as plain arrays, or, to a backend that declares `readsPrefixLists`, as the engine's
// PrefixList (live beams and children read in place from its StepTree, no copy per prefix); such a
// backend reads them through prefixList(), which accepts both.
import type { Prefixes } from './prefixes.ts';

/** One batch of next-step requests: request i continues `prefixes[i]` of problem `problems[i]`. */
export interface StepRequestBatch<S> {
  /** Index of the problem in the backend's problem table, per request. */
  problems: Uint32Array;
  /** The steps so far, per request (not mutated by the backend). */
  prefixes: Prefixes<S>;
  /** Samples per request. */
  n: number;
  /**
   * One seed per request. A backend that can seed must make request i's samples a function of
   * (seeds[i], its prefix, sample index) only, never of its position in the batch or of the other
   * requests: the engine batches problems differently from run to run (windows, resumed runs), and
   * results must not change with that. Sample j of a request must not depend on n either, so
   * budgets nest (the first 4 of 8 samples equal the 4 of a budget-4 call).
   */
  seeds: Uint32Array;
  signal?: AbortSignal;
}

/** Result of a step batch: request i's samples are at [i*n, (i+1)*n). */
export interface StepBatch<S> {
  steps: S[];
  /** Policy tokens generated per sample (compute accounting). */
  tokens: Uint32Array;
  /** 1 where the sample ended the response (end token, end of generation, length cap). */
  finished: Uint8Array;
}

/** Full completions from each prefix (best-of-N): sample i of request r is at r*n + i. */
export interface CompletionBatch<S> {
  /** The steps appended after the prefix. */
  completions: S[][];
  tokens: Uint32Array;
}

/** What the engine checks before handing a backend its prefixes in place. */
export interface ReadsPrefixLists {
  /**
   * True when this backend reads `batch.prefixes` through prefixList() (or PrefixList methods): the
   * engine then passes its prefixes in place. Otherwise it passes plain arrays, which any backend
   * can index (at the cost of one array per prefix), so a backend written against arrays is never
   * handed a PrefixList it would misread.
   */
  readonly readsPrefixLists?: boolean;
}

export interface PolicyBackend<S> extends ReadsPrefixLists {
  readonly name: string;
  sampleSteps(batch: StepRequestBatch<S>): Promise<StepBatch<S>>;
  sampleCompletions(batch: StepRequestBatch<S>): Promise<CompletionBatch<S>>;
  close?(): Promise<void>;
}

/** One batch of prefixes to score: prefix i of problem problems[i]. */
export interface ScoreRequestBatch<S> {
  problems: Uint32Array;
  prefixes: Prefixes<S>;
  signal?: AbortSignal;
}

export interface ScoreBatch {
  /** Q^pi of each prefix, in [0, 1] (the value after its last step; an empty prefix scores the bare problem). */
  values: Float64Array;
  /** Verifier tokens read per prefix (compute accounting). */
  tokens: Uint32Array;
}

/** Values after every step of each prefix of a batch (see VerifierBackend.scoreSteps). */
export interface StepScoreBatch {
  /** Prefix-major: prefix i's lengthOf(i) values in step order, after those of prefixes 0 .. i - 1. */
  values: Float64Array;
  /** Verifier tokens read per prefix (compute accounting). */
  tokens: Uint32Array;
}

export interface VerifierBackend<S> extends ReadsPrefixLists {
  readonly name: string;
  scorePrefixes(batch: ScoreRequestBatch<S>): Promise<ScoreBatch>;
  /**
   * Optional: the value after every step of each prefix, read from one pass over the prefix (a causal
   * PRM reads step h's value at its tag, which later steps cannot change). Value h of a prefix must be
   * what scorePrefixes gives for its first h steps. PAV rerank then scores each response once instead
   * of once per step: verifier tokens grow with the response length, not with its square.
   */
  scoreSteps?(batch: ScoreRequestBatch<S>): Promise<StepScoreBatch>;
  close?(): Promise<void>;
}

/** Ground truth and answer extraction for the problems of a run. */
export interface TaskAdapter<S> {
  readonly name: string;
  readonly problemCount: number;
  problemId(problem: number): string;
  /** The true checker (used for accuracy and Pass@N, never by the search itself). */
  isCorrect(problem: number, trace: readonly S[]): boolean;
  /** Canonical answer string used to group traces for voting. */
  answerKey(problem: number, trace: readonly S[]): string;
  /** Human-readable rendering of a trace (CLI `search`, reports). */
  render(problem: number, trace: readonly S[]): string;
  /** One step on its own (the step table of CLI `search`); String(step) where absent. */
  renderStep?(problem: number, step: S): string;
}
