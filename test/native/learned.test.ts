// The 'learned' toy verifier end to end: collect (prefix, Q_hat) data with the native sampler → fit
// the PRM in TypeScript → write ONNX → serve through the worker pool → error against the exact oracle.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, PavRangeError, PavTypeError } from '../../src/errors.ts';
import { toyMlpForward } from '../../src/onnx/models.ts';
import { collectPavData, readPavData, type CollectSummary, type PavDataRow } from '../../src/toy/collect.ts';
import { fitToyPrm, toyPrmModelBytes, writeToyPrm, type FitResult } from '../../src/toy/fit.ts';
import {
  LearnedVerifier,
  encodeBatch,
  encodeRowInto,
  encodingFor,
  encodingLayout,
  formatOracleErrorReport,
  oracleErrorReport,
  readToyPrmMetadata,
} from '../../src/toy/learned.ts';
import { valuePrefixes } from '../../src/toy/oracle.ts';
import { rolloutArrays, sampleRollouts } from '../../src/toy/sampler.ts';
import { generateSuite, ProblemTable } from '../../src/toy/task.ts';
import { PrefixList } from '../../src/search/prefixes.ts';
import { ROOT, StepTree } from '../../src/search/step_tree.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-learned-'));
const table = new ProblemTable(generateSuite({ size: 150, seed: 3 }));
const GAMMA = 5;
let summary: CollectSummary;
let rows: PavDataRow[];
let fit: FitResult;
const modelPath = join(dir, 'toy_prm.onnx');

