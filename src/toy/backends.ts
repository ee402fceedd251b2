// The toy task behind the search engine's contracts: a mu_gamma policy, the exact oracle verifier,
// a noisy oracle (a stand-in for a learned verifier of known quality), and the task adapter.
// Steps are single tokens (S = number). Accounting: 1 policy token per sampled token; a verifier
// reads the whole prefix (verifier tokens = prefix length).
import { ErrorCodes, PavError, PavRangeError, PavTypeError } from '../errors.ts';
import { requireFinite, requireInteger, requireObject } from '../ops/common.ts';
import type {
  CompletionBatch,
  PolicyBackend,
  ScoreBatch,
  ScoreRequestBatch,
  StepBatch,
  StepRequestBatch,
  StepScoreBatch,
  TaskAdapter,
  VerifierBackend,
} from '../search/backends.ts';
import { valuePrefixes, valuePrefixesAsync } from './oracle.ts';
import { rolloutArrays, sampleRollouts, sampleRolloutsAsync, sampleSteps, sampleStepsAsync, type SampleOptions } from './sampler.ts';
import { isSolved, ProblemTable, renderTokens } from './task.ts';
import { fmix32 } from '../search/seeds.ts';
import { PrefixList, prefixList } from '../search/prefixes.ts';
import { everyStep, scoreStepPrefixes } from '../search/score_steps.ts';
import type { PrefixInput } from './native.ts';

/** Batches at least this large (samples or prefixes) run on the libuv pool; smaller ones inline. */
export const TOY_ASYNC_MIN = 4096;

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new PavError('the request was aborted', ErrorCodes.ABORTED, { cause: signal.reason });
}

/** The table a toy backend serves (checked up front: a missing one used to fail at the first call). */
function requireTable(table: unknown): ProblemTable {
  if (!(table instanceof ProblemTable)) throw new PavTypeError('table must be a ProblemTable');
  return table;
}

function requireGamma(v: number | undefined, fallback: number): number {
  const g = requireFinite('gamma', v ?? fallback);
  if (!(g > 0)) throw new PavRangeError(`gamma must be > 0, got ${g}`);
  return g;
}

export interface ToyPolicyOptions {
  /** mu_gamma (default 5: the paper's base policy, V(start) ~ 0.005 on its task). */
  gamma?: number;
  /** Mixed into every request's seed (default 0), so two policies can differ on the same seeds. */
  seed?: number;
  threads?: number;
}

/** mu_gamma as a PolicyBackend: request i's samples are a function of (seed, seeds[i], prefix, j) only. */
export class ToyPolicy implements PolicyBackend<number> {
  readonly name: string;
  readonly readsPrefixLists = true;
  readonly gamma: number;
  readonly seed: number;
  readonly threads: number;

  constructor(
    readonly table: ProblemTable,
    options: ToyPolicyOptions = {},
  ) {
    requireTable(table);
    requireObject('options', options);
    this.gamma = requireGamma(options.gamma, 5);
    this.seed = requireInteger('seed', options.seed ?? 0, 0);
    this.threads = requireInteger('threads', options.threads ?? 1, 1, 256);
    this.name = `toy-policy(gamma=${this.gamma})`;
  }

  async sampleSteps(batch: StepRequestBatch<number>): Promise<StepBatch<number>> {
    const r = await this.sample(batch, sampleSteps, sampleStepsAsync);
    return { steps: Array.from(r.tokens), tokens: new Uint32Array(r.tokens.length).fill(1), finished: r.finished };
  }

  async sampleCompletions(batch: StepRequestBatch<number>): Promise<CompletionBatch<number>> {
    const r = await this.sample(batch, sampleRollouts, sampleRolloutsAsync);
    const tokens = new Uint32Array(r.offsets.length - 1);
    for (let i = 0; i < tokens.length; i++) tokens[i] = r.offsets[i + 1] - r.offsets[i];
    return { completions: rolloutArrays(r), tokens };
  }

  /** One sampler call for the batch: on the libuv pool when it is big, inline otherwise. */
  private async sample<R>(
    batch: StepRequestBatch<number>,
    inline: (t: ProblemTable, p: Uint32Array, x: PrefixInput, o: SampleOptions) => R,
    pooled: (t: ProblemTable, p: Uint32Array, x: PrefixInput, o: SampleOptions) => Promise<R>,
  ): Promise<R> {
    checkSignal(batch.signal);
    const opts = { gamma: this.gamma, n: batch.n, seed: this.seed, streams: batch.seeds, threads: this.threads };
    const r =
      batch.prefixes.length * batch.n >= TOY_ASYNC_MIN
        ? await pooled(this.table, batch.problems, batch.prefixes, opts)
        : inline(this.table, batch.problems, batch.prefixes, opts);
    checkSignal(batch.signal);
    return r;
  }
}

