// An OpenAI-compatible completions server (node:http, loopback) over a PolicyBackend<number> whose
// steps are rendered as text: the embedded toy task served the way vLLM serves a model, with seeded
// fault injection (delays, stalls, connection resets, 5xx bursts) for end-to-end tests of the client.
//
// Protocol (the subset OpenAIPolicy uses):
//   GET  /v1/models       -> { object: 'list', data: [{ id, object: 'model', owned_by }] }
//   POST /v1/completions  { model, prompt, n?, stop?, max_tokens?, seed? }
//     with `stop` containing the delimiter: one step per choice (policy.sampleSteps); a step that
//       does not end the response has finish_reason 'stop' and stop_reason = the delimiter, one that
//       does has stop_reason null (what vLLM reports for the end-of-sequence token);
//     without it: whole completions (policy.sampleCompletions), steps joined by the delimiter.
//   usage.completion_tokens is the policy's token count; choices[i].logprobs.tokens is left out.
// Errors use OpenAI's shape { error: { message, type, param, code } }: 400 bad request, 404 unknown
// route or model, 405 wrong method, 413 body too large, 500 policy failure.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigError } from '../errors.ts';
import { configNumber, describeConfig } from './endpoints.ts';
import { MAX_TIMER_MS } from '../ops/common.ts';
import type { PolicyBackend } from '../search/backends.ts';
import { seededUniform as prng } from '../random.ts';

export interface FaultOptions {
  /** Each response waits a uniform [0, delayMs] ms before it is sent. */
  delayMs?: number;
  /** Probability that a request's connection is destroyed without a response. */
  resetRate?: number;
  /** Probability that a request starts a burst of error responses. */
  errorRate?: number;
  /** Status of injected errors, 400-599 (default 503). */
  errorStatus?: number;
  /** Requests per error burst, the first included (default 1). */
  errorBurst?: number;
  /** Probability that a request is never answered (the client's timeout must fire). */
  stallRate?: number;
  /** Seed of the fault stream (draws happen in request arrival order). */
  seed: number;
}

export interface PolicyServerOptions {
  policy: PolicyBackend<number>;
  renderStep: (step: number) => string;
  parseStep: (text: string) => number;
  /** Problem index and prefix steps of a prompt (see encodeStepPrompt / parseStepPrompt). */
  parsePrompt: (prompt: string) => { problem: number; prefix: number[] };
  /** Model id served (default policy.name). */
  model?: string;
  /** Step delimiter (default a blank line). */
  delimiter?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Loopback only. */
  host?: '127.0.0.1';
  faults?: FaultOptions;
  /** Requests larger than this are refused with 413 (default 1 MiB). */
  maxBodyBytes?: number;
  /** Largest n accepted (default 256). */
  maxN?: number;
}

export interface PolicyServerStats {
  requests: number;
  completed: number;
  resets: number;
  injectedErrors: number;
  stalls: number;
  clientErrors: number;
}

export interface PolicyServer {
  /** Base URL for OpenAI clients, e.g. http://127.0.0.1:41234/v1. */
  readonly url: string;
  readonly port: number;
  readonly stats: PolicyServerStats;
  close(): Promise<void>;
}

/** The toy prompt: "problem: 17\n\n3\n\n6\n\n" (problem index, then one step per block). */
export function encodeStepPrompt(problem: number, prefix: readonly string[], delimiter = '\n\n'): string {
  return `problem: ${problem}${delimiter}` + prefix.map((s) => s + delimiter).join('');
}

