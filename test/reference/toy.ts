// Plain TypeScript reference of the planted-subsequence task, written straight from the definitions
// (no automaton, no DP): the oracle and sampler tests compare the native ops against it.
import type { PlantedTask } from '../../src/toy/task.ts';

export function occursIn(s: readonly number[], y: readonly number[]): boolean {
  outer: for (let i = 0; i + y.length <= s.length; i++) {
    for (let j = 0; j < y.length; j++) if (s[i + j] !== y[j]) continue outer;
    return true;
  }
  return false;
}

/** Longest suffix of s that is a prefix of y; |y| once y has occurred. s holds no end token. */
export function bruteState(s: readonly number[], y: readonly number[]): number {
  if (occursIn(s, y)) return y.length;
  for (let l = Math.min(s.length, y.length); l > 0; l--) {
    let ok = true;
    for (let j = 0; j < l && ok; j++) ok = s[s.length - l + j] === y[j];
    if (ok) return l;
  }
  return 0;
}

/** mu_gamma's next-token distribution after s (no end token in s). */
export function nextTokenProbs(task: PlantedTask, s: readonly number[], gamma: number): number[] {
  const { target: y, vocab: V } = task;
  const k = bruteState(s, y);
  const fav = k === y.length ? V - 1 : y[k];
  const total = gamma + V - 1;
  return Array.from({ length: V }, (_, c) => (c === fav ? gamma : 1) / total);
}

/** Success probability of continuing s under mu_gamma, by enumerating every continuation. */
export function bruteValue(task: PlantedTask, s: number[], gamma: number): number {
  const end = task.vocab - 1;
  const ended = s.length > 0 && s[s.length - 1] === end;
  const body = ended ? s.slice(0, -1) : s;
  if (occursIn(body, task.target)) return 1;
  if (ended || s.length >= task.maxLen) return 0;
  const p = nextTokenProbs(task, s, gamma);
  let acc = 0;
  for (let c = 0; c < task.vocab; c++) {
    s.push(c);
    acc += p[c] * bruteValue(task, s, gamma);
    s.pop();
  }
  return acc;
}

/** Every prefix of a tiny task: all non-end sequences of length 0..L, and each followed by the end token. */
export function allPrefixes(task: PlantedTask): number[][] {
  const out: number[][] = [];
  const end = task.vocab - 1;
  const rec = (s: number[]) => {
    out.push([...s]);
    if (s.length >= task.maxLen) return;
    out.push([...s, end]);
    for (let c = 0; c < end; c++) {
      s.push(c);
      rec(s);
      s.pop();
    }
  };
  rec([]);
  return out;
}
