// Final-answer extraction and equivalence for text tasks (MATH-500, GSM8K): string normalisation of
// LaTeX, numeric comparison with tolerance, then a symbolic check with @cortex-js/compute-engine.
//
// Grading is three stages, each used only where the previous one cannot decide:
//   1. normalise the LaTeX string (\dfrac, \left/\right, units, degrees, percent, $, thousands
//      separators, "x = ", spacing) and compare the strings;
//   2. parse both with the compute engine; closed numbers (no free variables) are evaluated and
//      compared with a relative tolerance;
//   3. otherwise the engine's isEqual (three-valued: only `true` counts), then simplify(a - b) == 0,
//      then agreement at a few fixed sample points of the free variables.
// The engine is synchronous and some inputs make it run for seconds (2^{10^8} took 12 s in a trial)
// or throw (10^{10^{10}}). Its own time limit is not checked inside big-integer arithmetic, so every
// input is first bounded (length, node count, exponent and factorial sizes); inputs beyond the
// bounds are graded by the normalised string alone. Everything the engine does runs under
// ce.withTimeLimit and inside try/catch: a throw or a timeout means "not proven equal".
import { ComputeEngine } from '@cortex-js/compute-engine';

/** The subset of a boxed expression that this module uses (the package's own types are very wide). */
interface Expr {
  readonly json: unknown;
  readonly operator: string;
  readonly ops: readonly Expr[] | undefined;
  readonly unknowns: readonly string[];
  readonly isValid: boolean;
  N(): Expr;
  simplify(): Expr;
  subs(sub: Record<string, number>): Expr;
  isEqual(other: Expr): boolean | undefined;
  readonly re: number;
  readonly im: number;
}

export interface EqualOptions {
  /** Wall-clock limit for the symbolic stage, per comparison (default 1000 ms). */
  timeoutMs?: number;
  /** Relative tolerance for numbers (default 1e-6). */
  relTol?: number;
  /** Absolute tolerance for numbers near zero (default 1e-9). */
  absTol?: number;
}

const DEFAULTS = { timeoutMs: 1000, relTol: 1e-6, absTol: 1e-9 };

/** Inputs longer than this (after normalisation) are compared as strings only. */
const MAX_LATEX_CHARS = 400;
/** Expression trees with more nodes than this are compared as strings only. */
const MAX_NODES = 300;
/** Integer powers and factorials whose evaluation would build huge big integers are not evaluated. */
const MAX_EXPONENT = 4096;
const MAX_FACTORIAL = 2000;

let engine: ComputeEngine | undefined;
function ce(): ComputeEngine {
  // ~150 ms to build: once per process, on first use.
  engine ??= new ComputeEngine();
  return engine;
}

// ---------------------------------------------------------------------------------------------
// Extraction

/** Content of the last \boxed{...} (or \fbox{...}), with nested braces; `\boxed 5` also accepted. */
export function lastBoxed(text: string): string | undefined {
  const re = /\\(?:boxed|fbox)\s*/g;
  let found: string | undefined;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    let i = m.index + m[0].length;
    if (text[i] === '{') {
      let depth = 0;
      const start = i + 1;
      for (; i < text.length; i++) {
        const c = text[i];
        if (c === '\\') { i++; continue; } // \{ and \} do not count
        if (c === '{') depth++;
        else if (c === '}' && --depth === 0) break;
      }
      if (depth === 0 && i < text.length) found = text.slice(start, i);
    } else {
      // \boxed 5 and \boxed{} without braces: up to the next space, $ or end.
      const rest = /^[^\s$]+/.exec(text.slice(i));
      if (rest) found = rest[0];
    }
  }
  return found;
}

const ANSWER_IS = /(?:final answer|the answer|answer)\s*(?:is|:)\s*:?\s*(.+)/gi;
const NUMBER = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\/\d+)?|-?\.\d+/g;

/**
 * The final answer of a model response, or undefined when it has none.
 * Order: the last \boxed{...}; else the last "the answer is X" (up to the end of the line);
 * else the last number in the text (integers, decimals, a/b, 1,000 separators).
 */
