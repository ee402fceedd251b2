// OpenAIPolicy request/response handling against a scripted node:http fake, and EndpointPool's
// routing and retry rules with plain functions (no HTTP).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendError, ConfigError, ErrorCodes } from '../../src/errors.ts';
import { EndpointCallError, EndpointPool, HttpStatusError, classifyError } from '../../src/real/endpoints.ts';
import { OpenAIPolicy, splitTokens, stepFinished } from '../../src/real/openai_policy.ts';

type Handler = (body: Record<string, unknown>, req: IncomingMessage, res: ServerResponse) => void;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function fake(handler: Handler): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      const body = JSON.parse(text || '{}');
      bodies.push(body);
      handler(body, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const one = (seed = 1) => ({ problems: Uint32Array.of(0), prefixes: [['Step one.', 'Step two.']], n: 2, seeds: Uint32Array.of(seed) });

describe('stepFinished', () => {
  const stops = ['\n\n'];
  it('reads vLLM stop_reason and SGLang matched_stop', () => {
    expect(stepFinished({ index: 0, text: 'a', finish_reason: 'stop', stop_reason: '\n\n' }, stops)).toBe(false);
    expect(stepFinished({ index: 0, text: 'a', finish_reason: 'stop', stop_reason: null }, stops)).toBe(true);
    expect(stepFinished({ index: 0, text: 'a', finish_reason: 'stop', stop_reason: 151645 }, stops)).toBe(true);
    expect(stepFinished({ index: 0, text: 'a', finish_reason: 'stop', matched_stop: '\n\n' }, stops)).toBe(false);
    expect(stepFinished({ index: 0, text: 'a', finish_reason: 'stop', matched_stop: 151643 }, stops)).toBe(true);
    expect(stepFinished({ index: 0, text: 'a', finish_reason: 'length', stop_reason: null }, stops)).toBe(true);
  });
  it('falls back to a heuristic without either field', () => {
    expect(stepFinished({ index: 0, text: 'Add 2 and 3.', finish_reason: 'stop' }, stops)).toBe(false);
    expect(stepFinished({ index: 0, text: 'So it is \\boxed{5}.', finish_reason: 'stop' }, stops)).toBe(true);
    expect(stepFinished({ index: 0, text: 'The answer is 5', finish_reason: 'stop' }, stops)).toBe(true);
    expect(stepFinished({ index: 0, text: '', finish_reason: 'stop' }, stops)).toBe(true);
  });
});

describe('splitTokens', () => {
  it('splits usage evenly with the remainder first, or counts logprobs tokens', () => {
    const c = (tokens?: unknown[]) => ({ index: 0, text: '', finish_reason: 'stop', logprobs: tokens ? { tokens } : null });
    expect(splitTokens([c(), c(), c()], 10)).toEqual([4, 3, 3]);
    expect(splitTokens([c(), c()], undefined)).toEqual([0, 0]);
    expect(splitTokens([c(['a', 'b']), c(['c'])], 10)).toEqual([2, 1]);
  });

  it('rejects usage counts that would wrap or truncate in a Uint32Array', () => {
    const c = () => ({ index: 0, text: '', finish_reason: 'stop' });
    expect(splitTokens([c()], 2 ** 32 - 1)).toEqual([2 ** 32 - 1]);
    expect(splitTokens([c(), c()], 2 ** 33 - 2)).toEqual([2 ** 32 - 1, 2 ** 32 - 1]);
    for (const bad of [1e10, 2 ** 33 - 1, -1, 2.5, NaN, Infinity, '7']) {
      const err = (() => { try { splitTokens([c(), c()], bad); } catch (e) { return e; } })() as BackendError;
      expect(err).toBeInstanceOf(BackendError);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/reported usage\.completion_tokens /);
    }
  });
});

