// The autoregressive policy of the didactic RL experiment: a one-hidden-layer MLP over the one-hot
// encoding of the whole prefix (position x token, zeros past the prefix) -> tanh -> next-token
// logits. Float64 throughout; hand-written gradients (checked against finite differences in
// test/unit/rl_policy_model.test.ts); Adam; a small seeded PRNG so a run is a function of its seed.
import { PavRangeError, PavTypeError } from '../errors.ts';
import { requireInteger } from '../ops/common.ts';

// ------------------------------------------------------------------------------------------ PRNG

/** sfc32 seeded through splitmix32: small, fast, and deterministic on every platform. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number, stream = 0) {
    let s = (Math.imul(seed >>> 0, 0x9e3779b9) ^ Math.imul((stream >>> 0) + 1, 0x85ebca6b)) >>> 0;
    const split = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = split();
    this.b = split();
    this.c = split();
    this.d = split() | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    return (this.u32() * 2 ** 21 + (this.u32() >>> 11)) / 2 ** 53;
  }

  /** Standard normal (Box-Muller, pairs cached). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

// ------------------------------------------------------------------------------------------ model

export interface PolicyConfig {
  /** Tokens 0 .. vocab-1; vocab-1 ends the response. */
  vocab: number;
  /** The most tokens a response holds (the end token included). */
  maxLen: number;
  /** Hidden units. */
  hidden: number;
}

/** Trajectories packed: trajectory i is tokens[offsets[i] .. offsets[i+1]). */
export interface Trajectories {
  tokens: Uint8Array;
  offsets: Uint32Array;
}

/**
 * pi(a | prefix) = softmax(W2^T tanh(b1 + sum_{active i} W1[i]) + b2) over a one-hot input of the whole
 * prefix, padded to maxLen: slot j holds the token j places before the next one (slot 0 = the last
 * token; right-aligned, like left padding in a language model), plus a one-hot of the prefix length.
 * Right alignment makes "the last few tokens", which the task's automaton state depends on, single
 * input features; with left-aligned positions the same MLP fits mu_5's samples far worse (ours).
 *
 * Parameter layout in `params` (float64): W1 [(maxLen*vocab + maxLen) x hidden] row-major (row
 * j*vocab + t: token t in slot j; row maxLen*vocab + n: prefix length n), b1 [hidden],
 * W2 [hidden x vocab] row-major, b2 [vocab].
 */
export class MlpPolicy {
  readonly config: Readonly<PolicyConfig>;
  readonly params: Float64Array;
  readonly size: number;
  /** Rows of W1 (input features). */
  readonly inputs: number;
  /** Offsets of W1, b1, W2, b2 in params. */
  readonly at: { W1: number; b1: number; W2: number; b2: number };
  // Scratch, reused across calls (single-threaded).
  private readonly h: Float64Array;
  private readonly p: Float64Array;
  private readonly pre: Float64Array;

  constructor(config: PolicyConfig, params?: Float64Array) {
    const vocab = requireInteger('vocab', config.vocab, 2, 256);
    const maxLen = requireInteger('maxLen', config.maxLen, 1, 1 << 12);
    const hidden = requireInteger('hidden', config.hidden, 1, 1 << 14);
    this.config = Object.freeze({ vocab, maxLen, hidden });
    this.inputs = maxLen * vocab + maxLen;
    const W1 = 0;
    const b1 = W1 + this.inputs * hidden;
    const W2 = b1 + hidden;
    const b2 = W2 + hidden * vocab;
    this.at = { W1, b1, W2, b2 };
    this.size = b2 + vocab;
    if (params !== undefined) {
      if (!(params instanceof Float64Array)) throw new PavTypeError('params must be a Float64Array');
      if (params.length !== this.size) throw new PavRangeError(`params has length ${params.length}, expected ${this.size}`);
    }
    this.params = params ?? new Float64Array(this.size);
    this.h = new Float64Array(hidden);
    this.p = new Float64Array(vocab);
    this.pre = new Float64Array(hidden);
  }

  /** Seeded init: W1 ~ N(0, 1/maxLen), W2 ~ N(0, 1/hidden), biases 0. */
  static create(config: PolicyConfig, seed: number): MlpPolicy {
    const m = new MlpPolicy(config);
    const rng = new Rng(seed, 0x1417);
    const { maxLen, vocab, hidden } = m.config;
    const s1 = 1 / Math.sqrt(maxLen + 1);
    for (let i = 0; i < m.inputs * hidden; i++) m.params[m.at.W1 + i] = s1 * rng.normal();
    const s2 = 1 / Math.sqrt(hidden);
    for (let i = 0; i < hidden * vocab; i++) m.params[m.at.W2 + i] = s2 * rng.normal();
    return m;
  }

