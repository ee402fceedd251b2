// Models exported by Hugging Face tooling often take position_ids and token_type_ids besides ids and
// mask; the pool derives them from the mask (positions count real tokens, types are 0) so such
// models load as exported, and still refuses inputs it cannot make.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { GraphBuilder } from '../../src/onnx/graph_builder.ts';
import { DataType } from '../../src/onnx/proto.ts';
import { createVerifierPool } from '../../src/verifier/pool.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-derived-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** out[b, t] = position_ids + 1000 * token_type_ids + 0 * input_ids, as float. */
function positionsModel(extra?: string): string {
  const g = new GraphBuilder('positions');
  const ids = g.input('input_ids', DataType.INT64, ['batch', 'seq']);
  g.input('attention_mask', DataType.INT64, ['batch', 'seq']);
  const pos = g.input('position_ids', DataType.INT64, ['batch', 'seq']);
  const types = g.input('token_type_ids', DataType.INT64, ['batch', 'seq']);
  if (extra) g.input(extra, DataType.INT64, ['batch', 'seq']);
  const zeroIds = g.op('Mul', [ids, g.initializer('zero', new BigInt64Array([0n]), [1])]);
  const scaled = g.op('Mul', [types, g.initializer('k', new BigInt64Array([1000n]), [1])]);
  const sum = g.op('Add', [g.op('Add', [pos, scaled]), zeroIds]);
  g.output('out', DataType.FLOAT, ['batch', 'seq'], g.op('Cast', [sum], { to: DataType.FLOAT }));
  const path = join(dir, `${extra ?? 'positions'}.onnx`);
  writeFileSync(path, g.toBytes());
  return path;
}

describe('derived model inputs', () => {
  it('feeds position_ids = cumsum(mask) - 1 (0 at padding) and token_type_ids = 0', async () => {
    const pool = await createVerifierPool({ modelPath: positionsModel(), workers: 1, intraOpThreads: 1 });
    try {
      expect(pool.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', 'token_type_ids']);
      // Row 0 right-padded, row 1 left-padded, row 2 full.
      const mask = BigInt64Array.from([1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1], BigInt);
      const out = await pool.run(new BigInt64Array(12).fill(5n), mask, 3, 4);
      expect(Array.from(out)).toEqual([0, 1, 2, 0, 0, 0, 0, 1, 0, 1, 2, 3]);
    } finally {
      await pool.close();
    }
  });

  it('refuses a model input it cannot derive, naming it', async () => {
    await expect(createVerifierPool({ modelPath: positionsModel('past_key_values.0.key'), workers: 1 })).rejects.toThrow(ConfigError);
    await expect(createVerifierPool({ modelPath: positionsModel('past_key_values.0.key'), workers: 1 })).rejects.toThrow(/past_key_values\.0\.key/);
  });
});
