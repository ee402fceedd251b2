// End-to-end: OpenAIPolicy (HTTP, retries, routing) against the OpenAI-compatible policy server,
// with injected delays, resets, stalls and 5xx bursts. The served policy is a tiny deterministic
// PolicyBackend<number> defined here, so every result can be checked against a direct call.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, ErrorCodes, PavError } from '../../src/errors.ts';
import { EndpointCallError } from '../../src/real/endpoints.ts';
import { OpenAIPolicy } from '../../src/real/openai_policy.ts';
import { createPolicyServer, encodeStepPrompt, parseStepPrompt, type FaultOptions, type PolicyServer } from '../../src/real/policy_server.ts';
import type { CompletionBatch, PolicyBackend, StepBatch, StepRequestBatch } from '../../src/search/backends.ts';
import { prefixList } from '../../src/search/prefixes.ts';

const PROBLEMS = 8;

function hash(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) h = Math.imul(h ^ (x >>> 0), 16777619) ^ (h >>> 13);
  return h >>> 0;
}

/** Step j of a request is a function of (seed, problem, prefix, j); 0 ends the response. */
class TinyPolicy implements PolicyBackend<number> {
  readonly name = 'tiny';
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly latencyMs = 0) {}

  private step(problem: number, prefix: readonly number[], seed: number, j: number): number {
    return prefix.length >= 5 ? 0 : hash(seed, problem, j, ...prefix) % 10;
  }

  private async enter<T>(f: () => T): Promise<T> {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.latencyMs) await new Promise((r) => setTimeout(r, this.latencyMs));
      return f();
    } finally {
      this.inFlight--;
    }
  }

  sampleSteps(b: StepRequestBatch<number>): Promise<StepBatch<number>> {
    return this.enter(() => {
      const steps: number[] = [];
      for (let i = 0; i < b.problems.length; i++) {
        if (b.problems[i] >= PROBLEMS) throw new RangeError(`problem ${b.problems[i]} out of range`);
        for (let j = 0; j < b.n; j++) steps.push(this.step(b.problems[i], prefixList(b.prefixes).at(i), b.seeds[i], j));
      }
      return { steps, tokens: new Uint32Array(steps.length).fill(1), finished: Uint8Array.from(steps, (s) => (s === 0 ? 1 : 0)) };
    });
  }

  sampleCompletions(b: StepRequestBatch<number>): Promise<CompletionBatch<number>> {
    return this.enter(() => {
      const completions: number[][] = [];
      for (let i = 0; i < b.problems.length; i++) {
        if (b.problems[i] >= PROBLEMS) throw new RangeError(`problem ${b.problems[i]} out of range`);
        for (let j = 0; j < b.n; j++) {
          const prefix = [...prefixList(b.prefixes).at(i)];
          const out: number[] = [];
          for (;;) {
            const s = this.step(b.problems[i], prefix, b.seeds[i], j);
            out.push(s);
            prefix.push(s);
            if (s === 0) break;
          }
          completions.push(out);
        }
      }
      return { completions, tokens: Uint32Array.from(completions, (c) => c.length) };
    });
  }
}

const parseStep = (t: string) => (/^\d+$/.test(t) ? Number(t) : NaN);
const servers: PolicyServer[] = [];

