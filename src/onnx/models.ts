// Model builders: the toy PRM MLP (fitted weights → .onnx) and a transformer-shaped PRM with random
// weights (the model of the pool benchmark and of the real-model ONNX PRM path), each with a plain
// TypeScript forward pass that the tests compare onnxruntime against.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { PavRangeError } from '../errors.ts';
import { DataType, GraphBuilder, floatAttr } from './graph_builder.ts';

/** Input and output names shared by every PRM built here (the signature of an exported HF PRM). */
export const PRM_INPUTS = ['input_ids', 'attention_mask'] as const;

// ---------------------------------------------------------------------------------------------
// (a) Toy PRM: a one-hidden-layer MLP over binary features of the input:
//   - per-position one-hot tokens (masked):          row l*V + ids[l] of W1
//   - optionally, target/prefix match indicators:    row j*Lp + i of Wm is on where the problem token at
//     position j equals the response token at position pStart + i (both unmasked)
//   h = relu(b1 + sum of the active rows);  score = sigmoid(w2 . h + b2)
// The one-hot part is Gemm(onehot(ids) * mask, W1) computed as a Gather of W1 rows (no [B, L*V]
// tensor); the match part is Equal → Cast → MatMul.
// ---------------------------------------------------------------------------------------------

export interface ToyMatchFeatures {
  /** Problem tokens are ids[0 .. targetLen). */
  targetLen: number;
  /** Response tokens are ids[prefixStart .. prefixStart + prefixLen). */
  prefixStart: number;
  prefixLen: number;
  /** [targetLen * prefixLen, hidden], row j*prefixLen + i. */
  w: Float32Array;
}

export interface ToyMlpWeights {
  /** Token ids are in [0, vocab). */
  vocab: number;
  /** Fixed input width L; shorter inputs are padded inside the graph (masked positions add nothing). */
  seqLen: number;
  hidden: number;
  /** [seqLen * vocab, hidden], row l*vocab + token. */
  w1: Float32Array;
  b1: Float32Array;
  /** [hidden] */
  w2: Float32Array;
  /** [1] */
  b2: Float32Array;
  match?: ToyMatchFeatures;
}

export function checkToyMlpWeights(w: ToyMlpWeights): void {
  const { vocab: V, seqLen: L, hidden: H } = w;
  if (w.w1.length !== L * V * H || w.b1.length !== H || w.w2.length !== H || w.b2.length !== 1)
    throw new PavRangeError(`toy MLP weights do not match vocab=${V} seqLen=${L} hidden=${H}`);
  const m = w.match;
  if (m && (m.w.length !== m.targetLen * m.prefixLen * H || m.targetLen > m.prefixStart || m.prefixStart + m.prefixLen > L))
    throw new PavRangeError(`toy MLP match features do not fit seqLen=${L} hidden=${H}`);
}

/**
 * ONNX graph of the toy PRM: input_ids, attention_mask int64 [batch, seq] (seq <= seqLen) →
 * scores float [batch] in [0, 1].
 */
