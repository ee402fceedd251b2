import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, PavRangeError, PavTypeError } from '../../src/errors.ts';
import { loadProblems, problemTextLookup, streamProblems } from '../../src/real/problems.ts';
import { isNoAnswerKey, TextTask } from '../../src/real/text_task.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-problems-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('loadProblems', () => {
  it('reads MATH-500 and GSM8K shapes', async () => {
    const p = file(
      'mixed.jsonl',
      [
        JSON.stringify({ problem: 'What is 1/2 + 1/4?', answer: '\\frac34', unique_id: 'test/algebra/1.json', level: 2 }),
        '',
        JSON.stringify({ question: 'Natalia sold 48 clips...', answer: 'She sold 48+24 = 72 clips.\n#### 72' }),
        JSON.stringify({ id: 7, problem: 'p', answer: 5 }),
      ].join('\n') + '\n',
    );
    const ps = await loadProblems(p);
    expect(ps).toEqual([
      { id: 'test/algebra/1.json', problem: 'What is 1/2 + 1/4?', answer: '\\frac34' },
      { id: 'mixed.jsonl:3', problem: 'Natalia sold 48 clips...', answer: '72' },
      { id: '7', problem: 'p', answer: '5' },
    ]);
    expect(await loadProblems(p, { limit: 2 })).toHaveLength(2);
  });

  it('names the file and line of a bad row', async () => {
    const bad = file('bad.jsonl', '{"problem":"a","answer":"1"}\n{"problem":"b"\n');
    await expect(loadProblems(bad)).rejects.toThrow(ConfigError);
    await expect(loadProblems(bad)).rejects.toThrow(`${bad}:2: not valid JSON`);
    const noAnswer = file('noanswer.jsonl', '{"problem":"a"}\n');
    await expect(loadProblems(noAnswer)).rejects.toThrow(`${noAnswer}:1: "answer"`);
    const dup = file('dup.jsonl', '{"id":"x","problem":"a","answer":"1"}\n{"id":"x","problem":"b","answer":"2"}\n');
    await expect(loadProblems(dup)).rejects.toThrow(`${dup}:2: duplicate problem id "x"`);
    await expect(loadProblems(join(dir, 'missing.jsonl'))).rejects.toThrow(/cannot read problem file/);
  });

  it('reports a directory as a problem file that cannot be read, naming the path', async () => {
    const sub = join(dir, 'a-directory.jsonl');
    mkdirSync(sub);
    await expect(loadProblems(sub)).rejects.toThrow(ConfigError);
    await expect(loadProblems(sub)).rejects.toThrow(`cannot read problem file ${sub}: EISDIR`);
  });

  it('takes limit as an integer >= 0', async () => {
    const p = file('three.jsonl', ['a', 'b', 'c'].map((x) => JSON.stringify({ problem: x, answer: '1' })).join('\n'));
    expect(await loadProblems(p, { limit: 0 })).toEqual([]);
    for (const limit of [1.5, -1, NaN]) {
      await expect(loadProblems(p, { limit })).rejects.toThrow(PavRangeError);
      await expect(loadProblems(p, { limit })).rejects.toThrow(/^limit must be an integer/);
    }
  });

  it('skips a UTF-8 byte order mark', async () => {
    const p = file('bom.jsonl', '\uFEFF{"id":"x","problem":"a","answer":"1"}\n');
    expect(await loadProblems(p)).toEqual([{ id: 'x', problem: 'a', answer: '1' }]);
  });

  it('streams without reading ahead of the consumer', async () => {
    const lines = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i, problem: `p${i}`, answer: String(i) }));
    const p = file('big.jsonl', lines.join('\n'));
    let n = 0;
    for await (const q of streamProblems(p)) {
      if (++n === 3) {
        expect(q.id).toBe('2');
        break;
      }
    }
    expect(n).toBe(3);
  });
});

describe('problemTextLookup', () => {
  it('checks the problem list once, naming the bad index', () => {
    expect(problemTextLookup(['a', { id: 'b', problem: 'B', answer: '1' }])(1)).toBe('B');
    expect(() => problemTextLookup(undefined as never)).toThrow(ConfigError);
    expect(() => problemTextLookup(undefined as never)).toThrow(/^problems must be an array/);
    expect(() => problemTextLookup(['a', null] as never)).toThrow('problems[1] must be a string or a TextProblem with a string problem, got null');
    expect(() => problemTextLookup(['a', { id: 'x' }] as never)).toThrow(/^problems\[1\] must be/);
    expect(() => problemTextLookup(['a'])(1)).toThrow(PavRangeError);
  });

  it('refuses what a lookup function returns unless it is a string', () => {
    const lookup = problemTextLookup(((p: number) => (p === 0 ? 'a' : undefined)) as never);
    expect(lookup(0)).toBe('a');
    expect(() => lookup(2)).toThrow(PavTypeError);
    expect(() => lookup(2)).toThrow('problems(2) must return a string, got undefined');
  });
});