export function extractAnswer(text: string): string | undefined {
  const boxed = lastBoxed(text);
  if (boxed !== undefined && boxed.trim() !== '') return boxed.trim();
  let said: string | undefined;
  for (const m of text.matchAll(ANSWER_IS)) said = m[1];
  if (said !== undefined) {
    let s = said.trim();
    // "$\frac{1}{2}$." -> "\frac{1}{2}"; a sentence after the answer is dropped.
    const math = /^\$+([^$]+)\$+/.exec(s) ?? /^\\\((.+?)\\\)/.exec(s) ?? /^\\\[(.+?)\\\]/.exec(s);
    if (math) s = math[1];
    else s = s.replace(/\.\s.*$/, '').replace(/[.\s]+$/, '');
    s = s.trim();
    if (s !== '') return s;
  }
  const numbers = text.match(NUMBER);
  return numbers ? numbers[numbers.length - 1] : undefined;
}

// ---------------------------------------------------------------------------------------------
// String normalisation

interface Normalised {
  /** The normalised LaTeX. */
  s: string;
  /** A percent sign was removed (50\% may be meant as 0.5: see equalNumbers). */
  percent: boolean;
  /** The answer is text (\text{Evelyn}, (C)): compared as a string, never parsed. */
  text: boolean;
}

const UNIT_WORDS = [
  'square units', 'sq units', 'units', 'unit', 'square feet', 'square inches', 'square meters',
  'square centimeters', 'cubic feet', 'cubic inches', 'cubic centimeters', 'cm', 'mm', 'km', 'm',
  'meters', 'meter', 'centimeters', 'inches', 'inch', 'feet', 'foot', 'ft', 'miles', 'mile', 'mph',
  'hours', 'hour', 'minutes', 'minute', 'seconds', 'second', 'days', 'day', 'years', 'year',
  'dollars', 'dollar', 'cents', 'cent', 'degrees', 'degree', 'pounds', 'ounces', 'grams', 'kg',
  'liters', 'gallons', 'people', 'students', 'ways', 'times', 'points', 'sq', 'p.m.', 'a.m.',
];
const UNIT_RE = new RegExp(
  `^(.*?[\\d}.)\\]])\\s*(?:\\\\(?:text|mbox|textrm|mathrm)\\{\\s*(?:${UNIT_WORDS.map(escapeRe).join('|')})\\s*\\}|(?:${UNIT_WORDS.map(escapeRe).join('|')}))(?:\\^\\{?[23]\\}?)?$`,
  'i',
);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Remove a command and its braced argument, keeping the argument: \text{abc} -> abc. */
function unwrapCommand(s: string, names: readonly string[]): string {
  const re = new RegExp(`\\\\(?:${names.join('|')})\\s*\\{`, 'g');
  for (;;) {
    re.lastIndex = 0;
    const m = re.exec(s);
    if (!m) return s;
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < s.length && depth > 0; i++) {
      if (s[i] === '{') depth++;
      else if (s[i] === '}') depth--;
    }
    if (depth !== 0) return s; // unbalanced: leave it for the engine to reject
    s = s.slice(0, m.index) + s.slice(m.index + m[0].length, i - 1) + s.slice(i);
  }
}