export function buildToyPrmMlp(w: ToyMlpWeights): GraphBuilder {
  checkToyMlpWeights(w);
  const { vocab: V, seqLen: L, hidden: H } = w;
  const g = new GraphBuilder('toy_prm_mlp');
  const i64 = (...v: number[]) => g.const(BigInt64Array.from(v.map(BigInt)), [v.length]);
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'seq']);
  const W1 = g.initializer('w1', w.w1, [L * V, H]);
  const B1 = g.initializer('b1', w.b1, [H]);
  const W2 = g.initializer('w2', w.w2, [H, 1]);
  const B2 = g.initializer('b2', w.b2, [1]);

  // Right-pad ids and mask from seq to L: pads = [0, 0, 0, L - seq].
  const seq = g.op('Slice', [g.op('Shape', [ids]), i64(1), i64(2)]);
  const pads = g.op('Concat', [i64(0, 0, 0), g.op('Sub', [i64(L), seq])], { axis: 0 });
  const idsP = g.op('Pad', [ids, pads]);
  const maskP = g.op('Pad', [mask, pads]);
  const maskF = g.op('Cast', [maskP], { to: DataType.FLOAT }); // [B, L]

  // Row index into W1: l*V + ids[b, l].
  const offs = new BigInt64Array(L);
  for (let l = 0; l < L; l++) offs[l] = BigInt(l * V);
  const rows = g.op('Add', [idsP, g.const(offs, [1, L], 'pos_offsets')]);
  const gathered = g.op('Gather', [W1, rows], { axis: 0 }); // [B, L, H]
  let pre = g.op('ReduceSum', [g.op('Mul', [gathered, g.op('Unsqueeze', [maskF, i64(2)])]), i64(1)], { keepdims: 0 });
  if (w.match) {
    const { targetLen: Tm, prefixStart: P0, prefixLen: Lp } = w.match;
    const cut = (v: string, a: number, b: number) => g.op('Slice', [v, i64(a), i64(b), i64(1)]);
    const eq = g.op('Equal', [g.op('Unsqueeze', [cut(idsP, 0, Tm), i64(2)]), g.op('Unsqueeze', [cut(idsP, P0, P0 + Lp), i64(1)])]);
    const both = g.op('Mul', [g.op('Unsqueeze', [cut(maskF, 0, Tm), i64(2)]), g.op('Unsqueeze', [cut(maskF, P0, P0 + Lp), i64(1)])]);
    const feats = g.op('Reshape', [g.op('Mul', [g.op('Cast', [eq], { to: DataType.FLOAT }), both]), i64(-1, Tm * Lp)]);
    pre = g.op('Add', [pre, g.op('MatMul', [feats, g.initializer('w_match', w.match.w, [Tm * Lp, H])])]);
  }
  const h = g.op('Relu', [g.op('Add', [pre, B1])]);
  const logit = g.op('Gemm', [h, W2, B2]); // [B, 1]
  const score = g.op('Reshape', [g.op('Sigmoid', [logit]), i64(-1)]);
  g.output('scores', DataType.FLOAT, ['batch'], score);
  return g;
}

/**
 * Indices of the active binary features of one row: one-hot rows l*V + ids[l] for unmasked l, then
 * (with match features) L*V + j*Lp + i where problem token j equals response token i.
 * `out` must hold L + Tm*Lp entries; returns the count.
 */
export function toyMlpActiveFeatures(w: Pick<ToyMlpWeights, 'vocab' | 'seqLen' | 'match'>, ids: ArrayLike<number>, mask: ArrayLike<number>, out: Int32Array): number {
  const V = w.vocab, L = w.seqLen;
  let k = 0;
  for (let l = 0; l < ids.length; l++) if (mask[l]) out[k++] = l * V + ids[l];
  const m = w.match;
  if (m) {
    const base = L * V;
    for (let j = 0; j < m.targetLen && j < ids.length; j++) {
      if (!mask[j]) continue;
      for (let i = 0; i < m.prefixLen && m.prefixStart + i < ids.length; i++)
        if (mask[m.prefixStart + i] && ids[j] === ids[m.prefixStart + i]) out[k++] = base + j * m.prefixLen + i;
    }
  }
  return k;
}

/** Row f of the stacked first layer [W1; Wm]. */
function firstLayerRow(w: ToyMlpWeights, f: number): { arr: Float32Array; base: number } {
  const n1 = w.seqLen * w.vocab;
  return f < n1 ? { arr: w.w1, base: f * w.hidden } : { arr: w.match!.w, base: (f - n1) * w.hidden };
}

