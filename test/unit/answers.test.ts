import { describe, expect, it } from 'vitest';
import { answersEqual, canonicalAnswer, extractAnswer, lastBoxed, normaliseAnswer } from '../../src/real/answers.ts';
import { ANSWER_PAIRS } from '../fixtures/answer_pairs.ts';

describe('answersEqual on the hand-checked table', () => {
  it('has at least 100 pairs, both verdicts represented', () => {
    expect(ANSWER_PAIRS.length).toBeGreaterThanOrEqual(100);
    expect(ANSWER_PAIRS.filter((p) => p.equal).length).toBeGreaterThan(40);
    expect(ANSWER_PAIRS.filter((p) => !p.equal).length).toBeGreaterThan(30);
  });

  for (const p of ANSWER_PAIRS) {
    it(`${p.kind}: ${JSON.stringify(p.a)} ${p.equal ? '==' : '!='} ${JSON.stringify(p.b)}`, () => {
      expect(answersEqual(p.a, p.b)).toBe(p.equal);
      expect(answersEqual(p.b, p.a)).toBe(p.equal); // symmetric
    });
  }
});

describe('answersEqual on equations', () => {
  it('keeps the variable when both answers are equations (voting keys still strip it: see canonicalAnswer)', () => {
    expect(answersEqual('x=2', 'y=2')).toBe(false);
    expect(answersEqual('y=2', 'x=2')).toBe(false);
    expect(answersEqual('x=2', '2')).toBe(true);
    expect(answersEqual('k=-2', 'k = -2')).toBe(true);
    expect(answersEqual('y=2x+3', 'y=3+2x')).toBe(true);
  });
});

describe('answersEqual bounds', () => {
  it('answers huge powers and towers quickly without evaluating them', () => {
    const t = performance.now();
    expect(answersEqual('2^{100000000}', '2^{100000001}')).toBe(false);
    expect(answersEqual('9^{9^{9^{9}}}', '1')).toBe(false);
    expect(answersEqual('100000!', '1')).toBe(false);
    expect(performance.now() - t).toBeLessThan(1000);
  });

  it('treats an identical huge input as equal by its string', () => {
    expect(answersEqual('2^{100000000}', '2^{100000000}')).toBe(true);
  });

  it('never throws on junk', () => {
    for (const s of ['\\', '{', '}}', '\\frac', '\\sqrt{', '$$', '\\left(', 'x^^2', '1/0', '0/0', '\\text{', '(((', '\\boxed{']) {
      expect(() => answersEqual(s, '1')).not.toThrow();
      expect(() => canonicalAnswer(s)).not.toThrow();
    }
  });

  it('respects the tolerance option', () => {
    expect(answersEqual('3.1416', '\\pi')).toBe(false);
    expect(answersEqual('3.1416', '\\pi', { relTol: 1e-4 })).toBe(true);
  });
});

describe('extractAnswer', () => {
  it('takes the last \\boxed with nested braces', () => {
    expect(extractAnswer('first \\boxed{1} then \\boxed{\\frac{1}{\\sqrt{2}}}.')).toBe('\\frac{1}{\\sqrt{2}}');
    expect(extractAnswer('so $\\boxed{\\left\\{1,2\\right\\}}$')).toBe('\\left\\{1,2\\right\\}');
    expect(extractAnswer('\\fbox{42}')).toBe('42');
    expect(extractAnswer('$\\boxed 5$')).toBe('5');
  });

  it('falls back to "the answer is"', () => {
    expect(extractAnswer('Therefore, the answer is $\\frac{1}{2}$. Done.')).toBe('\\frac{1}{2}');
    expect(extractAnswer('The final answer is 42.')).toBe('42');
    expect(extractAnswer('Answer: 7 apples')).toBe('7 apples');
  });

  it('falls back to the last number', () => {
    expect(extractAnswer('3 apples and 1,250 pears')).toBe('1,250');
    expect(extractAnswer('she has -4.5 left')).toBe('-4.5');
    expect(extractAnswer('a ratio of 3/4')).toBe('3/4');
    expect(extractAnswer('no numbers here')).toBeUndefined();
  });

  it('leaves an unbalanced \\boxed to the fallbacks', () => {
    expect(lastBoxed('\\boxed{\\frac{1}{2}')).toBeUndefined();
    expect(extractAnswer('we get 7 so \\boxed{\\frac{1}{2}')).toBe('2');
  });

  it('reads the Minerva MATH format and markdown bold', () => {
    expect(extractAnswer('Final Answer: The final answer is $7$. I hope it is correct.')).toBe('7');
    expect(extractAnswer('Final Answer: The final answer is $\\frac{1}{2}$. I hope it is correct.')).toBe('\\frac{1}{2}');
    expect(extractAnswer('Final Answer: The final answer is 12. I hope it is correct.')).toBe('12');
    expect(extractAnswer('The answer is **42**.')).toBe('42');
    expect(extractAnswer('**Answer:** 42')).toBe('42');
    expect(extractAnswer('The answer is: **42**')).toBe('42');
  });

  it('keeps an escaped dollar inside math', () => {
    const x = extractAnswer('The answer is $\\$5$.');
    expect(x).toBe('\\$5');
    expect(answersEqual(x!, '5')).toBe(true);
  });

  it('needs a word boundary after "is"', () => {
    expect(extractAnswer("the answer isn't clear at first. We get 9")).toBe('9');
  });

  it('cuts a trailing explanation, keeping lists', () => {
    expect(extractAnswer('The answer is 7 (since 3+4=7).')).toBe('7');
    expect(extractAnswer('The answer is 7, since 3+4=7.')).toBe('7');
    expect(extractAnswer('The answer is 7 because 3+4=7.')).toBe('7');
    expect(extractAnswer('The answer is 12, which is even.')).toBe('12');
    expect(extractAnswer('The answer is 7, 8.')).toBe('7, 8');
    expect(extractAnswer('The answer is 7, 8 since both work.')).toBe('7, 8');
  });

  it('composes with the grader (GSM8K style)', () => {
    const response = 'Natalia sold 48/2 = 24 clips in May.\nShe sold 48+24 = 72 clips.\nThe answer is 72.';
    expect(answersEqual(extractAnswer(response)!, '72')).toBe(true);
  });
});

