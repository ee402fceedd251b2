// The addon loaded and used from several piscina workers at once (per-environment addon state):
// every worker's results equal the main thread's, and the pool shuts down cleanly.
import Piscina from 'piscina';
import { describe, expect, it } from 'vitest';
import { generateSuite, ProblemTable } from '../../src/toy/task.ts';
import { computeAll } from './workers/addon_ops_worker.ts';

describe('addon in piscina workers', () => {
  it('four workers run every op family concurrently and agree with the main thread', async () => {
    const pool = new Piscina({
      filename: new URL('./workers/addon_ops_worker.ts', import.meta.url).href,
      execArgv: ['--import', 'tsx'],
      minThreads: 4,
      maxThreads: 4,
      idleTimeout: 100,
    });
    try {
      const table = new ProblemTable(generateSuite({ size: 8, seed: 3 }));
      const seeds = Array.from({ length: 32 }, (_, i) => i + 1);
      const results = await Promise.all(seeds.map((s) => pool.run(s)));
      expect(pool.threads.length).toBe(4);
      results.forEach((r, i) => expect(r).toEqual(computeAll(seeds[i], table)));
    } finally {
      await pool.destroy();
    }
  });
});