function normalise(raw: string): Normalised {
  let s = raw.trim();
  // Delimiters of inline and display math.
  s = s.replace(/^\$+|\$+$/g, '').replace(/^\\\(|\\\)$/g, '').replace(/^\\\[|\\\]$/g, '').trim();
  const boxed = lastBoxed(s);
  if (boxed !== undefined) s = boxed.trim();
  s = s.replace(/\.$/, '');
  // Spacing and sizing commands.
  s = s
    .replace(/\\left\b|\\right\b|\\bigl?\b|\\bigr\b|\\Bigl?\b|\\Bigr\b/g, '')
    .replace(/\\displaystyle|\\textstyle/g, '')
    .replace(/\\[!,;:> ]/g, '')
    .replace(/\\q?quad\b/g, ' ')
    .replace(/~/g, ' ');
  s = s.replace(/\\[dt]frac/g, '\\frac').replace(/\\[dt]binom/g, '\\binom');
  // Degrees: ^\circ, ^{\circ}, \degree, the degree sign; "30^\circ" is graded as 30.
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ\b|\\circ\b|\\degree\b|°/g, '');
  // Percent.
  let percent = false;
  s = s.replace(/\\?%/g, () => {
    percent = true;
    return '';
  });
  // Currency.
  s = s.replace(/\\\$|\$/g, '');
  s = s.trim();
  // Units after a number: 5\text{ cm}, 12 \mbox{inches}^2, 3 units.
  for (let k = 0; k < 2; k++) {
    const u = UNIT_RE.exec(s);
    if (u && u[1].trim() !== '') s = u[1].trim();
  }
  // Text answers: the whole answer in \text{...} (names, multiple choice letters).
  let text = false;
  const whole = /^\\(?:text|textbf|mbox|textrm|mathrm)\s*\{([^{}]*)\}$/.exec(s);
  if (whole && /[a-zA-Z]{2,}|^\s*\(?[A-Ea-e]\)?\s*$/.test(whole[1])) {
    s = whole[1].trim();
    text = true;
  }
  s = unwrapCommand(s, ['text', 'textbf', 'mbox', 'textrm', 'mathrm', 'mathbf', 'boldsymbol']);
  // A bare word (Monday, Evelyn) is text, not a product of variables.
  if (/^[A-Za-z][A-Za-z ]{2,}$/.test(s.trim())) text = true;
  // Multiple choice: (C) -> C.
  const choice = /^\(([A-Ea-e])\)$/.exec(s.trim());
  if (choice) {
    s = choice[1].toUpperCase();
    text = true;
  }
  // Thousands separators: 1{,}000 and 1,000,000 (only exact groups of three digits).
  s = s.replace(/\{,\}/g, ',');
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s.trim())) s = s.replace(/,/g, '');
  // "x = 3", "k=-2": a single variable on the left of the only = sign.
  const assign = /^\s*(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\w+\}?)?\s*=\s*([^=]+)$/.exec(s);
  if (assign && !/[<>]|\\[lg]e/.test(s)) s = assign[1];
  // .5 -> 0.5; trailing zeros of decimals: 2.50 -> 2.5, 3.0 -> 3.
  s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2');
  s = s.replace(/(\d+\.\d*?)0+(?!\d)/g, '$1').replace(/(\d+)\.(?!\d)/g, '$1');
  // Whitespace: collapse, and drop it except where it ends a command name (\pi r).
  s = s.replace(/\s+/g, ' ').trim().replace(/(?<!\\[a-zA-Z]+) | (?![a-zA-Z])/g, '');
  if (text) s = s.toLowerCase();
  return { s, percent, text };
}

/** Split an unbracketed comma list ("-2, 1") at top level; undefined when it is not one. */
function topLevelList(s: string): string[] | undefined {
  if (/^[([{]|^\\\{/.test(s) && matchingClose(s) === s.length - 1) return undefined;
  const parts: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '{' || s[i + 1] === '}')) {
      depth += s[i + 1] === '{' ? 1 : -1;
      i++;
    } else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(s.slice(last, i));
      last = i + 1;
    }
  }
  if (parts.length === 0) return undefined;
  parts.push(s.slice(last));
  return parts.map((p) => p.trim());
}