/** Inverse of encodeStepPrompt; throws a message fit for a 400 response on anything else. */
export function parseStepPrompt(prompt: string, parseStep: (text: string) => number, delimiter = '\n\n'): { problem: number; prefix: number[] } {
  const blocks = prompt.split(delimiter);
  const head = /^problem: (\d+)$/.exec(blocks[0]);
  if (!head) throw new RequestError(400, `prompt must start with "problem: <index>${JSON.stringify(delimiter).slice(1, -1)}"`, 'prompt');
  if (blocks[blocks.length - 1] !== '') throw new RequestError(400, 'prompt must end with the step delimiter', 'prompt');
  const prefix = blocks.slice(1, -1).map((b, i) => {
    const s = parseStep(b);
    if (!Number.isInteger(s)) throw new RequestError(400, `prompt step ${i} (${JSON.stringify(b)}) is not a step`, 'prompt');
    return s;
  });
  // A huge index would wrap in the Uint32Array of problems and serve another problem's samples.
  const problem = Number(head[1]);
  if (!(problem < 2 ** 32)) throw new RequestError(400, `prompt's problem index ${head[1]} is out of range`, 'prompt');
  return { problem, prefix };
}

/**
 * Steps of the embedded toy task as text: token ids as decimal, the end token (vocab - 1) as
 * "<eos>", as src/toy/task.ts renders traces.
 */
export function toyStepCodec(vocab: number): { renderStep: (s: number) => string; parseStep: (t: string) => number } {
  const end = vocab - 1;
  return {
    renderStep: (s) => (s === end ? '<eos>' : String(s)),
    parseStep: (t) => {
      if (t === '<eos>') return end;
      if (!/^\d+$/.test(t)) return NaN;
      const s = Number(t);
      return s < vocab ? s : NaN;
    },
  };
}

class RequestError extends Error {
  readonly status: number;
  readonly param: string | null;
  constructor(status: number, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.param = param;
  }
}


function checkRate(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  return configNumber(`faults.${name}`, v, 0, 1);
}

