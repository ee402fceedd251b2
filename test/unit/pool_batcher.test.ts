// DynamicBatcher with a fake dispatch: coalescing, routing, chunking, bounds, abort, close, errors.
import { describe, expect, it } from 'vitest';
import { BackendError, ErrorCodes, PavRangeError, PavTypeError } from '../../src/errors.ts';
import { DynamicBatcher, type BatchDispatch } from '../../src/verifier/batcher.ts';

/** Output row r = [sum of its ids, rows in its batch]: checks routing and shows batch sizes. */
function fake(delayMs = 0, calls: { rows: number; seqLen: number }[] = []): BatchDispatch {
  return async (ids, _mask, rows, seqLen) => {
    calls.push({ rows, seqLen });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (ids[0] === -1n) throw new Error('poisoned batch');
    const out = new Float32Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let t = 0; t < seqLen; t++) s += Number(ids[r * seqLen + t]);
      out[2 * r] = s;
      out[2 * r + 1] = rows;
    }
    return out;
  };
}
const req = (rows: number, seqLen: number, base: number) => ({
  ids: BigInt64Array.from({ length: rows * seqLen }, (_, i) => BigInt(base + i)),
  mask: new BigInt64Array(rows * seqLen).fill(1n),
});
const rowSums = (rows: number, seqLen: number, base: number) =>
  Array.from({ length: rows }, (_, r) => {
    let s = 0;
    for (let t = 0; t < seqLen; t++) s += base + r * seqLen + t;
    return s;
  });

