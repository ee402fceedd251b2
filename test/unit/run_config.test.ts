// Run configuration: a file merged under the flags, validated by one schema, hashed for --resume.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRunConfig } from '../../src/cli/main.ts';
import { ConfigError } from '../../src/errors.ts';
import { configHash, parseRunConfig } from '../../src/run/run_config.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const openai = {
  kind: 'openai',
  problemsFile: 'p.jsonl',
  policy: { endpoints: ['http://127.0.0.1:1/v1'], model: 'm' },
  verifier: { kind: 'vllm-pooling', model: 'v', endpoints: ['http://127.0.0.1:2'] },
};

describe('run configuration', () => {
  it('a file that is not a mapping, or a section of the wrong type, is refused (it used to mean the defaults)', () => {
    for (const [name, text] of [
      ['list.yaml', '- a\n- b\n'],
      ['string.yaml', '"just a string"\n'],
      ['number.json', '42'],
      ['section.yaml', 'benchmark: 20\n'],
      ['search.yaml', 'search: [1, 2]\n'],
      ['sizes.yaml', 'modelSizes: 5\n'],
    ]) {
      const config = file(name, text);
      expect(() => resolveRunConfig({ config }), name).toThrow(ConfigError);
      expect(() => resolveRunConfig({ config, problems: 5 }), name).toThrow(ConfigError);
    }
    // An empty file is an empty config.
    expect(resolveRunConfig({ config: file('empty.yaml', '') }).benchmark.problems).toBe(500);
  });

  it('the hash is the same whether a value came from a flag or the file', () => {
    const flags = { problems: 3, methods: ['beam/prm'], budgets: [2], policyParams: 1e9 };
    const config = file('same.yaml', 'benchmark: {problems: 3}\nmethods: [beam/prm]\nbudgets: [2]\nmodelSizes: {policyParams: 1000000000}\n');
    expect(configHash(resolveRunConfig({ config }))).toBe(configHash(resolveRunConfig(flags)));
    expect(configHash(resolveRunConfig({ config: file('e.yaml', '') }))).toBe(configHash(resolveRunConfig({})));
    const kind = file('kind.yaml', 'verifier: {kind: noisy}\n');
    expect(configHash(resolveRunConfig({ config: kind, problems: 3 }))).toBe(configHash(resolveRunConfig({ problems: 3 })));
    expect(configHash(resolveRunConfig({ config: file('p.yaml', 'prover: {kind: noisy}\n') }))).toBe(configHash(resolveRunConfig({ prover: 'noisy' })));
    // A value that changes the rows still changes it.
    expect(configHash(resolveRunConfig({ problems: 4 }))).not.toBe(configHash(resolveRunConfig({ problems: 3 })));
  });

  it('flags turn off what a file turns on', () => {
    const config = file('on.yaml', 'search: {dedupe: true}\ntrace: true\n');
    expect(resolveRunConfig({ config }).search.dedupe).toBe(true);
    const off = resolveRunConfig({ config, dedupe: false, trace: false });
    expect([off.search.dedupe, off.trace]).toEqual([false, false]);
  });

  it('embedded-benchmark settings next to a real-model backend are refused, not ignored', () => {
    expect(() => parseRunConfig({ backend: openai, benchmark: { problems: 2 } })).toThrow(/benchmark configures the embedded benchmark, which backend kind openai does not run/);
    expect(() => parseRunConfig({ backend: openai, verifier: { kind: 'learned' }, policy: { gamma: 99 } })).toThrow(/policy, verifier configure/);
    const config = file('real.json', JSON.stringify({ backend: openai }));
    expect(() => resolveRunConfig({ config, problems: 2, gamma: 99 })).toThrow(/benchmark, policy configure the embedded benchmark/);
    expect(resolveRunConfig({ config }).backend?.kind).toBe('openai');
  });

  it('model sizes stay below 1e15 so that FLOPs stay finite', () => {
    expect(() => parseRunConfig({ modelSizes: { policyParams: 1e308 } })).toThrow(/policyParams/);
    expect(parseRunConfig({ modelSizes: { policyParams: 7e10 } }).modelSizes.policyParams).toBe(7e10);
  });
});