export interface OracleVerifierOptions {
  /** The policy whose Q it reports (default 5, the base policy). */
  gamma?: number;
  /** Best-of-K of that policy (default 1). */
  K?: number;
  threads?: number;
}

/** The exact Q^{mu_gamma} of each prefix: a perfect process verifier. */
export class OracleVerifier implements VerifierBackend<number> {
  readonly name: string;
  readonly readsPrefixLists = true;
  readonly gamma: number;
  readonly K: number;
  readonly threads: number;

  constructor(
    readonly table: ProblemTable,
    options: OracleVerifierOptions = {},
  ) {
    requireTable(table);
    requireObject('options', options);
    this.gamma = requireGamma(options.gamma, 5);
    this.K = requireInteger('K', options.K ?? 1, 1);
    this.threads = requireInteger('threads', options.threads ?? 1, 1, 256);
    this.name = `toy-oracle(gamma=${this.gamma}${this.K > 1 ? `,K=${this.K}` : ''})`;
  }

  protected async exact(problems: Uint32Array, prefixes: PrefixList<number>, signal: AbortSignal | undefined): Promise<Float64Array> {
    checkSignal(signal);
    const opts = { gamma: this.gamma, K: this.K, threads: this.threads };
    return prefixes.length >= TOY_ASYNC_MIN
      ? valuePrefixesAsync(this.table, problems, prefixes, opts)
      : valuePrefixes(this.table, problems, prefixes, opts);
  }

  async scorePrefixes(batch: ScoreRequestBatch<number>): Promise<ScoreBatch> {
    const prefixes = prefixList(batch.prefixes);
    const values = await this.exact(batch.problems, prefixes, batch.signal);
    return { values, tokens: prefixes.lengths() };
  }

  /**
   * The value after every step of each prefix, as a process verifier reads them in one pass over a
   * response (charged the response's tokens once): every prefix of every prefix, scored by this
   * verifier's scorePrefixes (so a NoisyVerifier's noise is the same as when they come one by one).
   */
  async scoreSteps(batch: ScoreRequestBatch<number>): Promise<StepScoreBatch> {
    const every = await scoreStepPrefixes(this, batch, everyStep(batch));
    return { values: every.values, tokens: prefixList(batch.prefixes).lengths() };
  }
}

// ---- fixed per-prefix noise ----

/**
 * The noise of prefix i: e(p), a standard normal draw that is a pure function of (seed, problem, p)
 * (Box-Muller on two 32-bit hash lanes of the steps, finished with the length). With rho > 0 it
 * drifts along the prefix: z_0 = e(empty), z_h = rho z_{h-1} + sqrt(1 - rho^2) e(prefix[0..h)), so z
 * is standard normal at every length and a prefix's error carries over to its extensions with
 * correlation rho, as a trained model's does. One pass over the steps, read in place: the lanes
 * after t steps give e of the first t steps.
 */
function noiseAt(seed: number, problem: number, prefixes: PrefixList<number>, i: number, rho: number): number {
  let h0 = fmix32((seed ^ Math.imul(1, 0x9e3779b9)) >>> 0);
  let h1 = fmix32((seed ^ Math.imul(2, 0x9e3779b9)) >>> 0);
  h0 = fmix32((h0 ^ Math.imul(problem + 1, 0x85ebca6b)) >>> 0);
  h1 = fmix32((h1 ^ Math.imul(problem + 1, 0x85ebca6b)) >>> 0);
  const c = Math.sqrt(1 - rho * rho);
  let z = rho > 0 ? boxMuller(h0, h1, 0) : 0;
  const steps = noiseScratch;
  const n = prefixes.copySteps(i, steps, 0);
  for (let t = 0; t < n; t++) {
    const k = Math.imul(steps[t] + 1, 0x9e3779b9);
    h0 = fmix32((h0 + k) >>> 0);
    h1 = fmix32((h1 + k) >>> 0);
    // Independent noise needs only the draw of the whole prefix.
    if (rho > 0) z = rho * z + c * boxMuller(h0, h1, t + 1);
  }
  return rho > 0 ? z : boxMuller(h0, h1, n);
}
const noiseScratch: number[] = [];

/**
 * The standard normal draw of hash lanes (h0, h1) finished with t. A module function, not a closure
 * in noiseAt: under tsx every closure created gets its name set at run time (esbuild keepNames),
 * which cost the main job a quarter of its time at one closure per scored prefix.
 */