export async function createPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
  const host = options.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new ConfigError(`the policy server binds loopback only (127.0.0.1), got ${host}`);
  const delimiter = options.delimiter ?? '\n\n';
  if (typeof delimiter !== 'string' || delimiter === '') throw new ConfigError(`delimiter must be a non-empty string, got ${describeConfig(delimiter)}`);
  const model = options.model ?? options.policy.name;
  const maxBody = configNumber('maxBodyBytes', options.maxBodyBytes ?? 1 << 20, 1, Infinity, true);
  const maxN = configNumber('maxN', options.maxN ?? 256, 1, Infinity, true);
  if (options.port !== undefined) configNumber('port', options.port, 0, 65535, true);
  const f = options.faults;
  const resetRate = checkRate('resetRate', f?.resetRate);
  const errorRate = checkRate('errorRate', f?.errorRate);
  const stallRate = checkRate('stallRate', f?.stallRate);
  if (resetRate + errorRate + stallRate > 1) throw new ConfigError('faults: resetRate + errorRate + stallRate must be <= 1');
  // An injected fault must read as an error: a 2xx would pass for a (malformed) answer, and Node
  // refuses to write a status outside 100-999.
  const errorStatus = configNumber('faults.errorStatus', f?.errorStatus ?? 503, 400, 599, true);
  const errorBurst = configNumber('faults.errorBurst', f?.errorBurst ?? 1, 1, Infinity, true);
  // Delays are Node timers, which fire after 1 ms beyond 2^31-1 ms.
  const delayMs = configNumber('faults.delayMs', f?.delayMs ?? 0, 0, MAX_TIMER_MS);
  const draw = prng(configNumber('faults.seed', f?.seed ?? 0, 0, 0xffffffff, true));
  let burstLeft = 0;

  const stats: PolicyServerStats = { requests: 0, completed: 0, resets: 0, injectedErrors: 0, stalls: 0, clientErrors: 0 };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const sendError = (res: ServerResponse, status: number, message: string, param: string | null = null) =>
    send(res, status, {
      error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', param, code: status },
    });

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          reject(new RequestError(413, `request body exceeds ${maxBody} bytes`));
          req.resume();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const completions = async (body: Record<string, unknown>) => {
    if (body.model !== undefined && body.model !== model) throw new RequestError(404, `The model \`${String(body.model)}\` does not exist.`, 'model');
    if (body.stream === true) throw new RequestError(400, 'stream is not supported by this server', 'stream');
    let prompt = body.prompt;
    if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
    if (typeof prompt !== 'string') throw new RequestError(400, 'prompt must be a string (or an array of one string)', 'prompt');
    const n = body.n ?? 1;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > maxN) throw new RequestError(400, `n must be an integer in [1, ${maxN}]`, 'n');
    const seed = body.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RequestError(400, 'seed must be a 32-bit unsigned integer', 'seed');
    const stop = body.stop === undefined || body.stop === null ? [] : Array.isArray(body.stop) ? body.stop : [body.stop];
    if (!stop.every((s) => typeof s === 'string')) throw new RequestError(400, 'stop must be a string or an array of strings', 'stop');
    const maxTokens = body.max_tokens;
    if (maxTokens !== undefined && maxTokens !== null && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1))
      throw new RequestError(400, 'max_tokens must be a positive integer', 'max_tokens');
    let parsed: { problem: number; prefix: number[] };
    try {
      parsed = options.parsePrompt(prompt);
    } catch (e) {
      throw e instanceof RequestError ? e : new RequestError(400, `prompt: ${(e as Error).message}`, 'prompt');
    }
    const { problem, prefix } = parsed;
    const batch = { problems: Uint32Array.of(problem), prefixes: [prefix], n, seeds: Uint32Array.of(seed) };
    let choices: object[];
    let completionTokens = 0;
    if (stop.includes(delimiter)) {
      const r = await options.policy.sampleSteps(batch);
      choices = r.steps.map((s, i) => ({
        index: i,
        text: options.renderStep(s),
        logprobs: null,
        finish_reason: 'stop',
        stop_reason: r.finished[i] ? null : delimiter,
      }));
      completionTokens = r.tokens.reduce((a, b) => a + b, 0);
    } else {
      const r = await options.policy.sampleCompletions(batch);
      choices = r.completions.map((steps, i) => ({
        index: i,
        text: steps.map(options.renderStep).join(delimiter),
        logprobs: null,
        finish_reason: 'stop',
        stop_reason: null,
      }));
      completionTokens = r.tokens.reduce((a, b) => a + b, 0);
    }
    const promptTokens = prefix.length + 1;
    return {
      id: `cmpl-${stats.requests}`,
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices,
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++;
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (path === '/v1/models') {
        if (req.method !== 'GET') throw new RequestError(405, `${req.method} is not allowed on ${path}`);
        send(res, 200, { object: 'list', data: [{ id: model, object: 'model', created: 0, owned_by: 'pavsearch' }] });
        stats.completed++;
        return;
      }
      if (path !== '/v1/completions') throw new RequestError(404, `no route ${path}`);
      if (req.method !== 'POST') throw new RequestError(405, `${req.method} is not allowed on ${path}`);
      const text = await readBody(req);
      // Faults, drawn once per completion request in arrival order.
      const u = draw();
      const delay = delayMs > 0 ? draw() * delayMs : 0;
      if (burstLeft > 0 || u < errorRate) {
        burstLeft = burstLeft > 0 ? burstLeft - 1 : errorBurst - 1;
        stats.injectedErrors++;
        if (delay) await wait(delay);
        sendError(res, errorStatus, `injected fault: HTTP ${errorStatus}`);
        return;
      }
      if (u < errorRate + resetRate) {
        stats.resets++;
        if (delay) await wait(delay);
        req.socket.destroy();
        return;
      }
      if (u < errorRate + resetRate + stallRate) {
        stats.stalls++;
        return; // never answered; the socket closes when the client gives up or the server closes
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new RequestError(400, 'body is not valid JSON');
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'body must be a JSON object');
      const out = await completions(body as Record<string, unknown>);
      if (delay) await wait(delay);
      send(res, 200, out);
      stats.completed++;
    } catch (err) {
      if (err instanceof RequestError) {
        stats.clientErrors++;
        sendError(res, err.status, err.message, err.param);
      } else if (err instanceof RangeError || err instanceof TypeError) {
        // The policy refused the request's values (a problem index out of range): the client's fault.
        stats.clientErrors++;
        sendError(res, 400, err.message);
      } else {
        sendError(res, 500, `policy failed: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/v1`,
    port,
    stats,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