/** TypeScript forward pass of the toy PRM: row-major ids/mask [batch, seqLen'] with seqLen' <= seqLen. */
export function toyMlpForward(w: ToyMlpWeights, ids: ArrayLike<number | bigint>, mask: ArrayLike<number | bigint>, batch: number): Float32Array {
  const T = ids.length / batch;
  if (T > w.seqLen) throw new PavRangeError(`sequence length ${T} exceeds the model's ${w.seqLen}`);
  const H = w.hidden;
  const out = new Float32Array(batch);
  const pre = new Float64Array(H);
  const rowIds = new Array<number>(T);
  const rowMask = new Array<number>(T);
  const active = new Int32Array(w.seqLen + (w.match ? w.match.targetLen * w.match.prefixLen : 0));
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T; t++) {
      rowIds[t] = Number(ids[b * T + t]);
      rowMask[t] = Number(mask[b * T + t]);
    }
    const k = toyMlpActiveFeatures(w, rowIds, rowMask, active);
    for (let j = 0; j < H; j++) pre[j] = w.b1[j];
    for (let a = 0; a < k; a++) {
      const { arr, base } = firstLayerRow(w, active[a]);
      for (let j = 0; j < H; j++) pre[j] += arr[base + j];
    }
    let z = w.b2[0];
    for (let j = 0; j < H; j++) if (pre[j] > 0) z += pre[j] * w.w2[j];
    out[b] = 1 / (1 + Math.exp(-z));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// (b) Transformer-shaped PRM with random weights: token + position embeddings, `layers` pre-LN blocks
// of single-head (causal) self-attention and a ReLU MLP, final LayerNorm, a per-token 2-logit head.
//   input_ids, attention_mask int64 [batch, seq] → logits float [batch, seq, 2]
// ---------------------------------------------------------------------------------------------

export interface TransformerPrmConfig {
  vocab: number;
  hidden: number;
  layers: number;
  /** Largest sequence length (size of the position table and of the causal mask). */
  maxSeq: number;
  /** MLP width; default 4 * hidden. */
  ffn?: number;
  /** Causal attention (a decoder PRM); default true. */
  causal?: boolean;
  seed?: number;
}

interface LayerWeights {
  ln1g: Float32Array; ln1b: Float32Array;
  wq: Float32Array; bq: Float32Array; wk: Float32Array; bk: Float32Array; wv: Float32Array; bv: Float32Array;
  wo: Float32Array; bo: Float32Array;
  ln2g: Float32Array; ln2b: Float32Array;
  w1: Float32Array; c1: Float32Array; w2: Float32Array; c2: Float32Array;
}

export interface TransformerPrmWeights {
  config: Required<TransformerPrmConfig>;
  tok: Float32Array; // [vocab, hidden]
  pos: Float32Array; // [maxSeq, hidden]
  layers: LayerWeights[];
  lnfg: Float32Array; lnfb: Float32Array;
  head: Float32Array; // [hidden, 2]
  headb: Float32Array; // [2]
}

export const LN_EPSILON = 1e-5;
const MASK_BIAS = -1e9;

export function randomTransformerWeights(cfg: TransformerPrmConfig): TransformerPrmWeights {
  const c: Required<TransformerPrmConfig> = { ffn: 4 * cfg.hidden, causal: true, seed: 1, ...cfg };
  for (const k of ['vocab', 'hidden', 'layers', 'maxSeq', 'ffn'] as const)
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new PavRangeError(`transformer ${k} must be a positive integer, got ${c[k]}`);
  const rng = xoroshiro128plus(c.seed >>> 0);
  const u = (n: number, scale: number, center = 0) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = center + scale * (2 * uniformFloat64(rng) - 1);
    return a;
  };
  const D = c.hidden, F = c.ffn;
  const sD = 1 / Math.sqrt(D), sF = 1 / Math.sqrt(F);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.layers; l++) {
    layers.push({
      ln1g: u(D, 0.1, 1), ln1b: u(D, 0.1),
      wq: u(D * D, sD), bq: u(D, 0.1), wk: u(D * D, sD), bk: u(D, 0.1), wv: u(D * D, sD), bv: u(D, 0.1),
      wo: u(D * D, sD), bo: u(D, 0.1),
      ln2g: u(D, 0.1, 1), ln2b: u(D, 0.1),
      w1: u(D * F, sD), c1: u(F, 0.1), w2: u(F * D, sF), c2: u(D, 0.1),
    });
  }
  return {
    config: c,
    tok: u(c.vocab * D, 1), pos: u(c.maxSeq * D, 0.5),
    layers, lnfg: u(D, 0.1, 1), lnfb: u(D, 0.1),
    head: u(D * 2, sD), headb: u(2, 0.1),
  };
}

