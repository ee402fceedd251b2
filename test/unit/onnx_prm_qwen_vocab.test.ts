// The ONNX PRM path on the real Qwen2.5 vocabulary (Qwen2.5-Math-PRM's tokenizer with its <extra_0>
// step tag): the tag is one id, the chat template's special tokens are single ids, tag positions are
// found after each step, and a random transformer PRM over the full vocabulary scores through the pool.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTransformerPrm, randomTransformerWeights } from '../../src/onnx/models.ts';
import { HfTokenizer } from '../../src/real/hf_tokenizer.ts';
import { OnnxPrmVerifier } from '../../src/real/onnx_prm_verifier.ts';
import { QWEN_STEP_TAG_ID, writeQwenPrmTokenizer } from '../fixtures/qwen_tokenizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-qwen-prm-'));
let tokenizerPath: string;
let tok: HfTokenizer;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  tokenizerPath = writeQwenPrmTokenizer(dir);
  tok = HfTokenizer.load(tokenizerPath);
});

const problem = 'Find the value of $x$ such that $\\sqrt{x + 7} = 9$.';
const steps = ['Square both sides: $x + 7 = 81$.', 'Subtract 7: $x = 74$.', 'The answer is $\\boxed{74}$.'];

describe('Qwen2.5 vocabulary', () => {
  it('encodes <extra_0> and the chat tokens to one id each', () => {
    expect(tok.singleId('<extra_0>', 'stepTag')).toBe(QWEN_STEP_TAG_ID);
    expect(tok.encode('<|im_start|>')).toEqual([151644]);
    expect(tok.encode('<|im_end|>')).toEqual([151645]);
    expect(tok.encode('<|endoftext|>')).toEqual([151643]);
    expect(tok.vocabSize).toBeGreaterThanOrEqual(151665);
  });

  it('scores the Qwen PRM chat format through a random transformer over the full vocabulary', async () => {
    const w = randomTransformerWeights({ vocab: tok.vocabSize, hidden: 8, layers: 1, maxSeq: 256, seed: 3 });
    const modelPath = join(dir, 'prm.onnx');
    await buildTransformerPrm(w).save(modelPath);
    const v = await OnnxPrmVerifier.create({ modelPath, tokenizerPath, problems: [{ id: 'q', problem, answer: '74' }], workers: 1, intraOpThreads: 1, maxLength: 256 });
    try {
      expect(v.stepTagId).toBe(QWEN_STEP_TAG_ID);
      const e = v.encode(0, steps);
      expect(e.tagPositions.length).toBe(3);
      for (const p of e.tagPositions) expect(e.ids[p]).toBe(QWEN_STEP_TAG_ID);
      // The ids are the tokenizer's ids of the whole input, and the template ends after the last tag.
      expect([...e.ids]).toEqual(tok.encode(v.input(0, steps)));
      expect(tok.decode([...e.ids.subarray(e.tagPositions[2] + 1)])).toBe('<|im_end|><|endoftext|>');
      expect(tok.decode([...e.ids.subarray(0, e.tagPositions[0])]).endsWith(`assistant\n${steps[0]}`)).toBe(true);
      const { values } = await v.stepValues({ problems: Uint32Array.of(0), prefixes: [steps] });
      const s = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
      const T = e.ids.length;
      const out = await s.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(e.ids, BigInt), [1, T]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(T).fill(1n), [1, T]),
      });
      const lg = out.logits.data as Float32Array;
      await s.release();
      e.tagPositions.forEach((p, k) => {
        const want = 1 / (1 + Math.exp(lg[p * 2] - lg[p * 2 + 1]));
        expect(Math.abs(values[0][k] - want)).toBeLessThan(1e-5);
      });
    } finally {
      await v.close();
    }
  });
});