async function serve(policy: PolicyBackend<number>, faults?: FaultOptions): Promise<PolicyServer> {
  const s = await createPolicyServer({
    policy,
    renderStep: String,
    parseStep,
    parsePrompt: (p) => parseStepPrompt(p, parseStep),
    faults,
  });
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function client(urls: string[], retry: Record<string, number> = {}, extra: Partial<ConstructorParameters<typeof OpenAIPolicy>[0]> = {}) {
  return new OpenAIPolicy({
    model: 'tiny',
    endpoints: urls.map((u) => ({ baseURL: u, maxConcurrency: 4 })),
    problems: Array.from({ length: PROBLEMS + 2 }, (_, p) => `problem: ${p}`),
    retry: { maxAttempts: 30, baseDelayMs: 1, maxDelayMs: 20, timeoutMs: 5000, ...retry },
    ...extra,
  });
}

/** A batch over every problem with assorted prefixes, string form for the HTTP client. */
function batch(n: number, seedBase = 7): { num: StepRequestBatch<number>; text: StepRequestBatch<string> } {
  const problems = Uint32Array.from({ length: PROBLEMS }, (_, i) => i);
  const prefixes = Array.from(problems, (p) => Array.from({ length: p % 4 }, (_, k) => (p + k) % 9 + 1));
  const seeds = Uint32Array.from(problems, (p) => seedBase * 1000 + p);
  return {
    num: { problems, prefixes, n, seeds },
    text: { problems, prefixes: prefixes.map((x) => x.map(String)), n, seeds },
  };
}

describe('policy server protocol', () => {
  it('serves /v1/models and one-step completions in the OpenAI shape', async () => {
    const s = await serve(new TinyPolicy());
    const models = (await (await fetch(`${s.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0].id).toBe('tiny');
    const res = await fetch(`${s.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny', prompt: encodeStepPrompt(3, ['4', '2']), n: 3, stop: ['\n\n'], seed: 11, max_tokens: 8 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; choices: { finish_reason: string; stop_reason: unknown; text: string }[]; usage: { completion_tokens: number } };
    expect(body.object).toBe('text_completion');
    expect(body.choices).toHaveLength(3);
    for (const c of body.choices) {
      expect(c.finish_reason).toBe('stop');
      expect(c.stop_reason === null || c.stop_reason === '\n\n').toBe(true);
      expect(c.text).toMatch(/^\d$/);
    }
    expect(body.usage.completion_tokens).toBe(3);
  });

  it('answers bad requests with 4xx in the OpenAI error shape', async () => {
    const s = await serve(new TinyPolicy());
    const post = (body: unknown) =>
      fetch(`${s.url}/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect((await post('{nope')).status).toBe(400);
    expect((await post({ prompt: 'hello' })).status).toBe(400);
    expect((await post({ prompt: encodeStepPrompt(0, []), n: 0 })).status).toBe(400);
    expect((await post({ prompt: encodeStepPrompt(0, []), model: 'other' })).status).toBe(404);
    expect((await post({ prompt: encodeStepPrompt(99, []) })).status).toBe(400); // policy RangeError
    // Indices past 2^32 wrapped in the problems array and served problem 1's (or 0's) samples.
    for (const big of ['4294967297', '4294967296', '9'.repeat(40)]) {
      const w = await post({ prompt: `problem: ${big}\n\n` });
      expect(w.status, big).toBe(400);
      expect(((await w.json()) as { error: { param: string } }).error.param).toBe('prompt');
    }
    const r = await post({ prompt: encodeStepPrompt(0, ['x']) });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { param: string } }).error.param).toBe('prompt');
    expect((await fetch(`${s.url}/nothing`)).status).toBe(404);
    expect((await fetch(`${s.url}/completions`)).status).toBe(405);
  });

  it('validates its options, naming the option', async () => {
    const make = (extra: Record<string, unknown>) =>
      createPolicyServer({ policy: new TinyPolicy(), renderStep: String, parseStep, parsePrompt: (p) => parseStepPrompt(p, parseStep), ...extra });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ faults: { seed: 1, errorStatus: 99 } }, /^faults\.errorStatus must be an integer in \[400, 599\], got 99/],
      [{ faults: { seed: 1, errorStatus: 200 } }, /^faults\.errorStatus must be/],
      [{ faults: { seed: 1, errorStatus: 503.5 } }, /^faults\.errorStatus must be/],
      [{ faults: { seed: 1, delayMs: Infinity } }, /^faults\.delayMs must be a finite number in \[0, 2147483647\], got Infinity/],
      [{ faults: { seed: 1, delayMs: -5 } }, /^faults\.delayMs must be/],
      [{ faults: { seed: 1, errorBurst: 0 } }, /^faults\.errorBurst must be an integer >= 1/],
      [{ faults: { seed: 1, resetRate: '0.5' } }, /^faults\.resetRate must be a finite number in \[0, 1\], got "0\.5"/],
      [{ faults: { seed: 1.5 } }, /^faults\.seed must be an integer/],
      [{ maxN: 0 }, /^maxN must be an integer >= 1, got 0/],
      [{ maxBodyBytes: NaN }, /^maxBodyBytes must be/],
      [{ port: 70000 }, /^port must be an integer in \[0, 65535\]/],
      [{ delimiter: '' }, /^delimiter must be a non-empty string/],
    ];
    for (const [extra, msg] of cases) {
      const err = await make(extra).then((s) => (servers.push(s), undefined), (e) => e);
      expect(err, JSON.stringify(extra)).toBeInstanceOf(ConfigError);
      expect(err.message).toMatch(msg);
    }
  });

  it('binds loopback only', async () => {
    await expect(createPolicyServer({ policy: new TinyPolicy(), renderStep: String, parseStep, parsePrompt: (p) => parseStepPrompt(p, parseStep), host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(/loopback/);
  });
});

describe('OpenAIPolicy against the policy server', () => {
  it('returns exactly what the served policy returns (steps, finished, tokens)', async () => {
    const policy = new TinyPolicy();
    const s = await serve(policy);
    const { num, text } = batch(4);
    const direct = await policy.sampleSteps(num);
    const http = await client([s.url]).sampleSteps(text);
    expect(http.steps.map(Number)).toEqual(direct.steps);
    expect(Array.from(http.finished)).toEqual(Array.from(direct.finished));
    expect(Array.from(http.tokens)).toEqual(Array.from(direct.tokens));

    const dc = await policy.sampleCompletions(num);
    const hc = await client([s.url]).sampleCompletions(text);
    expect(hc.completions.map((c) => c.map(Number))).toEqual(dc.completions);
    // Per-choice token counts are not in the response: usage is split evenly, the total is exact.
    const sum = (a: Uint32Array) => a.reduce((x, y) => x + y, 0);
    for (let r = 0; r < PROBLEMS; r++) expect(sum(hc.tokens.subarray(r * 4, r * 4 + 4))).toBe(sum(dc.tokens.subarray(r * 4, r * 4 + 4)));
  });

  it('loses and duplicates nothing under delays, resets and 5xx bursts', async () => {
    const clean = await serve(new TinyPolicy());
    const faulty = await serve(new TinyPolicy(), { seed: 5, delayMs: 15, resetRate: 0.2, errorRate: 0.15, errorBurst: 3, errorStatus: 503 });
    const retries: string[] = [];
    for (const seedBase of [1, 2, 3]) {
      const { text } = batch(3, seedBase);
      const want = await client([clean.url]).sampleSteps(text);
      const got = await client([faulty.url], {}, { onRetry: (i) => retries.push(i.reason) }).sampleSteps(text);
      expect(got.steps).toEqual(want.steps);
      expect(Array.from(got.finished)).toEqual(Array.from(want.finished));
      const wantC = await client([clean.url]).sampleCompletions(text);
      const gotC = await client([faulty.url]).sampleCompletions(text);
      expect(gotC.completions).toEqual(wantC.completions);
    }
    expect(faulty.stats.resets).toBeGreaterThan(0);
    expect(faulty.stats.injectedErrors).toBeGreaterThan(0);
    expect(retries.some((r) => r.startsWith('HTTP 503'))).toBe(true);
    expect(retries.some((r) => r.startsWith('connection error'))).toBe(true);
    // Every request the server answered was one the client asked for: 48 (8 problems x 3 seeds x 2 kinds) succeeded.
    expect(faulty.stats.completed).toBe(48);
  });

  it('fails a call after its retries with the endpoint, status and attempts in the error', async () => {
    const s = await serve(new TinyPolicy(), { seed: 1, errorRate: 1, errorStatus: 502 });
    const p = client([s.url], { maxAttempts: 3 });
    const err = await p.sampleSteps(batch(2).text).catch((e) => e);
    expect(err).toBeInstanceOf(EndpointCallError);
    expect(err.retryable).toBe(true);
    expect(err.status).toBe(502);
    expect(err.attempts).toBe(3);
    expect(err.endpoint).toBe(s.url);
    expect(err.message).toContain(s.url);
    expect(err.message).toMatch(/after 3 attempts; last error: HTTP 502/);
  });

  it('does not retry 400 and 404', async () => {
    const s = await serve(new TinyPolicy());
    const bad = client([s.url]);
    const e400 = await bad.sampleSteps({ problems: Uint32Array.of(PROBLEMS + 1), prefixes: [[]], n: 1, seeds: Uint32Array.of(1) }).catch((e) => e);
    expect(e400).toBeInstanceOf(EndpointCallError);
    expect(e400.retryable).toBe(false);
    expect(e400.status).toBe(400);
    expect(e400.attempts).toBe(1);
    const wrongModel = new OpenAIPolicy({ model: 'nope', endpoints: [s.url], problems: ['problem: 0'], retry: { maxAttempts: 5 } });
    const e404 = await wrongModel.sampleSteps({ problems: Uint32Array.of(0), prefixes: [[]], n: 1, seeds: Uint32Array.of(1) }).catch((e) => e);
    expect(e404.status).toBe(404);
    expect(e404.attempts).toBe(1);
    expect(e404.message).toMatch(/not retried/);
    expect(s.stats.requests).toBe(2);
  });

  it('honours the per-attempt timeout on a stalled server', async () => {
    const s = await serve(new TinyPolicy(), { seed: 2, stallRate: 1 });
    const t = performance.now();
    const err = await client([s.url], { timeoutMs: 150, maxAttempts: 2 }).sampleSteps(batch(1).text).catch((e) => e);
    const took = performance.now() - t;
    expect(err).toBeInstanceOf(EndpointCallError);
    expect(err.message).toMatch(/timeout after 150 ms/);
    expect(err.attempts).toBe(2);
    expect(took).toBeLessThan(2000);
  });

  it('fails over from a dead endpoint and spreads load over live ones within their limits', async () => {
    const dead = await serve(new TinyPolicy(), { seed: 3, resetRate: 1 });
    const a = new TinyPolicy(20);
    const b = new TinyPolicy(20);
    const sa = await serve(a);
    const sb = await serve(b);
    const p = new OpenAIPolicy({
      model: 'tiny',
      endpoints: [dead.url, sa.url, sb.url].map((baseURL) => ({ baseURL, maxConcurrency: 2 })),
      problems: Array.from({ length: PROBLEMS }, (_, i) => `problem: ${i}`),
      // While both live endpoints are full a retry may land on the dead one again (it counts as full
      // only while another has room), and with 1-5 ms backoffs a slow machine can spend 4 attempts
      // there before a live slot frees: 10 keeps the test about failover, not about timing.
      retry: { maxAttempts: 10, baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 5000 },
    });
    const { text } = batch(2);
    const want = await client([sa.url]).sampleSteps(text);
    a.calls = 0;
    a.maxInFlight = 0;
    const got = await p.sampleSteps(text);
    expect(got.steps).toEqual(want.steps);
    expect(a.calls).toBeGreaterThan(0);
    expect(b.calls).toBeGreaterThan(0);
    expect(a.maxInFlight).toBeLessThanOrEqual(2);
    expect(b.maxInFlight).toBeLessThanOrEqual(2);
    const stats = p.pool.stats();
    expect(stats.every((e) => e.inFlight === 0)).toBe(true);
    expect(stats[0].failures).toBe(stats[0].requests);
  });

  it('stops at once when aborted', async () => {
    const s = await serve(new TinyPolicy(), { seed: 4, stallRate: 1 });
    const ctl = new AbortController();
    const t = performance.now();
    const pending = client([s.url], { timeoutMs: 10_000 }).sampleSteps({ ...batch(1).text, signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(PavError);
    expect(err.code).toBe(ErrorCodes.ABORTED);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('in per-sample seed mode, sample j does not depend on n', async () => {
    const s = await serve(new TinyPolicy());
    const p = client([s.url], {}, { seedMode: 'sample' });
    const b2 = batch(2).text;
    const b4 = batch(4).text;
    const r2 = await p.sampleSteps(b2);
    const r4 = await p.sampleSteps(b4);
    for (let i = 0; i < PROBLEMS; i++) expect(r4.steps.slice(i * 4, i * 4 + 2)).toEqual(r2.steps.slice(i * 2, i * 2 + 2));
  });
});