  clone(): MlpPolicy {
    return new MlpPolicy(this.config, Float64Array.from(this.params));
  }

  get endToken(): number {
    return this.config.vocab - 1;
  }

  /** pre = b1 + the W1 rows of the prefix's active inputs (its first `len` tokens) into `out`. */
  preActivation(prefix: ArrayLike<number>, len = prefix.length, out: Float64Array = new Float64Array(this.config.hidden)): Float64Array {
    const { vocab: V, maxLen: L, hidden: H } = this.config;
    if (len > L) throw new PavRangeError(`a prefix of ${len} tokens is longer than maxLen ${L}`);
    const w = this.params;
    out.set(w.subarray(this.at.b1, this.at.b1 + H));
    if (len < L) this.addRow(out, L * V + len);
    for (let j = 0; j < len; j++) this.addRow(out, j * V + prefix[len - 1 - j]);
    return out;
  }

  private addRow(pre: Float64Array, row: number): void {
    const H = this.config.hidden;
    const w = this.params;
    const base = this.at.W1 + row * H;
    for (let j = 0; j < H; j++) pre[j] += w[base + j];
  }

  /** Next-token probabilities from a pre-activation into `probs`; h gets tanh(pre). */
  probsFromPre(pre: Float64Array, probs: Float64Array, h: Float64Array = this.h): void {
    const { vocab: V, hidden: H } = this.config;
    const w = this.params;
    for (let j = 0; j < H; j++) h[j] = Math.tanh(pre[j]);
    const W2 = this.at.W2;
    const b2 = this.at.b2;
    for (let k = 0; k < V; k++) probs[k] = w[b2 + k];
    for (let j = 0; j < H; j++) {
      const hj = h[j];
      const base = W2 + j * V;
      for (let k = 0; k < V; k++) probs[k] += hj * w[base + k];
    }
    let max = -Infinity;
    for (let k = 0; k < V; k++) if (probs[k] > max) max = probs[k];
    let sum = 0;
    for (let k = 0; k < V; k++) sum += probs[k] = Math.exp(probs[k] - max);
    const inv = 1 / sum;
    for (let k = 0; k < V; k++) probs[k] *= inv;
  }

  /** log pi(. | prefix), length vocab. */
  logProbs(prefix: ArrayLike<number>): Float64Array {
    const pre = this.preActivation(prefix);
    const out = new Float64Array(this.config.vocab);
    this.probsFromPre(pre, out);
    for (let k = 0; k < out.length; k++) out[k] = Math.log(out[k]);
    return out;
  }

  /** A token drawn from probs. */
  static draw(probs: Float64Array, rng: Rng): number {
    const u = rng.next();
    let c = 0;
    for (let k = 0; k < probs.length - 1; k++) {
      c += probs[k];
      if (u < c) return k;
    }
    return probs.length - 1;
  }

  /**
   * Continue a prefix held in buf[0 .. len) to the end of the response (end token or maxLen tokens),
   * writing into buf.
   * @returns the final length
   */
  continueInto(buf: Uint8Array, len: number, rng: Rng): number {
    const { vocab: V, maxLen: L } = this.config;
    const end = V - 1;
    const p = this.p;
    const pre = this.pre;
    if (len > 0 && buf[len - 1] === end) return len;
    while (len < L) {
      this.preActivation(buf, len, pre);
      this.probsFromPre(pre, p);
      const a = MlpPolicy.draw(p, rng);
      buf[len++] = a;
      if (a === end) break;
    }
    return len;
  }