describe('TextTask', () => {
  it('checks its problems at construction, naming the index', () => {
    expect(() => new TextTask(undefined as never)).toThrow(PavTypeError);
    expect(() => new TextTask(undefined as never)).toThrow('problems must be an array of TextProblems, got undefined');
    expect(() => new TextTask([{ id: 'a', problem: 'p', answer: '1' }, null] as never)).toThrow(/^problems\[1\] must be a TextProblem/);
    expect(() => new TextTask([{ id: 'a', problem: 'p' }] as never)).toThrow('problems[0].answer must be a string, got undefined');
  });

  const task = new TextTask([
    { id: 'a', problem: 'Compute 1/2 + 1/4.', answer: '\\frac{3}{4}' },
    { id: 'b', problem: 'How many clips?', answer: '72' },
  ]);

  it('grades by answer equivalence over the joined steps', () => {
    expect(task.problemCount).toBe(2);
    expect(task.problemId(1)).toBe('b');
    expect(task.isCorrect(0, ['We add.', 'So the sum is $\\boxed{0.75}$.'])).toBe(true);
    expect(task.isCorrect(0, ['So the sum is $\\boxed{\\dfrac{3}{4}}$.'])).toBe(true);
    expect(task.isCorrect(0, ['So the sum is $\\boxed{\\frac{2}{3}}$.'])).toBe(false);
    expect(task.isCorrect(1, ['48 + 24 = 72', 'The answer is 72.'])).toBe(true);
    expect(task.isCorrect(1, ['I am not sure'])).toBe(false);
  });

  it('keys votes by canonical answer', () => {
    expect(task.answerKey(0, ['\\boxed{\\frac34}'])).toBe(task.answerKey(0, ['\\boxed{0.75}']));
    expect(task.answerKey(0, ['\\boxed{\\frac34}'])).not.toBe(task.answerKey(0, ['\\boxed{\\frac23}']));
    expect(isNoAnswerKey(task.answerKey(0, ['no answer']))).toBe(true);
    expect(isNoAnswerKey(task.answerKey(0, ['\\boxed{0.75}']))).toBe(false);
    expect(() => task.answerKey(5, ['1'])).toThrow(RangeError);
  });

  it('never lets different traces without an answer vote together, and keys them the same way every time', () => {
    const keys = [['I am not sure.'], ['no idea at all'], ['I', 'am not sure.'], ['']].map((t) => task.answerKey(0, t));
    expect(keys.every(isNoAnswerKey)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).not.toContain(task.answerKey(0, ['\\boxed{0.75}']));
    // A pure function of the trace: results must not depend on how many traces were keyed before.
    expect(task.answerKey(0, ['I am not sure.'])).toBe(keys[0]);
  });

  it('keys every spelling of a multiple-choice letter alike', () => {
    const t = new TextTask([{ id: 'q', problem: 'q', answer: 'C' }]);
    const traces = ['\\boxed{C}', '\\boxed{(C)}', '\\boxed{\\text{(C)}}', '\\boxed{\\textbf{C}}', 'The answer is C.', 'The answer is (C).'];
    expect(new Set(traces.map((s) => t.answerKey(0, [s]))).size).toBe(1);
    for (const s of traces) expect(t.isCorrect(0, [s]), s).toBe(true);
  });

  it('grades Minerva-format responses and plus-minus references', () => {
    const t = new TextTask([
      { id: 'p', problem: 'p', answer: '7' },
      { id: 'r', problem: 'r', answer: '\\frac{-3\\pm\\sqrt{5}}{2}' },
    ]);
    expect(t.isCorrect(0, ['Final Answer: The final answer is $7$. I hope it is correct.'])).toBe(true);
    expect(t.isCorrect(0, ['The answer is **7**.'])).toBe(true);
    expect(t.isCorrect(1, ['\\boxed{-\\frac32}'])).toBe(false);
    expect(t.isCorrect(1, ['\\boxed{\\frac{-3\\pm\\sqrt{7}}{2}}'])).toBe(false);
    expect(t.isCorrect(1, ['\\boxed{\\frac{-3+\\sqrt5}{2}, \\frac{-3-\\sqrt5}{2}}'])).toBe(true);
    expect(t.answerKey(1, ['\\boxed{\\frac{-3\\pm\\sqrt5}{2}}'])).not.toBe(t.answerKey(1, ['\\boxed{-\\frac32}']));
  });

  it('renders a trace', () => {
    const r = task.render(0, ['We add.', '\\boxed{0.75}']);
    expect(r).toContain('Problem a');
    expect(r).toContain('[step 2] \\boxed{0.75}');
    expect(r).toContain('Answer: 0.75 (reference \\frac{3}{4})');
  });
});
