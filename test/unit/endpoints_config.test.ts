// EndpointPool's construction checks: malformed endpoint lists, and retry and circuit options that
// Node timers cannot hold (they would fire after 1 ms instead of never).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { EndpointPool, endpointPoolFrom } from '../../src/real/endpoints.ts';
import { OpenAIPolicy } from '../../src/real/openai_policy.ts';
import { VllmPoolingVerifier } from '../../src/real/vllm_pooling_verifier.ts';

const bad = (f: () => unknown): ConfigError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('EndpointPool configuration', () => {
  it('rejects malformed endpoints, naming endpoints[i]', () => {
    expect(bad(() => new EndpointPool('http://x' as never)).message).toMatch(/^endpoints must be a non-empty array.*got "http:\/\/x"/);
    expect(bad(() => new EndpointPool(undefined as never)).message).toMatch(/^endpoints must be a non-empty array/);
    expect(bad(() => new EndpointPool([])).message).toMatch(/^endpoints must be a non-empty array/);
    expect(bad(() => new EndpointPool([null as never])).message).toMatch(/^endpoints\[0\] must be a base URL or a \{ baseURL \} object, got null/);
    expect(bad(() => new EndpointPool(['http://a/v1', 5 as never])).message).toMatch(/^endpoints\[1\] must be/);
    expect(bad(() => new EndpointPool([{} as never])).message).toMatch(/^endpoints\[0\]\.baseURL must be a string, got undefined/);
    expect(bad(() => new EndpointPool([{ baseURL: 'http://a/v1', apiKey: 5 as never }])).message).toMatch(/^endpoints\[0\]\.apiKey must be a string/);
    expect(bad(() => new EndpointPool([{ baseURL: 'http://a/v1', maxConcurrency: '3' as never }])).message).toMatch(/^endpoints\[0\]\.maxConcurrency must be a positive integer, got "3"/);
  });

  it('rejects retry and circuit values that are not finite numbers in range, naming the key', () => {
    const pool = (options: ConstructorParameters<typeof EndpointPool>[1]) => () => new EndpointPool(['http://a/v1'], options);
    for (const timeoutMs of [Infinity, 3e9, 0, NaN, '100'])
      expect(bad(pool({ retry: { timeoutMs: timeoutMs as number } })).message).toMatch(/^retry\.timeoutMs must be a finite number in \[1, 2147483647\]/);
    for (const v of [NaN, -1, '5', Infinity]) {
      expect(bad(pool({ retry: { baseDelayMs: v as number } })).message).toMatch(/^retry\.baseDelayMs must be/);
      expect(bad(pool({ retry: { maxDelayMs: v as number } })).message).toMatch(/^retry\.maxDelayMs must be/);
      expect(bad(pool({ circuit: { cooldownMs: v as number } })).message).toMatch(/^circuit\.cooldownMs must be/);
      expect(bad(pool({ circuit: { maxCooldownMs: v as number } })).message).toMatch(/^circuit\.maxCooldownMs must be/);
    }
    expect(bad(pool({ retry: { maxAttempts: '3' as never } })).message).toMatch(/^retry\.maxAttempts must be an integer >= 1, got "3"/);
    expect(bad(pool({ circuit: { failures: 1.5 } })).message).toMatch(/^circuit\.failures must be an integer >= 0/);
    // The largest timer Node honours is accepted.
    expect(new EndpointPool(['http://a/v1'], { retry: { timeoutMs: 2 ** 31 - 1, maxDelayMs: 2 ** 31 - 1 }, circuit: { maxCooldownMs: 2 ** 31 - 1 } }).retry.timeoutMs).toBe(2 ** 31 - 1);
  });

  it('keeps a long timeout long (a call slower than 1 ms still succeeds)', async () => {
    const server = createServer((_req, res) => setTimeout(() => res.end('ok'), 30));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const p = new EndpointPool([url], { retry: { timeoutMs: 2 ** 31 - 1, maxAttempts: 1 } });
      expect(await p.run('x', async (ep, signal) => (await fetch(ep.config.baseURL, { signal })).text())).toBe('ok');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('backends given a shared pool refuse retry and circuit options instead of ignoring them', () => {
    const shared = new EndpointPool(['http://a/v1']);
    expect(bad(() => new OpenAIPolicy({ model: 'm', endpoints: shared, problems: ['P'], retry: { maxAttempts: 2 } })).message).toMatch(
      /^retry cannot be given with an EndpointPool/,
    );
    expect(bad(() => new VllmPoolingVerifier({ model: 'm', endpoints: shared, problems: ['P'], circuit: { failures: 0 }, onRetry: () => {} })).message).toMatch(
      /^circuit, onRetry cannot be given with an EndpointPool/,
    );
    expect(new OpenAIPolicy({ model: 'm', endpoints: shared, problems: ['P'] }).pool).toBe(shared);
    expect(endpointPoolFrom(['http://b/v1'], { retry: { maxAttempts: 2 } }).retry.maxAttempts).toBe(2);
  });
});
