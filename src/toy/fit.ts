// Fitting the toy PRM to collected (prefix, Q_hat) data and writing it as an ONNX file.
//
//   npx tsx src/toy/fit.ts --data data.jsonl --out model.onnx [--hidden 64] [--epochs 20] [--seed 0]
//
// The model is the one-hidden-layer MLP of src/onnx/models.ts over per-position one-hot tokens of the
// encoding in learned.ts plus problem/response token-match indicators. Training (paper App. D):
// cross-entropy on the soft label Q_hat, with the buckets Q_hat < 0.5 and >= 0.5 weighted equally;
// plain Float32Array math, manual backprop, Adam, seeded and deterministic. Because equal bucket
// weights shift the predicted values upward when high labels are rare, a two-parameter logit
// recalibration (a*z + b, fitted on the unweighted data and folded into the output layer) follows
// by default (ours): rankings come from the balanced fit, values stay calibrated.
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { PavRangeError } from '../errors.ts';
import { requireFinite, requireInteger } from '../ops/common.ts';
import { buildToyPrmMlp, toyMlpActiveFeatures, type ToyMlpWeights } from '../onnx/models.ts';
import type { PavDataRow } from './collect.ts';
import { encodingFor, encodingLayout, encodeRowInto, TOY_PRM_METADATA_KEY, type ToyPrmEncoding, type ToyPrmMetadata } from './learned.ts';
import type { PlantedTask } from './task.ts';