describe('OpenAIPolicy requests', () => {
  it('sends prompt = problem + steps joined by the delimiter, stop, n, seed, max_tokens', async () => {
    const f = await fake((body, _req, res) =>
      json(res, 200, {
        id: 'x', object: 'text_completion', created: 0, model: 'm',
        choices: [
          { index: 1, text: 'So \\boxed{3}.', finish_reason: 'stop', stop_reason: null, logprobs: null },
          { index: 0, text: 'Next, add.', finish_reason: 'stop', stop_reason: '\n\n', logprobs: null },
        ],
        usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 },
      }),
    );
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['What is 1+2?'], maxStepTokens: 64, temperature: 0.7, extraBody: { top_k: 20 } });
    const r = await p.sampleSteps(one(42));
    expect(f.bodies[0]).toMatchObject({
      model: 'm', prompt: 'What is 1+2?\n\nStep one.\n\nStep two.\n\n', n: 2, seed: 42, max_tokens: 64, stop: ['\n\n'], temperature: 0.7, top_k: 20,
    });
    expect(r.steps).toEqual(['Next, add.', 'So \\boxed{3}.']); // ordered by choice index
    expect(Array.from(r.finished)).toEqual([0, 1]);
    expect(Array.from(r.tokens)).toEqual([5, 4]);
  });

  it('samples completions without a stop string and splits them into steps', async () => {
    const f = await fake((_b, _req, res) =>
      json(res, 200, {
        choices: [
          { index: 0, text: 'Add.\n\nSo 3.\n\n\\boxed{3}', finish_reason: 'stop', stop_reason: null },
          { index: 1, text: 'Hmm', finish_reason: 'length', stop_reason: null },
        ],
        usage: { completion_tokens: 30 },
      }),
    );
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P'], maxCompletionTokens: 100 });
    const r = await p.sampleCompletions(one());
    expect(f.bodies[0].stop).toBeUndefined();
    expect(f.bodies[0].max_tokens).toBe(100);
    expect(r.completions).toEqual([['Add.', 'So 3.', '\\boxed{3}'], ['Hmm']]);
    expect(Array.from(r.tokens)).toEqual([15, 15]);
  });

  it('retries 429 and 5xx, honouring retry-after, then succeeds', async () => {
    let calls = 0;
    const f = await fake((_b, _req, res) => {
      calls++;
      if (calls === 1) return json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '0.05' });
      if (calls === 2) return json(res, 500, { error: { message: 'oops' } });
      json(res, 200, { choices: [{ index: 0, text: 'ok', finish_reason: 'stop', stop_reason: '\n\n' }, { index: 1, text: 'ok', finish_reason: 'stop', stop_reason: '\n\n' }], usage: { completion_tokens: 2 } });
    });
    const delays: number[] = [];
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P'], retry: { baseDelayMs: 1, maxDelayMs: 1000 }, onRetry: (i) => delays.push(i.delayMs) });
    const t = performance.now();
    const r = await p.sampleSteps(one());
    expect(r.steps).toEqual(['ok', 'ok']);
    expect(calls).toBe(3);
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(performance.now() - t).toBeGreaterThanOrEqual(45);
  });

  it('fails at once on 401 with a clear message', async () => {
    const f = await fake((_b, _req, res) => json(res, 401, { error: { message: 'invalid api key' } }));
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P'] });
    const err = await p.sampleSteps(one()).catch((e) => e);
    expect(err).toBeInstanceOf(EndpointCallError);
    expect(err).toBeInstanceOf(BackendError);
    expect(err.retryable).toBe(false);
    expect(err.attempts).toBe(1);
    expect(err.message).toMatch(/HTTP 401.*invalid api key.*not retried/);
    expect(f.bodies).toHaveLength(1);
  });

  it('retries a response with the wrong number of choices', async () => {
    let calls = 0;
    const f = await fake((_b, _req, res) => {
      calls++;
      const choices = [{ index: 0, text: 'a', finish_reason: 'stop', stop_reason: '\n\n' }];
      if (calls > 1) choices.push({ index: 1, text: 'b', finish_reason: 'stop', stop_reason: '\n\n' });
      json(res, 200, { choices, usage: { completion_tokens: 2 } });
    });
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P'], retry: { baseDelayMs: 1 } });
    expect((await p.sampleSteps(one())).steps).toEqual(['a', 'b']);
    expect(calls).toBe(2);
    // A server that always answers one choice (it ignores n): the error says what to set.
    const g = await fake((_b, _req, res) => json(res, 200, { choices: [{ index: 0, text: 'a', finish_reason: 'stop' }], usage: { completion_tokens: 1 } }));
    const q = new OpenAIPolicy({ model: 'm', endpoints: [g.url], problems: ['P'], retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 } });
    await expect(q.sampleSteps(one())).rejects.toThrow(/returned 1 choices for n=2 \(a server that ignores n.*seedMode: sample/);
  });

  it('rejects malformed choices and usage as retryable backend errors naming the choice or field', async () => {
    const replies: unknown[] = [
      { choices: [{ index: 0, text: 5, finish_reason: 'length' }, { index: 1, text: null, finish_reason: 'length' }], usage: { completion_tokens: 2 } },
      { choices: [{ index: 0, text: 'a', finish_reason: 'stop' }, { index: 1, finish_reason: 'stop' }], usage: { completion_tokens: 2 } },
      { error: 'no choices here' },
      { choices: [{ index: 0, text: 'a', finish_reason: 'stop' }, { index: 0, text: 'b', finish_reason: 'stop' }] },
      { choices: [null, { index: 1, text: 'b', finish_reason: 'stop' }] },
      { choices: [{ index: 0, text: 'a', finish_reason: 'length' }, { index: 1, text: 'b', finish_reason: 'length' }], usage: { completion_tokens: 1e10 } },
    ];
    const want = [
      /choice 0 with text 5, not a string/,
      /choice 1 with no text/,
      /reply without a choices array \(choices: undefined\)/,
      /choices\[1\] with index 0: expected each of 0\.\.1 once/,
      /choices\[0\] = null, not an object/,
      /usage\.completion_tokens 10000000000/,
    ];
    let reply = 0;
    const f = await fake((_b, _req, res) => json(res, 200, replies[reply]));
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P'], retry: { maxAttempts: 1 } });
    for (; reply < replies.length; reply++) {
      for (const call of [() => p.sampleSteps(one()), () => p.sampleCompletions(one())]) {
        const err = await call().catch((e) => e);
        expect(err).toBeInstanceOf(EndpointCallError);
        expect(err.retryable).toBe(true);
        expect(err.message).toMatch(want[reply]);
      }
    }
    // Retryable: the next attempt's good reply is used.
    let calls = 0;
    const g = await fake((_b, _req, res) => {
      const ok = calls++ > 0;
      json(res, 200, { choices: [{ index: 0, text: ok ? 'a' : 5, finish_reason: 'stop' }, { index: 1, text: 'b', finish_reason: 'stop' }], usage: { completion_tokens: 2 } });
    });
    const q = new OpenAIPolicy({ model: 'm', endpoints: [g.url], problems: ['P'], retry: { baseDelayMs: 1, maxDelayMs: 1 } });
    expect((await q.sampleSteps(one())).steps).toEqual(['a', 'b']);
    expect(calls).toBe(2);
    // A server that leaves out every index answers in order; one that leaves out some is malformed.
    const h = await fake((_b, _req, res) => json(res, 200, { choices: [{ text: 'x', finish_reason: 'stop' }, { text: 'y', finish_reason: 'stop' }], usage: { completion_tokens: 2 } }));
    const r = new OpenAIPolicy({ model: 'm', endpoints: [h.url], problems: ['P'] });
    expect((await r.sampleSteps(one())).steps).toEqual(['x', 'y']);
    const k = await fake((_b, _req, res) => json(res, 200, { choices: [{ text: 'x', finish_reason: 'stop' }, { index: 0, text: 'y', finish_reason: 'stop' }] }));
    const s = new OpenAIPolicy({ model: 'm', endpoints: [k.url], problems: ['P'], retry: { maxAttempts: 1 } });
    await expect(s.sampleSteps(one())).rejects.toThrow(/choices\[0\] with index undefined/);
  });

  it('aborts the rest of a batch when one request fails, and reports that failure', async () => {
    const timers = new Set<NodeJS.Timeout>();
    closers.push(async () => timers.forEach(clearTimeout));
    let cancelled = 0;
    const f = await fake((body, _req, res) => {
      if (body.prompt === 'P1\n\n') return json(res, 400, { error: { message: 'bad prompt' } });
      res.on('close', () => { if (!res.writableEnded) cancelled++; });
      const choices = Array.from({ length: body.n as number }, (_, i) => ({ index: i, text: 'x', finish_reason: 'stop', stop_reason: '\n\n' }));
      const t = setTimeout(() => json(res, 200, { choices, usage: { completion_tokens: 1 } }), 1500);
      timers.add(t);
    });
    const batch = { problems: Uint32Array.of(0, 1, 2, 3), prefixes: [[], [], [], []], n: 2, seeds: Uint32Array.of(1, 2, 3, 4) };
    for (const seedMode of ['request', 'sample'] as const) {
      cancelled = 0;
      const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P0', 'P1', 'P2', 'P3'], seedMode });
      const err = await p.sampleSteps(batch).catch((e) => e);
      expect(err).toBeInstanceOf(EndpointCallError);
      expect(err.status).toBe(400);
      // The siblings' requests are cancelled and their endpoint slots freed, long before they would end.
      const siblings = seedMode === 'request' ? 3 : 6;
      await vi.waitFor(() => {
        expect(p.pool.stats()[0].inFlight).toBe(0);
        expect(cancelled).toBe(siblings);
      }, { timeout: 500, interval: 5 });
      expect(p.pool.stats()[0].failures).toBe(1); // the aborted siblings do not count against the endpoint
    }
    // The caller's own abort still surfaces as an abort.
    const ctl = new AbortController();
    const p = new OpenAIPolicy({ model: 'm', endpoints: [f.url], problems: ['P0', 'P1', 'P2', 'P3'] });
    const pending = p.sampleSteps({ ...batch, problems: Uint32Array.of(0, 2, 3, 0), signal: ctl.signal }).catch((e) => e);
    setTimeout(() => ctl.abort(), 30);
    expect((await pending).code).toBe(ErrorCodes.ABORTED);
  });

  it('validates every option at construction, naming the key', () => {
    const base = { model: 'm', endpoints: ['http://127.0.0.1:1/v1'], problems: ['P'] };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ maxStepTokens: NaN }, /^maxStepTokens must be an integer >= 1, got NaN/],
      [{ maxStepTokens: -1 }, /^maxStepTokens must be/],
      [{ maxStepTokens: 1.5 }, /^maxStepTokens must be/],
      [{ maxCompletionTokens: 0 }, /^maxCompletionTokens must be/],
      [{ maxCompletionTokens: '100' }, /^maxCompletionTokens must be .*got "100"/],
      [{ seedMode: 'samples' }, /^seedMode must be 'request' or 'sample', got "samples"/],
      [{ temperature: NaN }, /^temperature must be a finite number >= 0, got NaN/],
      [{ temperature: -0.5 }, /^temperature must be/],
      [{ topP: 0 }, /^topP must be in \(0, 1\]/],
      [{ topP: 1.5 }, /^topP must be/],
      [{ delimiter: 5 }, /^delimiter must be a string, got 5/],
      [{ template: 'x' }, /^template must be a function/],
      [{ extraBody: [] }, /^extraBody must be an object/],
      [{ model: 5 }, /^model must be a string/],
      [{ name: 5 }, /^name must be a string/],
    ];
    for (const [extra, msg] of cases) expect(() => new OpenAIPolicy({ ...base, ...extra } as never), JSON.stringify(extra)).toThrow(msg);
    for (const [extra] of cases) expect(() => new OpenAIPolicy({ ...base, ...extra } as never)).toThrow(ConfigError);
    expect(new OpenAIPolicy({ ...base, maxStepTokens: 1, temperature: 0, topP: 1, seedMode: 'sample' }).name).toBe('openai:m');
  });

  it('validates its configuration and batches', async () => {
    expect(() => new OpenAIPolicy({ model: '', endpoints: ['http://127.0.0.1:1/v1'], problems: [] })).toThrow(ConfigError);
    expect(() => new OpenAIPolicy({ model: 'm', endpoints: [], problems: [] })).toThrow(ConfigError);
    expect(() => new OpenAIPolicy({ model: 'm', endpoints: ['not a url'], problems: [] })).toThrow(/not a URL/);
    const p = new OpenAIPolicy({ model: 'm', endpoints: ['http://127.0.0.1:1/v1'], problems: ['P'] });
    await expect(p.sampleSteps({ ...one(), n: 0 })).rejects.toThrow(RangeError);
    await expect(p.sampleSteps({ ...one(), seeds: new Uint32Array(0) })).rejects.toThrow(/seeds.length/);
    expect(() => p.prompt(3, [])).toThrow(RangeError);
  });
});

