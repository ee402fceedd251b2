// JSONL problem files ({id, problem, answer} per line, as in MATH-500 and GSM8K exports), streamed.
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, PavRangeError } from '../errors.ts';

export interface TextProblem {
  id: string;
  problem: string;
  /** The reference final answer (LaTeX or a number). */
  answer: string;
}

export interface LoadOptions {
  /** Stop after this many problems. */
  limit?: number;
}

/**
 * Fields accepted per line: the problem text from `problem` or `question`; the answer from
 * `answer` (GSM8K's "reasoning #### 72" keeps what follows ####; a number is turned into a string);
 * the id from `id` or `unique_id`, else `<file name>:<line>`. Blank lines are skipped. Any other
 * shape is a ConfigError that names the file and line; repeated ids are an error too.
 */
export async function* streamProblems(path: string, options: LoadOptions = {}): AsyncGenerator<TextProblem> {
  const limit = options.limit ?? Infinity;
  if (limit <= 0) return;
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
    for await (const line of lines) {
      lineNo++;
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

/** One lookup for every text backend; an index outside the list is a typed error naming it. */
export function problemTextLookup(problems: ProblemTexts): (problem: number) => string {
  if (typeof problems === 'function') return problems;
  return (p) => {
    const x = problems[p];
    if (x === undefined) throw new PavRangeError(`problem index ${p} is out of range [0, ${problems.length})`);
    return typeof x === 'string' ? x : x.problem;
  };
}
