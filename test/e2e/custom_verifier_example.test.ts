// examples/custom_verifier.ts runs as documented and gives exactly the built-in oracle verifier's
// results: a backend written against the public contract is a drop-in.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../examples/custom_verifier.ts';
import { generateSuite, OracleVerifier, ProblemTable, runSearchBatch, ToyPolicy, ToyTask } from '../../src/index.ts';

describe('examples/custom_verifier.ts', () => {
  it('searches with a function-backed verifier exactly as with the built-in oracle', async () => {
    const got = await main(30);
    const table = new ProblemTable(generateSuite({ size: 30, seed: 1 }));
    const want = await runSearchBatch(
      { policy: new ToyPolicy(table, { gamma: 5 }), verifier: new OracleVerifier(table, { gamma: 5 }), task: new ToyTask(table) },
      { algorithm: 'beam', budget: 8, score: 'pav' },
      Array.from({ length: 30 }, (_, i) => i),
    );
    expect(got.map((r) => r.trace)).toEqual(want.map((r) => r.trace));
    expect(got.map((r) => r.compute)).toEqual(want.map((r) => r.compute));
  });

  it('runs from the command line as its header says', () => {
    const root = resolve(import.meta.dirname, '..', '..');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'examples/custom_verifier.ts'], { cwd: root, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/beam \(PAV\), N = 8, verifier my-prm: \d+ of 50 problems solved/);
  }, 60_000);
});
