// The main job end to end in-process on a small grid: folder contents, report, trace, and that a
// second run into the same folder is refused unless resumed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMainJob } from '../../src/run/main_job.ts';
import { parseRunConfig } from '../../src/run/run_config.ts';
import { ConfigError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('main job', () => {
  it('writes manifest, rows, summary, report and a Perfetto trace', async () => {
    const out = join(dir, 'run');
    const config = parseRunConfig({ benchmark: { problems: 12 }, budgets: [2, 4], out, trace: true, modelSizes: { policyParams: 1e9 } });
    const { summary } = await runMainJob(config);
    for (const f of ['manifest.json', 'results.jsonl', 'summary.json', 'report.html', 'trace.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.configHash).toMatch(/^[0-9a-f]{16}$/);
    expect(manifest.config.benchmark.problems).toBe(12);
    const rows = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n');
    expect(rows).toHaveLength(12 * 5 * 2);
    for (const line of rows) {
      const r = JSON.parse(line) as { flops: number; compute: { policyTokens: number } };
      expect(r.flops).toBe(2 * 1e9 * r.compute.policyTokens);
    }
    expect(summary.methods.map((m) => m.method)).toEqual(['best-of-n/orm', 'beam/prm', 'beam/pav', 'dvts/pav', 'pav-rerank/pav']);
    const trace = JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8')) as { ph: string; cat?: string }[];
    const cats = new Set(trace.filter((e) => e.ph === 'X').map((e) => e.cat));
    expect([...cats].sort()).toEqual(['generate', 'prune', 'score']);
    await expect(runMainJob(config)).rejects.toBeInstanceOf(ConfigError);
    // A resume records only the part it runs: the first trace stays, the resumed part goes beside it.
    const first = readFileSync(join(out, 'trace.json'), 'utf8');
    await runMainJob(config, { resume: true });
    expect(readFileSync(join(out, 'trace.json'), 'utf8')).toBe(first);
    expect(existsSync(join(out, 'trace-2.json'))).toBe(true);
  });

  it('a grid with a bad cell fails before it writes anything', async () => {
    const out = join(dir, 'bad-cell');
    // DVTS at N=6 with subtrees of 4 is refused; the cells before it must not have run.
    const config = parseRunConfig({ benchmark: { problems: 4 }, budgets: [2, 6], out });
    await expect(runMainJob(config)).rejects.toThrow(/search config of dvts\/pav at N=6[\s\S]*multiple of dvtsWidth/);
    expect(existsSync(out)).toBe(false);
  });
});
