// A real `pavsearch run` killed with SIGKILL mid-run, then resumed: no row is redone, lost or
// duplicated, and the summary equals that of an uninterrupted run with the same seed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pav-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const common = ['--problems', '60', '--budgets', '2,8,32', '--methods', 'best-of-n/orm,beam/pav,dvts/pav', '--window', '4', '-q'];
const cli = (args: string[]) => ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'run', ...common, ...args];
const rowsOf = (out: string) =>
  readFileSync(join(out, 'results.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
/** What a row must equal across runs: everything but wall-clock times. */
const stable = (r: Record<string, unknown>) => {
  const { phases: _p, ...rest } = r;
  return JSON.stringify(rest);
};
const accuracyOf = (out: string) => {
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    methods: { method: string; points: { budget: number; accuracy: number; policyTokens: number; verifierTokens: number; passAtN?: number }[] }[];
    efficiency: unknown;
  };
  return {
    methods: s.methods.map((m) => ({ method: m.method, points: m.points.map(({ budget, accuracy, policyTokens, verifierTokens, passAtN }) => ({ budget, accuracy, policyTokens, verifierTokens, passAtN })) })),
    efficiency: s.efficiency,
  };
};

describe('pavsearch run survives kill -9', () => {
  it('resumes without redoing, losing or duplicating rows, and ends with the uninterrupted summary', async () => {
    const full = join(dir, 'full');
    const r = spawnSync(process.execPath, cli(['--out', full]), { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // The run says where PAV's advantages came from.
    expect(r.stdout).toContain('PAV advantages: Best-of-4 of the verifier.');
    const want = rowsOf(full);
    expect(want.length).toBe(60 * 3 * 3);

    const cut = join(dir, 'cut');
    const child = spawn(process.execPath, cli(['--out', cut]), { cwd: root, stdio: 'ignore' });
    // Kill once a fair share of rows is on disk (polling the file the run appends to).
    await new Promise<void>((res, rej) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        const path = join(cut, 'results.jsonl');
        const n = existsSync(path) ? readFileSync(path, 'utf8').split('\n').length - 1 : 0;
        if (n >= 120) {
          clearInterval(poll);
          child.kill('SIGKILL');
          res();
        } else if (Date.now() - t0 > 60_000 || child.exitCode !== null) {
          clearInterval(poll);
          rej(new Error(`run ended or stalled before the kill (rows ${n}, exit ${child.exitCode})`));
        }
      }, 5);
    });
    await new Promise((res) => child.once('exit', res));
    const before = rowsOf(cut);
    expect(before.length).toBeGreaterThanOrEqual(120);
    expect(before.length).toBeLessThan(want.length);
    expect(existsSync(join(cut, 'summary.json'))).toBe(false);

    // Resuming with the same options finishes the grid.
    const again = spawnSync(process.execPath, cli(['--out', cut, '--resume']), { cwd: root, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    const after = rowsOf(cut);
    // Rows written before the kill are untouched, none is duplicated, none is missing.
    expect(after.slice(0, before.length).map(stable)).toEqual(before.map(stable));
    const keys = after.map((x) => `${x.configKey}#${x.problem}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(after.length).toBe(want.length);
    const byKey = (rows: Record<string, unknown>[]) => new Map(rows.map((x) => [`${x.configKey}#${x.problem}`, stable(x)]));
    expect(byKey(after)).toEqual(byKey(want));
    expect(accuracyOf(cut)).toEqual(accuracyOf(full));

    // A resume with other options is refused rather than mixing two runs.
    const bad = spawnSync(process.execPath, cli(['--out', cut, '--resume', '--seed', '5']), { cwd: root, encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/config/);
  }, 120_000);
});
