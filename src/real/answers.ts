// Final-answer extraction and equivalence for text tasks (MATH-500, GSM8K): string normalisation of
// LaTeX, numeric comparison with tolerance, then a symbolic check with @cortex-js/compute-engine.
//
// Grading is three stages, each used only where the previous one cannot decide:
//   1. normalise the LaTeX string (\dfrac, \left/\right, units, degrees, percent, $, thousands
//      separators, "x = ", spacing) and compare the strings;
//   2. parse both with the compute engine; closed numbers (no free variables) are evaluated:
//      integers and fractions exactly (BigInt), other values as floats, equal within float noise,
//      or within the relative tolerance when an answer is a decimal with enough digits (numbersEqual);
//      a\pm b stands for the unordered pair {a+b, a-b}; [a,b] (List) is never (a,b) (Tuple);
//   3. otherwise the engine's isEqual (three-valued: only `true` counts), then simplify(a - b) == 0,
//      then agreement at fixed sample points (negative and positive) of the free variables.
// "v = X" is graded as X against a bare value, and as an equation against another equation.
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
  evaluate(): Expr;
  simplify(): Expr;
  subs(sub: Record<string, number>): Expr;
  isEqual(other: Expr): boolean | undefined;
  readonly re: number;
  readonly im: number;
}

export interface EqualOptions {
  /** Wall-clock limit for the symbolic stage, per comparison (default 1000 ms). */
  timeoutMs?: number;
  /**
   * Relative tolerance between a decimal answer and another number (default 1e-6); the decimal must
   * also carry at least round(-log10(relTol)) + 1 significant digits. Exact values compare exactly.
   */
  relTol?: number;
  /** Absolute tolerance near zero, under the same conditions as relTol (default 1e-9). */
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

// The capture is a lookahead, so matches may overlap and the last one is the innermost:
// "Final Answer: The final answer is $7$." yields "$7$.", not "The final answer is $7$.".
const ANSWER_IS = /(?:final answer|the answer|answer)\s*(?:is\b|:)\s*:?\s*(?=(.+))/gi;
/** A trailing explanation after the answer: "7 (since 3+4=7)", "7, because ...", "12, which is even". */
const EXPLANATION = /(?:\s*[,;]\s*|\s*\(\s*|\s+)(?:since|because|as|which)\b.*$/i;
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
  // Markdown bold ("**Answer:** 42", "The answer is **42**."): drop the markers of closed spans.
  const plain = text.replace(/\*\*(?=\S)([^*\n]*?\S)\*\*/g, '$1');
  for (const m of plain.matchAll(ANSWER_IS)) said = m[1];
  if (said !== undefined) {
    let s = said.trim();
    // "$\frac{1}{2}$." -> "\frac{1}{2}"; a sentence after the answer is dropped.
    // An escaped dollar (\$5) is part of the math, not its end.
    const math = /^\$+((?:\\\$|[^$])+)\$+/.exec(s) ?? /^\\\((.+?)\\\)/.exec(s) ?? /^\\\[(.+?)\\\]/.exec(s);
    if (math) s = math[1];
    else s = s.replace(/\.\s.*$/, '').replace(EXPLANATION, '').replace(/[.\s]+$/, '');
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
  /** The whole equation when `s` is its right side with "v =" stripped (x = 3 -> s "3", eq "x=3"). */
  eq?: string;
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
  // Degrees: ^\circ, ^{\circ}, \degree, the degree sign; "30^\circ" is graded as 30. Inside a
  // trigonometric function a degree is an angle, not a unit: \sin 30^\circ is \sin(30 pi/180) = 1/2,
  // and stripping it there would read 30 radians.
  const DEGREE = /\^\s*\{\s*\\circ\s*\}|\^\s*\\circ\b|\\circ\b|\\degree\b|°/g;
  if (/\\(?:sin|cos|tan|cot|sec|csc)(?![a-zA-Z])/.test(s))
    s = s.replace(new RegExp(`(\\d+(?:\\.\\d+)?)\\s*(?:${DEGREE.source})`, 'g'), '($1\\cdot\\frac{\\pi}{180})');
  s = s.replace(DEGREE, '');
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
  // Multiple choice: (C) -> C; a bare capital A-E is a choice letter too (so C, (C), \textbf{C} agree).
  const choice = /^\(([A-Ea-e])\)$|^([A-E])$/.exec(s.trim());
  if (choice) {
    s = (choice[1] ?? choice[2]).toUpperCase();
    text = true;
  }
  // Thousands separators: 1{,}000 and 1,000,000 (only exact groups of three digits).
  s = s.replace(/\{,\}/g, ',');
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s.trim())) s = s.replace(/,/g, '');
  // "x = 3", "k=-2": a single variable on the left of the only = sign.
  const assign = /^\s*(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?\w+\}?)?\s*=\s*([^=]+)$/.exec(s);
  let eq: string | undefined;
  if (assign && !/[<>]|\\[lg]e/.test(s)) {
    eq = s;
    s = assign[1];
  }
  // .5 -> 0.5; trailing zeros of decimals: 2.50 -> 2.5, 3.0 -> 3.
  s = s.replace(/(^|[^\d])\.(\d)/g, '$10.$2');
  s = s.replace(/(\d+\.\d*?)0+(?!\d)/g, '$1').replace(/(\d+)\.(?!\d)/g, '$1');
  // Whitespace: collapse, and drop it except where it ends a command name (\pi r).
  const tidy = (x: string) => x.replace(/\s+/g, ' ').trim().replace(/(?<!\\[a-zA-Z]+) | (?![a-zA-Z])/g, '');
  s = tidy(s);
  if (text) s = s.toLowerCase();
  return eq === undefined || text ? { s, percent, text } : { s, percent, text, eq: tidy(eq) };
}

