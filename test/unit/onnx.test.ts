// ONNX builder: files written here load in onnxruntime-node and compute what plain TypeScript computes.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DataType, GraphBuilder, floatAttr } from '../../src/onnx/graph_builder.ts';
import {
  buildToyPrmMlp,
  buildTransformerPrm,
  randomTransformerWeights,
  toyMlpForward,
  transformerForward,
  type ToyMlpWeights,
} from '../../src/onnx/models.ts';
import { decodeModel } from '../../src/onnx/proto.ts';

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}
const randArr = (n: number, r: () => number) => Float32Array.from({ length: n }, r);
const session = (bytes: Uint8Array) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('GraphBuilder', () => {
  it('MatMul, Gemm (transB, alpha) and Softmax match TypeScript math', async () => {
    const r = lcg(7);
    const [B, K, N] = [5, 4, 3];
    const W = randArr(K * N, r), Wt = randArr(N * K, r), bias = randArr(N, r);
    const g = new GraphBuilder('ops');
    const x = g.input('x', DataType.FLOAT, ['batch', K]);
    g.output('mm', DataType.FLOAT, ['batch', N], g.op('MatMul', [x, g.initializer('W', W, [K, N])]));
    g.output('gemm', DataType.FLOAT, ['batch', N], g.op('Gemm', [x, g.initializer('Wt', Wt, [N, K]), g.initializer('bias', bias, [N])], { transB: 1, alpha: floatAttr(0.5) }));
    g.output('sm', DataType.FLOAT, ['batch', K], g.op('Softmax', [x], { axis: -1 }));
    const s = await session(g.toBytes());
    const xs = randArr(B * K, r);
    const out = await s.run({ x: new ort.Tensor('float32', xs, [B, K]) });
    const mm = new Float32Array(B * N), gemm = new Float32Array(B * N), sm = new Float32Array(B * K);
    for (let b = 0; b < B; b++) {
      for (let n = 0; n < N; n++) {
        let a = 0, c = 0;
        for (let k = 0; k < K; k++) { a += xs[b * K + k] * W[k * N + n]; c += xs[b * K + k] * Wt[n * K + k]; }
        mm[b * N + n] = a;
        gemm[b * N + n] = 0.5 * c + bias[n];
      }
      const mx = Math.max(...xs.subarray(b * K, b * K + K));
      let z = 0;
      for (let k = 0; k < K; k++) z += Math.exp(xs[b * K + k] - mx);
      for (let k = 0; k < K; k++) sm[b * K + k] = Math.exp(xs[b * K + k] - mx) / z;
    }
    expect(maxDiff(out.mm.data as Float32Array, mm)).toBeLessThan(1e-5);
    expect(maxDiff(out.gemm.data as Float32Array, gemm)).toBeLessThan(1e-5);
    expect(maxDiff(out.sm.data as Float32Array, sm)).toBeLessThan(1e-6);
    expect(out.mm.dims).toEqual([B, N]);
  });

  it('writes a model that round-trips through the schema (dims, attributes, raw data)', () => {
    const g = new GraphBuilder('rt');
    const x = g.input('x', DataType.INT64, ['batch', 3]);
    g.output('y', DataType.INT64, ['batch', 3], g.op('Add', [x, g.initializer('k', new BigInt64Array([1n, 2n, 3n]), [3])]));
    const m = decodeModel(g.toBytes({ metadata: { kind: 'test' } }));
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport[0].version).toBe(17);
    expect(m.graph.input[0].type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 3 }]);
    expect(Array.from(new BigInt64Array(Uint8Array.from(m.graph.initializer[0].rawData!).buffer))).toEqual([1n, 2n, 3n]);
    expect(m.metadataProps).toEqual([{ key: 'kind', value: 'test' }]);
  });

  it('bytes that are not a model are a ConfigError naming them, not a protobuf error', () => {
    for (const bytes of [new TextEncoder().encode('not a model at all\n'), new Uint8Array(0), Uint8Array.of(0x0a, 0xff)])
      expect(() => decodeModel(bytes, 'x.onnx')).toThrow(expect.objectContaining({ code: 'ERR_PAV_CONFIG', message: expect.stringMatching(/^x\.onnx is not an ONNX model/) }));
    expect(() => decodeModel('x' as unknown as Uint8Array)).toThrow(/the model bytes must be a Uint8Array/);
  });

  it('refuses duplicate names and mismatched initializer sizes', () => {
    const g = new GraphBuilder();
    g.input('x', DataType.FLOAT, [1]);
    expect(() => g.input('x', DataType.FLOAT, [1])).toThrow(/already used/);
    expect(() => g.initializer('w', new Float32Array(3), [2, 2])).toThrow(RangeError);
  });
});

