// Malformed-input fuzz of the advantage, aggregate and vote ops, at the raw binding and at the
// facade, sync and async. Each case is a valid seeded input with one corruption that is invalid by
// construction, so it must fail with the predicted typed error; "chaos" cases stack several
// corruptions and must either fail with a coded error or return a well-formed result. Never a crash.
import { describe, expect, it } from 'vitest';
import { addon, backendInfo } from '../../src/native/binding.ts';
import * as adv from '../../src/ops/advantages.ts';
import type { AdvantagesBinding } from '../../src/ops/advantages.ts';
import type { AggregateBinding } from '../../src/ops/aggregate.ts';
import * as vote from '../../src/ops/vote.ts';
import type { VoteBinding } from '../../src/ops/vote.ts';
import { seededRandom as rng } from '../../src/random.ts';

type Raw = AdvantagesBinding & AggregateBinding & VoteBinding;
type O = Record<string, unknown>;
type R = { next(): number; int(n: number): number; pick<T>(a: readonly T[]): T };


type Role = 'unit' | 'finite' | 'offsets' | 'tokOffsets' | 'index' | 'keys' | 'out';
interface Field {
  name: string;
  role: Role;
  /** main: the op's main float input; like: must match main's kind; free: either kind. */
  float?: 'main' | 'like' | 'free';
  optional?: boolean;
  /** Whether changing this array's length alone is always invalid. */
  resizable?: (o: O) => boolean;
}
interface Op {
  name: string;
  fields: Field[];
  scalars: ('K' | 'Kopt' | 'alpha' | 'method' | 'device')[];
  methods?: readonly string[];
  base(r: R): O;
  raw(b: Raw, o: unknown): unknown;
  facade(o: unknown, async: boolean): unknown;
}

const F = (f64: boolean, n: number, g: (i: number) => number): Float32Array | Float64Array =>
  f64 ? Float64Array.from({ length: n }, (_, i) => g(i)) : Float32Array.from({ length: n }, (_, i) => g(i));