export function buildTransformerPrm(w: TransformerPrmWeights): GraphBuilder {
  const { vocab: V, hidden: D, maxSeq: S, ffn: F, causal } = w.config;
  const g = new GraphBuilder('transformer_prm');
  const i64 = (...v: number[]) => g.const(BigInt64Array.from(v.map(BigInt)), [v.length]);
  const f32 = (data: Float32Array, dims: number[], hint: string) => g.const(data, dims, hint);

  const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  const mask = g.input('attention_mask', DataType.INT64, ['batch', 'seq']);

  const seq1 = g.op('Slice', [g.op('Shape', [ids]), i64(1), i64(2)]); // [1]
  const seq = g.op('Squeeze', [seq1]); // scalar
  const positions = g.op('Range', [g.const(new BigInt64Array([0n]), [], 'zero'), seq, g.const(new BigInt64Array([1n]), [], 'one')]);
  let x = g.op('Add', [
    g.op('Gather', [f32(w.tok, [V, D], 'tok_emb'), ids], { axis: 0 }),
    g.op('Gather', [f32(w.pos, [S, D], 'pos_emb'), positions], { axis: 0 }),
  ]); // [B, T, D]

  // Additive attention bias [B, T, T]: padding keys get -1e9, and (causal) keys after the query.
  const maskF = g.op('Cast', [mask], { to: DataType.FLOAT });
  const keyBias = g.op('Unsqueeze', [
    g.op('Mul', [g.op('Sub', [g.const(new Float32Array([1]), [], 'onef'), maskF]), g.const(new Float32Array([MASK_BIAS]), [], 'mask_bias')]),
    i64(1),
  ]); // [B, 1, T]
  let bias = keyBias;
  if (causal) {
    const tri = new Float32Array(S * S);
    for (let i = 0; i < S; i++) for (let j = i + 1; j < S; j++) tri[i * S + j] = MASK_BIAS;
    const ends = g.op('Concat', [seq1, seq1], { axis: 0 });
    const causalTT = g.op('Slice', [f32(tri, [S, S], 'causal'), i64(0, 0), ends, i64(0, 1)]);
    bias = g.op('Add', [keyBias, causalTT]);
  }
  const scale = g.const(new Float32Array([1 / Math.sqrt(D)]), [], 'attn_scale');
  const ln = (v: string, gamma: Float32Array, beta: Float32Array) =>
    g.op('LayerNormalization', [v, f32(gamma, [D], 'ln_g'), f32(beta, [D], 'ln_b')], { axis: -1, epsilon: floatAttr(LN_EPSILON) });
  const dense = (v: string, W: Float32Array, b: Float32Array, din: number, dout: number, hint: string) =>
    g.op('Add', [g.op('MatMul', [v, f32(W, [din, dout], hint)]), f32(b, [dout], `${hint}_b`)]);

  for (const L of w.layers) {
    const h = ln(x, L.ln1g, L.ln1b);
    const q = dense(h, L.wq, L.bq, D, D, 'wq');
    const k = dense(h, L.wk, L.bk, D, D, 'wk');
    const v = dense(h, L.wv, L.bv, D, D, 'wv');
    const scores = g.op('Add', [g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 2, 1] })]), scale]), bias]);
    const attn = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
    x = g.op('Add', [x, dense(attn, L.wo, L.bo, D, D, 'wo')]);
    const h2 = ln(x, L.ln2g, L.ln2b);
    const f = dense(g.op('Relu', [dense(h2, L.w1, L.c1, D, F, 'w1')]), L.w2, L.c2, F, D, 'w2');
    x = g.op('Add', [x, f]);
  }
  const logits = dense(ln(x, w.lnfg, w.lnfb), w.head, w.headb, D, 2, 'head');
  g.output('logits', DataType.FLOAT, ['batch', 'seq', 2], logits);
  return g;
}