/** Index of the bracket closing the one at s[0] (either kind closes, for half-open intervals). */
function matchingClose(s: string): number {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Parsing under bounds

/** Whether the non-canonical tree is small enough to hand to the engine (see the header). */
function withinBounds(json: unknown): boolean {
  let nodes = 0;
  const walk = (j: unknown): boolean => {
    if (++nodes > MAX_NODES) return false;
    if (!Array.isArray(j)) return true;
    const [head, ...args] = j as unknown[];
    if (head === 'Power' || head === 'Root') {
      const e = literal(args[1]);
      if (e === undefined ? containsPower(args[1]) : Math.abs(e) > MAX_EXPONENT) return false;
    }
    if ((head === 'Factorial' || head === 'Factorial2') && Math.abs(literal(args[0]) ?? 0) > MAX_FACTORIAL)
      return false;
    if (head === 'Factorial' && literal(args[0]) === undefined) return false;
    return args.every(walk);
  };
  return walk(json);
}

function literal(j: unknown): number | undefined {
  if (typeof j === 'number') return j;
  if (j && typeof j === 'object' && 'num' in j) return Number((j as { num: string }).num);
  if (Array.isArray(j) && j[0] === 'Negate') return -(literal(j[1]) ?? NaN);
  return undefined;
}

function containsPower(j: unknown): boolean {
  return Array.isArray(j) && (j[0] === 'Power' || j[0] === 'Exp' || j.slice(1).some(containsPower));
}

/** Parse normalised LaTeX into a canonical boxed expression; undefined if invalid or out of bounds. */
function parseBounded(s: string): Expr | undefined {
  if (s.length === 0 || s.length > MAX_LATEX_CHARS) return undefined;
  try {
    const raw = ce().parse(s, { form: 'raw' }) as unknown as Expr;
    if (!raw.isValid || !withinBounds(raw.json)) return undefined;
    const e = ce().parse(s) as unknown as Expr;
    return e.isValid ? e : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison

const ORDERED = new Set(['Tuple', 'List', 'Pair', 'Triple', 'Sequence', 'Delimiter', 'Matrix', 'Vector']);
const UNORDERED = new Set(['Set']);

function closeTo(x: number, y: number, o: Required<EqualOptions>): boolean {
  if (x === y) return true; // infinities
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  return Math.abs(x - y) <= Math.max(o.absTol, o.relTol * Math.max(Math.abs(x), Math.abs(y)));
}

/** The value of a closed expression as a complex number, or undefined when it is not one. */
function numericValue(e: Expr): [number, number] | undefined {
  if (e.unknowns.length > 0) return undefined;
  if (ORDERED.has(e.operator) || UNORDERED.has(e.operator) || e.operator === 'Interval') return undefined;
  const v = e.N();
  const re = v.re;
  const im = v.im;
  if (typeof re !== 'number' || Number.isNaN(re)) return undefined;
  return [re, typeof im === 'number' && !Number.isNaN(im) ? im : 0];
}

function equalExpr(a: Expr, b: Expr, o: Required<EqualOptions>): boolean {
  // Collections: element-wise (ordered) or as multisets (sets).
  const seqA = ORDERED.has(a.operator) || UNORDERED.has(a.operator);
  const seqB = ORDERED.has(b.operator) || UNORDERED.has(b.operator);
  if (seqA || seqB) {
    if (!(seqA && seqB) || UNORDERED.has(a.operator) !== UNORDERED.has(b.operator)) return false;
    const xs = a.ops ?? [];
    const ys = b.ops ?? [];
    if (xs.length !== ys.length) return false;
    return UNORDERED.has(a.operator) ? matchAll(xs, ys, (x, y) => equalExpr(x, y, o)) : xs.every((x, i) => equalExpr(x, ys[i], o));
  }
  if (a.operator === 'Interval' || b.operator === 'Interval') {
    if (a.operator !== b.operator) return false;
    return intervalEnds(a).every((x, i) => {
      const y = intervalEnds(b)[i];
      return x.open === y.open && equalExpr(x.e, y.e, o);
    });
  }
  if (a.operator === 'Equal' && b.operator === 'Equal') {
    const [la, ra] = a.ops ?? [];
    const [lb, rb] = b.ops ?? [];
    return (equalExpr(la, lb, o) && equalExpr(ra, rb, o)) || (equalExpr(la, rb, o) && equalExpr(ra, lb, o));
  }
  const va = numericValue(a);
  const vb = numericValue(b);
  if (va && vb) return closeTo(va[0], vb[0], o) && closeTo(va[1], vb[1], o);
  // Symbolic (one side may be closed: \sin^2 x + \cos^2 x = 1).
  if (a.isEqual(b) === true) return true;
  const diff = ce().box(['Subtract', a.json, b.json] as never) as unknown as Expr;
  const simplified = diff.simplify();
  if (simplified.json === 0) return true;
  return agreeAtSamplePoints(a, b, o);
}

function intervalEnds(e: Expr): { e: Expr; open: boolean }[] {
  return (e.ops ?? []).map((x) => (x.operator === 'Open' ? { e: x.ops![0], open: true } : { e: x, open: false }));
}

/** Expressions with the same free variables that agree at fixed, generic points are taken as equal. */
function agreeAtSamplePoints(a: Expr, b: Expr, o: Required<EqualOptions>): boolean {
  const vars = [...new Set([...a.unknowns, ...b.unknowns])].sort();
  if (vars.length === 0 || vars.length > 4) return false;
  const points = [0.5377, 1.8339, 2.2588, 0.8622, 1.3188]; // generic positives: no poles at 0, 1, -1
  let compared = 0;
  for (let k = 0; k < 4; k++) {
    const sub: Record<string, number> = {};
    vars.forEach((v, i) => (sub[v] = points[(k + i) % points.length] + 0.1 * i));
    const x = numericValue(a.subs(sub));
    const y = numericValue(b.subs(sub));
    if (!x || !y) continue;
    if (!closeTo(x[0], y[0], o) || !closeTo(x[1], y[1], o)) return false;
    compared++;
  }
  return compared >= 3;
}

/** Whether the items of xs can be paired one-to-one with equal items of ys (small lists: backtracking). */
function matchAll<T>(xs: readonly T[], ys: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  if (xs.length !== ys.length) return false;
  if (xs.length > 12) return false;
  const used = new Array<boolean>(ys.length).fill(false);
  const go = (i: number): boolean => {
    if (i === xs.length) return true;
    for (let j = 0; j < ys.length; j++) {
      if (used[j] || !eq(xs[i], ys[j])) continue;
      used[j] = true;
      if (go(i + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return go(0);
}

function equalNormalised(na: Normalised, nb: Normalised, o: Required<EqualOptions>): boolean {
  if (na.s === nb.s) return true;
  if (na.text || nb.text) return na.s.toLowerCase() === nb.s.toLowerCase();
  const la = topLevelList(na.s);
  const lb = topLevelList(nb.s);
  if (la || lb) {
    if (!la || !lb) return false;
    const items = (xs: string[]) => xs.map((s) => ({ s, percent: false, text: false }));
    return matchAll(items(la), items(lb), (x, y) => equalNormalised(x, y, o));
  }
  const a = parseBounded(na.s);
  const b = parseBounded(nb.s);
  if (!a || !b) return false;
  try {
    return ce().withTimeLimit(o.timeoutMs, () => {
      if (equalExpr(a, b, o)) return true;
      // 50\% against 0.5: one side carried a percent sign that the other did not.
      if (na.percent !== nb.percent) {
        const [p, q] = na.percent ? [a, b] : [b, a];
        const vp = numericValue(p);
        const vq = numericValue(q);
        if (vp && vq) return closeTo(vp[0] / 100, vq[0], o) && closeTo(vp[1] / 100, vq[1], o);
      }
      return false;
    });
  } catch {
    return false; // timeout (CancellationError) or an engine failure: not proven equal
  }
}

/**
 * Whether two final answers are equal (the reference can be either side). Unproven means unequal.
 * Never throws for any string input.
 */
export function answersEqual(a: string, b: string, options: EqualOptions = {}): boolean {
  const o = { ...DEFAULTS, ...options };
  return equalNormalised(normalise(a), normalise(b), o);
}

// ---------------------------------------------------------------------------------------------
// Canonical form for voting

const KEY_CACHE_LIMIT = 10_000;
const keyCache = new Map<string, string>();

function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : x < 0 ? '-inf' : 'nan';
  const r = Number(x.toPrecision(10));
  return Object.is(r, -0) ? '0' : String(r);
}

function keyOf(e: Expr): string {
  if (ORDERED.has(e.operator)) return `(${(e.ops ?? []).map(keyOf).join(',')})`;
  if (UNORDERED.has(e.operator)) return `{${(e.ops ?? []).map(keyOf).sort().join(',')}}`;
  if (e.operator === 'Interval') {
    const [lo, hi] = intervalEnds(e);
    return `${lo.open ? '(' : '['}${keyOf(lo.e)},${keyOf(hi.e)}${hi.open ? ')' : ']'}`;
  }
  const v = numericValue(e);
  if (v) return v[1] === 0 || Math.abs(v[1]) < 1e-12 ? formatNumber(v[0]) : `${formatNumber(v[0])}${v[1] < 0 ? '-' : '+'}${formatNumber(Math.abs(v[1]))}i`;
  return JSON.stringify(e.simplify().json);
}

function canonicalNormalised(n: Normalised, timeoutMs: number): string {
  if (n.text) return n.s;
  const list = topLevelList(n.s);
  if (list) return list.map((s) => canonicalNormalised({ s, percent: false, text: false }, timeoutMs)).sort().join(',');
  const e = parseBounded(n.s);
  if (!e) return n.s;
  try {
    return ce().withTimeLimit(timeoutMs, () => keyOf(e));
  } catch {
    return n.s;
  }
}

/**
 * The canonical form of an answer, used to group answers for majority and weighted votes.
 * Closed numbers become a decimal with 10 significant digits (\frac12, 0.5 and .5 share "0.5";
 * 50\% gets "50": the percent sign is dropped); tuples, sets and intervals keep their shape with
 * canonical items (sets sorted); unbracketed lists are sorted;
 * other expressions become the engine's simplified MathJSON; text answers are lower-cased.
 * Equal keys imply equal answers; equal answers usually, not always, share a key (answersEqual is
 * the grader: it also proves x^2+2x+1 = (x+1)^2, which keys do not merge).
 */
export function canonicalAnswer(latex: string, options: { timeoutMs?: number } = {}): string {
  const cached = keyCache.get(latex);
  if (cached !== undefined) return cached;
  const key = canonicalNormalised(normalise(latex), options.timeoutMs ?? DEFAULTS.timeoutMs);
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.delete(keyCache.keys().next().value as string);
  keyCache.set(latex, key);
  return key;
}

/** The normalised string (exported for tests and reports). */
export function normaliseAnswer(latex: string): string {
  return normalise(latex).s;
}
