// TaskAdapter<string> for text problems: grading by answer equivalence, voting keys by canonical form.
import { PavRangeError, PavTypeError } from '../errors.ts';
import type { TaskAdapter } from '../search/backends.ts';
import { stringCode } from '../search/seeds.ts';
import { describeType } from '../ops/common.ts';
import { answersEqual, canonicalAnswer, extractAnswer } from './answers.ts';
import type { TextProblem } from './problems.ts';

export interface TextTaskOptions {
  name?: string;
  /** Joins the steps of a trace into the response text (default a blank line, as the policy's). */
  delimiter?: string;
  /** Time limit of one symbolic comparison (default 1000 ms). */
  timeoutMs?: number;
}

/**
 * Prefix of the answerKey of a trace that has no extractable answer; a hash of the trace follows, so
 * different answerless traces never pool their votes (identical ones do, as any identical responses
 * would), and the key is the same whenever the trace is (results must not depend on call order).
 * Real keys never start with a NUL. (vote.ts has no way to exclude a candidate, so one answerless
 * trace can still win a tie among single votes.)
 */
export const NO_ANSWER_KEY = '\u0000no answer#';

/** Whether a key from answerKey is that of a trace without an extractable answer. */
export function isNoAnswerKey(key: string): boolean {
  return key.startsWith(NO_ANSWER_KEY);
}

export class TextTask implements TaskAdapter<string> {
  readonly name: string;
  readonly problems: readonly TextProblem[];
  readonly delimiter: string;
  private readonly timeoutMs: number;

  constructor(problems: readonly TextProblem[], options: TextTaskOptions = {}) {
    // Checked once here: a bad entry would otherwise fail, or grade against "undefined", on every trace.
    if (!Array.isArray(problems)) throw new PavTypeError(`problems must be an array of TextProblems, got ${describeType(problems)}`);
    for (let i = 0; i < problems.length; i++) {
      const p: unknown = problems[i];
      if (p === null || typeof p !== 'object') throw new PavTypeError(`problems[${i}] must be a TextProblem { id, problem, answer }, got ${describeType(p)}`);
      const r = p as Record<string, unknown>;
      const bad = (['id', 'problem', 'answer'] as const).find((k) => typeof r[k] !== 'string');
      if (bad !== undefined) throw new PavTypeError(`problems[${i}].${bad} must be a string, got ${describeType(r[bad])}`);
    }
    this.problems = problems;
    this.name = options.name ?? 'text';
    this.delimiter = options.delimiter ?? '\n\n';
    this.timeoutMs = options.timeoutMs ?? 1000;
  }

  get problemCount(): number {
    return this.problems.length;
  }

  problemId(problem: number): string {
    return this.at(problem).id;
  }

  /** The final answer a trace gives, or undefined. */
  answerOf(trace: readonly string[]): string | undefined {
    return extractAnswer(trace.join(this.delimiter));
  }

  isCorrect(problem: number, trace: readonly string[]): boolean {
    const answer = this.answerOf(trace);
    return answer !== undefined && answersEqual(answer, this.at(problem).answer, { timeoutMs: this.timeoutMs });
  }

  answerKey(problem: number, trace: readonly string[]): string {
    this.at(problem);
    const answer = this.answerOf(trace);
    return answer === undefined ? `${NO_ANSWER_KEY}${stringCode(trace.join('\u0001')).toString(16)}` : canonicalAnswer(answer, { timeoutMs: this.timeoutMs });
  }

  render(problem: number, trace: readonly string[]): string {
    const p = this.at(problem);
    const steps = trace.map((s, i) => `[step ${i + 1}] ${s.trim()}`).join('\n');
    return `Problem ${p.id}: ${p.problem}\n${steps}\nAnswer: ${this.answerOf(trace) ?? '(none)'} (reference ${p.answer})`;
  }

  renderStep(_problem: number, step: string): string {
    return step.trim();
  }

  private at(problem: number): TextProblem {
    const p = this.problems[problem];
    if (p === undefined) throw new PavRangeError(`problem index ${problem} is out of range [0, ${this.problems.length})`);
    return p;
  }
}
