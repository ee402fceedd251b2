// Generated stand-ins for a real PRM, written at test time (nothing binary is committed): a small
// byte-level BPE tokenizer.json (GPT-2/Qwen style, a few hundred tokens, the chat and step-tag tokens
// added as special tokens) trained on a fixed arithmetic corpus, and a transformer-shaped ONNX PRM
// with random weights over that vocabulary (buildTransformerPrm). They exercise the tokenized path
// end to end (tokenizer, tag positions, padding, batching, head extraction); the scores mean nothing.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, tensorProto } from '../onnx/graph_builder.ts';
import { buildTransformerPrm, randomTransformerWeights, type TransformerPrmWeights } from '../onnx/models.ts';
import { encodeModel } from '../onnx/proto.ts';

/** Added tokens of the tiny tokenizer, in id order after the BPE vocabulary. */
export const TINY_ADDED_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<extra_0>', 'ки'] as const;

const CORPUS = [
  'Please reason step by step, and put your final answer within \\boxed{}.',
  'What is 12 + 5? Step 1: We add 12 and 5 to get 17. So the answer is \\boxed{17}.',
  'Compute 3 * 4 + 2. First, multiply 3 by 4 to get 12. Then add 2 to get 14. The answer is 14.',
  'Let x be the number of apples. Then x = 7 - 2 = 5. Therefore the final answer is \\boxed{5}.',
  'The sum of 8 and 9 is 17. The product of 6 and 7 is 42. The difference of 10 and 4 is 6.',
  'We have 100 / 4 = 25, so each of the four friends gets 25 dollars and the total is 100.',
  'Since the equation 2x + 3 = 11 gives 2x = 8, we get x = 4, and the answer is \\boxed{4}.',
  'Step 2: Subtract 9 from 20 to get 11. Step 3: Divide by 11 to get 1. The result is one.',
];

/** GPT-2's byte-to-unicode table: every byte maps to a printable character (space is 'Ġ'). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

// The GPT-2 pre-tokenization pattern (what the tokenizer's ByteLevel pre-tokenizer applies with use_regex).
const WORDS = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * A byte-level BPE tokenizer.json: 256 byte tokens, `merges` merges learned greedily from `corpus`
 * (most frequent pair first, ties broken by the pair's text, so the result is fixed), then `added`
 * as special tokens.
 */
export function tinyBpeTokenizerJson(opts: { merges?: number; corpus?: readonly string[]; added?: readonly string[] } = {}): Record<string, unknown> {
  const b2u = bytesToUnicode();
  const enc = new TextEncoder();
  const freq = new Map<string, number>();
  for (const line of opts.corpus ?? CORPUS)
    for (const m of line.matchAll(WORDS)) {
      const w = [...enc.encode(m[0])].map((b) => b2u[b]).join('\u0000');
      freq.set(w, (freq.get(w) ?? 0) + 1);
    }
  let words = [...freq].map(([w, f]) => ({ sym: w.split('\u0000'), f }));
  const vocab = new Map<string, number>(b2u.map((c, i) => [c, i]));
  const merges: string[] = [];
  const target = opts.merges ?? 200;
  while (merges.length < target) {
    const pairs = new Map<string, number>();
    for (const { sym, f } of words) for (let i = 0; i + 1 < sym.length; i++) {
      const k = `${sym[i]} ${sym[i + 1]}`;
      pairs.set(k, (pairs.get(k) ?? 0) + f);
    }
    let best = '', bestF = 0;
    for (const [k, f] of pairs) if (f > bestF || (f === bestF && k < best)) { best = k; bestF = f; }
    if (!bestF) break;
    const [a, b] = best.split(' ');
    merges.push(best);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
    words = words.map(({ sym, f }) => {
      const out: string[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (i + 1 < sym.length && sym[i] === a && sym[i + 1] === b) { out.push(a + b); i++; } else out.push(sym[i]);
      }
      return { sym: out, f };
    });
  }
  const added = (opts.added ?? TINY_ADDED_TOKENS).map((content, i) => ({
    id: vocab.size + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: Object.fromEntries(vocab), merges,
    },
  };
}

export interface TinyPrmFiles {
  dir: string;
  tokenizerPath: string;
  modelPath: string;
  /** Tokens of the tokenizer (the model's embedding rows). */
  vocab: number;
  /** Columns of the logits: 2 (classification head) or `vocab` (LM head). */
  columns: number;
  weights: TransformerPrmWeights;
  /** LM head only: W [2, vocab] and b [vocab] applied to the 2-logit head (logits = l2 · W + b). */
  lm?: { w: Float32Array; b: Float32Array };
}

export interface TinyPrmOptions {
  /** 'classification' (default): logits [B, T, 2]; 'lm': logits [B, T, vocab]. */
  head?: 'classification' | 'lm';
  hidden?: number;
  layers?: number;
  maxSeq?: number;
  seed?: number;
  merges?: number;
}

/** Write tokenizer.json and prm.onnx (a random transformer PRM over its vocabulary) into `dir`. */
export async function writeTinyPrm(dir: string, opts: TinyPrmOptions = {}): Promise<TinyPrmFiles> {
  mkdirSync(dir, { recursive: true });
  const tj = tinyBpeTokenizerJson({ merges: opts.merges });
  const vocab = Object.keys((tj.model as { vocab: object }).vocab).length + (tj.added_tokens as unknown[]).length;
  const tokenizerPath = join(dir, 'tokenizer.json');
  writeFileSync(tokenizerPath, JSON.stringify(tj));
  const weights = randomTransformerWeights({ vocab, hidden: opts.hidden ?? 16, layers: opts.layers ?? 2, maxSeq: opts.maxSeq ?? 512, seed: opts.seed ?? 7 });
  const model = buildTransformerPrm(weights).toModel();
  const modelPath = join(dir, opts.head === 'lm' ? 'prm_lm.onnx' : 'prm.onnx');
  if (opts.head !== 'lm') {
    writeFileSync(modelPath, encodeModel(model));
    return { dir, tokenizerPath, modelPath, vocab, columns: 2, weights };
  }
  // LM head: project the two logits to a vocabulary-wide row, so the label ids pick two columns of many.
  let s = (opts.seed ?? 7) * 2654435761;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const w = Float32Array.from({ length: 2 * vocab }, r);
  const b = Float32Array.from({ length: vocab }, () => 0.1 * r());
  const g = model.graph;
  const id = g.node.find((n) => n.output.includes('logits'))!;
  id.output = id.output.map((o) => (o === 'logits' ? 'label_logits' : o));
  g.initializer.push(tensorProto('lm_w', w, [2, vocab]), tensorProto('lm_b', b, [vocab]));
  g.node.push(
    { input: ['label_logits', 'lm_w'], output: ['lm_mm'], name: 'lm_matmul', opType: 'MatMul', attribute: [] },
    { input: ['lm_mm', 'lm_b'], output: ['logits'], name: 'lm_add', opType: 'Add', attribute: [] },
  );
  g.output = [{ name: 'logits', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimParam: 'seq' }, { dimValue: vocab }] } } } }];
  writeFileSync(modelPath, encodeModel(model));
  return { dir, tokenizerPath, modelPath, vocab, columns: vocab, weights, lm: { w, b } };
}