beforeAll(async () => {
  summary = await collectPavData({ table, gamma: GAMMA, nCov: 8, nMc: 16, firstPit: { branches: 3 }, seed: 7, out: join(dir, 'data.jsonl') });
  rows = await readPavData(summary.path);
  fit = fitToyPrm(rows, { hidden: 32, epochs: 16, seed: 1 });
  await writeToyPrm(fit, modelPath);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('collectPavData', () => {
  it('writes self-contained JSONL rows with Monte-Carlo labels', () => {
    expect(rows.length).toBe(summary.rows);
    expect(summary.seedRollouts).toBe(150 * 8);
    expect(summary.pitPaths).toBeGreaterThan(0);
    expect(summary.pitRows).toBeGreaterThan(0);
    expect(summary.mcRollouts).toBe(rows.length * 16);
    const keys = new Set<string>();
    for (const r of rows.slice(0, 2000)) {
      expect(r.problem_id).toBe(`planted/${r.problem}`);
      expect(r.target).toEqual(table.task(r.problem).target);
      expect(r.n).toBe(16);
      expect(r.q_hat).toBe(r.successes / 16);
      expect(r.prover).toEqual({ gamma: GAMMA });
      expect(r.prefix.length).toBeLessThanOrEqual(r.max_len);
      const k = `${r.problem}:${r.prefix.join(',')}`;
      expect(keys.has(k)).toBe(false); // deduplicated
      keys.add(k);
    }
    // Every problem's bare prefix is there once.
    expect(rows.filter((r) => r.prefix.length === 0).length).toBe(150);
  });

  it('labels track the exact oracle (unbiased Monte-Carlo estimates)', () => {
    const q = valuePrefixes(table, rows.map((r) => r.problem), rows.map((r) => r.prefix), { gamma: GAMMA });
    let diff = 0;
    rows.forEach((r, i) => (diff += r.q_hat - q[i]));
    expect(Math.abs(diff / rows.length)).toBeLessThan(0.01);
  });

  it('is deterministic for a seed', async () => {
    const again = await collectPavData({ table, gamma: GAMMA, nCov: 8, nMc: 16, firstPit: { branches: 3 }, seed: 7, out: join(dir, 'again.jsonl'), chunk: 1000 });
    expect(again.rows).toBe(summary.rows);
    expect(readFileSync(again.path, 'utf8')).toBe(readFileSync(summary.path, 'utf8'));
  });

  it('a path it cannot write is a ConfigError, never an unhandled rejection', async () => {
    // The output is opened before any sampling (the old code sampled first and then left the open's
    // rejection unobserved: vitest fails a test on an unhandled rejection).
    const opts = { table, gamma: GAMMA, nCov: 4, nMc: 8 };
    await expect(collectPavData({ ...opts, out: join(dir, 'no', 'such', 'x.jsonl') })).rejects.toThrow(ConfigError);
    await expect(collectPavData({ ...opts, out: dir })).rejects.toThrow(/out: cannot write .*EISDIR/);
  });

  it('readPavData names the file and line of a row a trainer cannot use', async () => {
    const good = readFileSync(summary.path, 'utf8').split('\n')[0];
    const bad = async (edit: (r: Record<string, unknown>) => unknown, want: RegExp, type: typeof PavTypeError | typeof PavRangeError = PavTypeError) => {
      const path = join(dir, 'bad.jsonl');
      writeFileSync(path, `${good}\n\n${JSON.stringify(edit(JSON.parse(good) as Record<string, unknown>))}\n`);
      const err = await readPavData(path).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(want);
    };
    await bad(() => ({}), /bad\.jsonl:3: problem must be a number, got undefined/);
    await bad(() => [], /bad\.jsonl:3: a row must be a JSON object/);
    await bad((r) => ({ ...r, prover: undefined }), /bad\.jsonl:3: prover must be an object/);
    await bad((r) => ({ ...r, q_hat: '0.5' }), /bad\.jsonl:3: q_hat must be a number/);
    await bad((r) => ({ ...r, q_hat: 2 }), /bad\.jsonl:3: q_hat must be in \[0, 1\]/, PavRangeError);
    await bad((r) => ({ ...r, target: [1, 99] }), /bad\.jsonl:3: target\[1\] must be an integer in \[0, \d+\], got 99/, PavRangeError);
    await bad((r) => ({ ...r, prefix: 'abc' }), /bad\.jsonl:3: prefix must be an array of tokens/);
    await bad((r) => ({ ...r, prefix: Array(40).fill(0) }), /bad\.jsonl:3: prefix has 40 tokens, more than max_len/, PavRangeError);
  });
});

describe('fitToyPrm → ONNX', () => {
  it('refuses options that would train nothing or crash: epochs, hidden, batchSize >= 1, lr > 0', () => {
    const few = rows.slice(0, 50);
    expect(() => fitToyPrm(few, { epochs: 0 })).toThrow(/epochs must be an integer in \[1,/);
    expect(() => fitToyPrm(few, { epochs: -3 })).toThrow(PavRangeError);
    expect(() => fitToyPrm(few, { hidden: 0 })).toThrow(/hidden must be an integer in \[1,/);
    expect(() => fitToyPrm(few, { hidden: -4 })).toThrow(/hidden must be an integer/);
    expect(() => fitToyPrm(few, { batchSize: 0.5 })).toThrow(/batchSize must be an integer/);
    expect(() => fitToyPrm(few, { lr: 0 })).toThrow(/lr must be > 0/);
    expect(() => fitToyPrm(few, { lr: Number.NaN })).toThrow(/lr is NaN/);
  });

  it('the ONNX model computes the fitted weights\' TypeScript forward pass (1e-5) and is deterministic', async () => {
    const s = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
    expect(s.inputNames).toEqual(['input_ids', 'attention_mask']);
    const sample = rows.filter((_, i) => i % 7 === 0).slice(0, 500);
    const { ids, mask, rows: n, seqLen } = encodeBatch(fit.encoding, table.tasks, sample.map((r) => r.problem), sample.map((r) => r.prefix));
    const ref = toyMlpForward(fit.weights, ids, mask, n);
    const out = (await s.run({ input_ids: new ort.Tensor('int64', ids, [n, seqLen]), attention_mask: new ort.Tensor('int64', mask, [n, seqLen]) })).scores.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < n; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - ref[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    for (const v of out) expect(v >= 0 && v <= 1).toBe(true);
    expect(readToyPrmMetadata(modelPath)).toMatchObject({ encoding: fit.encoding, prover: { gamma: GAMMA }, hidden: 32 });
    // Same data, same seed: the same file, byte for byte.
    const refit = fitToyPrm(rows.slice(0, 3000), { hidden: 8, epochs: 2, seed: 4 });
    const refit2 = fitToyPrm(rows.slice(0, 3000), { hidden: 8, epochs: 2, seed: 4 });
    expect(Buffer.from(toyPrmModelBytes(refit)).equals(Buffer.from(toyPrmModelBytes(refit2)))).toBe(true);
  });
});

describe('encodeBatch', () => {
  it('writes exactly the int64 ids and mask of encodeRowInto, from arrays and from a PrefixList', () => {
    const e = encodingFor(table.tasks);
    const { seqLen } = encodingLayout(e);
    const prefixes = [[], [0, 1, 2], [table.tasks[2].vocab - 1], [3, 3]];
    const problems = [0, 1, 2, 149];
    const i32 = new Int32Array(prefixes.length * seqLen);
    const u8 = new Uint8Array(prefixes.length * seqLen);
    prefixes.forEach((p, r) => encodeRowInto(e, table.tasks[problems[r]], p, i32, u8, r));
    const want = { ids: Array.from(i32, BigInt), mask: Array.from(u8, BigInt) };
    const plain = encodeBatch(e, table.tasks, problems, prefixes);
    expect({ ids: Array.from(plain.ids), mask: Array.from(plain.mask) }).toEqual(want);
    expect(plain.rows).toBe(4);
    expect(plain.seqLen).toBe(seqLen);
    const tree = new StepTree<number>();
    const zeroOne = tree.add(tree.add(ROOT, 0), 1);
    const three = tree.add(ROOT, 3);
    const list = PrefixList.inTree(tree, Int32Array.of(ROOT, zeroOne, ROOT, three), [0, 2, table.tasks[2].vocab - 1, 3]);
    // list = [[0], [0, 1, 2], [vocab - 1], [3, 3]]: rows 1..3 equal the plain rows.
    const packed = encodeBatch(e, table.tasks, problems, list);
    expect(Array.from(packed.ids).slice(seqLen)).toEqual(want.ids.slice(seqLen));
    expect(Array.from(packed.mask).slice(seqLen)).toEqual(want.mask.slice(seqLen));
  });
});

describe('LearnedVerifier', () => {
  it('serves the fitted model through the pool and beats a constant predictor against the oracle', async () => {
    const v = await LearnedVerifier.create(table, { modelPath, workers: 2, intraOpThreads: 1 });
    try {
      expect(v.name).toBe(`toy-learned(gamma=${GAMMA})`);
      // Held-out prefixes: fresh seed rollouts under another seed.
      const P = table.size, n = 4;
      const seeds = rolloutArrays(sampleRollouts(table, Uint32Array.from({ length: P }, (_, i) => i), Array.from({ length: P }, () => []), { gamma: GAMMA, n, seed: 999 }));
      const problems: number[] = [], prefixes: number[][] = [];
      seeds.forEach((s, k) => { for (let h = 0; h <= s.length; h++) { problems.push(Math.floor(k / n)); prefixes.push(s.slice(0, h)); } });
      // Several concurrent callers, as searches would be: their requests are coalesced by the pool.
      const parts = 4, per = Math.ceil(problems.length / parts);
      const scored = await Promise.all(Array.from({ length: parts }, (_, c) =>
        v.scorePrefixes({ problems: Uint32Array.from(problems.slice(c * per, (c + 1) * per)), prefixes: prefixes.slice(c * per, (c + 1) * per) })));
      const values = Float64Array.from(scored.flatMap((s) => Array.from(s.values)));
      expect(values.length).toBe(prefixes.length);
      expect(Array.from(scored[0].tokens.slice(0, 5))).toEqual(prefixes.slice(0, 5).map((p) => p.length));
      for (const x of values) expect(x >= 0 && x <= 1).toBe(true);
      const oracle = valuePrefixes(table, problems, prefixes, { gamma: GAMMA });
      const report = oracleErrorReport(values, oracle, { trainMean: fit.meanLabel });
      console.log(formatOracleErrorReport(report));
      expect(report.mae).toBeLessThan(report.bestConstant.mae);
      expect(report.mae).toBeLessThan(report.trainMeanConstant!.mae);
      expect(report.calibration.reduce((a, b) => a + b.count, 0)).toBe(values.length);
    } finally {
      await v.close();
    }
  });

  it('refuses problems the model was not fitted for', async () => {
    const wide = new ProblemTable([{ target: [1, 2, 3, 4, 5, 6, 7, 8], vocab: 15, maxLen: 12 }]);
    await expect(LearnedVerifier.create(wide, { modelPath, workers: 1 })).rejects.toThrow(/at most/);
  });
});
