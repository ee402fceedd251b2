// 'cuda' requested on an install without the CUDA provider: every worker falls back to CPU and the
// process gets exactly one warning. Its own file, so that its sessions are the process's first
// (onnxruntime reads its log level once per process).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildToyPrmMlp } from '../../src/onnx/models.ts';
import { createVerifierPool } from '../../src/verifier/pool.ts';

it('falls back from cuda to cpu with one warning', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pav-fallback-'));
  const path = join(dir, 'mlp.onnx');
  await buildToyPrmMlp({ vocab: 3, seqLen: 2, hidden: 2, w1: new Float32Array(12).fill(0.1), b1: new Float32Array(2), w2: new Float32Array([1, -1]), b2: new Float32Array([0]) }).save(path);
  const warnings: string[] = [];
  const onWarn = (w: Error & { code?: string }) => void (w.code === 'PAVSEARCH_ORT_FALLBACK' && warnings.push(w.message));
  process.on('warning', onWarn);
  try {
    for (let k = 0; k < 2; k++) {
      const p = await createVerifierPool({ modelPath: path, workers: 2, intraOpThreads: 1, executionProviders: ['cuda', 'cpu'] });
      expect(p.providers).toEqual(['cpu']);
      const out = await p.run(new BigInt64Array([0n, 1n, 2n, 0n]), new BigInt64Array([1n, 1n, 1n, 0n]), 2, 2);
      expect(out.length).toBe(2);
      await p.close();
    }
    await new Promise((res) => setImmediate(res));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/using cpu/);
  } finally {
    process.off('warning', onWarn);
    rmSync(dir, { recursive: true, force: true });
  }
});