function boxMuller(h0: number, h1: number, t: number): number {
  const u1 = (fmix32((h0 ^ t) >>> 0) + 0.5) / 4294967296;
  const u2 = (fmix32((h1 ^ t) >>> 0) + 0.5) / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/**
 * A standard normal draw that is a pure function of (seed, problem, prefix): a hash, not a stream, so
 * the same prefix always gets the same noise whatever else is scored with it (Box-Muller on two
 * independent 32-bit hash lanes).
 */
export function prefixNoise(seed: number, problem: number, prefix: readonly number[]): number {
  return noiseAt(seed, problem, PrefixList.of([prefix]), 0, 0);
}

/** The noise of a NoisyVerifier with `correlation` rho (see noiseAt). */
export function driftingPrefixNoise(seed: number, problem: number, prefix: readonly number[], rho: number): number {
  return noiseAt(seed, problem, PrefixList.of([prefix]), 0, rho);
}

export interface NoisyVerifierOptions extends OracleVerifierOptions {
  /** Standard deviation of the noise in logit space (0 = the oracle up to clipping). */
  sigma: number;
  /** Seed of the noise (default 0). */
  seed?: number;
  /** Values are clipped to [clip, 1 - clip] before the logit, so 0 and 1 move too (default 1e-4). */
  clip?: number;
  /**
   * Correlation in [0, 1) of the noise of a prefix and of its one-step extension (default 0: every
   * prefix's noise is independent). A trained verifier's errors drift along a response rather than
   * jumping at every step, which matters for PAV: its advantages are differences of consecutive values.
   */
  correlation?: number;
}

/**
 * The oracle seen through logit-space Gaussian noise: sigmoid(logit(Q) + sigma * z(problem, prefix, seed)).
 * A verifier of tunable quality; the noise of a prefix is fixed, like a trained model's error.
 */
export class NoisyVerifier extends OracleVerifier {
  override readonly name: string;
  readonly sigma: number;
  readonly seed: number;
  readonly clip: number;
  readonly correlation: number;

  constructor(table: ProblemTable, options: NoisyVerifierOptions) {
    super(table, options);
    const sigma = requireFinite('sigma', options?.sigma);
    if (sigma < 0) throw new PavRangeError(`sigma must be >= 0, got ${sigma}`);
    const clip = requireFinite('clip', options.clip ?? 1e-4);
    if (!(clip > 0 && clip < 0.5)) throw new PavRangeError(`clip must be in (0, 0.5), got ${clip}`);
    this.sigma = sigma;
    this.seed = requireInteger('seed', options.seed ?? 0, 0, 2 ** 32 - 1);
    this.clip = clip;
    const rho = requireFinite('correlation', options.correlation ?? 0);
    if (!(rho >= 0 && rho < 1)) throw new PavRangeError(`correlation must be in [0, 1), got ${rho}`);
    this.correlation = rho;
    this.name = `toy-noisy(gamma=${this.gamma}${this.K > 1 ? `,K=${this.K}` : ''},sigma=${sigma}${rho > 0 ? `,rho=${rho}` : ''})`;
  }

  override async scorePrefixes(batch: ScoreRequestBatch<number>): Promise<ScoreBatch> {
    const prefixes = prefixList(batch.prefixes);
    const q = await this.exact(batch.problems, prefixes, batch.signal);
    const values = new Float64Array(q.length);
    for (let i = 0; i < q.length; i++) {
      const p = Math.min(1 - this.clip, Math.max(this.clip, q[i]));
      const z = this.sigma === 0 ? 0 : noiseAt(this.seed, batch.problems[i], prefixes, i, this.correlation);
      values[i] = 1 / (1 + Math.exp(-(Math.log(p / (1 - p)) + this.sigma * z)));
    }
    return { values, tokens: prefixes.lengths() };
  }
}

/** Ground truth of a toy run: the checker, the response itself as the answer key, token rendering. */
export class ToyTask implements TaskAdapter<number> {
  readonly name = 'planted-subsequence';

  constructor(readonly table: ProblemTable) {
    requireTable(table);
  }

  get problemCount(): number {
    return this.table.size;
  }

  problemId(problem: number): string {
    this.table.task(problem);
    return `planted/${problem}`;
  }

  isCorrect(problem: number, trace: readonly number[]): boolean {
    return isSolved(this.table.task(problem), trace);
  }

  /** The response is the answer: its token string, so identical responses vote together. */
  answerKey(problem: number, trace: readonly number[]): string {
    return renderTokens(this.table.task(problem), trace);
  }

  render(problem: number, trace: readonly number[]): string {
    return renderTokens(this.table.task(problem), trace);
  }

  renderStep(problem: number, step: number): string {
    return renderTokens(this.table.task(problem), [step]);
  }
}