// T trajectories of min..max elements each, at least one element in all.
function ragged(r: R, T: number, min: number, max: number): Uint32Array {
  const o = new Uint32Array(T + 1);
  for (let t = 0; t < T; t++) o[t + 1] = o[t] + min + r.int(max - min + 1);
  if (o[T] === 0) o[T] = 1;
  return o;
}
const ops: Op[] = [
  {
    name: 'bokTransform',
    fields: [{ name: 'q', role: 'unit', float: 'main', resizable: () => false }],
    scalars: ['K', 'device'],
    base: (r) => ({ q: F(r.next() < 0.5, 1 + r.int(30), () => r.next()), K: r.pick([1, 2, 4, 7]) }),
    raw: (b, o) => b.bokTransform(o as never),
    facade: (o, async) => {
      const x = (o ?? {}) as O;
      return (async ? adv.bokTransformAsync : adv.bokTransform)(x.q as never, x.K as never, { device: x.device as never });
    },
  },
  {
    name: 'stepAdvantages',
    fields: [
      { name: 'values', role: 'unit', float: 'main' },
      { name: 'offsets', role: 'offsets' },
      { name: 'rootValues', role: 'unit', float: 'like' },
    ],
    scalars: ['Kopt', 'device'],
    base: (r) => {
      const f64 = r.next() < 0.5;
      const T = 1 + r.int(6);
      const offsets = ragged(r, T, 0, 4);
      return { values: F(f64, offsets[T], () => r.next()), offsets, rootValues: F(f64, T, () => r.next()), K: r.pick([undefined, 1, 4]) };
    },
    raw: (b, o) => b.stepAdvantages(o as never),
    facade: (o, async) => (async ? adv.stepAdvantagesAsync : adv.stepAdvantages)(o as never),
  },
  {
    name: 'effectiveRewards',
    fields: [
      { name: 'q', role: 'unit', float: 'main' },
      { name: 'parentIndex', role: 'index' },
      { name: 'parentQ', role: 'unit', float: 'like', resizable: (o) => o.proverParent !== undefined },
      { name: 'proverChild', role: 'unit', float: 'like', optional: true },
      { name: 'proverParent', role: 'unit', float: 'like', optional: true },
      { name: 'out', role: 'out', float: 'like', optional: true },
    ],
    scalars: ['Kopt', 'alpha', 'device'],
    base: (r) => {
      const f64 = r.next() < 0.5;
      const n = 1 + r.int(20);
      const m = 1 + r.int(6);
      const o: O = {
        q: F(f64, n, () => r.next()),
        parentIndex: Uint32Array.from({ length: n }, () => r.int(m)),
        parentQ: F(f64, m, () => r.next()),
        alpha: (r.next() - 0.5) * 4,
        K: r.pick([undefined, 1, 4, 9]),
      };
      if (r.next() < 0.5) Object.assign(o, { proverChild: F(f64, n, () => r.next()), proverParent: F(f64, m, () => r.next()) });
      if (r.next() < 0.3) o.out = F(f64, n, () => 0);
      return o;
    },
    raw: (b, o) => b.effectiveRewards(o as never),
    facade: (o, async) => (async ? adv.effectiveRewardsAsync : adv.effectiveRewards)(o as never),
  },
  {
    name: 'denseRewards',
    fields: [
      { name: 'offsets', role: 'offsets' },
      { name: 'outcomes', role: 'finite', float: 'like' },
      { name: 'values', role: 'unit', float: 'main' },
      { name: 'rootValues', role: 'unit', float: 'like' },
      { name: 'baselines', role: 'finite', float: 'like', optional: true },
    ],
    scalars: ['Kopt', 'alpha', 'device'],
    base: (r) => {
      const f64 = r.next() < 0.5;
      const T = 1 + r.int(6);
      const offsets = ragged(r, T, 0, 4);
      const n = offsets[T];
      const o: O = {
        offsets,
        outcomes: F(f64, T, () => r.int(2)),
        values: F(f64, n, () => r.next()),
        rootValues: F(f64, T, () => r.next()),
        alpha: r.next() * 5,
        K: r.pick([undefined, 1, 4]),
      };
      if (r.next() < 0.5) o.baselines = F(f64, n, () => r.next() - 0.5);
      return o;
    },
    raw: (b, o) => b.denseRewards(o as never),
    facade: (o, async) => (async ? adv.denseRewardsAsync : adv.denseRewards)(o as never),
  },
  {
    name: 'expandToTokens',
    fields: [
      { name: 'stepWeights', role: 'finite', float: 'main' },
      { name: 'tokenOffsets', role: 'tokOffsets' },
    ],
    scalars: [],
    base: (r) => {
      const S = 1 + r.int(8);
      return { stepWeights: F(r.next() < 0.5, S, () => r.next() * 4 - 2), tokenOffsets: ragged(r, S, 0, 5) };
    },
    raw: (b, o) => b.expandToTokens(o as never),
    facade: (o, async) => (async ? adv.expandToTokensAsync : adv.expandToTokens)(o as never),
  },
  {
    name: 'aggregateSteps',
    fields: [
      { name: 'scores', role: 'finite', float: 'main' },
      { name: 'offsets', role: 'offsets' },
    ],
    scalars: ['method'],
    methods: ['last', 'min', 'prod', 'mean'],
    base: (r) => {
      const T = 1 + r.int(6);
      const offsets = ragged(r, T, 1, 5);
      return { scores: F(r.next() < 0.5, offsets[T], () => r.next()), offsets, method: r.pick(['last', 'min', 'prod', 'mean']) };
    },
    raw: (b, o) => b.aggregateSteps(o as never),
    facade: (o, async) => (async ? adv.aggregateStepsAsync : adv.aggregateSteps)(o as never),
  },
  {
    name: 'voteAnswers',
    fields: [
      { name: 'keys', role: 'keys' },
      { name: 'weights', role: 'finite', float: 'free', optional: true },
      { name: 'offsets', role: 'offsets' },
    ],
    scalars: ['method'],
    methods: ['majority', 'weighted', 'max'],
    base: (r) => {
      const P = 1 + r.int(5);
      const offsets = ragged(r, P, 0, 6);
      const n = offsets[P];
      const method = r.pick(['majority', 'weighted', 'max']);
      const o: O = { keys: BigUint64Array.from({ length: n }, () => BigInt(r.int(4))), offsets, method };
      if (method !== 'majority' || r.next() < 0.5) o.weights = F(r.next() < 0.5, n, () => r.next());
      return o;
    },
    raw: (b, o) => b.voteAnswers(o as never),
    facade: (o, async) => (async ? vote.voteAnswersAsync : vote.voteAnswers)(o as never),
  },
];