describe('DynamicBatcher', () => {
  it('coalesces concurrent requests of one length and routes each its own rows', async () => {
    const calls: { rows: number; seqLen: number }[] = [];
    const b = new DynamicBatcher({ dispatch: fake(0, calls), maxBatchRows: 1000, maxWaitMs: 50, maxInFlight: 2 });
    const ps = Array.from({ length: 30 }, (_, i) => {
      const { ids, mask } = req(1 + (i % 4), 3, i * 100);
      return b.run(ids, mask, 1 + (i % 4), 3).then((o) => ({ i, o }));
    });
    for (const { i, o } of await Promise.all(ps)) {
      const rows = 1 + (i % 4);
      expect(o.length).toBe(rows * 2);
      expect(Array.from({ length: rows }, (_, r) => o[2 * r])).toEqual(rowSums(rows, 3, i * 100));
    }
    const s = b.stats();
    expect(s.requests).toBe(30);
    // Spread over the two free slots: two batches, each of many requests.
    expect(s.batches).toBe(2);
    expect(s.coalescedBatches).toBe(2);
    expect(calls.reduce((a, c) => a + c.rows, 0)).toBe(73);
    for (const c of calls) expect(c.rows).toBeGreaterThanOrEqual(30);
  });

  it('keeps different sequence lengths in separate batches and respects maxBatchRows', async () => {
    const calls: { rows: number; seqLen: number }[] = [];
    const b = new DynamicBatcher({ dispatch: fake(0, calls), maxBatchRows: 10, maxWaitMs: 5, maxInFlight: 1 });
    const ps = [];
    for (let i = 0; i < 12; i++) {
      const seqLen = i % 2 ? 2 : 5;
      const { ids, mask } = req(3, seqLen, i);
      ps.push(b.run(ids, mask, 3, seqLen));
    }
    await Promise.all(ps);
    for (const c of calls) expect(c.rows).toBeLessThanOrEqual(10);
    expect(calls.reduce((a, c) => a + c.rows, 0)).toBe(36);
    expect(new Set(calls.map((c) => c.seqLen))).toEqual(new Set([2, 5]));
  });

  it('splits a request larger than maxBatchRows and stitches the output in order', async () => {
    const calls: { rows: number; seqLen: number }[] = [];
    const b = new DynamicBatcher({ dispatch: fake(0, calls), maxBatchRows: 8, maxWaitMs: 0, maxInFlight: 2 });
    const { ids, mask } = req(21, 2, 0);
    const o = await b.run(ids, mask, 21, 2);
    expect(Array.from({ length: 21 }, (_, r) => o[2 * r])).toEqual(rowSums(21, 2, 0));
    expect(calls.map((c) => c.rows).sort()).toEqual([5, 8, 8]);
  });

  it('while workers are busy, waiting requests coalesce instead of queueing one by one', async () => {
    const calls: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inner = fake();
    const b = new DynamicBatcher({
      dispatch: async (ids, mask, rows, seqLen) => {
        calls.push(rows);
        await gate; // the single slot stays busy until released
        return inner(ids, mask, rows, seqLen);
      },
      maxBatchRows: 1000, maxWaitMs: 0, maxInFlight: 1,
    });
    const ps: Promise<Float32Array>[] = [];
    for (let i = 0; i < 5; i++) {
      const { ids, mask } = req(1, 1, i);
      ps.push(b.run(ids, mask, 1, 1));
      await new Promise((r) => setTimeout(r, 1));
    }
    release();
    const outs = await Promise.all(ps);
    expect(outs.map((o) => o[0])).toEqual([0, 1, 2, 3, 4]);
    expect(calls).toEqual([1, 4]); // the first alone, the other four together
  });

  it('a failing batch rejects only its own requests', async () => {
    const b = new DynamicBatcher({ dispatch: fake(), maxBatchRows: 100, maxWaitMs: 2, maxInFlight: 2 });
    const good = req(2, 4, 1);
    const bad = req(2, 3, 0);
    bad.ids[0] = -1n;
    const [g, x] = await Promise.allSettled([b.run(good.ids, good.mask, 2, 4), b.run(bad.ids, bad.mask, 2, 3)]);
    expect(g.status).toBe('fulfilled');
    expect(x.status).toBe('rejected');
    const e = (x as PromiseRejectedResult).reason;
    expect(e).toBeInstanceOf(BackendError);
    expect(e.code).toBe(ErrorCodes.BACKEND);
    expect(e.message).toMatch(/poisoned batch/);
    expect(b.stats().failedBatches).toBe(1);
  });

  it('validates arguments with typed errors', async () => {
    const b = new DynamicBatcher({ dispatch: fake(), maxBatchRows: 10, maxWaitMs: 1, maxInFlight: 1 });
    await expect(b.run([1n] as unknown as BigInt64Array, new BigInt64Array(1), 1, 1)).rejects.toBeInstanceOf(PavTypeError);
    await expect(b.run(new BigInt64Array(3), new BigInt64Array(4), 2, 2)).rejects.toMatchObject({ code: ErrorCodes.LENGTH_MISMATCH });
    await expect(b.run(new BigInt64Array(4), new BigInt64Array(4), 0, 4)).rejects.toBeInstanceOf(PavRangeError);
    expect(() => new DynamicBatcher({ dispatch: fake(), maxBatchRows: 0, maxWaitMs: 1, maxInFlight: 1 })).toThrow(PavRangeError);
  });

  it('refuses bad options with typed errors naming the option (an unbounded wait would hang forever)', () => {
    const base = { dispatch: fake(), maxBatchRows: 8, maxWaitMs: 1, maxInFlight: 1 };
    const bad: [Record<string, unknown>, new (...a: never[]) => Error, RegExp][] = [
      [{ maxWaitMs: Infinity }, PavRangeError, /maxWaitMs/],
      [{ maxWaitMs: 3e9 }, PavRangeError, /maxWaitMs must be in \[0, 2147483647\]/],
      [{ maxWaitMs: -1 }, PavRangeError, /maxWaitMs/],
      [{ maxWaitMs: NaN }, PavRangeError, /maxWaitMs/],
      [{ maxWaitMs: '5' }, PavTypeError, /maxWaitMs/],
      [{ maxBatchRows: 1.5 }, PavRangeError, /maxBatchRows/],
      [{ maxBatchRows: '4' }, PavTypeError, /maxBatchRows/],
      [{ maxInFlight: 0 }, PavRangeError, /maxInFlight/],
      [{ maxInFlight: Infinity }, PavRangeError, /maxInFlight/],
      [{ maxQueuedRows: 0 }, PavRangeError, /maxQueuedRows/],
      [{ onQueueFull: 'drop' }, PavTypeError, /onQueueFull must be 'wait' or 'reject', got "drop"/],
    ];
    for (const [o, cls, msg] of bad) {
      const make = () => new DynamicBatcher({ ...base, ...o } as never);
      expect(make).toThrow(cls);
      expect(make).toThrow(msg);
    }
    expect(() => new DynamicBatcher({ ...base, maxWaitMs: 2 ** 31 - 1 })).not.toThrow();
  });

  it('bounds the queue: reject mode fails fast with a retryable error, wait mode holds the caller', async () => {
    const r = new DynamicBatcher({ dispatch: fake(30), maxBatchRows: 4, maxWaitMs: 0, maxInFlight: 1, maxQueuedRows: 4, onQueueFull: 'reject' });
    const ps = [];
    for (let i = 0; i < 3; i++) { const q = req(4, 1, i); ps.push(r.run(q.ids, q.mask, 4, 1)); }
    const settled = await Promise.allSettled(ps);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);
    const err = (settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
    expect(err).toBeInstanceOf(BackendError);
    expect(err.retryable).toBe(true);

    const calls: { rows: number; seqLen: number }[] = [];
    const w = new DynamicBatcher({ dispatch: fake(5, calls), maxBatchRows: 4, maxWaitMs: 0, maxInFlight: 1, maxQueuedRows: 4 });
    const all = [];
    for (let i = 0; i < 6; i++) { const q = req(4, 1, i); all.push(w.run(q.ids, q.mask, 4, 1)); }
    expect((await Promise.all(all)).length).toBe(6);
    expect(w.stats().queuedRows).toBe(0);
  });

  it('abort rejects a queued request with ERR_PAV_ABORTED and drops it from its batch', async () => {
    const calls: { rows: number; seqLen: number }[] = [];
    const b = new DynamicBatcher({ dispatch: fake(0, calls), maxBatchRows: 100, maxWaitMs: 10, maxInFlight: 1 });
    const ac = new AbortController();
    const a = req(3, 1, 0), k = req(2, 1, 0);
    const pa = b.run(a.ids, a.mask, 3, 1, { signal: ac.signal });
    const pk = b.run(k.ids, k.mask, 2, 1);
    await new Promise((r) => setImmediate(r));
    ac.abort();
    await expect(pa).rejects.toMatchObject({ code: ErrorCodes.ABORTED });
    await pk;
    expect(calls).toEqual([{ rows: 2, seqLen: 1 }]);
    expect(b.stats().aborted).toBe(1);
  });

  it('close drains queued work by default, or rejects it with the closed error; later calls are refused', async () => {
    const calls: { rows: number; seqLen: number }[] = [];
    const b = new DynamicBatcher({ dispatch: fake(5, calls), maxBatchRows: 100, maxWaitMs: 10_000, maxInFlight: 1 });
    const q = req(2, 2, 0);
    const p = b.run(q.ids, q.mask, 2, 2);
    await new Promise((r) => setImmediate(r));
    await b.close();
    expect((await p).length).toBe(4);
    await expect(b.run(q.ids, q.mask, 2, 2)).rejects.toBeInstanceOf(BackendError);

    const c = new DynamicBatcher({ dispatch: fake(5), maxBatchRows: 100, maxWaitMs: 10_000, maxInFlight: 1 });
    const q2 = req(2, 2, 0);
    const p2 = c.run(q2.ids, q2.mask, 2, 2);
    await new Promise((r) => setImmediate(r));
    await c.close({ drain: false });
    await expect(p2).rejects.toThrow(/closed/);
  });
});