  /** n complete responses sampled at temperature 1 from the empty prefix. */
  sample(n: number, rng: Rng): Trajectories {
    const L = this.config.maxLen;
    const buf = new Uint8Array(n * L);
    const offsets = new Uint32Array(n + 1);
    const one = new Uint8Array(L);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const len = this.continueInto(one, 0, rng);
      buf.set(one.subarray(0, len), total);
      total += len;
      offsets[i + 1] = total;
    }
    return { tokens: buf.slice(0, total), offsets };
  }

  /**
   * grad += d/dparams sum_t w_t log pi(a_t | s_t) over every token t of every trajectory, with
   * tokenWeights aligned to trajectories.tokens. Returns sum_t w_t log pi(a_t | s_t).
   * A token with weight 0 is skipped (it contributes nothing).
   */
  accumulateGrad(traj: Trajectories, tokenWeights: Float64Array, grad: Float64Array): number {
    const { vocab: V, hidden: H, maxLen: L } = this.config;
    const { tokens, offsets } = traj;
    if (tokenWeights.length !== tokens.length)
      throw new PavRangeError(`tokenWeights has length ${tokenWeights.length}, expected ${tokens.length} (one per token)`);
    if (grad.length !== this.size) throw new PavRangeError(`grad has length ${grad.length}, expected ${this.size}`);
    const w = this.params;
    const { W1, b1, W2, b2 } = this.at;
    const pre = new Float64Array(H);
    const h = new Float64Array(H);
    const p = new Float64Array(V);
    const g = new Float64Array(V);
    const gpre = new Float64Array(H);
    let objective = 0;
    for (let i = 0; i + 1 < offsets.length; i++) {
      const a0 = offsets[i];
      const n = offsets[i + 1] - a0;
      if (n > L) throw new PavRangeError(`trajectory ${i} has ${n} tokens, more than maxLen ${L}`);
      const resp = tokens.subarray(a0, a0 + n);
      for (let pos = 0; pos < n; pos++) {
        const a = resp[pos];
        if (a >= V) throw new PavRangeError(`tokens[${a0 + pos}] = ${a} is not a token of vocab ${V}`);
        const wt = tokenWeights[a0 + pos];
        if (wt === 0) continue;
        this.preActivation(resp, pos, pre);
        this.probsFromPre(pre, p, h);
        objective += wt * Math.log(p[a]);
        for (let k = 0; k < V; k++) g[k] = -wt * p[k];
        g[a] += wt;
        for (let k = 0; k < V; k++) grad[b2 + k] += g[k];
        for (let j = 0; j < H; j++) {
          const base = W2 + j * V;
          let gh = 0;
          const hj = h[j];
          for (let k = 0; k < V; k++) {
            grad[base + k] += hj * g[k];
            gh += w[base + k] * g[k];
          }
          const d = gh * (1 - hj * hj);
          gpre[j] = d;
          grad[b1 + j] += d;
        }
        // Every active input row of this position's prefix receives d/dpre.
        const lenRow = W1 + (L * V + pos) * H;
        for (let j = 0; j < H; j++) grad[lenRow + j] += gpre[j];
        for (let q = 0; q < pos; q++) {
          const row = W1 + (q * V + resp[pos - 1 - q]) * H;
          for (let j = 0; j < H; j++) grad[row + j] += gpre[j];
        }
      }
    }
    return objective;
  }

  /** sum_t w_t log pi(a_t | s_t), without gradients (finite-difference checks, monitoring). */
  objective(traj: Trajectories, tokenWeights: Float64Array): number {
    const { vocab: V, hidden: H } = this.config;
    const pre = new Float64Array(H);
    const p = new Float64Array(V);
    let s = 0;
    for (let i = 0; i + 1 < traj.offsets.length; i++) {
      const a0 = traj.offsets[i];
      const n = traj.offsets[i + 1] - a0;
      const resp = traj.tokens.subarray(a0, a0 + n);
      for (let pos = 0; pos < n; pos++) {
        this.preActivation(resp, pos, pre);
        this.probsFromPre(pre, p);
        s += tokenWeights[a0 + pos] * Math.log(p[resp[pos]]);
      }
    }
    return s;
  }
}

// ------------------------------------------------------------------------------------------ SGD

/** Plain gradient descent: the ablation of Adam's per-parameter step sizes. */
export class Sgd {
  constructor(readonly lr: number) {
    if (!(lr > 0)) throw new PavRangeError(`lr must be > 0, got ${lr}`);
  }

  step(params: Float64Array, grad: Float64Array): void {
    for (let i = 0; i < params.length; i++) params[i] -= this.lr * grad[i];
  }
}

// ------------------------------------------------------------------------------------------ Adam

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Adam (Kingma & Ba) with bias correction; `step` descends the given loss gradient. */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  private t = 0;

  constructor(size: number, o: AdamOptions) {
    this.lr = o.lr;
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
    if (!(this.lr > 0)) throw new PavRangeError(`lr must be > 0, got ${this.lr}`);
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  get steps(): number {
    return this.t;
  }

  step(params: Float64Array, grad: Float64Array): void {
    const { beta1: b1, beta2: b2, eps, m, v } = this;
    this.t++;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    const lr = (this.lr * Math.sqrt(c2)) / c1;
    for (let i = 0; i < params.length; i++) {
      const gi = grad[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      params[i] -= (lr * m[i]) / (Math.sqrt(v[i]) + eps * Math.sqrt(c2));
    }
  }
}