const C = {
  TYPE: 'ERR_PAV_INVALID_TYPE',
  ARG: 'ERR_PAV_INVALID_ARG',
  LEN: 'ERR_PAV_LENGTH_MISMATCH',
  OFF: 'ERR_PAV_BAD_OFFSETS',
  NONFIN: 'ERR_PAV_NON_FINITE',
  RANGE: 'ERR_PAV_OUT_OF_RANGE',
  GPU: 'ERR_PAV_NO_GPU',
} as const;

const hasCuda = backendInfo().cuda.devices > 0;

// Returns the codes the corrupted call may fail with, or null when this corruption does not apply.
type Corruption = (op: Op, o: O, r: R) => string[] | null;

const present = (op: Op, o: O) => op.fields.filter((f) => o[f.name] !== undefined);
const arrLen = (v: unknown) => (v as { length: number }).length;

function wrongKindFor(f: Field, o: O, r: R): unknown {
  const n = arrLen(o[f.name]);
  const pool: unknown[] = [Array.from({ length: n }, () => 0.5), new Int32Array(n), new Uint8Array(n), 'abc', 42, {}, new BigInt64Array(n)];
  if (!f.optional) pool.push(null, true);
  if (f.role === 'index' || f.role === 'offsets' || f.role === 'tokOffsets') pool.push(new Float32Array(n), new Float64Array(n));
  if (f.role === 'keys') pool.push(new Float64Array(n), new Uint32Array(n));
  if (f.float) pool.push(new Uint32Array(n), new BigUint64Array(n));
  if (f.float === 'like') pool.push(o[f.name] instanceof Float32Array ? new Float64Array(n).fill(0.5) : new Float32Array(n).fill(0.5));
  return r.pick(pool);
}

