// Rewards files: JSONL and binary round trips (float32/float64, with and without optional arrays),
// the documented byte layout (read back by numpy.memmap when python3 + numpy exist), and malformed
// files rejected with RewardsFormatError naming the field.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Rewards } from '../../src/rl/rewards.ts';
import {
  decodeRewardsBinary,
  decodeRewardsJsonl,
  encodeRewardsBinary,
  encodeRewardsJsonl,
  HEADER,
  readRewardsFile,
  REWARDS_ALIGN,
  RewardsFormatError,
  writeRewardsFile,
} from '../../src/rl/rewards_io.ts';

function sample(kind: 'f32' | 'f64', withTokens: boolean, withAdv = true): Rewards {
  const F = kind === 'f32' ? Float32Array : Float64Array;
  const r: Rewards = {
    form: 'q-pi',
    alpha: 1.5,
    K: 4,
    offsets: Uint32Array.from([0, 3, 3, 5]), // the middle trajectory has no steps
    outcomes: F.from([1, 0, 0.5]),
    stepWeights: F.from([0.1, -0.25, 1.3, 0.7, -0.05]),
  };
  if (withAdv) r.advantages = F.from([0.1, -0.35, 0.3, 0.2, -0.4]);
  if (withTokens) {
    r.tokenOffsets = Uint32Array.from([0, 2, 3, 3, 7, 8]);
    r.tokenWeights = F.from([0.1, 0.1, -0.25, 0.7, 0.7, 0.7, 0.7, -0.05]); // each token carries its step weight
  }
  return r;
}

function same(a: Rewards, b: Rewards) {
  expect(b.form).toBe(a.form);
  expect(b.alpha).toBe(a.alpha);
  expect(b.K).toBe(a.K);
  for (const k of ['offsets', 'outcomes', 'stepWeights', 'advantages', 'tokenOffsets', 'tokenWeights'] as const) {
    if (a[k] === undefined) {
      expect(b[k]).toBeUndefined();
      continue;
    }
    expect(b[k]!.constructor).toBe(a[k]!.constructor);
    expect(Array.from(b[k]!)).toEqual(Array.from(a[k]!));
  }
}

describe('round trips', () => {
  for (const kind of ['f32', 'f64'] as const)
    for (const withTokens of [false, true])
      for (const withAdv of [false, true])
        it(`${kind}, tokens ${withTokens}, advantages ${withAdv}: binary and JSONL`, () => {
          const r = sample(kind, withTokens, withAdv);
          same(r, decodeRewardsBinary(encodeRewardsBinary(r)));
          same(r, decodeRewardsJsonl(encodeRewardsJsonl(r)));
        });

  it('files: the extension picks the format; an unaligned Buffer still decodes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-io-'));
    const r = sample('f32', true);
    await writeRewardsFile(join(dir, 'r.jsonl'), r);
    await writeRewardsFile(join(dir, 'r.bin'), r);
    same(r, await readRewardsFile(join(dir, 'r.jsonl')));
    same(r, await readRewardsFile(join(dir, 'r.bin')));
    const bytes = encodeRewardsBinary(r);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    same(r, decodeRewardsBinary(shifted.subarray(3)));
  });

  it('an empty batch round-trips', () => {
    const r: Rewards = { form: 'outcome', alpha: 0, K: 1, offsets: Uint32Array.from([0]), outcomes: new Float64Array(0), stepWeights: new Float64Array(0) };
    same(r, decodeRewardsBinary(encodeRewardsBinary(r)));
    same(r, decodeRewardsJsonl(encodeRewardsJsonl(r)));
  });
});