describe('EndpointPool', () => {
  const pool = (n: number, limit: number, retry = {}) =>
    new EndpointPool(Array.from({ length: n }, (_, i) => ({ baseURL: `http://10.0.0.${i}:8000/v1`, maxConcurrency: limit })), {
      retry: { baseDelayMs: 1, maxDelayMs: 4, ...retry },
      random: () => 0.5,
    });

  it('routes to the least-loaded endpoint and queues beyond the limits', async () => {
    const p = pool(2, 2);
    let inFlight = 0;
    let peak = 0;
    const used: string[] = [];
    await Promise.all(
      Array.from({ length: 12 }, () =>
        p.run('x', async (ep) => {
          used.push(ep.config.baseURL);
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 10));
          inFlight--;
        }),
      ),
    );
    expect(peak).toBe(4);
    expect(used.filter((u) => u.includes('.0:')).length).toBe(6);
    expect(p.stats().map((s) => s.requests)).toEqual([6, 6]);
  });

  it('takes an endpoint that keeps failing out of the rotation, then probes it after the cooldown', async () => {
    let clock = 0;
    const p = new EndpointPool(['http://10.0.0.1:8000/v1', 'http://10.0.0.2:8000/v1'], {
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 5 },
      circuit: { failures: 2, cooldownMs: 40, maxCooldownMs: 1000 },
      random: () => 0.5,
      now: () => clock,
    });
    let deadUp = false; // the first endpoint refuses connections until this turns true
    const call = () =>
      p.run('x', async (ep) => {
        if (ep.config.baseURL.includes('.1:') && !deadUp) throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) });
        return ep.config.baseURL;
      });
    // One at a time, so each first attempt goes to the least-used endpoint: the dead one until it is out.
    for (let i = 0; i < 20; i++) expect(await call()).toContain('.2:');
    expect(p.stats()[0]).toMatchObject({ requests: 2, failures: 2, down: true });
    expect(p.stats()[1].requests).toBe(20);
    // After the cooldown one call probes it: it failed again, so it is out for twice as long.
    clock = 40;
    expect(await call()).toContain('.2:');
    expect(p.stats()[0]).toMatchObject({ requests: 3, down: true });
    // Back up: after the (doubled) cooldown the probe succeeds and the endpoint rejoins the rotation.
    deadUp = true;
    clock = 79;
    expect(await call()).toContain('.2:');
    clock = 120;
    const served = await Promise.all(Array.from({ length: 6 }, () => call()));
    expect(served.filter((u) => u.includes('.1:')).length).toBeGreaterThan(0);
    expect(p.stats()[0].down).toBe(false);
    // When every endpoint is out, calls still go to them (errors surface through the retry budget).
    const q = new EndpointPool(['http://10.0.0.3:8000/v1'], { retry: { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 4 }, circuit: { failures: 1 } });
    await expect(q.run('y', async () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } })))).rejects.toThrow(/after 4 attempts/);
    // A 500 belongs to the request as often as to the server: it never takes an endpoint out.
    const r = new EndpointPool(['http://10.0.0.4:8000/v1', 'http://10.0.0.5:8000/v1'], { retry: { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 6 }, circuit: { failures: 1 } });
    await expect(r.run('z', async () => Promise.reject(new HttpStatusError(500, 'boom')))).rejects.toThrow(/after 6 attempts/);
    expect(r.stats().map((e) => e.down)).toEqual([false, false]);
    expect(() => new EndpointPool(['http://a/v1'], { circuit: { failures: -1 } })).toThrow(/circuit.failures must be an integer >= 0/);
    expect(() => new EndpointPool(['http://a/v1'], { circuit: { cooldownMs: 10, maxCooldownMs: 5 } })).toThrow(/circuit.cooldownMs must be <= circuit.maxCooldownMs/);
  });

  it('wakes calls waiting for a slot when an endpoint rejoins after its cooldown', async () => {
    const p = new EndpointPool([{ baseURL: 'http://10.0.1.1/v1', maxConcurrency: 1 }, { baseURL: 'http://10.0.1.2/v1', maxConcurrency: 1 }], {
      retry: { baseDelayMs: 1, maxDelayMs: 1, maxAttempts: 3 },
      circuit: { failures: 1, cooldownMs: 30, maxCooldownMs: 30 },
    });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // The first endpoint is held by a long call.
    const long = p.run('long', async () => held.then(() => 'long'));
    // The next call goes to the second, which answers 503 once and leaves the rotation; its retry finds
    // no endpoint to take and waits; the second endpoint's return after the cooldown wakes it.
    let attempts = 0;
    const t0 = performance.now();
    const next = await p.run('next', async (ep) => {
      if (attempts++ === 0) throw new HttpStatusError(503, 'down');
      return ep.config.baseURL;
    });
    expect(next).toBe('http://10.0.1.2/v1');
    expect(attempts).toBe(2);
    expect(performance.now() - t0).toBeLessThan(1000); // not held until the long call ends
    expect(p.stats().map((e) => e.down)).toEqual([false, false]);
    release();
    expect(await long).toBe('long');
  });

  it('moves a retry to another endpoint', async () => {
    const p = pool(2, 4);
    const seen: string[] = [];
    const r = await p.run('x', async (ep) => {
      seen.push(ep.config.baseURL);
      if (seen.length === 1) throw new HttpStatusError(503, 'busy');
      return 7;
    });
    expect(r).toBe(7);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('classifies errors', () => {
    expect(classifyError(new HttpStatusError(400, 'bad'), 1).retryable).toBe(false);
    expect(classifyError(new HttpStatusError(404, 'no'), 1).retryable).toBe(false);
    expect(classifyError(new HttpStatusError(408, 't'), 1).retryable).toBe(true);
    expect(classifyError(new HttpStatusError(429, 'r'), 1).retryable).toBe(true);
    expect(classifyError(new HttpStatusError(503, 'u'), 1).retryable).toBe(true);
    expect(classifyError(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }), 1).reason).toMatch(/ECONNRESET/);
    expect(classifyError(new BackendError('bad reward', false), 1).retryable).toBe(false);
  });

  it('bounds backoff by the cap and gives up after maxAttempts', async () => {
    const delays: number[] = [];
    const p = new EndpointPool(['http://10.0.0.1/v1'], {
      retry: { maxAttempts: 6, baseDelayMs: 2, maxDelayMs: 8 },
      random: () => 0.999,
      onRetry: (i) => delays.push(i.delayMs),
    });
    const err = await p.run('x', async () => { throw new HttpStatusError(502, 'bad gateway'); }).catch((e) => e);
    expect(err.attempts).toBe(6);
    expect(delays).toHaveLength(5);
    delays.forEach((d, k) => expect(d).toBeLessThanOrEqual(Math.min(8, 2 * 2 ** k)));
    expect(delays[4]).toBeGreaterThan(7.9);
  });
});