const corruptions: Record<string, Corruption> = {
  wrongKind: (op, o, r) => {
    const f = r.pick(present(op, o));
    o[f.name] = wrongKindFor(f, o, r);
    return [C.TYPE];
  },
  mainOtherFloat: (op, o) => {
    const main = op.fields.find((f) => f.float === 'main')!;
    if (!present(op, o).some((f) => f.float === 'like')) return null;
    const v = o[main.name] as Float32Array | Float64Array;
    o[main.name] = v instanceof Float32Array ? Float64Array.from(v) : Float32Array.from(v);
    return [C.TYPE];
  },
  missing: (op, o, r) => {
    const req = op.fields.filter((f) => !f.optional);
    delete o[r.pick(req).name];
    return [C.TYPE];
  },
  nonFinite: (op, o, r) => {
    const fs = present(op, o).filter((f) => (f.role === 'unit' || f.role === 'finite') && arrLen(o[f.name]) > 0);
    if (!fs.length) return null;
    const a = o[r.pick(fs).name] as Float64Array;
    a[r.int(a.length)] = r.pick([NaN, Infinity, -Infinity]);
    return [C.NONFIN];
  },
  outOfUnit: (op, o, r) => {
    const fs = present(op, o).filter((f) => f.role === 'unit' && arrLen(o[f.name]) > 0);
    if (!fs.length) return null;
    const a = o[r.pick(fs).name] as Float64Array;
    a[r.int(a.length)] = r.next() < 0.5 ? -0.01 - r.next() : 1.01 + r.next() * 1e6;
    return [C.RANGE];
  },
  resize: (op, o, r) => {
    const fs = present(op, o).filter(
      (f) => f.role !== 'offsets' && f.role !== 'tokOffsets' && (f.resizable ? f.resizable(o) : true),
    );
    if (!fs.length) return null;
    const f = r.pick(fs);
    const a = o[f.name] as Float64Array;
    let n = r.int(a.length + 6);
    if (n === a.length) n = a.length + 1;
    const C_ = a.constructor as unknown as { new (n: number): Float64Array };
    const b = new C_(n);
    if ((a as unknown) instanceof BigUint64Array)
      (b as unknown as BigUint64Array).set((a as unknown as BigUint64Array).subarray(0, Math.min(n, a.length)));
    else {
      b.fill(f.role === 'index' ? 0 : 0.5);
      b.set(a.subarray(0, Math.min(n, a.length)));
    }
    o[f.name] = b;
    return [C.LEN, C.OFF];
  },
  indexOutOfRange: (op, o, r) => {
    if (op.name !== 'effectiveRewards') return null;
    const a = o.parentIndex as Uint32Array;
    const m = arrLen(o.parentQ);
    a[r.int(a.length)] = r.pick([m, m + r.int(100), 0xffffffff, 0x80000000]);
    return [C.RANGE];
  },
  offsets: (op, o, r) => {
    const f = op.fields.find((x) => x.role === 'offsets' || x.role === 'tokOffsets');
    if (!f) return null;
    const tok = f.role === 'tokOffsets';
    const a = Uint32Array.from(o[f.name] as Uint32Array);
    const kind = r.int(6);
    o[f.name] = a;
    if (kind === 0) {
      a[0] = 1 + r.int(5);
      return [C.OFF];
    }
    if (kind === 1 && !tok) {
      a[a.length - 1] += 1 + r.int(5);
      return [C.OFF];
    }
    if (kind === 2 && a.length >= 2) {
      const i = 1 + r.int(a.length - 1);
      if (a[i - 1] > 0) a[i] = a[i - 1] - 1;
      else if (i - 1 >= 1) a[i - 1] = a[i] + 1;
      else a[0] = 1;
      return [C.OFF];
    }
    if (kind === 3) {
      o[f.name] = new Uint32Array(0);
      return tok ? [C.LEN] : [C.OFF];
    }
    if (kind === 4 && a.length >= 2) {
      a[r.int(a.length - 1)] = 0xffffffff;
      return [C.OFF];
    }
    if (kind === 5 && op.name !== 'voteAnswers' && op.name !== 'aggregateSteps') {
      // one trajectory more or fewer: per-trajectory arrays no longer match
      o[f.name] = r.next() < 0.5 ? a.subarray(0, a.length - 1) : Uint32Array.from([...a, a[a.length - 1]]);
      return [C.LEN, C.OFF];
    }
    a[0] = 7;
    return [C.OFF];
  },
  emptyTrajectory: (op, o, r) => {
    if (op.name !== 'aggregateSteps') return null;
    const a = o.offsets as Uint32Array;
    const i = r.int(a.length);
    o.offsets = Uint32Array.from([...a.subarray(0, i + 1), ...a.subarray(i)]);
    return [C.OFF];
  },
  badK: (op, o, r) => {
    if (!op.scalars.some((s) => s === 'K' || s === 'Kopt')) return null;
    if (r.next() < 0.7) {
      o.K = r.pick([0, -1, -4, 1.5, NaN, Infinity, -Infinity, 2 ** 60, 2 ** 53]);
      return [C.ARG];
    }
    o.K = r.pick(['4', {}, true, [4]]);
    return [C.TYPE];
  },
  badAlpha: (op, o, r) => {
    if (!op.scalars.includes('alpha')) return null;
    if (r.next() < 0.6) {
      o.alpha = r.pick([NaN, Infinity, -Infinity]);
      return [C.NONFIN];
    }
    o.alpha = r.pick(['0.5', {}, null, undefined, true]);
    return [C.TYPE];
  },
  badMethod: (op, o, r) => {
    if (!op.scalars.includes('method')) return null;
    o.method = r.pick(['median', '', 'MAJORITY', 'last ', 5, {}, true]);
    return [C.ARG, C.TYPE];
  },
  weightsMissing: (op, o) => {
    if (op.name !== 'voteAnswers' || o.method === 'majority') return null;
    delete o.weights;
    return [C.ARG];
  },
  proverPairing: (op, o, r) => {
    if (op.name !== 'effectiveRewards' || o.proverChild === undefined) return null;
    delete o[r.next() < 0.5 ? 'proverChild' : 'proverParent'];
    return [C.TYPE];
  },
  badDevice: (op, o, r) => {
    if (!op.scalars.includes('device')) return null;
    if (!hasCuda && r.next() < 0.3) {
      o.device = 'cuda';
      return [C.GPU];
    }
    o.device = r.pick(['gpu', 'CPU', 5, {}]);
    return [C.ARG, C.TYPE];
  },
  detach: (op, o, r) => {
    const f = r.pick(present(op, o));
    const a = o[f.name] as ArrayBufferView;
    structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
    return [C.TYPE];
  },
  aliasOut: (op, o, r) => {
    if (op.name !== 'effectiveRewards') return null;
    const q = o.q as Float32Array | Float64Array;
    const choices: unknown[] = [q];
    if (o.proverChild) choices.push(o.proverChild);
    // a view sharing q's buffer but starting one element later (partial overlap)
    const Ctor = q.constructor as Float64ArrayConstructor;
    const big = new Ctor(q.length + 1).fill(0.5);
    o.q = big.subarray(0, q.length);
    choices.push(big.subarray(0, q.length));
    if (q.length >= 2) choices.push(big.subarray(1));
    o.out = r.pick(choices.map((c) => (c === q ? o.q : c)));
    return [C.ARG];
  },
  notAnObject: (op, o) => {
    if (op.name === 'bokTransform') return null;
    for (const k of Object.keys(o)) delete o[k];
    o.__replace = true;
    return [C.TYPE];
  },
};
const names = Object.keys(corruptions);