describe('byte layout', () => {
  it('matches docs/rl-binary-layout.md: header fields, 64-byte aligned arrays in order', () => {
    const r = sample('f64', true);
    const b = encodeRewardsBinary(r);
    const dv = new DataView(b.buffer);
    expect(new TextDecoder().decode(b.subarray(0, 7))).toBe('PAVRWDS');
    expect(b[7]).toBe(0);
    expect(dv.getUint32(HEADER.version, true)).toBe(1);
    expect(dv.getUint32(HEADER.header_bytes, true)).toBe(128);
    expect(dv.getUint32(HEADER.dtype, true)).toBe(2);
    expect(dv.getUint32(HEADER.form, true)).toBe(1);
    expect(dv.getUint32(HEADER.flags, true)).toBe(3);
    expect(dv.getUint32(HEADER.K, true)).toBe(4);
    expect(dv.getFloat64(HEADER.alpha, true)).toBe(1.5);
    expect(Number(dv.getBigUint64(HEADER.num_trajectories, true))).toBe(3);
    expect(Number(dv.getBigUint64(HEADER.num_steps, true))).toBe(5);
    expect(Number(dv.getBigUint64(HEADER.num_tokens, true))).toBe(8);
    expect(Number(dv.getBigUint64(HEADER.file_bytes, true))).toBe(b.length);
    const at = ['offsets_at', 'outcomes_at', 'step_weights_at', 'advantages_at', 'token_offsets_at', 'token_weights_at'].map((k) =>
      Number(dv.getBigUint64(HEADER[k as keyof typeof HEADER], true)),
    );
    expect(at).toEqual([128, 192, 256, 320, 384, 448]);
    at.forEach((x) => expect(x % REWARDS_ALIGN).toBe(0));
    expect(dv.getFloat64(at[2] + 8, true)).toBe(-0.25);
    expect(dv.getUint32(at[0] + 12, true)).toBe(5);
    expect(b.length).toBe(448 + 8 * 8);
  });

  let numpy = false;
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    numpy = true;
  } catch {
    /* no python3 + numpy: the memmap check is skipped */
  }
  it.skipIf(!numpy)('numpy.memmap reads it with the documented snippet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-np-'));
    const path = join(dir, 'r.bin');
    writeFileSync(path, encodeRewardsBinary(sample('f32', true)));
    const py = `
import json, sys, numpy as np
def read_rewards(path):
    head = np.memmap(path, dtype=np.uint8, mode="r", shape=(128,))
    assert bytes(head[:8]) == b"PAVRWDS\\0"
    u32 = head[8:32].view("<u4"); u64 = head[40:128].view("<u8")
    version, header_bytes, dtype_code, form, flags, K = (int(x) for x in u32)
    alpha = float(head[32:40].view("<f8")[0])
    T, S, N, off_at, out_at, sw_at, adv_at, tok_off_at, tok_w_at, file_bytes, _ = (int(x) for x in u64)
    f = np.dtype("<f4") if dtype_code == 1 else np.dtype("<f8")
    mm = lambda at, dt, n: np.memmap(path, dtype=dt, mode="r", offset=at, shape=(n,))
    out = dict(form=form, K=K, alpha=alpha, offsets=mm(off_at, "<u4", T + 1), outcomes=mm(out_at, f, T), step_weights=mm(sw_at, f, S))
    if flags & 2: out["advantages"] = mm(adv_at, f, S)
    if flags & 1:
        out["token_offsets"] = mm(tok_off_at, "<u4", S + 1)
        out["token_weights"] = mm(tok_w_at, f, N)
    return out
r = read_rewards(sys.argv[1])
print(json.dumps({k: (v.tolist() if hasattr(v, "tolist") else v) for k, v in r.items()}))
`;
    const got = JSON.parse(execFileSync('python3', ['-c', py, path], { encoding: 'utf8' }));
    const r = sample('f32', true);
    expect(got.form).toBe(1);
    expect(got.K).toBe(4);
    expect(got.alpha).toBe(1.5);
    expect(got.offsets).toEqual(Array.from(r.offsets));
    expect(got.step_weights).toEqual(Array.from(r.stepWeights));
    expect(got.advantages).toEqual(Array.from(r.advantages!));
    expect(got.token_offsets).toEqual(Array.from(r.tokenOffsets!));
    expect(got.token_weights).toEqual(Array.from(r.tokenWeights!));
  });
});

