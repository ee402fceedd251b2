// The README's usage example runs as written (with the package name pointed at the sources), and
// its comments' claims hold: the PAV ranking, and that the deadline-bound solve says what it did.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pav-readme-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('README usage example', () => {
  it('runs and gives what its comments say', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const usage = readme.slice(readme.indexOf('## Usage'));
    const code = usage.slice(usage.indexOf('```ts') + 5, usage.indexOf('```', usage.indexOf('```ts') + 5));
    expect(code).toContain("from 'pavsearch'");
    const script = code.replace("from 'pavsearch'", `from ${JSON.stringify(join(root, 'src/index.ts'))}`) +
      '\nconsole.log(JSON.stringify({ indices: Array.from(indices), offsets: Array.from(offsets), r: Array.from(r), n: results.length, ok: results.every((x) => x.status === "ok"), status: one.status }));\n';
    const file = join(dir, 'example.mts');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { indices: number[]; offsets: number[]; r: number[]; n: number; ok: boolean; status: string };
    // Within a parent the order is q's (the paper's invariant); the best two of parent 0 are q = 0.40, 0.20.
    expect(out.indices.slice(0, 2)).toEqual([1, 2]);
    expect(out.indices.slice(2)).toEqual([3, 4]);
    expect(out.offsets).toEqual([0, 2, 4]);
    expect(out.n).toBe(100);
    expect(out.ok).toBe(true);
    expect(['ok', 'deadline']).toContain(out.status);
  }, 60_000);
});