async function outcome(fn: () => unknown): Promise<{ err?: unknown; value?: unknown }> {
  try {
    const v = fn();
    return { value: v instanceof Promise ? await v : v };
  } catch (err) {
    return { err };
  }
}

function expectCoded(err: unknown, codes: string[], ctx: string) {
  const e = err as { code?: unknown; message?: string };
  if (!(err instanceof Error) || typeof e.code !== 'string' || !codes.includes(e.code))
    throw new Error(`${ctx}: expected one of ${codes.join('/')}, got ${err instanceof Error ? `${err.name} ${e.code}: ${e.message}` : String(err)}`);
  if (e.code === C.TYPE && !(err instanceof TypeError)) throw new Error(`${ctx}: ${e.code} should be a TypeError`);
  if (e.code !== C.TYPE && e.code !== C.GPU && !(err instanceof RangeError)) throw new Error(`${ctx}: ${e.code} should be a RangeError`);
}

function wellFormed(v: unknown): boolean {
  if (v instanceof Float32Array || v instanceof Float64Array) return true;
  const x = v as { winner?: unknown; score?: unknown };
  return x?.winner instanceof Uint32Array && x.score instanceof Float64Array;
}

describe('malformed input fuzz: typed errors, never a crash or silent success', () => {
  const raw = addon<Raw>();

  it('valid bases succeed (so the corruptions below are what fails)', async () => {
    const r = rng(99);
    for (let i = 0; i < 300; i++) {
      const op = ops[i % ops.length];
      const o = op.base(r);
      expect(wellFormed(op.raw(raw, { ...o, device: 'cpu', async: false }))).toBe(true);
      expect(wellFormed(await outcome(() => op.facade({ ...o }, i % 2 === 1)).then((x) => x.value))).toBe(true);
    }
  });

  it('one corruption at a time: 6000 cases, the predicted code', async () => {
    const r = rng(12345);
    let checked = 0;
    for (let i = 0; checked < 6000; i++) {
      const op = ops[i % ops.length];
      const o = op.base(r);
      const which = names[r.int(names.length)];
      const codes = corruptions[which](op, o, r);
      if (!codes) continue;
      const layer = r.pick(['raw', 'facade'] as const);
      const async = r.next() < 0.3;
      const arg = o.__replace ? r.pick([undefined, null, 42, 'options']) : o;
      const ctx = `case ${i} ${op.name} ${which} ${layer}${async ? ' async' : ''}`;
      const res = await outcome(() =>
        layer === 'raw'
          ? op.raw(raw, arg && typeof arg === 'object' ? { device: 'cpu', ...arg, async } : arg)
          : op.facade(arg, async),
      );
      if (!('err' in res) || res.err === undefined) throw new Error(`${ctx}: returned without an error`);
      expectCoded(res.err, codes, ctx);
      checked++;
    }
  });

  it('stacked corruptions and raw garbage: a coded error or a well-formed result', async () => {
    const r = rng(777);
    const garbage = [undefined, null, 0, -1, NaN, 'x', {}, [], [1, 2], new Uint32Array(3), new Float64Array([NaN]), new BigUint64Array(2), () => 1];
    for (let i = 0; i < 3000; i++) {
      const op = ops[i % ops.length];
      const o = op.base(r);
      if (r.next() < 0.3) {
        for (const k of [...op.fields.map((f) => f.name), 'K', 'alpha', 'method']) if (r.next() < 0.5) o[k] = r.pick(garbage);
      } else {
        for (let j = 0; j < 2 + r.int(3); j++) {
          try {
            corruptions[names[r.int(names.length)]](op, o, r);
          } catch {
            // a corruption may not fit a field an earlier one already broke; keep what there is
          }
        }
      }
      if (o.__replace) continue;
      const async = r.next() < 0.3;
      const res = await outcome(() => (r.next() < 0.5 ? op.raw(raw, { device: 'cpu', ...o, async }) : op.facade(o, async)));
      if ('err' in res && res.err !== undefined) expectCoded(res.err, Object.values(C), `chaos ${i} ${op.name}`);
      else expect(wellFormed(res.value)).toBe(true);
    }
  });
});
