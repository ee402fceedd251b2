// The shipped example configs stay valid against the run config schema.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig, readConfigFile } from '../../src/run/run_config.ts';

const examples = resolve(import.meta.dirname, '..', '..', 'examples');

describe('examples/*.yaml', () => {
  for (const f of readdirSync(examples).filter((x) => x.endsWith('.yaml'))) {
    it(`${f} parses`, () => {
      const c = parseRunConfig(readConfigFile(join(examples, f)), f);
      expect(c.backend?.kind).toBe('openai');
    });
  }

  it('vllm-qwen-prm.yaml: the Qwen PRM settings and a chat prompt with real newlines', () => {
    const c = parseRunConfig(readConfigFile(join(examples, 'vllm-qwen-prm.yaml')));
    if (c.backend?.kind !== 'openai') throw new Error('expected an openai backend');
    expect(c.backend.verifier).toMatchObject({ kind: 'onnx-prm', stepTag: '<extra_0>', template: 'qwen-prm', head: { kind: 'classification', positiveIndex: 1 } });
    expect(c.backend.policy.promptTemplate).toContain('<|im_start|>user\n{problem}<|im_end|>\n');
    expect(c.backend.policy.delimiter).toBe('\n\n');
  });
});