export interface FitOptions {
  hidden?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** L2 on the first layer (default 1e-6 per step, decoupled). */
  weightDecay?: number;
  seed?: number;
  /** Equal total weight for Q_hat < 0.5 and >= 0.5 (paper; default true). */
  balance?: boolean;
  /** Refit a*z + b on unweighted data after training (default true). */
  recalibrate?: boolean;
  /** Problem/response token-match features (default true). */
  matchFeatures?: boolean;
  /** Encoding (default: the smallest that fits the data's problems). */
  encoding?: ToyPrmEncoding;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface FitResult {
  weights: ToyMlpWeights;
  encoding: ToyPrmEncoding;
  prover: { gamma: number };
  trainRows: number;
  /** Weighted training loss per epoch. */
  history: number[];
  recalibration?: { a: number; b: number };
  /** Mean label (for the constant baseline). */
  meanLabel: number;
  seconds: number;
}

function rowTask(r: PavDataRow): PlantedTask {
  return { target: r.target, maxLen: r.max_len, vocab: r.vocab };
}

/** Active features of every row as CSR (features, offsets). */
function featurize(rows: readonly PavDataRow[], enc: ToyPrmEncoding, w: Pick<ToyMlpWeights, 'vocab' | 'seqLen' | 'match'>) {
  const { seqLen } = encodingLayout(enc);
  const maxActive = seqLen + (w.match ? w.match.targetLen * w.match.prefixLen : 0);
  const ids = new Int32Array(seqLen), mask = new Uint8Array(seqLen), act = new Int32Array(maxActive);
  const offsets = new Uint32Array(rows.length + 1);
  let feats = new Int32Array(rows.length * 24);
  for (let r = 0; r < rows.length; r++) {
    encodeRowInto(enc, rowTask(rows[r]), rows[r].prefix, ids, mask, 0);
    const k = toyMlpActiveFeatures(w, ids, mask, act);
    if (offsets[r] + k > feats.length) {
      const grown = new Int32Array(Math.max(feats.length * 2, offsets[r] + k));
      grown.set(feats);
      feats = grown;
    }
    feats.set(act.subarray(0, k), offsets[r]);
    offsets[r + 1] = offsets[r] + k;
  }
  return { feats, offsets };
}

export function fitToyPrm(rows: readonly PavDataRow[], options: FitOptions = {}): FitResult {
  const t0 = performance.now();
  if (!rows.length) throw new PavRangeError('no training rows');
  const gamma = rows[0].prover.gamma;
  if (rows.some((r) => r.prover.gamma !== gamma)) throw new PavRangeError('training rows mix provers (different gamma)');
  const H = requireInteger('hidden', options.hidden ?? 64, 1);
  const epochs = requireInteger('epochs', options.epochs ?? 20, 1);
  const B = requireInteger('batchSize', options.batchSize ?? 128, 1);
  const lr = requireFinite('lr', options.lr ?? 3e-3), wd = requireFinite('weightDecay', options.weightDecay ?? 1e-6);
  if (!(lr > 0)) throw new PavRangeError(`lr must be > 0, got ${lr}`);
  if (!(wd >= 0)) throw new PavRangeError(`weightDecay must be >= 0, got ${wd}`);
  const balance = options.balance ?? true, recalibrate = options.recalibrate ?? true, useMatch = options.matchFeatures ?? true;

  // Encoding: the distinct problems of the data.
  const tasks = new Map<number, PlantedTask>();
  for (const r of rows) if (!tasks.has(r.problem)) tasks.set(r.problem, rowTask(r));
  const enc = options.encoding ?? encodingFor([...tasks.values()]);
  const lay = encodingLayout(enc);
  const V = lay.modelVocab, L = lay.seqLen;
  const Tm = enc.maxTarget, Lp = enc.maxLen;
  const F1 = L * V, Fm = useMatch ? Tm * Lp : 0, F = F1 + Fm;

  const rng = xoroshiro128plus((options.seed ?? 0) | 0);
  const u = (scale: number) => scale * (2 * uniformFloat64(rng) - 1);
  // Parameters: W [F, H] (one-hot rows then match rows), b1 [H], w2 [H], b2.
  const W = new Float32Array(F * H).map(() => u(0.1));
  const b1 = new Float32Array(H).fill(0.01);
  const w2 = new Float32Array(H).map(() => u(1 / Math.sqrt(H)));
  const b2 = new Float32Array(1);
  const shape = { vocab: V, seqLen: L, match: useMatch ? { targetLen: Tm, prefixStart: lay.prefixStart, prefixLen: Lp, w: new Float32Array(0) } : undefined };
  const { feats, offsets } = featurize(rows, enc, shape);

  const n = rows.length;
  const q = Float64Array.from(rows, (r) => r.q_hat);
  const meanLabel = q.reduce((a, b) => a + b, 0) / n;
  const nHigh = q.filter((v) => v >= 0.5).length, nLow = n - nHigh;
  const weight = new Float64Array(n).fill(1);
  if (balance && nHigh > 0 && nLow > 0) for (let i = 0; i < n; i++) weight[i] = q[i] >= 0.5 ? n / (2 * nHigh) : n / (2 * nLow);
  b2[0] = Math.log((meanLabel + 1e-3) / (1 - meanLabel + 1e-3));

  // Adam state.
  const params = [W, b1, w2, b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  const [gW, gb1, gw2, gb2] = grads;
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  let step = 0;
  const touched = new Uint8Array(F); // rows of W with a gradient this step (sparse Adam on W)

  const pre = new Float64Array(H), dh = new Float64Array(H);
  const forwardRow = (i: number): number => {
    for (let j = 0; j < H; j++) pre[j] = b1[j];
    for (let a = offsets[i]; a < offsets[i + 1]; a++) {
      const base = feats[a] * H;
      for (let j = 0; j < H; j++) pre[j] += W[base + j];
    }
    let z = b2[0];
    for (let j = 0; j < H; j++) if (pre[j] > 0) z += pre[j] * w2[j];
    return z;
  };

  const order = Uint32Array.from({ length: n }, (_, i) => i);
  const history: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = uniformInt(rng, 0, i);
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    let lossSum = 0, wSum = 0;
    for (let s = 0; s < n; s += B) {
      const end = Math.min(n, s + B);
      gb1.fill(0); gw2.fill(0); gb2.fill(0);
      const touchedList: number[] = [];
      let bw = 0;
      for (let k = s; k < end; k++) bw += weight[order[k]];
      for (let k = s; k < end; k++) {
        const i = order[k];
        const z = forwardRow(i);
        const p = 1 / (1 + Math.exp(-z));
        const pc = Math.min(1 - 1e-7, Math.max(1e-7, p));
        lossSum -= weight[i] * (q[i] * Math.log(pc) + (1 - q[i]) * Math.log(1 - pc));
        wSum += weight[i];
        const dz = (weight[i] * (p - q[i])) / bw;
        gb2[0] += dz;
        for (let j = 0; j < H; j++) {
          if (pre[j] > 0) {
            gw2[j] += dz * pre[j];
            dh[j] = dz * w2[j];
          } else dh[j] = 0;
          gb1[j] += dh[j];
        }
        for (let a = offsets[i]; a < offsets[i + 1]; a++) {
          const f = feats[a];
          if (!touched[f]) { touched[f] = 1; touchedList.push(f); gW.fill(0, f * H, f * H + H); }
          const base = f * H;
          for (let j = 0; j < H; j++) gW[base + j] += dh[j];
        }
      }
      step++;
      const c1 = 1 - Math.pow(beta1, step), c2 = 1 - Math.pow(beta2, step);
      const adam = (pi: number, idx: number) => {
        const g = grads[pi][idx];
        const a = (m1[pi][idx] = beta1 * m1[pi][idx] + (1 - beta1) * g);
        const v = (m2[pi][idx] = beta2 * m2[pi][idx] + (1 - beta2) * g * g);
        params[pi][idx] -= (lr * (a / c1)) / (Math.sqrt(v / c2) + eps);
      };
      // Lazy (sparse) Adam on W: only rows some example of the batch used.
      for (const f of touchedList) {
        touched[f] = 0;
        for (let j = f * H; j < f * H + H; j++) { W[j] *= 1 - wd; adam(0, j); }
      }
      for (let j = 0; j < H; j++) { adam(1, j); adam(2, j); }
      adam(3, 0);
    }
    history.push(lossSum / wSum);
    options.onEpoch?.(epoch, lossSum / wSum);
  }

  let recal: FitResult['recalibration'];
  if (recalibrate) {
    // Newton's method on the unweighted cross-entropy of sigmoid(a*z + b), then fold into w2, b2.
    const z = Float64Array.from({ length: n }, (_, i) => forwardRow(i));
    let a = 1, b = 0;
    for (let it = 0; it < 50; it++) {
      let ga = 0, gb = 0, haa = 1e-9, hab = 0, hbb = 1e-9;
      for (let i = 0; i < n; i++) {
        const p = 1 / (1 + Math.exp(-(a * z[i] + b)));
        const r = p - q[i], s2 = p * (1 - p);
        ga += r * z[i]; gb += r;
        haa += s2 * z[i] * z[i]; hab += s2 * z[i]; hbb += s2;
      }
      const det = haa * hbb - hab * hab;
      const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
      a -= da; b -= db;
      if (Math.abs(da) + Math.abs(db) < 1e-10) break;
    }
    for (let j = 0; j < H; j++) w2[j] *= a;
    b2[0] = a * b2[0] + b;
    recal = { a, b };
  }

  const weights: ToyMlpWeights = {
    vocab: V, seqLen: L, hidden: H,
    w1: W.slice(0, F1 * H), b1, w2, b2,
    match: useMatch ? { targetLen: Tm, prefixStart: lay.prefixStart, prefixLen: Lp, w: W.slice(F1 * H) } : undefined,
  };
  return { weights, encoding: enc, prover: { gamma }, trainRows: n, history, recalibration: recal, meanLabel, seconds: (performance.now() - t0) / 1000 };
}

/** The .onnx bytes of a fitted PRM, with the encoding in its metadata (read back by LearnedVerifier). */
export function toyPrmModelBytes(fit: FitResult): Uint8Array {
  const meta: ToyPrmMetadata = { encoding: fit.encoding, prover: fit.prover, hidden: fit.weights.hidden, trainRows: fit.trainRows, matchFeatures: !!fit.weights.match };
  return buildToyPrmMlp(fit.weights).toBytes({ metadata: { [TOY_PRM_METADATA_KEY]: JSON.stringify(meta) }, docString: 'pavsearch toy PRM (fit.ts)' });
}

export async function writeToyPrm(fit: FitResult, path: string): Promise<string> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, toyPrmModelBytes(fit));
  return path;
}