/** TypeScript reference forward of the transformer PRM (float64 math; for tests on small inputs). */
export function transformerForward(w: TransformerPrmWeights, ids: ArrayLike<number | bigint>, mask: ArrayLike<number | bigint>, batch: number, seqLen: number): Float32Array {
  const { hidden: D, ffn: F, causal } = w.config;
  const T = seqLen;
  const out = new Float32Array(batch * T * 2);
  const lnorm = (x: Float64Array, gm: Float32Array, bt: Float32Array) => {
    const y = new Float64Array(x.length);
    for (let t = 0; t < T; t++) {
      let mean = 0, vr = 0;
      for (let d = 0; d < D; d++) mean += x[t * D + d];
      mean /= D;
      for (let d = 0; d < D; d++) vr += (x[t * D + d] - mean) ** 2;
      const inv = 1 / Math.sqrt(vr / D + LN_EPSILON);
      for (let d = 0; d < D; d++) y[t * D + d] = (x[t * D + d] - mean) * inv * gm[d] + bt[d];
    }
    return y;
  };
  const dense = (x: Float64Array, W: Float32Array, b: Float32Array, din: number, dout: number) => {
    const y = new Float64Array(T * dout);
    for (let t = 0; t < T; t++)
      for (let o = 0; o < dout; o++) {
        let s = b[o];
        for (let i = 0; i < din; i++) s += x[t * din + i] * W[i * dout + o];
        y[t * dout + o] = s;
      }
    return y;
  };
  for (let b = 0; b < batch; b++) {
    let x = new Float64Array(T * D);
    for (let t = 0; t < T; t++) {
      const id = Number(ids[b * T + t]);
      for (let d = 0; d < D; d++) x[t * D + d] = w.tok[id * D + d] + w.pos[t * D + d];
    }
    for (const L of w.layers) {
      const h = lnorm(x, L.ln1g, L.ln1b);
      const q = dense(h, L.wq, L.bq, D, D), k = dense(h, L.wk, L.bk, D, D), v = dense(h, L.wv, L.bv, D, D);
      const attn = new Float64Array(T * D);
      const p = new Float64Array(T);
      for (let i = 0; i < T; i++) {
        let mx = -Infinity;
        for (let j = 0; j < T; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += q[i * D + d] * k[j * D + d];
          s = s / Math.sqrt(D);
          if (!Number(mask[b * T + j])) s += MASK_BIAS;
          if (causal && j > i) s += MASK_BIAS;
          p[j] = s;
          if (s > mx) mx = s;
        }
        let z = 0;
        for (let j = 0; j < T; j++) z += p[j] = Math.exp(p[j] - mx);
        for (let j = 0; j < T; j++) for (let d = 0; d < D; d++) attn[i * D + d] += (p[j] / z) * v[j * D + d];
      }
      const o = dense(attn, L.wo, L.bo, D, D);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const f1 = dense(lnorm(x, L.ln2g, L.ln2b), L.w1, L.c1, D, F);
      for (let i = 0; i < f1.length; i++) if (f1[i] < 0) f1[i] = 0;
      const f2 = dense(f1, L.w2, L.c2, F, D);
      x = x.map((xv, i) => xv + f2[i]);
    }
    const lg = dense(lnorm(x, w.lnfg, w.lnfb), w.head, w.headb, D, 2);
    out.set(lg, b * T * 2);
  }
  return out;
}
