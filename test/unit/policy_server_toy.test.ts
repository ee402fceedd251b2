// The embedded toy policy (native ToyPolicy) served over HTTP: the HTTP backend must return what the
// policy returns in-process, with and without injected faults. Skips where the addon is not built.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIPolicy } from '../../src/real/openai_policy.ts';
import { createPolicyServer, parseStepPrompt, toyStepCodec, type PolicyServer } from '../../src/real/policy_server.ts';
import type { StepRequestBatch } from '../../src/search/backends.ts';

let toy: typeof import('../../src/toy/backends.ts') | undefined;
let task: typeof import('../../src/toy/task.ts') | undefined;
let why = '';
try {
  toy = await import('../../src/toy/backends.ts');
  task = await import('../../src/toy/task.ts');
  const binding = (await import('../../src/native/binding.ts')).addon<{ toySampleSteps?: unknown }>();
  if (typeof binding.toySampleSteps !== 'function') throw new Error('the built addon predates the toy ops (rebuild: npm run build:native)');
} catch (e) {
  why = (e as Error).message.split('\n')[0];
  toy = undefined;
}

describe.skipIf(!toy)(`toy policy over HTTP${why ? ` (skipped: addon not loadable: ${why})` : ''}`, () => {
  const servers: PolicyServer[] = [];
  let table: InstanceType<NonNullable<typeof task>['ProblemTable']>;
  let policy: InstanceType<NonNullable<typeof toy>['ToyPolicy']>;
  let codec: ReturnType<typeof toyStepCodec>;

  beforeAll(() => {
    table = new task!.ProblemTable(task!.generateSuite({ size: 6, seed: 3 }));
    policy = new toy!.ToyPolicy(table, { gamma: 5 });
    codec = toyStepCodec(table.vocab);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  const serve = async (faults?: Parameters<typeof createPolicyServer>[0]['faults']) => {
    const s = await createPolicyServer({ policy, ...codec, parsePrompt: (p) => parseStepPrompt(p, codec.parseStep), faults });
    servers.push(s);
    return s;
  };
  const httpPolicy = (url: string) =>
    new OpenAIPolicy({
      model: policy.name,
      endpoints: [{ baseURL: url, maxConcurrency: 4 }],
      problems: Array.from({ length: table.size }, (_, p) => `problem: ${p}`),
      retry: { maxAttempts: 30, baseDelayMs: 1, maxDelayMs: 10, timeoutMs: 5000 },
    });

  it('steps, finished flags and completions match the in-process policy', async () => {
    const problems = Uint32Array.from({ length: table.size }, (_, i) => i);
    const prefixes = Array.from(problems, (p) => Array.from({ length: p % 3 }, (_, k) => (p + k) % (table.vocab - 1)));
    const num: StepRequestBatch<number> = { problems, prefixes, n: 4, seeds: Uint32Array.from(problems, (p) => 100 + p) };
    const text: StepRequestBatch<string> = { ...num, prefixes: prefixes.map((x) => x.map(codec.renderStep)) };
    for (const s of [await serve(), await serve({ seed: 9, delayMs: 10, resetRate: 0.2, errorRate: 0.2, errorBurst: 2 })]) {
      const want = await policy.sampleSteps(num);
      const got = await httpPolicy(s.url).sampleSteps(text);
      expect(got.steps.map(codec.parseStep)).toEqual(want.steps);
      expect(Array.from(got.finished)).toEqual(Array.from(want.finished));
      const wantC = await policy.sampleCompletions(num);
      const gotC = await httpPolicy(s.url).sampleCompletions(text);
      expect(gotC.completions.map((c) => c.map(codec.parseStep))).toEqual(wantC.completions);
    }
  });
});