const PM = /\\(?:pm|mp)(?![a-zA-Z])/;

/** a\pm b as its two values [a+b, a-b] (\mp takes the other sign); an answer without \pm as itself. */
function expandPm(s: string): string[] {
  if (!PM.test(s)) return [s];
  const pick = (pm: string, mp: string) => s.replace(/\\pm(?![a-zA-Z])/g, pm).replace(/\\mp(?![a-zA-Z])/g, mp);
  return [pick('+', '-'), pick('-', '+')];
}

/** The items of an answer that stands for several values (an unbracketed list, a\pm b), else undefined. */
function valueList(s: string): string[] | undefined {
  const items = (topLevelList(s) ?? [s]).flatMap(expandPm);
  return items.length > 1 ? items : undefined;
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

/** The bracket kind of a collection: [a,b] (List: closed interval or list) is not (a,b) (Tuple: open interval or point). */
function bracketKind(op: string): string {
  if (op === 'List') return '[';
  if (op === 'Matrix' || op === 'Vector') return 'M';
  if (UNORDERED.has(op)) return '{';
  return '(';
}

/** Tolerance for float noise between exact forms (2\sqrt2 against \sqrt8, \sin\pi against 0). */
const NOISE = { relTol: 1e-12, absTol: 1e-15 };

/** What a comparison needs besides the two expressions. */
interface Ctx {
  o: Required<EqualOptions>;
  /** Fewest significant digits of a decimal literal in either answer; undefined when neither has one. */
  digits: number | undefined;
}

function closeTo(x: number, y: number, t: { relTol: number; absTol: number }): boolean {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false; // see numbersEqual for infinities
  return Math.abs(x - y) <= Math.max(t.absTol, t.relTol * Math.max(Math.abs(x), Math.abs(y)));
}

/**
 * Two closed values as floats. Within float noise they are equal; beyond it only when an answer has
 * a decimal (an approximation), that decimal has at least as many significant digits as the tolerance
 * asks for (7 at the default 1e-6: 0.3333333 is 1/3, 3.14159 is not \pi), and it is within tolerance.
 */
function numbersEqual(x: readonly [number, number], y: readonly [number, number], c: Ctx): boolean {
  if (closeTo(x[0], y[0], NOISE) && closeTo(x[1], y[1], NOISE)) return true;
  if (c.digits === undefined || c.digits < Math.round(-Math.log10(c.o.relTol)) + 1) return false;
  return closeTo(x[0], y[0], c.o) && closeTo(x[1], y[1], c.o);
}

/** Fewest significant digits of the decimal literals of a normalised answer (undefined: none). */
function decimalDigits(s: string): number | undefined {
  let fewest: number | undefined;
  for (const m of s.matchAll(/\d*\.\d+/g)) {
    const n = m[0].replace('.', '').replace(/^0+/, '').length;
    fewest = fewest === undefined ? n : Math.min(fewest, n);
  }
  return fewest;
}

function minDigits(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
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

interface Rational {
  n: bigint;
  d: bigint;
}

/** An integer from MathJSON: a safe integer, {num: "123"}, {num: "1e+400"}; undefined otherwise. */
function bigIntOf(j: unknown): bigint | undefined {
  if (typeof j === 'number') return Number.isSafeInteger(j) ? BigInt(j) : undefined;
  if (j && typeof j === 'object' && 'num' in j) {
    const m = /^([+-]?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(String((j as { num: unknown }).num));
    if (!m) return undefined;
    const frac = m[3] ?? '';
    const exp = Number(m[4] ?? 0) - frac.length;
    const digits = BigInt(m[2] + frac);
    let v: bigint;
    if (exp >= 0) {
      if (exp > 100_000) return undefined;
      v = digits * 10n ** BigInt(exp);
    } else {
      const p = 10n ** BigInt(-exp);
      if (digits % p !== 0n) return undefined;
      v = digits / p;
    }
    return m[1] === '-' ? -v : v;
  }
  return undefined;
}

/** The exact value of a closed expression that the engine evaluates to an integer or a fraction. */
function exactRational(e: Expr): Rational | undefined {
  if (e.unknowns.length > 0) return undefined;
  if (ORDERED.has(e.operator) || UNORDERED.has(e.operator) || e.operator === 'Interval') return undefined;
  const v = e.evaluate();
  if (v.operator === 'Integer') {
    const n = bigIntOf(v.json);
    return n === undefined ? undefined : { n, d: 1n };
  }
  if (v.operator === 'Rational' && Array.isArray(v.json)) {
    const n = bigIntOf(v.json[1]);
    const d = bigIntOf(v.json[2]);
    return n === undefined || d === undefined || d === 0n ? undefined : { n, d };
  }
  return undefined;
}

const INFINITIES = new Set(['PositiveInfinity', 'NegativeInfinity']);

function equalExpr(a: Expr, b: Expr, c: Ctx): boolean {
  // Collections: element-wise (ordered) or as multisets (sets); the bracket kinds must agree.
  const seqA = ORDERED.has(a.operator) || UNORDERED.has(a.operator);
  const seqB = ORDERED.has(b.operator) || UNORDERED.has(b.operator);
  if (seqA || seqB) {
    if (!(seqA && seqB) || bracketKind(a.operator) !== bracketKind(b.operator)) return false;
    const xs = a.ops ?? [];
    const ys = b.ops ?? [];
    if (xs.length !== ys.length) return false;
    return UNORDERED.has(a.operator) ? matchAll(xs, ys, (x, y) => equalExpr(x, y, c)) : xs.every((x, i) => equalExpr(x, ys[i], c));
  }
  if (a.operator === 'Interval' || b.operator === 'Interval') {
    if (a.operator !== b.operator) return false;
    return intervalEnds(a).every((x, i) => {
      const y = intervalEnds(b)[i];
      return x.open === y.open && equalExpr(x.e, y.e, c);
    });
  }
  if (a.operator === 'Equal' && b.operator === 'Equal') {
    const [la, ra] = a.ops ?? [];
    const [lb, rb] = b.ops ?? [];
    return (equalExpr(la, lb, c) && equalExpr(ra, rb, c)) || (equalExpr(la, rb, c) && equalExpr(ra, lb, c));
  }
  // Integers and fractions compare exactly (big integers included).
  const ra = exactRational(a);
  const rb = exactRational(b);
  if (ra && rb) return ra.n * rb.d === rb.n * ra.d;
  const va = numericValue(a);
  const vb = numericValue(b);
  if (va && vb) {
    // A value that overflows to Infinity equals only the same infinity written as one.
    if (![...va, ...vb].every(Number.isFinite)) return INFINITIES.has(a.operator) && a.operator === b.operator;
    return numbersEqual(va, vb, c);
  }
  // Symbolic (one side may be closed: \sin^2 x + \cos^2 x = 1).
  if (a.isEqual(b) === true) return true;
  const diff = ce().box(['Subtract', a.json, b.json] as never) as unknown as Expr;
  const simplified = diff.simplify();
  if (simplified.json === 0) return true;
  return agreeAtSamplePoints(a, b, c.o);
}

function intervalEnds(e: Expr): { e: Expr; open: boolean }[] {
  return (e.ops ?? []).map((x) => (x.operator === 'Open' ? { e: x.ops![0], open: true } : { e: x, open: false }));
}

/** Generic points, negative and positive, small and larger (no poles at 0, 1, -1). */
const SAMPLE_POINTS = [0.5377, -1.8339, 2.2588, -0.8622, 3.5784, -2.7694, 1.3188, -4.3077];

/**
 * Expressions that agree at fixed, generic points of their free variables are taken as equal.
 * A point where both are undefined is skipped; one where only one is defined means unequal.
 */
function agreeAtSamplePoints(a: Expr, b: Expr, o: Required<EqualOptions>): boolean {
  const vars = [...new Set([...a.unknowns, ...b.unknowns])].sort();
  if (vars.length === 0 || vars.length > 4) return false;
  let compared = 0;
  for (let k = 0; k < SAMPLE_POINTS.length; k++) {
    const sub: Record<string, number> = {};
    vars.forEach((v, i) => (sub[v] = SAMPLE_POINTS[(k + 3 * i) % SAMPLE_POINTS.length] + 0.1 * i));
    const x = numericValue(a.subs(sub));
    const y = numericValue(b.subs(sub));
    if (!x && !y) continue;
    if (!x || !y) return false;
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
  // "x = 2" is graded as 2 against a bare value, but as an equation against another equation.
  if ((na.eq !== undefined || nb.eq !== undefined) && (na.eq ?? na.s).includes('=') && (nb.eq ?? nb.s).includes('=')) {
    const whole = (n: Normalised): Normalised => ({ s: n.eq ?? n.s, percent: n.percent, text: false });
    return whole(na).s === whole(nb).s || equalParsed(whole(na), whole(nb), o);
  }
  if (na.s === nb.s && na.text === nb.text) return true;
  if (na.text || nb.text) {
    // A choice letter (C) is not the variable c.
    if (na.text !== nb.text && /^[a-z]$/.test(na.text ? nb.s : na.s)) return false;
    return na.s.toLowerCase() === nb.s.toLowerCase();
  }
  const la = valueList(na.s);
  const lb = valueList(nb.s);
  if (la || lb) {
    if (!la || !lb) return false;
    const items = (xs: string[]) => xs.map((s) => ({ s, percent: false, text: false }));
    return matchAll(items(la), items(lb), (x, y) => equalNormalised(x, y, o));
  }
  return equalParsed(na, nb, o);
}

function equalParsed(na: Normalised, nb: Normalised, o: Required<EqualOptions>): boolean {
  const a = parseBounded(na.s);
  const b = parseBounded(nb.s);
  if (!a || !b) return false;
  const c: Ctx = { o, digits: minDigits(decimalDigits(na.s), decimalDigits(nb.s)) };
  try {
    return ce().withTimeLimit(o.timeoutMs, () => {
      if (equalExpr(a, b, c)) return true;
      // 50\% against 0.5: one side carried a percent sign that the other did not.
      if (na.percent !== nb.percent) {
        const [p, q] = na.percent ? [a, b] : [b, a];
        const vp = numericValue(p);
        const vq = numericValue(q);
        if (vp && vq) return numbersEqual([vp[0] / 100, vp[1] / 100], vq, c);
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

/** An exact fraction as a key: a terminating decimal when it is one (\\frac12 and 0.5 share "0.5"), else n/d. */
function rationalKey(r: Rational): string {
  if (r.d < 0n) r = { n: -r.n, d: -r.d };
  if (r.d === 1n) return r.n.toString();
  let d = r.d;
  let k = 0;
  while (d % 10n === 0n) (d /= 10n), k++;
  while (d % 2n === 0n) (d /= 2n), k++;
  while (d % 5n === 0n) (d /= 5n), k++;
  if (d !== 1n || k > 64) return `${r.n}/${r.d}`;
  const scaled = (r.n < 0n ? -r.n : r.n) * 10n ** BigInt(k) / r.d;
  const digits = scaled.toString().padStart(k + 1, '0');
  const text = `${digits.slice(0, -k)}.${digits.slice(-k)}`.replace(/0+$/, '').replace(/\.$/, '');
  return r.n < 0n ? `-${text}` : text;
}

function keyOf(e: Expr): string {
  if (ORDERED.has(e.operator)) {
    const kind = bracketKind(e.operator);
    const items = (e.ops ?? []).map(keyOf).join(',');
    return kind === '[' ? `[${items}]` : kind === 'M' ? `M(${items})` : `(${items})`;
  }
  if (UNORDERED.has(e.operator)) return `{${(e.ops ?? []).map(keyOf).sort().join(',')}}`;
  if (e.operator === 'Interval') {
    const [lo, hi] = intervalEnds(e);
    return `${lo.open ? '(' : '['}${keyOf(lo.e)},${keyOf(hi.e)}${hi.open ? ')' : ']'}`;
  }
  const r = exactRational(e);
  if (r) return rationalKey(r);
  const v = numericValue(e);
  if (v && !(Number.isFinite(v[0]) && Number.isFinite(v[1])) && !INFINITIES.has(e.operator)) return JSON.stringify(e.json);
  if (v) return v[1] === 0 || Math.abs(v[1]) < 1e-12 ? formatNumber(v[0]) : `${formatNumber(v[0])}${v[1] < 0 ? '-' : '+'}${formatNumber(Math.abs(v[1]))}i`;
  return JSON.stringify(e.simplify().json);
}

function canonicalNormalised(n: Normalised, timeoutMs: number): string {
  if (n.text) return n.s;
  const list = valueList(n.s);
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
 * Exact integers and fractions become their exact value (a terminating decimal where there is one:
 * \frac12, 0.5 and .5 share "0.5"; else "1/3"); other closed numbers a decimal with 10 significant
 * digits (50\% gets "50": the percent sign is dropped); tuples, lists, sets and intervals keep their
 * bracket kind with canonical items (sets sorted); unbracketed lists and a\pm b pairs are sorted;
 * "v = X" gets the key of X (so x = 2 and y = 2 share a key, although answersEqual tells them apart);
 * multiple-choice letters (C, (C), \textbf{C}) share one key;
 * other expressions become the engine's simplified MathJSON; text answers are lower-cased.
 * Apart from that "v = X" case, equal keys imply equal answers; equal answers usually, not always,
 * share a key (answersEqual is the grader: it also proves x^2+2x+1 = (x+1)^2, which keys do not merge).
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
