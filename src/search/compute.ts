// Compute accounting (what a search spent) and phase timing (where the wall time went).
import type { ScoreBatch } from './backends.ts';

export interface ComputeCounters {
  /** Steps sampled from the policy (a completion of H steps counts H). */
  policySamples: number;
  policyTokens: number;
  policyCalls: number;
  /**
   * Verifier passes: a prefix scored, or a whole response read once for all its steps (a verifier's
   * scoreSteps, used by PAV rerank); tokens likewise count what each pass read.
   */
  verifierCalls: number;
  verifierTokens: number;
  /** Passes of a separate prover verifier (PAV), counted like verifierCalls; 0 without one. */
  proverCalls: number;
  proverTokens: number;
}

export const PHASES = ['generate', 'score', 'prune', 'other'] as const;
export type Phase = (typeof PHASES)[number];
export type PhaseTimes = Record<Phase, number>;

export function zeroCounters(): ComputeCounters {
  return { policySamples: 0, policyTokens: 0, policyCalls: 0, verifierCalls: 0, verifierTokens: 0, proverCalls: 0, proverTokens: 0 };
}

export function zeroPhases(): PhaseTimes {
  return { generate: 0, score: 0, prune: 0, other: 0 };
}

/** Charge one call that read `tokens` tokens to the verifier's counters, or to the separate prover's. */
export function chargeCall(c: ComputeCounters, prover: boolean, tokens: number): void {
  if (prover) {
    c.proverCalls += 1;
    c.proverTokens += tokens;
  } else {
    c.verifierCalls += 1;
    c.verifierTokens += tokens;
  }
}

/**
 * Charge the prefixes [from, to) of a scored batch to `c`: one call and its tokens each for the
 * verifier and, when there is one, for the separate prover.
 */
export function chargeScores(c: ComputeCounters, base: ScoreBatch, prov: ScoreBatch | undefined, from: number, to: number): void {
  c.verifierCalls += to - from;
  for (let i = from; i < to; i++) c.verifierTokens += base.tokens[i];
  if (!prov) return;
  c.proverCalls += to - from;
  for (let i = from; i < to; i++) c.proverTokens += prov.tokens[i];
}

export function addCounters(into: ComputeCounters, c: ComputeCounters): void {
  into.policySamples += c.policySamples;
  into.policyTokens += c.policyTokens;
  into.policyCalls += c.policyCalls;
  into.verifierCalls += c.verifierCalls;
  into.verifierTokens += c.verifierTokens;
  into.proverCalls += c.proverCalls;
  into.proverTokens += c.proverTokens;
}

export function addPhases(into: PhaseTimes, p: PhaseTimes): void {
  for (const k of PHASES) into[k] += p[k];
}

export interface ModelSizes {
  /** Parameters of the policy model, for FLOPs = 2 x params x tokens. */
  policyParams?: number;
  verifierParams?: number;
  /** Parameters of a separate prover verifier (default: the verifier's). */
  proverParams?: number;
}

/** Estimated FLOPs (2 x parameters x tokens), or undefined where no size was given. */
export function estimateFlops(c: ComputeCounters, sizes: ModelSizes): number | undefined {
  if (sizes.policyParams === undefined && sizes.verifierParams === undefined && sizes.proverParams === undefined) return undefined;
  const prover = sizes.proverParams ?? sizes.verifierParams ?? 0;
  return 2 * (sizes.policyParams ?? 0) * c.policyTokens + 2 * (sizes.verifierParams ?? 0) * c.verifierTokens + 2 * prover * (c.proverTokens ?? 0);
}

/** One timed span, for the trace-event file. */
export interface Span {
  name: string;
  phase: Phase;
  /** Microseconds since the run's time origin. */
  ts: number;
  dur: number;
  /** Lane (the cohort that ran it), shown as a thread in Perfetto. */
  lane: number;
  args?: Record<string, number | string>;
}

/** Collects spans and per-phase totals; `time` wraps one awaited phase. */
export class PhaseClock {
  readonly totals = zeroPhases();
  readonly spans: Span[] | undefined;
  private readonly origin: number;

  constructor(recordSpans: boolean, origin = performance.now()) {
    this.spans = recordSpans ? [] : undefined;
    this.origin = origin;
  }

  async time<T>(phase: Phase, name: string, lane: number, fn: () => Promise<T> | T, args?: Span['args']): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const t1 = performance.now();
      this.totals[phase] += (t1 - t0) / 1000;
      this.spans?.push({ name, phase, ts: (t0 - this.origin) * 1000, dur: (t1 - t0) * 1000, lane, args });
    }
  }
}

/**
 * Seconds during which at least one span of the given phases was running: the union of their
 * intervals across lanes. With overlapping lanes, wall time minus the busy time of the backend
 * phases is the time the engine kept both models waiting.
 */
export function busySeconds(spans: readonly Span[], phases: readonly Phase[]): number {
  const iv = spans.filter((s) => phases.includes(s.phase)).map((s) => [s.ts, s.ts + s.dur] as const);
  iv.sort((a, b) => a[0] - b[0]);
  let busy = 0;
  let start = -Infinity, end = -Infinity;
  for (const [s, e] of iv) {
    if (s > end) {
      if (end > start) busy += end - start;
      start = s;
      end = e;
    } else if (e > end) end = e;
  }
  if (end > start) busy += end - start;
  return busy / 1e6;
}