describe('toy PRM MLP', () => {
  const r = lcg(11);
  const w: ToyMlpWeights = { vocab: 6, seqLen: 5, hidden: 8, w1: randArr(5 * 6 * 8, r), b1: randArr(8, r), w2: randArr(8, r), b2: randArr(1, r) };

  it('matches the TypeScript forward pass, pads shorter inputs, ignores masked tokens', async () => {
    const s = await session(buildToyPrmMlp(w).toBytes());
    expect(s.inputNames).toEqual(['input_ids', 'attention_mask']);
    expect(s.outputNames).toEqual(['scores']);
    for (const T of [5, 3]) {
      const B = 7;
      const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 5 + 1) % 6));
      const mask = BigInt64Array.from({ length: B * T }, (_, i) => ((i % T) <= (i / T) % T ? 1n : 0n));
      const out = await s.run({ input_ids: new ort.Tensor('int64', ids, [B, T]), attention_mask: new ort.Tensor('int64', mask, [B, T]) });
      expect(out.scores.dims).toEqual([B]);
      const ref = toyMlpForward(w, ids, mask, B);
      expect(maxDiff(out.scores.data as Float32Array, ref)).toBeLessThan(1e-5);
      for (const v of out.scores.data as Float32Array) expect(v > 0 && v < 1).toBe(true);
      // Changing a masked token changes nothing.
      const ids2 = ids.slice();
      for (let i = 0; i < ids2.length; i++) if (!mask[i]) ids2[i] = 0n;
      const out2 = await s.run({ input_ids: new ort.Tensor('int64', ids2, [B, T]), attention_mask: new ort.Tensor('int64', mask, [B, T]) });
      expect(maxDiff(out2.scores.data as Float32Array, out.scores.data as Float32Array)).toBe(0);
    }
  });
});

describe('toy PRM MLP with match features', () => {
  it('matches the TypeScript forward pass (problem/response token equality features)', async () => {
    const r = lcg(13);
    const [V, L, H, Tm, P0, Lp] = [7, 9, 6, 3, 4, 5];
    const w: ToyMlpWeights = {
      vocab: V, seqLen: L, hidden: H, w1: randArr(L * V * H, r), b1: randArr(H, r), w2: randArr(H, r), b2: randArr(1, r),
      match: { targetLen: Tm, prefixStart: P0, prefixLen: Lp, w: randArr(Tm * Lp * H, r) },
    };
    const s = await session(buildToyPrmMlp(w).toBytes());
    const B = 16;
    const ids = BigInt64Array.from({ length: B * L }, (_, i) => BigInt((i * 7 + (i >> 3)) % 4)); // many equalities
    const mask = BigInt64Array.from({ length: B * L }, (_, i) => ((i % L) < L - (Math.floor(i / L) % 4) && (i % L) !== 1 ? 1n : 0n));
    const out = await s.run({ input_ids: new ort.Tensor('int64', ids, [B, L]), attention_mask: new ort.Tensor('int64', mask, [B, L]) });
    expect(maxDiff(out.scores.data as Float32Array, toyMlpForward(w, ids, mask, B))).toBeLessThan(1e-5);
    const noMatch = await session(buildToyPrmMlp({ ...w, match: undefined }).toBytes());
    const out2 = await noMatch.run({ input_ids: new ort.Tensor('int64', ids, [B, L]), attention_mask: new ort.Tensor('int64', mask, [B, L]) });
    expect(maxDiff(out2.scores.data as Float32Array, out.scores.data as Float32Array)).toBeGreaterThan(1e-3);
  });
});

describe('transformer PRM', () => {
  it('runs with dynamic [B, T] and matches the reference forward pass under padding masks', async () => {
    const w = randomTransformerWeights({ vocab: 40, hidden: 16, layers: 2, maxSeq: 16, seed: 5 });
    const s = await session(buildTransformerPrm(w).toBytes());
    for (const [B, T] of [[1, 1], [3, 7], [2, 16]] as const) {
      const ids = BigInt64Array.from({ length: B * T }, (_, i) => BigInt((i * 13 + 3) % 40));
      // Row b has T - b real tokens (right padding).
      const mask = BigInt64Array.from({ length: B * T }, (_, i) => ((i % T) < Math.max(1, T - Math.floor(i / T)) ? 1n : 0n));
      const out = await s.run({ input_ids: new ort.Tensor('int64', ids, [B, T]), attention_mask: new ort.Tensor('int64', mask, [B, T]) });
      expect(out.logits.dims).toEqual([B, T, 2]);
      expect(maxDiff(out.logits.data as Float32Array, transformerForward(w, ids, mask, B, T))).toBeLessThan(1e-4);
    }
  });

  it('causal: a token\'s logits do not depend on later tokens; padding keys are ignored', async () => {
    const w = randomTransformerWeights({ vocab: 20, hidden: 8, layers: 1, maxSeq: 8, seed: 9 });
    const s = await session(buildTransformerPrm(w).toBytes());
    const run = async (ids: number[], mask: number[]) =>
      (await s.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask.map(BigInt)), [1, ids.length]),
      })).logits.data as Float32Array;
    const a = await run([1, 2, 3, 4], [1, 1, 1, 1]);
    const b = await run([1, 2, 3, 9], [1, 1, 1, 1]);
    expect(maxDiff(a.subarray(0, 6), b.subarray(0, 6))).toBeLessThan(1e-6);
    expect(maxDiff(a.subarray(6), b.subarray(6))).toBeGreaterThan(1e-4);
    const short = await run([1, 2, 3], [1, 1, 1]);
    const padded = await run([1, 2, 3, 7, 7], [1, 1, 1, 0, 0]);
    expect(maxDiff(short, padded.subarray(0, 6))).toBeLessThan(1e-5);
  });
});