describe('malformed binary files name the field', () => {
  const good = () => encodeRewardsBinary(sample('f64', true));
  const fails = (b: Uint8Array, field: string | RegExp) => {
    let err: unknown;
    try {
      decodeRewardsBinary(b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RewardsFormatError);
    expect(err).toBeInstanceOf(RangeError);
    if (typeof field === 'string') expect((err as RewardsFormatError).field).toBe(field);
    else expect((err as RewardsFormatError).field).toMatch(field);
  };
  const patch = (f: (dv: DataView, b: Uint8Array) => void) => {
    const b = good();
    f(new DataView(b.buffer), b);
    return b;
  };

  it('header fields', () => {
    fails(good().subarray(0, 100), 'header');
    fails(patch((_, b) => (b[0] = 0x51)), 'magic');
    fails(patch((dv) => dv.setUint32(HEADER.version, 2, true)), 'version');
    fails(patch((dv) => dv.setUint32(HEADER.header_bytes, 64, true)), 'header_bytes');
    fails(patch((dv) => dv.setUint32(HEADER.dtype, 3, true)), 'dtype');
    fails(patch((dv) => dv.setUint32(HEADER.form, 7, true)), 'form');
    fails(patch((dv) => dv.setUint32(HEADER.flags, 8 | 3, true)), 'flags');
    fails(patch((dv) => dv.setUint32(HEADER.K, 0, true)), 'K');
    fails(patch((dv) => dv.setFloat64(HEADER.alpha, NaN, true)), 'alpha');
    fails(patch((dv) => dv.setBigUint64(HEADER.reserved, 1n, true)), 'reserved');
  });

  it('sizes and placement', () => {
    const b = good();
    fails(b.subarray(0, b.length - 8), 'file_bytes');
    fails(patch((dv) => dv.setBigUint64(HEADER.num_steps, 6n, true)), /offsets|step_weights_at|advantages_at|token_offsets_at|token_weights_at/);
    fails(patch((dv) => dv.setBigUint64(HEADER.step_weights_at, 132n, true)), 'step_weights_at');
    fails(patch((dv) => dv.setBigUint64(HEADER.outcomes_at, 128n, true)), 'outcomes_at');
    fails(patch((dv) => dv.setBigUint64(HEADER.token_weights_at, 10_000n, true)), 'token_weights_at');
    fails(patch((dv) => dv.setUint32(HEADER.flags, 2, true)), 'num_tokens'); // tokens absent but counted
    fails(patch((dv) => dv.setBigUint64(HEADER.num_trajectories, 1n << 40n, true)), 'num_trajectories');
  });

  it('array contents', () => {
    fails(patch((dv) => dv.setUint32(128 + 4, 9, true)), 'offsets'); // offsets[1] > offsets[2]
    fails(patch((dv) => dv.setUint32(128, 1, true)), 'offsets'); // offsets[0] != 0
    fails(patch((dv) => dv.setFloat64(256 + 16, Infinity, true)), 'step_weights');
    fails(patch((dv) => dv.setFloat64(320, NaN, true)), 'advantages');
    fails(patch((dv) => dv.setUint32(384 + 20, 99, true)), 'token_offsets');
    fails(patch((dv) => dv.setFloat64(448, NaN, true)), 'token_weights');
    fails(patch((dv) => dv.setFloat64(192, NaN, true)), 'outcomes');
  });
});

describe('malformed JSONL names the line and key', () => {
  const good = () => encodeRewardsJsonl(sample('f64', true)).split('\n');
  const fails = (lines: string[], field: RegExp) => {
    let err: unknown;
    try {
      decodeRewardsJsonl(lines.join('\n'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RewardsFormatError);
    expect((err as RewardsFormatError).field).toMatch(field);
  };
  /** Line i of a file's lines (default: the float64 sample) with f applied to its object. */
  const edit = (i: number, f: (o: Record<string, unknown>) => void, l = good()) => {
    const o = JSON.parse(l[i]);
    f(o);
    l[i] = JSON.stringify(o);
    return l;
  };

  it('header', () => {
    fails([''], /header/);
    fails(edit(0, (o) => (o.format = 'x')), /header.format/);
    fails(edit(0, (o) => (o.version = 9)), /header.version/);
    fails(edit(0, (o) => (o.form = 'value')), /header.form/);
    fails(edit(0, (o) => (o.alpha = 'one')), /header.alpha/);
    fails(edit(0, (o) => (o.K = 0)), /header.K/);
    fails(edit(0, (o) => (o.dtype = 'int8')), /header.dtype/);
    fails(edit(0, (o) => (o.trajectories = 4)), /header.trajectories/);
  });

  it('trajectory lines', () => {
    const l = good();
    l[2] = '{not json';
    fails(l, /^line 3$/);
    fails(edit(1, (o) => (o.outcome = null)), /line 2 outcome/);
    fails(edit(1, (o) => (o.stepWeights = [1, 'x'])), /line 2 stepWeights/);
    fails(edit(1, (o) => (o.advantages = [1])), /line 2 advantages/);
    fails(edit(1, (o) => (o.stepTokens = [1, 1])), /line 2 stepTokens/);
    fails(edit(1, (o) => (o.stepTokens = [1, 1.5, 1])), /line 2 stepTokens/);
    fails(edit(1, (o) => (o.tokenWeights = [0])), /line 2 tokenWeights/);
    fails(edit(3, (o) => delete o.advantages), /line 4 advantages/);
  });

  it('float32: a finite value beyond float32 range is refused (it would read back as Infinity)', () => {
    const at = (i: number, f: (o: Record<string, unknown>) => void) => edit(i, f, encodeRewardsJsonl(sample('f32', true)).split('\n'));
    fails(at(1, (o) => ((o.stepWeights as number[])[0] = 1e300)), /^line 2 stepWeights$/);
    fails(at(1, (o) => (o.outcome = -1e39)), /^line 2 outcome$/);
    fails(at(3, (o) => ((o.advantages as number[])[1] = 1e300)), /^line 4 advantages$/);
    fails(at(3, (o) => ((o.tokenWeights as number[])[4] = 1e300)), /^line 4 tokenWeights$/);
    // The same value is fine where it is stored as float64.
    const l = edit(1, (o) => ((o.stepWeights as number[])[0] = 1e300));
    expect(decodeRewardsJsonl(l.join('\n')).stepWeights[0]).toBe(1e300);
  });
});

describe('the writer refuses what the reader refuses', () => {
  it('non-finite values, naming the array and index, in both formats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-nf-'));
    const cases: [Partial<Rewards>, RegExp][] = [
      [{ stepWeights: Float64Array.of(NaN, 1, 2, 3, 4) }, /rewards\.stepWeights\[0\] is NaN/],
      [{ outcomes: Float64Array.of(1, Infinity, 0) }, /rewards\.outcomes\[1\] is Infinity/],
      [{ advantages: Float64Array.of(0, 0, 0, 0, -Infinity) }, /rewards\.advantages\[4\] is -Infinity/],
      [{ tokenWeights: Float64Array.of(0, 0, 0, 0, 0, 0, 0, NaN) }, /rewards\.tokenWeights\[7\] is NaN/],
    ];
    for (const [patch, msg] of cases) {
      const r = { ...sample('f64', true), ...patch };
      for (const file of ['r.bin', 'r.jsonl'])
        await expect(writeRewardsFile(join(dir, file), r)).rejects.toThrow(
          expect.objectContaining({ name: 'PavRangeError', code: 'ERR_PAV_NON_FINITE', message: expect.stringMatching(msg) }),
        );
    }
  });

  it('an unknown format argument is refused by name, not written or read as binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-fmt-'));
    const r = sample('f64', false);
    const err = expect.objectContaining({ name: 'PavTypeError', code: 'ERR_PAV_INVALID_TYPE', message: expect.stringMatching(/format must be 'jsonl' or 'binary', got "xml"/) });
    await expect(writeRewardsFile(join(dir, 'r.xml'), r, 'xml' as never)).rejects.toThrow(err);
    await writeRewardsFile(join(dir, 'r.bin'), r);
    await expect(readRewardsFile(join(dir, 'r.bin'), 'csv' as never)).rejects.toThrow(/format must be 'jsonl' or 'binary', got "csv"/);
    same(r, await readRewardsFile(join(dir, 'r.bin'), 'binary'));
  });
});