describe('canonicalAnswer', () => {
  it('groups equal numeric forms under one key', () => {
    const forms = ['\\frac{1}{2}', '\\dfrac12', '0.5', '.5', '\\frac{2}{4}', '$\\frac{1}{2}$', 'x = \\frac12'];
    expect(new Set(forms.map((f) => canonicalAnswer(f))).size).toBe(1);
    expect(canonicalAnswer('1,000')).toBe(canonicalAnswer('1000'));
    expect(canonicalAnswer('30^\\circ')).toBe(canonicalAnswer('30'));
    expect(canonicalAnswer('5\\text{ cm}')).toBe(canonicalAnswer('5'));
    expect(canonicalAnswer('2\\sqrt2')).toBe(canonicalAnswer('\\sqrt8'));
  });

  it('keeps shape: tuples ordered, sets and solution lists sorted, interval ends', () => {
    expect(canonicalAnswer('(1,2)')).not.toBe(canonicalAnswer('(2,1)'));
    expect(canonicalAnswer('\\{1,2\\}')).toBe(canonicalAnswer('\\{2,1\\}'));
    expect(canonicalAnswer('-2, 1')).toBe(canonicalAnswer('1, -2'));
    expect(canonicalAnswer('[1,2)')).not.toBe(canonicalAnswer('[1,2]'));
  });

  it('follows plus-minus: the key of a\\pm b is the key of the pair', () => {
    expect(canonicalAnswer('\\pm2')).toBe(canonicalAnswer('2, -2'));
    expect(canonicalAnswer('1\\pm\\sqrt2')).toBe(canonicalAnswer('1-\\sqrt2, 1+\\sqrt2'));
    expect(canonicalAnswer('\\frac{1\\pm\\sqrt5}{2}')).not.toBe(canonicalAnswer('\\frac12'));
    expect(canonicalAnswer('\\pm3')).not.toBe(canonicalAnswer('\\pm5'));
    expect(canonicalAnswer('\\pm2')).not.toBe(canonicalAnswer('0'));
  });

  it('keeps bracket kinds apart', () => {
    expect(canonicalAnswer('[0,1]')).not.toBe(canonicalAnswer('(0,1)'));
    expect(canonicalAnswer('[0,1]')).toBe(canonicalAnswer('\\left[0, 1\\right]'));
  });

  it('never merges distinct integers', () => {
    expect(canonicalAnswer('12345678901')).not.toBe(canonicalAnswer('12345678902'));
    expect(canonicalAnswer('2^{64}')).not.toBe(canonicalAnswer('18446744073709551617'));
    expect(canonicalAnswer('2^{64}')).toBe(canonicalAnswer('18446744073709551616'));
    expect(canonicalAnswer('10^{400}')).not.toBe(canonicalAnswer('10^{401}'));
    expect(canonicalAnswer('e^{1000}')).not.toBe(canonicalAnswer('e^{1001}'));
    expect(canonicalAnswer('1.5\\times10^3')).toBe(canonicalAnswer('1500'));
  });

  it('gives every spelling of a multiple-choice letter one key', () => {
    const forms = ['C', '(C)', '\\text{(C)}', '\\textbf{C}', '\\textbf{(C)}', '\\text{C}'];
    expect(new Set(forms.map((f) => canonicalAnswer(f))).size).toBe(1);
    expect(canonicalAnswer('C')).not.toBe(canonicalAnswer('D'));
    expect(answersEqual('C', '\\textbf{C}')).toBe(true);
    expect(answersEqual('C', 'D')).toBe(false);
    expect(answersEqual('a', 'A')).toBe(false); // the variable a is not choice (A)
  });

  it('separates different answers', () => {
    const keys = ['1', '2', '\\frac13', '0.333', '\\pi', '\\text{(A)}', '\\text{(B)}', 'x+1', '(1,2)'].map((s) => canonicalAnswer(s));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('equal keys imply equal answers on the table', () => {
    for (const p of ANSWER_PAIRS) {
      if (canonicalAnswer(p.a) === canonicalAnswer(p.b)) expect(p.equal, `${p.a} vs ${p.b}`).toBe(true);
    }
  });
});

describe('normaliseAnswer', () => {
  it('strips LaTeX decorations', () => {
    expect(normaliseAnswer('\\left( \\dfrac{1}{2} \\right)')).toBe('(\\frac{1}{2})');
    expect(normaliseAnswer('\\$1,000.00')).toBe('1000');
    expect(normaliseAnswer('\\pi r^2')).toBe('\\pi r^2');
  });
});
