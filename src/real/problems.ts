// JSONL problem files ({id, problem, answer} per line, as in MATH-500 and GSM8K exports), streamed.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, PavRangeError, PavTypeError } from '../errors.ts';
import { describeType, requireInteger } from '../ops/common.ts';

export interface TextProblem {
  id: string;
  problem: string;
  /** The reference final answer (LaTeX or a number). */
  answer: string;
}

export interface LoadOptions {
  /** Stop after this many problems (an integer >= 0). */
  limit?: number;
}

/**
 * Fields accepted per line: the problem text from `problem` or `question`; the answer from
 * `answer` (GSM8K's "reasoning #### 72" keeps what follows ####; a number is turned into a string);
 * the id from `id` or `unique_id`, else `<file name>:<line>`. Blank lines are skipped. Any other
 * shape is a ConfigError that names the file and line; repeated ids are an error too.
 */
export async function* streamProblems(path: string, options: LoadOptions = {}): AsyncGenerator<TextProblem> {
  const limit = options.limit === undefined ? Infinity : requireInteger('limit', options.limit, 0);
  if (limit === 0) return;
  const input = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (e) {
    throw new ConfigError(`cannot read problem file ${path}: ${(e as Error).message}`, { cause: e });
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  const seen = new Set<string>();
  let lineNo = 0;
  let count = 0;
  try {
    for await (let line of lines) {
      lineNo++;
      // Editors on Windows save UTF-8 with a byte order mark, which the utf8 decoder keeps.
      if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
      if (line.trim() === '') continue;
      const where = `${path}:${lineNo}`;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        throw new ConfigError(`${where}: not valid JSON (${(e as Error).message})`, { cause: e });
      }
      const p = toProblem(row, where, `${basename(path)}:${lineNo}`);
      if (seen.has(p.id)) throw new ConfigError(`${where}: duplicate problem id ${JSON.stringify(p.id)}`);
      seen.add(p.id);
      yield p;
      if (++count >= limit) return;
    }
  } catch (e) {
    // A directory opens fine and fails only on read (EISDIR), as does a failing disk: both surface here.
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`cannot read problem file ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    lines.close();
    input.destroy();
  }
}

export async function loadProblems(path: string, options: LoadOptions = {}): Promise<TextProblem[]> {
  const out: TextProblem[] = [];
  for await (const p of streamProblems(path, options)) out.push(p);
  return out;
}

function toProblem(row: unknown, where: string, fallbackId: string): TextProblem {
  if (row === null || typeof row !== 'object' || Array.isArray(row))
    throw new ConfigError(`${where}: expected a JSON object with problem and answer`);
  const r = row as Record<string, unknown>;
  const problem = r.problem ?? r.question;
  if (typeof problem !== 'string' || problem.trim() === '')
    throw new ConfigError(`${where}: "problem" (or "question") must be a non-empty string`);
  let answer = r.answer;
  if (typeof answer === 'number' && Number.isFinite(answer)) answer = String(answer);
  if (typeof answer !== 'string' || answer.trim() === '')
    throw new ConfigError(`${where}: "answer" must be a non-empty string or a number`);
  const hash = answer.lastIndexOf('####');
  if (hash >= 0) answer = answer.slice(hash + 4).trim();
  if (answer === '') throw new ConfigError(`${where}: "answer" is empty after ####`);
  const rawId = r.id ?? r.unique_id;
  let id: string;
  if (rawId === undefined || rawId === null) id = fallbackId;
  else if (typeof rawId === 'string' || typeof rawId === 'number') id = String(rawId);
  else throw new ConfigError(`${where}: "id" must be a string or a number`);
  return { id, problem, answer: answer as string };
}

/** Problem texts by index, as the text backends take them: an array (of strings or TextProblems) or a lookup. */
export type ProblemTexts = readonly (string | TextProblem)[] | ((problem: number) => string);

/**
 * One lookup for every text backend; an index outside the list is a typed error naming it. The
 * list is checked here, at construction, so that a bad entry fails once rather than on every call.
 */
export function problemTextLookup(problems: ProblemTexts): (problem: number) => string {
  if (typeof problems === 'function') {
    return (p) => {
      const x: unknown = problems(p);
      // A lookup's undefined would otherwise be rendered into the prompt as the text "undefined".
      if (typeof x !== 'string') throw new PavTypeError(`problems(${p}) must return a string, got ${describeType(x)}`);
      return x;
    };
  }
  if (!Array.isArray(problems))
    throw new ConfigError(`problems must be an array of problem texts (or TextProblems) or a function of the problem index, got ${describeType(problems)}`);
  for (let i = 0; i < problems.length; i++) {
    const x: unknown = problems[i];
    const text = typeof x === 'string' ? x : x !== null && typeof x === 'object' ? (x as { problem?: unknown }).problem : undefined;
    if (typeof text !== 'string') throw new ConfigError(`problems[${i}] must be a string or a TextProblem with a string problem, got ${describeType(x)}`);
  }
  return (p) => {
    const x = problems[p];
    if (x === undefined) throw new PavRangeError(`problem index ${p} is out of range [0, ${problems.length})`);
    return typeof x === 'string' ? x : x.problem;
  };
}
