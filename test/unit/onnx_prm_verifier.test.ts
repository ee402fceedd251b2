// OnnxPrmVerifier on generated fixtures (a small byte-level BPE tokenizer.json and a random
// transformer PRM over its vocabulary): tag positions, per-step probabilities against a direct
// onnxruntime run and a TypeScript softmax, batching independence, bucketing, truncation, errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, ConfigError, ErrorCodes, PavRangeError, PavTypeError } from '../../src/errors.ts';
import { DataType, tensorProto } from '../../src/onnx/graph_builder.ts';
import { buildToyPrmMlp, buildTransformerPrm, randomTransformerWeights } from '../../src/onnx/models.ts';
import { encodeModel } from '../../src/onnx/proto.ts';
import { writeTinyPrm, type TinyPrmFiles } from '../../src/real/fixtures.ts';
import { HfTokenizer } from '../../src/real/hf_tokenizer.ts';
import { OnnxPrmVerifier, type OnnxPrmVerifierOptions } from '../../src/real/onnx_prm_verifier.ts';
import { templateFn } from '../../src/real/prm_templates.ts';
import type { TextProblem } from '../../src/real/problems.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-onnx-prm-'));
const problems: TextProblem[] = [
  { id: 'p0', problem: 'What is 12 + 5?', answer: '17' },
  { id: 'p1', problem: 'Compute 3 * 4 + 2.', answer: '14' },
  { id: 'p2', problem: 'Let x be the number of apples with 2x + 3 = 11. Find x.', answer: '4' },
];
const prefixes: [number, string[]][] = [
  [0, ['We add 12 and 5 to get 17.', 'So the answer is \\boxed{17}.']],
  [1, ['First, multiply 3 by 4 to get 12.']],
  [1, ['First, multiply 3 by 4 to get 12.', 'Then add 2 to get 14.', 'The answer is \\boxed{14}.']],
  [2, ['Since 2x + 3 = 11 gives 2x = 8,', 'we get x = 4.', 'The final answer is \\boxed{4}.', 'Done.']],
  [0, ['The sum of 12 and 5 is 17.']],
];

let cls: TinyPrmFiles;
let lm: TinyPrmFiles;
let v: OnnxPrmVerifier;
let sessCls: ort.InferenceSession;
let sessLm: ort.InferenceSession;

const base = (f: TinyPrmFiles, o: Partial<OnnxPrmVerifierOptions> = {}): OnnxPrmVerifierOptions => ({
  modelPath: f.modelPath, tokenizerPath: f.tokenizerPath, problems, workers: 1, intraOpThreads: 1, ...o,
});

/** Raw logits [T, C] of one unpadded sequence from a direct session. */
async function rawLogits(s: ort.InferenceSession, ids: Int32Array): Promise<{ data: Float32Array; C: number }> {
  const T = ids.length;
  const out = await s.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, T]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
  });
  const t = out.logits;
  return { data: t.data as Float32Array, C: Number(t.dims[2]) };
}
function softmax(row: ArrayLike<number>): number[] {
  const mx = Math.max(...Array.from(row));
  const e = Array.from(row, (x) => Math.exp(x - mx));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}
