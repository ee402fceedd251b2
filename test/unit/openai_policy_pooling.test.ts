// VllmPoolingVerifier against a node:http fake of vLLM's /pooling endpoint (response shape in the
// verifier's header comment): STEP pooling rows [p_bad, p_good] per step tag.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError, ConfigError, PavTypeError } from '../../src/errors.ts';
import { EndpointCallError } from '../../src/real/endpoints.ts';
import { VllmPoolingVerifier, lastReward } from '../../src/real/vllm_pooling_verifier.ts';
import { plainInput, qwenPrmInput } from '../../src/real/prm_templates.ts';
import { PrefixList } from '../../src/search/prefixes.ts';
import { StepTree } from '../../src/search/step_tree.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A fake PRM: the reward of step k is 0.1 * (number of characters of the step mod 10). */
async function fakePooling(opts: { failFirst?: number; status?: number; mode?: 'step' | 'token' | 'logit' } = {}) {
  const seen: { path: string; body: { model: string; input: string[] } }[] = [];
  let failures = opts.failFirst ?? 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text);
      seen.push({ path: req.url ?? '', body });
      if (req.url !== '/pooling') {
        res.writeHead(404).end('{"error":"not found"}');
        return;
      }
      if (failures > 0) {
        failures--;
        res.writeHead(opts.status ?? 503, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
        return;
      }
      const data = (body.input as string[]).map((input, index) => {
        const steps = input.split('<extra_0>').slice(0, -1).map((s) => s.split('\n').pop()!);
        const rows = steps.map((s) => {
          const p = (s.length % 10) / 10;
          return opts.mode === 'logit' ? [Math.log(p / (1 - p + 1e-9) + 1e-9)] : [1 - p, p];
        });
        const tokenRows = opts.mode === 'token' ? [[0.5, 0.5], ...rows] : rows;
        return { index, object: 'pooling', data: tokenRows };
      });
      const promptTokens = (body.input as string[]).reduce((a, s) => a + Math.ceil(s.length / 4), 0);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ id: 'pool-1', object: 'list', created: 0, model: body.model, data, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0 } }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { root: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A /pooling server whose reply body is `reply(number of inputs)`, for malformed replies. */
async function replyingPooling(reply: (n: number) => unknown) {
  let requests = 0;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply(JSON.parse(text).input.length)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { root: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

describe('VllmPoolingVerifier', () => {
  it('scores prefixes by the reward at the last step', async () => {
    const f = await fakePooling();
    const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [`${f.root}/v1`], problems: ['Q0', 'Q1'], format: 'plain', maxBatch: 2 });
    const r = await v.scorePrefixes({
      problems: Uint32Array.of(0, 1, 0, 1),
      prefixes: [['abc'], ['abcd', 'abcdefg'], [], ['x']],
    });
    expect(Array.from(r.values)).toEqual([0.3, 0.7, 0.5, 0.1]);
    expect(r.tokens[2]).toBe(0);
    expect(r.tokens[0]).toBeGreaterThan(0);
    expect(f.seen.every((s) => s.path === '/pooling')).toBe(true); // /v1 dropped
    expect(f.seen).toHaveLength(2); // 3 inputs, 2 per request; the empty prefix is not sent
    expect(f.seen[0].body.input[0]).toBe('Q0\nabc<extra_0>');
  });

  it('scoreSteps reads every step from one request per response (STEP rows), else scores each prefix', async () => {
    const batch = { problems: Uint32Array.of(0, 1, 0), prefixes: [['abc', 'abcdefg'], [], ['x', 'xy', 'xyzw']] };
    const each = { problems: Uint32Array.of(0, 0, 0, 0, 0), prefixes: [['abc'], ['abc', 'abcdefg'], ['x'], ['x', 'xy'], ['x', 'xy', 'xyzw']] };
    const step = await fakePooling();
    const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [step.root], problems: ['Q0', 'Q1'], format: 'plain' });
    const want = await v.scorePrefixes(each);
    step.seen.length = 0;
    const r = await v.scoreSteps(batch);
    expect(Array.from(r.values)).toEqual(Array.from(want.values));
    expect(step.seen).toHaveLength(1);
    expect(step.seen[0].body.input).toHaveLength(2); // the empty prefix is not sent
    expect(r.tokens[1]).toBe(0);
    // Per-token rows cannot be matched to steps: every prefix is scored instead, with one warning.
    const tok = await fakePooling({ mode: 'token' });
    const w = new VllmPoolingVerifier({ model: 'prm', endpoints: [tok.root], problems: ['Q0', 'Q1'], format: 'plain' });
    const warnings: string[] = [];
    const onWarning = (e: Error & { code?: string }) => warnings.push(String(e.code));
    process.on('warning', onWarning);
    try {
      expect(Array.from((await w.scoreSteps(batch)).values)).toEqual(Array.from(want.values));
      await w.scoreSteps(batch);
      await new Promise((res) => setImmediate(res));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((c) => c === 'PAVSEARCH_POOLING_NO_STEP_ROWS')).toHaveLength(1);
  });

  it('reads the engine\'s tree prefixes (children of live beams, fanout) as it reads plain arrays', async () => {
    const f = await fakePooling();
    const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [f.root], problems: ['Q0', 'Q1'], format: 'plain' });
    const tree = new StepTree<string>();
    const r0 = tree.addRoot();
    const r1 = tree.addRoot();
    const a = tree.add(r0, 'abc');
    const kids = PrefixList.inTree(tree, Int32Array.of(a, r1), ['x', 'xyz', 'abcd', 'ab'], 2);
    const problems = Uint32Array.of(0, 0, 1, 1);
    const got = await v.scorePrefixes({ problems, prefixes: kids });
    const want = await v.scorePrefixes({ problems, prefixes: kids.toArrays() });
    expect(Array.from(got.values)).toEqual(Array.from(want.values));
    expect(Array.from((await v.scoreSteps({ problems, prefixes: kids })).values)).toEqual([0.3, 0.1, 0.3, 0.3, 0.4, 0.2]);
  });

  it('reads per-token rows and logits', async () => {
    const tok = await fakePooling({ mode: 'token' });
    const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [tok.root], problems: ['Q'], format: 'plain' });
    expect(Array.from((await v.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['ab', 'abcd']] })).values)).toEqual([0.4]);
    const logit = await fakePooling({ mode: 'logit' });
    const w = new VllmPoolingVerifier({ model: 'prm', endpoints: [logit.root], problems: ['Q'], format: 'plain', transform: 'sigmoid' });
    expect((await w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['abcdefgh']] })).values[0]).toBeCloseTo(0.8, 6);
    const raw = new VllmPoolingVerifier({ model: 'prm', endpoints: [logit.root], problems: ['Q'], format: 'plain', retry: { maxAttempts: 3 } });
    await expect(raw.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['abcdefgh']] })).rejects.toThrow(/outside \[0, 1\]/);
  });

  it('retries 503 and fails 400 at once', async () => {
    const flaky = await fakePooling({ failFirst: 2 });
    const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [flaky.root], problems: ['Q'], format: 'plain', retry: { baseDelayMs: 1 } });
    expect((await v.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['abc']] })).values[0]).toBeCloseTo(0.3);
    expect(flaky.seen).toHaveLength(3);
    const bad = await fakePooling({ failFirst: 99, status: 400 });
    const w = new VllmPoolingVerifier({ model: 'prm', endpoints: [bad.root], problems: ['Q'], format: 'plain' });
    const err = await w.scorePrefixes({ problems: Uint32Array.of(0), prefixes: [['abc']] }).catch((e) => e);
    expect(err).toBeInstanceOf(EndpointCallError);
    expect(err.status).toBe(400);
    expect(err.attempts).toBe(1);
    expect(bad.seen).toHaveLength(1);
  });

  it('pairs results with inputs by index, and retries a reply whose indices are not 0..n-1 once each', async () => {
    const batch = { problems: Uint32Array.of(0, 0), prefixes: [['a'], ['b']] };
    const row = (index: unknown, p: number) => ({ index, object: 'pooling', data: [[1 - p, p]] });
    const make = (root: string) => new VllmPoolingVerifier({ model: 'prm', endpoints: [root], problems: ['Q'], format: 'plain', retry: { maxAttempts: 2, baseDelayMs: 1 } });
    const reversed = await replyingPooling(() => ({ data: [row(1, 0.2), row(0, 0.1)], usage: { prompt_tokens: 10 } }));
    expect(Array.from((await make(reversed.root).scorePrefixes(batch)).values)).toEqual([0.1, 0.2]);
    // A server that leaves every index out answers in order (the old sort by index kept that too).
    const unindexed = await replyingPooling(() => ({ data: [{ data: [[0.9, 0.1]] }, { data: [[0.8, 0.2]] }], usage: { prompt_tokens: 10 } }));
    expect(Array.from((await make(unindexed.root).scorePrefixes(batch)).values)).toEqual([0.1, 0.2]);
    for (const [data, message] of [
      [[row(7, 0.1), row(1, 0.2)], /data\[0\] with index 7/],
      [[row(0, 0.1), row(0, 0.2)], /data\[1\] with index 0/],
      [[row(0, 0.1), row(undefined, 0.2)], /data\[1\] with index undefined/],
      [[row(0.5, 0.1), row(1, 0.2)], /data\[0\] with index 0\.5/],
      [[null, null], /data\[0\] = null, not an object/],
    ] as const) {
      const bad = await replyingPooling(() => ({ data, usage: { prompt_tokens: 10 } }));
      const err = await make(bad.root).scorePrefixes(batch).catch((e) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(err.message).toMatch(message);
      expect(bad.requests()).toBe(2); // retried like any malformed reply
    }
  });

  it('rejects a usage.prompt_tokens that is not a count, which would wrap in the token counts', async () => {
    const batch = { problems: Uint32Array.of(0, 0), prefixes: [['a'], ['b']] };
    const data = [0, 1].map((index) => ({ index, data: [[0.5, 0.5]] }));
    for (const promptTokens of [-50, 1.5, '10', 2 ** 32]) {
      const bad = await replyingPooling(() => ({ data, usage: { prompt_tokens: promptTokens } }));
      const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [bad.root], problems: ['Q'], format: 'plain', retry: { maxAttempts: 1 } });
      const err = await v.scorePrefixes(batch).catch((e) => e);
      expect(err).toBeInstanceOf(BackendError);
      expect(err.message).toMatch(/usage\.prompt_tokens/);
    }
    const none = await replyingPooling(() => ({ data }));
    const v = new VllmPoolingVerifier({ model: 'prm', endpoints: [none.root], problems: ['Q'], format: 'plain' });
    expect(Array.from((await v.scorePrefixes(batch)).tokens)).toEqual([0, 0]); // no usage: no count, as before
  });

  it('checks its options at construction, naming the key', () => {
    const base = { model: 'prm', endpoints: ['http://127.0.0.1:1'], problems: ['Q'] };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ format: 'qwen' }, /^format must be 'qwen-prm', 'plain' or a function, got "qwen"/],
      [{ transform: 'logit' }, /^transform must be 'none' or 'sigmoid', got "logit"/],
      [{ emptyPrefixValue: 7 }, /^emptyPrefixValue must be a finite number in \[0, 1\], got 7/],
      [{ emptyPrefixValue: NaN }, /^emptyPrefixValue must be a finite number in \[0, 1\], got NaN/],
      [{ stepTag: '' }, /^stepTag must not be empty/],
      [{ stepTag: 5 }, /^stepTag must be a string/],
      [{ rewardIndex: -1 }, /^rewardIndex must be an integer >= 0/],
      [{ endpoints: [{}] }, /^endpoints\[0\] must be a URL string or \{ baseURL: string \}/],
      [{ endpoints: ['http://127.0.0.1:1', null] }, /^endpoints\[1\] must be a URL string/],
      [{ endpoints: 'http://127.0.0.1:1' }, /^endpoints must be an array/],
      [{ problems: undefined }, /^problems must be an array/],
      [{ problems: ['Q', undefined] }, /^problems\[1\] must be a string or a TextProblem/],
    ];
    for (const [o, message] of bad) {
      expect(() => new VllmPoolingVerifier({ ...base, ...o } as never), JSON.stringify(o)).toThrow(ConfigError);
      expect(() => new VllmPoolingVerifier({ ...base, ...o } as never), JSON.stringify(o)).toThrow(message);
    }
    const lookup = new VllmPoolingVerifier({ ...base, problems: (() => undefined) as never, format: 'plain' });
    expect(() => lookup.input(3, ['a'])).toThrow(PavTypeError);
    expect(() => lookup.input(3, ['a'])).toThrow('problems(3) must return a string, got undefined');
  });

  it('builds the Qwen PRM chat input with a step tag after each step', () => {
    const s = qwenPrmInput('What is 2+2?', ['Add.', 'It is 4.'], '<extra_0>');
    expect(s).toContain('<|im_start|>user\nWhat is 2+2?<|im_end|>');
    expect(s).toContain('<|im_start|>assistant\nAdd.<extra_0>It is 4.<extra_0><|im_end|>');
    expect(plainInput('P', ['a'], '<t>')).toBe('P\na<t>');
  });

  it('lastReward handles the pooling shapes', () => {
    expect(lastReward([[0.9, 0.1], [0.2, 0.8]], 1)).toBe(0.8);
    expect(lastReward([0.3, 0.7], 1)).toBe(0.7);
    expect(lastReward(0.6, 1)).toBe(0.6);
    expect(lastReward([[0.25]], 1)).toBe(0.25);
    expect(lastReward([], 1)).toBeUndefined();
    expect(lastReward('x', 1)).toBeUndefined();
  });
});
