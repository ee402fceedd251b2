// Bad output paths and bad grids through the real CLI: one `pavsearch:` line with a code, exit 1,
// and the error comes before the work, so nothing finished is thrown away.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pav-cli-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8' });
/** The CLI failed with exactly one error line (no stack, nothing printed by work done before it). */
const failsWith = (r: ReturnType<typeof cli>, want: RegExp) => {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr).toMatch(/^pavsearch: [^\n]*\[ERR_PAV_[A-Z_]+\]\n$/);
  expect(r.stderr).toMatch(want);
};

describe('pavsearch CLI errors', () => {
  it('collect, fit and rl-demo check --out before the work', () => {
    const missing = join(dir, 'nodir', 'x');
    failsWith(cli('collect', '--out', `${missing}.jsonl`), /--out: cannot write .*nodir/);
    failsWith(cli('collect', '--out', dir), /--out: cannot write .* is a folder/);

    const data = join(dir, 'd.jsonl');
    expect(cli('collect', '--out', data, '--problems', '5', '--n-cov', '2', '--n-mc', '2').status).toBe(0);
    // Without the check the fit printed every epoch, then failed writing the model.
    failsWith(cli('fit', '--data', data, '--out', `${missing}.onnx`, '--epochs', '2'), /--out: cannot write .*nodir/);
    failsWith(cli('fit', '--data', data, '--out', join(dir, 'm.onnx'), '--epochs', '0'), /epochs must be an integer in \[1,/);
    failsWith(cli('fit', '--data', data, '--out', join(dir, 'm.onnx'), '--hidden', '-4'), /hidden must be an integer in \[1,/);
    expect(existsSync(join(dir, 'm.onnx'))).toBe(false);
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{}\n');
    failsWith(cli('fit', '--data', bad, '--out', join(dir, 'm.onnx')), /bad\.jsonl:1: problem must be a number/);

    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const demo = ['--seeds', '1', '--iterations', '2', '--batch-size', '4', '--sweep-gammas', ''];
    failsWith(cli('rl-demo', ...demo, '--out', join(file, 'sub')), /--out: cannot write to .*a-file\/sub: ENOTDIR/);
  });

  it('study refuses an empty grid, naming the flag', () => {
    const small = ['--problems', '3', '--study-budgets', '2'];
    failsWith(cli('study', ...small, '--ks', '1', '--alphas', ''), /alphas \(--alphas\) must list at least one value/);
    failsWith(cli('study', ...small, '--prover', 'oracle', '--prover-gammas', ''), /proverGammas \(--prover-gammas\) must list at least one value/);
    failsWith(cli('study', '--problems', '3', '--ks', '1', '--study-budgets', '0'), /budgets\[0\] \(--study-budgets\)/);
  });

  it('flag range errors name the flag and come before any output', () => {
    const nCov = cli('collect', '--out', join(dir, 'z.jsonl'), '--n-cov', '0');
    expect(nCov.status).toBe(1);
    expect(nCov.stderr).toMatch(/--n-cov must be an integer >= 1, got "0"/);
    expect(existsSync(join(dir, 'z.jsonl'))).toBe(false);
    const deadline = cli('search', '--problems', '3', '--deadline-ms', '-5');
    expect(deadline.status).toBe(1);
    expect(deadline.stderr).toMatch(/--deadline-ms must be an integer >= 0, got "-5"/);
    expect(deadline.stdout).toBe('');
  });

  it('study with a real-model config says study runs the embedded benchmark only', () => {
    const config = join(dir, 'real.json');
    writeFileSync(
      config,
      JSON.stringify({
        backend: {
          kind: 'openai',
          problemsFile: 'p.jsonl',
          policy: { endpoints: ['http://127.0.0.1:1/v1'], model: 'm' },
          verifier: { kind: 'vllm-pooling', model: 'v', endpoints: ['http://127.0.0.1:2'] },
        },
      }),
    );
    // It used to trip over its own default problem count ("benchmark configures the embedded benchmark").
    failsWith(cli('study', '-c', config), /`study` runs the embedded benchmark only/);
  });
});