const closeTo = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `index ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(tol);
};

beforeAll(async () => {
  cls = await writeTinyPrm(join(dir, 'cls'));
  lm = await writeTinyPrm(join(dir, 'lm'), { head: 'lm' });
  v = await OnnxPrmVerifier.create(base(cls, { maxWaitMs: 20 }));
  sessCls = await ort.InferenceSession.create(cls.modelPath, { intraOpNumThreads: 1 });
  sessLm = await ort.InferenceSession.create(lm.modelPath, { intraOpNumThreads: 1 });
});
afterAll(async () => {
  await v?.close();
  await sessCls?.release();
  await sessLm?.release();
  rmSync(dir, { recursive: true, force: true });
});

describe('tokenized input', () => {
  it('the fixture tokenizer loads in @huggingface/tokenizers and keeps the step tag as one id', () => {
    const tok = HfTokenizer.load(cls.tokenizerPath);
    expect(tok.vocabSize).toBe(cls.vocab);
    expect(cls.vocab).toBeGreaterThan(300);
    const tag = tok.singleId('<extra_0>', 'stepTag');
    expect(tok.encode('add 2<extra_0>So')).toContain(tag);
    expect(tok.decode(tok.encode('What is 12 + 5?'))).toBe('What is 12 + 5?');
  });

  it('finds one tag position per step, at the tag token, after each step', () => {
    for (const [p, steps] of prefixes) {
      const e = v.encode(p, steps);
      expect(e.truncated).toBe(0);
      expect(e.tagPositions.length).toBe(steps.length);
      const all = [...e.ids.keys()].filter((i) => e.ids[i] === v.stepTagId);
      expect([...e.tagPositions]).toEqual(all);
      // The tokens before tag s decode to the text up to the end of step s.
      for (let s = 0; s < steps.length; s++) {
        const upTo = v.tokenizer.decode([...e.ids.subarray(0, e.tagPositions[s])]);
        expect(upTo.endsWith(steps[s])).toBe(true);
      }
      expect(v.tokenizer.decode([...e.ids])).toBe(v.input(p, steps));
    }
  });

  it('removes the tag text from steps and problems so it cannot add positions', () => {
    const e = v.encode(0, ['a step that mentions <extra_0> inside', 'next']);
    expect(e.tagPositions.length).toBe(2);
    expect(v.input(0, ['x<extra_0>y'])).toContain('xy<extra_0>');
    // Removing the inner tag joins the text around it into a new one: it is removed too.
    expect(v.input(0, ['a <extra_<extra_0>0> b'])).toContain('a  b<extra_0><|im_end|>');
    expect(v.encode(0, ['a <extra_<extra_0>0> b', 'c<extra_<extra_<extra_0>0>0>']).tagPositions.length).toBe(2);
  });

  it('renders the templates', () => {
    expect(templateFn('plain')('P', ['a', 'b'], '<t>')).toBe('P\na<t>b<t>');
    expect(templateFn('math-shepherd')('P', ['a', 'Step 2: b'], 'ки')).toBe('P Step 1: a ки\nStep 2: b ки');
    expect(templateFn('qwen-prm')('P', ['a'], '<extra_0>')).toContain('<|im_start|>user\nP<|im_end|>\n<|im_start|>assistant\na<extra_0><|im_end|>');
    expect(templateFn({ prefix: 'Q: {problem}\n', step: '{index}. {step}{tag}', separator: '\n', suffix: '!' })('P', ['a', 'b'], '#')).toBe('Q: P\n1. a#\n2. b#!');
  });
});

describe('per-step probabilities', () => {
  it('classification head: softmax of the raw logits at the tag positions, class 1', async () => {
    const batch = { problems: Uint32Array.from(prefixes, (x) => x[0]), prefixes: prefixes.map((x) => x[1]) };
    const { values, tokens } = await v.stepValues(batch);
    const scored = await v.scorePrefixes(batch);
    for (let i = 0; i < prefixes.length; i++) {
      const e = v.encode(prefixes[i][0], prefixes[i][1]);
      expect(tokens[i]).toBe(e.ids.length);
      const { data, C } = await rawLogits(sessCls, e.ids);
      expect(C).toBe(2);
      const want = [...e.tagPositions].map((p) => softmax(data.subarray(p * C, (p + 1) * C))[1]);
      closeTo(values[i], want, 1e-5);
      expect(scored.values[i]).toBe(values[i][values[i].length - 1]);
    }
    expect([...scored.tokens]).toEqual([...tokens]);
  });

  it('LM head: softmax over the good and bad label ids only', async () => {
    const tok = HfTokenizer.load(lm.tokenizerPath);
    const good = tok.singleId('+', 'good'), bad = tok.singleId('-', 'bad');
    const w = await OnnxPrmVerifier.create(base(lm, { template: 'math-shepherd', stepTag: 'ки', head: { kind: 'lm', goodToken: '+', badToken: '-' } }));
    try {
      // The workers hand back the two label columns only, not [B, T, vocabulary].
      expect(w.outputColumns).toBe(2);
      expect(w.pool.outputColumns).toEqual([bad, good]);
      const batch = { problems: Uint32Array.from(prefixes, (x) => x[0]), prefixes: prefixes.map((x) => x[1]) };
      const { values } = await w.stepValues(batch);
      for (let i = 0; i < prefixes.length; i++) {
        const e = w.encode(prefixes[i][0], prefixes[i][1]);
        const { data, C } = await rawLogits(sessLm, e.ids);
        const want = [...e.tagPositions].map((p) => softmax([data[p * C + good], data[p * C + bad]])[0]);
        closeTo(values[i], want, 1e-5);
      }
    } finally {
      await w.close();
    }
  });

  it('an empty prefix gets emptyPrefixValue and 0 tokens without a model call', async () => {
    const before = v.pool.stats().requests;
    const r = await v.scorePrefixes({ problems: Uint32Array.of(0, 1), prefixes: [[], []] });
    expect([...r.values]).toEqual([0.5, 0.5]);
    expect([...r.tokens]).toEqual([0, 0]);
    expect(v.pool.stats().requests).toBe(before);
  });
});

describe('batching', () => {
  it('pads to multiples of padMultiple and groups rows by padded length', () => {
    expect(v.paddedLength(1)).toBe(64);
    expect(v.paddedLength(64)).toBe(64);
    expect(v.paddedLength(65)).toBe(128);
    expect(v.paddedLength(4095)).toBe(4096);
  });

  it('concurrent single-prefix calls coalesce and equal one-at-a-time values', async () => {
    const one: number[] = [];
    for (const [p, steps] of prefixes) one.push((await v.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] })).values[0]);
    const before = v.pool.stats();
    const reps = 4;
    const all = await Promise.all(
      Array.from({ length: reps }, () => prefixes.map(([p, steps]) => v.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] }))).flat(),
    );
    const after = v.pool.stats();
    expect(after.coalescedBatches).toBeGreaterThan(before.coalescedBatches);
    all.forEach((r, k) => expect(Math.abs(r.values[0] - one[k % prefixes.length])).toBeLessThan(1e-6));
    // And one call with every prefix gives the same values again.
    const together = await v.scorePrefixes({ problems: Uint32Array.from(prefixes, (x) => x[0]), prefixes: prefixes.map((x) => x[1]) });
    closeTo(together.values, one, 1e-6);
  });
});

describe('scoreSteps (one pass per response for PAV rerank)', () => {
  it('value h of a prefix is what scorePrefixes gives for its first h steps; tokens are one pass each', async () => {
    const batch = { problems: Uint32Array.from(prefixes, (x) => x[0]), prefixes: prefixes.map((x) => x[1]) };
    const r = await v.scoreSteps(batch);
    const all: [number, string[]][] = prefixes.flatMap(([p, steps]) => steps.map((_, h) => [p, steps.slice(0, h + 1)] as [number, string[]]));
    const each = await v.scorePrefixes({ problems: Uint32Array.from(all, (x) => x[0]), prefixes: all.map((x) => x[1]) });
    closeTo(r.values, each.values, 1e-5);
    const whole = await v.scorePrefixes(batch);
    expect([...r.tokens]).toEqual([...whole.tokens]);
    expect(r.tokens.reduce((a, b) => a + b, 0)).toBeLessThan(each.tokens.reduce((a, b) => a + b, 0));
  });

  it('in a truncated prefix every step is what scorePrefixes gives, cut tags or not (no NaN reaches the search)', async () => {
    const [p, steps] = prefixes[3];
    const full = v.encode(p, steps);
    const n = full.ids.length, tags = full.tagPositions;
    // Cuts through the first tag, past the first two, short of any tag (the first tags survive a cut
    // that a shorter prefix does not need), and down to the last tag.
    for (const maxLength of [n - tags[0] - 1, n - tags[1] - 1, n - 5, 17, 3]) {
      const w = await OnnxPrmVerifier.create(base(cls, { maxLength, padMultiple: 16 }));
      try {
        expect(w.encode(p, steps).truncated).toBeGreaterThan(0);
        const r = await w.scoreSteps({ problems: Uint32Array.of(p), prefixes: [steps] });
        expect(r.values).toHaveLength(steps.length);
        let tokens = 0;
        for (let h = 1; h <= steps.length; h++) {
          const each = await w.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps.slice(0, h)] });
          expect(Math.abs(r.values[h - 1] - each.values[0]), `maxLength ${maxLength}, step ${h}`).toBeLessThan(1e-6);
          tokens += each.tokens[0];
        }
        // The full prefix's pass plus one per earlier step.
        expect(r.tokens[0]).toBe(tokens);
      } finally {
        await w.close();
      }
    }
  });
});

describe('truncation', () => {
  it("'left' keeps the last maxLength tokens: the cut steps are NaN, the rest equal a direct run on the kept tokens", async () => {
    const [p, steps] = prefixes[3];
    const full = v.encode(p, steps);
    const maxLength = full.ids.length - full.tagPositions[0] - 1; // cuts everything up to and including the first tag
    const w = await OnnxPrmVerifier.create(base(cls, { maxLength, padMultiple: 16 }));
    try {
      const e = w.encode(p, steps);
      expect(e.ids.length).toBe(maxLength);
      expect(e.truncated).toBe(full.ids.length - maxLength);
      expect([...e.ids]).toEqual([...full.ids.subarray(e.truncated)]);
      expect(e.tagPositions[0]).toBe(-1);
      const { values, tokens } = await w.stepValues({ problems: Uint32Array.of(p), prefixes: [steps] });
      expect(tokens[0]).toBe(maxLength);
      expect(Number.isNaN(values[0][0])).toBe(true);
      const { data } = await rawLogits(sessCls, e.ids);
      for (let s = 1; s < steps.length; s++) expect(Math.abs(values[0][s] - softmax(data.subarray(e.tagPositions[s] * 2, e.tagPositions[s] * 2 + 2))[1])).toBeLessThan(1e-5);
      const r = await w.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] });
      expect(r.values[0]).toBe(values[0][steps.length - 1]);
    } finally {
      await w.close();
    }
  });

  it("'error' refuses a long input with a PavRangeError naming the problem", async () => {
    const w = await OnnxPrmVerifier.create(base(cls, { maxLength: 16, truncation: 'error' }));
    try {
      await expect(w.scorePrefixes({ problems: Uint32Array.of(2), prefixes: [prefixes[3][1]] })).rejects.toThrow(PavRangeError);
      await expect(w.scorePrefixes({ problems: Uint32Array.of(2), prefixes: [prefixes[3][1]] })).rejects.toThrow(/problem p2: \d+ tokens exceed maxLength 16/);
    } finally {
      await w.close();
    }
  });
});

/** The fixture PRM with `nodes` turning its [B, T, 2] logits ('raw') into another 'logits' output. */
type ModelGraph = ReturnType<ReturnType<typeof buildTransformerPrm>['toModel']>['graph'];
function variantModel(name: string, outDims: ({ dimParam: string } | { dimValue: number })[], nodes: (g: ModelGraph) => void): string {
  const model = buildTransformerPrm(randomTransformerWeights({ vocab: cls.vocab, hidden: 16, layers: 2, maxSeq: 512, seed: 7 })).toModel();
  const g = model.graph;
  const last = g.node.find((n) => n.output.includes('logits'))!;
  last.output = last.output.map((o) => (o === 'logits' ? 'raw' : o));
  nodes(g);
  g.output = [{ name: 'logits', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: outDims } } } }];
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, encodeModel(model));
  return path;
}

describe('typed errors', () => {
  it('steps that are not strings are a PavTypeError naming prefixes[i][t], before any model call', async () => {
    for (const tw of [0, 1]) {
      const w = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: tw }));
      try {
        const before = w.pool.stats().requests;
        for (const bad of [5, undefined, null, {}, Symbol('s')]) {
          const batch = { problems: Uint32Array.of(0, 1), prefixes: [['ok'], ['fine', bad as unknown as string]] };
          await expect(w.scorePrefixes(batch), `tw ${tw}, ${String(bad)}`).rejects.toThrow(PavTypeError);
          await expect(w.scorePrefixes(batch)).rejects.toThrow(/prefixes\[1\]\[1\] must be a string, got /);
          await expect(w.scoreSteps(batch)).rejects.toThrow(/prefixes\[1\]\[1\] must be a string/);
        }
        expect(w.pool.stats().requests).toBe(before);
        expect((await w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['ok']] })).values[0]).toBeGreaterThan(0);
      } finally {
        await w.close();
      }
    }
  });

  it('a problem index out of range is a PavRangeError naming problems[i], also for an empty prefix', async () => {
    await expect(v.scorePrefixes({ problems: Uint32Array.of(0, 7), prefixes: [['a'], ['b']] })).rejects.toThrow(/problems\[1\] is 7, out of range \[0, 3\)/);
    await expect(v.scorePrefixes({ problems: Uint32Array.of(7), prefixes: [[]] })).rejects.toThrow(PavRangeError);
  });

  it('a logits output not laid out [batch, seq, C] is refused at create with a ConfigError naming the output', async () => {
    const B = { dimParam: 'batch' }, T = { dimParam: 'seq' };
    const transposed = variantModel('transposed', [B, { dimValue: 2 }, T], (g) => {
      g.node.push({ input: ['raw'], output: ['logits'], opType: 'Transpose', name: 't', attribute: [{ name: 'perm', type: 7, ints: [0, 2, 1] }] });
    });
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: transposed }))).rejects.toThrow(ConfigError);
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: transposed }))).rejects.toThrow(/output logits has dims \[1, 2, 3\] for a \[1, 3\] input; expected per-token logits/);
    const mean = (out: string) => ({ input: ['raw'], output: [out], opType: 'ReduceMean', name: 'r', attribute: [{ name: 'keepdims', type: 2, i: 0 }, { name: 'axes', type: 7, ints: [1] }] });
    const pooled2 = variantModel('pooled2', [B, { dimValue: 2 }], (g) => void g.node.push(mean('logits')));
    const pooled4 = variantModel('pooled4', [B, { dimValue: 4 }], (g) => {
      g.node.push(mean('pm'), { input: ['pm', 'pm'], output: ['logits'], opType: 'Concat', name: 'c', attribute: [{ name: 'axis', type: 2, i: 1 }] });
    });
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: pooled4 }))).rejects.toThrow(/pooled4\.onnx: output logits has 4 values for a \[1, 3\] input; expected per-token logits/);
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: pooled2 }))).rejects.toThrow(/pooled2\.onnx: output logits has 2 values for a \[1, 3\] input/);
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: pooled2, head: { kind: 'classification', activation: 'sigmoid', positiveIndex: 0 } }))).rejects.toThrow(ConfigError);
  });

  it('missing or broken tokenizer files name the file', async () => {
    await expect(OnnxPrmVerifier.create(base(cls, { tokenizerPath: join(dir, 'nope.json') }))).rejects.toThrow(/cannot read tokenizer file .*nope\.json/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    await expect(OnnxPrmVerifier.create(base(cls, { tokenizerPath: bad }))).rejects.toThrow(ConfigError);
  });

  it('a tag that is not one token names stepTag and the tokenizer', async () => {
    await expect(OnnxPrmVerifier.create(base(cls, { stepTag: '<step>' }))).rejects.toThrow(/stepTag "<step>" is not one token in .*tokenizer\.json/);
  });

  it('a missing model, a model without per-token logits, or a missing input is a ConfigError naming the model', async () => {
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: join(dir, 'missing.onnx') }))).rejects.toThrow(/verifier model not found: .*missing\.onnx/);
    const mlp = join(dir, 'mlp.onnx');
    const H = 2, V = cls.vocab, L = 4;
    await buildToyPrmMlp({ vocab: V, seqLen: L, hidden: H, w1: new Float32Array(L * V * H), b1: new Float32Array(H), w2: new Float32Array(H), b2: new Float32Array(1) }).save(mlp);
    await expect(OnnxPrmVerifier.create(base(cls, { modelPath: mlp }))).rejects.toThrow(/mlp\.onnx: output scores has 1 values for a \[1, 2\] input; expected per-token logits/);
    await expect(OnnxPrmVerifier.create(base(cls, { inputNames: ['ids', 'attention_mask'] }))).rejects.toThrow(/prm\.onnx.*no input named ids/);
    await expect(OnnxPrmVerifier.create(base(cls, { outputName: 'probs' }))).rejects.toThrow(/no output named probs/);
  });

  it('numeric settings out of range are ConfigErrors naming the key', async () => {
    await expect(OnnxPrmVerifier.create(base(cls, { padTokenId: 2 ** 31 }))).rejects.toThrow(/padTokenId must be below 2\^31/);
    await expect(OnnxPrmVerifier.create(base(cls, { padMultiple: 0 }))).rejects.toThrow(/padMultiple must be an integer >= 1/);
    await expect(OnnxPrmVerifier.create(base(cls, { maxLength: 1 }))).rejects.toThrow(ConfigError);
    // Pool options are this verifier's options too: ConfigErrors naming them, not argument errors.
    await expect(OnnxPrmVerifier.create(base(cls, { maxWaitMs: Infinity }))).rejects.toThrow(expect.objectContaining({ code: 'ERR_PAV_CONFIG', message: expect.stringMatching(/maxWaitMs/) }));
    await expect(OnnxPrmVerifier.create(base(cls, { workers: 0 }))).rejects.toThrow(expect.objectContaining({ code: 'ERR_PAV_CONFIG', message: expect.stringMatching(/workers/) }));
    // Every padded call would fail inside the model's embedding Gather.
    await expect(OnnxPrmVerifier.create(base(cls, { padTokenId: 100000 }))).rejects.toThrow(/padTokenId 100000 is out of range: .*tokenizer\.json has \d+ token ids/);
    // The Qwen template ends with 2 tokens after the last tag: a shorter cut loses every value.
    await expect(OnnxPrmVerifier.create(base(cls, { maxLength: 2 }))).rejects.toThrow(/maxLength 2 is too small for the template: it has 2 tokens after the last step tag, so maxLength must be at least 3/);
    const w = await OnnxPrmVerifier.create(base(cls, { maxLength: 3, padTokenId: cls.vocab - 1 }));
    try {
      expect(Number.isFinite((await w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a', 'b']] })).values[0])).toBe(true);
    } finally {
      await w.close();
    }
  });

  it('head settings out of range for the model output are ConfigErrors', async () => {
    await expect(OnnxPrmVerifier.create(base(cls, { head: { kind: 'classification', positiveIndex: 2 } }))).rejects.toThrow(/positiveIndex 2 is out of range: .* has 2 labels/);
    await expect(OnnxPrmVerifier.create(base(cls, { head: { kind: 'lm', goodTokenId: 100, badTokenId: 3 } }))).rejects.toThrow(/probe run failed: .*outputColumns asks for column\(s\) 3, 100, but output logits has 2 columns per position/);
    await expect(OnnxPrmVerifier.create(base(lm, { head: { kind: 'lm', goodTokenId: 5 } }))).rejects.toThrow(/needs goodTokenId and badTokenId/);
    await expect(OnnxPrmVerifier.create(base(cls, { head: { kind: 'classification', activation: 'relu' as 'softmax' } }))).rejects.toThrow(/head\.activation must be 'softmax' or 'sigmoid', got "relu"/);
    // A softmax over a vocabulary-wide row is not P(good).
    await expect(OnnxPrmVerifier.create(base(lm, { head: { kind: 'classification' } }))).rejects.toThrow(/has \d+ columns per position, as many as the vocabulary .*use head kind 'lm'/);
    await expect(OnnxPrmVerifier.create(base(cls, { template: { prefix: '{problem}', step: '{step}' } }))).rejects.toThrow(/template\.step must be a string containing \{step\} and \{tag\}/);
  });

  it('a template that hides the tags fails the prefix with a BackendError naming the tag', async () => {
    const w = await OnnxPrmVerifier.create(base(cls, { template: (p, steps) => `${p}\n${steps.join('\n')}` }));
    try {
      await expect(w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a']] })).rejects.toThrow(BackendError);
      await expect(w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a']] })).rejects.toThrow(/problem p0: the input has 0 step tags \(id \d+, "<extra_0>"\) for 1 steps/);
    } finally {
      await w.close();
    }
  });
});

describe('tokenizer workers', () => {
  it('encode in worker threads exactly as the main thread does (values, tokens, truncation)', async () => {
    const batch = { problems: Uint32Array.from(prefixes, (x) => x[0]), prefixes: [...prefixes.map((x) => x[1]), []] };
    batch.problems = Uint32Array.from([...batch.problems, 0]);
    for (const extra of [{}, { maxLength: 24 }, { template: 'plain' as const }, { template: { prefix: 'Q: {problem}\n', step: '{index}) {step}{tag}', separator: '\n' } }]) {
      const main = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: 0, ...extra }));
      const threaded = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: 2, ...extra }));
      try {
        expect(main.tokenizerWorkers).toBe(0);
        expect(threaded.tokenizerWorkers).toBe(2);
        const a = await main.stepValues(batch);
        const b = await threaded.stepValues(batch);
        expect(b.tokens).toEqual(a.tokens);
        expect(b.values).toEqual(a.values);
      } finally {
        await main.close();
        await threaded.close();
      }
    }
  });

  it('failures in a worker are the same typed errors; a template function cannot use workers', async () => {
    const w = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: 1, maxLength: 16, truncation: 'error' }));
    try {
      await expect(w.scorePrefixes({ problems: Uint32Array.of(2), prefixes: [prefixes[3][1]] })).rejects.toThrow(PavRangeError);
      await expect(w.scorePrefixes({ problems: Uint32Array.of(2), prefixes: [prefixes[3][1]] })).rejects.toThrow(/problem p2: \d+ tokens exceed maxLength 16/);
    } finally {
      await w.close();
    }
    const hidden = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: 1, template: { prefix: '{problem}\n', step: '{step}{tag}{tag}' } }));
    try {
      await expect(hidden.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a', 'b']] })).rejects.toThrow(/problem p0: the input has 4 step tags .* for 2 steps/);
      await expect(hidden.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a', 'b']] })).rejects.toThrow(BackendError);
    } finally {
      await hidden.close();
    }
    await expect(OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: 1, template: (p, steps) => p + steps.join('') }))).rejects.toThrow(/template function cannot cross threads/);
    await expect(OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: -1 }))).rejects.toThrow(/tokenizerWorkers must be an integer >= 0/);
  });

  it('an abort during encoding is a PavError ERR_PAV_ABORTED, as without workers', async () => {
    const w = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: 1 }));
    try {
      const big = Array.from({ length: 64 }, (_, k) => prefixes[k % prefixes.length]);
      const ac = new AbortController();
      // The encodes are in the workers once the call returns; their results come back only as messages.
      const p = w.scorePrefixes({ problems: Uint32Array.from(big, (x) => x[0]), prefixes: big.map((x) => x[1]), signal: ac.signal });
      ac.abort(new Error('stop'));
      await expect(p).rejects.toMatchObject({ code: ErrorCodes.ABORTED });
      expect((await w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a']] })).values[0]).toBeGreaterThan(0);
    } finally {
      await w.close();
    }
  });

  it('close() lets the calls in flight finish; later calls get the closed BackendError', async () => {
    for (const tw of [0, 2]) {
      const w = await OnnxPrmVerifier.create(base(cls, { tokenizerWorkers: tw }));
      const calls = Array.from({ length: 40 }, (_, k) => {
        const [p, steps] = prefixes[k % prefixes.length];
        return k % 2 ? w.scorePrefixes({ problems: Uint32Array.of(p), prefixes: [steps] }) : w.scoreSteps({ problems: Uint32Array.of(p), prefixes: [steps] });
      });
      await w.close();
      const settled = await Promise.allSettled(calls);
      expect(settled.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), `tw ${tw}`).toEqual([]);
      await expect(w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a']] })).rejects.toThrow(BackendError);
      await expect(w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['a']] })).rejects.toThrow(/closed/);
    }
  });
});
