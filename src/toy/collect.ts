// Collection of PAV training data on the toy task (paper section 4.2, App. D): n_cov seed rollouts per
// problem from the policy, every prefix of every seed labelled with Q_hat = the success rate of n_mc
// partial rollouts from it, optionally "first pit" seeding, streamed to JSONL.
//
//   npx tsx src/toy/collect.ts --out data.jsonl [--problems 200] [--suite-seed 0] [--gamma 5]
//                              [--n-cov 8] [--n-mc 16] [--first-pit] [--seed 0]
//
// Rows: {problem_id, problem, target, max_len, vocab, prefix, q_hat, successes, n, prover: {gamma}, source}
// (target/max_len/vocab make each row self-contained for a trainer that has no problem table).
// Prefixes are deduplicated per problem: a prefix shared by several seeds is labelled once.
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { ConfigError, PavRangeError, PavTypeError } from '../errors.ts';
import { requireFinite, requireInteger } from '../ops/common.ts';
import { startValues, valuePrefixes } from './oracle.ts';
import { rolloutArrays, sampleRolloutsAsync } from './sampler.ts';
import { generateSuite, ProblemTable } from './task.ts';

export interface PavDataRow {
  problem_id: string;
  problem: number;
  target: number[];
  max_len: number;
  vocab: number;
  prefix: number[];
  q_hat: number;
  successes: number;
  n: number;
  prover: { gamma: number };
  /** 'seed': a prefix of a seed rollout; 'pit': from the dense sampling around a first pit. */
  source: 'seed' | 'pit';
}

export interface FirstPitOptions {
  /** Extra rollouts from the state just before each pit (default nCov). */
  branches?: number;
}

export interface CollectOptions {
  table: ProblemTable;
  /** Problems to collect on (default: all of the table). */
  problems?: readonly number[];
  /** Policy mu_gamma that rolls out (default 5, the base policy). */
  gamma?: number;
  nCov: number;
  nMc: number;
  /** First-pit seeding (paper App. D); true for the defaults. */
  firstPit?: boolean | FirstPitOptions;
  seed?: number;
  /** JSONL output path. */
  out: string;
  /** Native threads for sampling (default 1). */
  threads?: number;
  /** Prefixes labelled per native call (bounds memory; default 8192). */
  chunk?: number;
}

export interface CollectSummary {
  path: string;
  problems: number;
  seedRollouts: number;
  /** Seed paths on which a first pit was found and densified. */
  pitPaths: number;
  pitRollouts: number;
  mcRollouts: number;
  rows: number;
  seedRows: number;
  pitRows: number;
  meanQHat: number;
  /** Rows with Q_hat >= 0.5 (the paper balances the two buckets when fitting). */
  highRows: number;
  zeroRows: number;
}

interface Item {
  problem: number;
  prefix: number[];
  source: 'seed' | 'pit';
}

/**
 * First pit (ours, from the paper's description): along a seed rollout, take its highest-valued
 * state (exact Q^pi from the oracle, used only to find pits); if it is above the problem's start value,
 * the first later step where Q^pi becomes 0 is the pit. `branches` rollouts are drawn from the state
 * just before the pit and all their prefixes join the data: dense samples where the policy falls.
 * Returns the index (prefix length) of the pre-pit state, or -1.
 */
function findPrePit(values: Float64Array, from: number, len: number, start: number): number {
  let best = from;
  for (let h = from; h <= from + len; h++) if (values[h] > values[best]) best = h;
  if (!(values[best] > start)) return -1;
  for (let h = best + 1; h <= from + len; h++) if (values[h] === 0) return h - 1 - from;
  return -1;
}

export async function collectPavData(o: CollectOptions): Promise<CollectSummary> {
  const { table } = o;
  const gamma = o.gamma ?? 5;
  if (!(gamma > 0)) throw new PavRangeError(`gamma must be > 0, got ${gamma}`);
  const nCov = requireInteger('nCov', o.nCov, 1);
  const nMc = requireInteger('nMc', o.nMc, 1);
  const seed = requireInteger('seed', o.seed ?? 0, 0, 2 ** 31);
  const threads = requireInteger('threads', o.threads ?? 1, 1, 256);
  const chunk = requireInteger('chunk', o.chunk ?? 8192, 1);
  const problems = o.problems ?? Array.from({ length: table.size }, (_, i) => i);
  problems.forEach((p, i) => requireInteger(`problems[${i}]`, p, 0, table.size - 1));
  const pit = o.firstPit ? { branches: nCov, ...(typeof o.firstPit === 'object' ? o.firstPit : {}) } : undefined;

  // Open the output before any sampling, so a bad path fails at once instead of after all the work.
  const out = createWriteStream(o.out, { encoding: 'utf8' });
  try {
    await once(out, 'open');
  } catch (err) {
    throw new ConfigError(`out: cannot write ${o.out}: ${(err as Error).message}`, { cause: err });
  }
  // Observed from here on: a write error must reject this call, not surface as an unhandled rejection.
  const finishedWriting = finished(out);
  finishedWriting.catch(() => {});
  try {
    // 1. Seed rollouts from the bare problems.
    const seeds = rolloutArrays(await sampleRolloutsAsync(table, problems, problems.map(() => []), { gamma, n: nCov, seed, threads }));
    const seedProblem = (r: number) => problems[Math.floor(r / nCov)];

    // 2. Every prefix of every seed, deduplicated per problem.
    const items: Item[] = [];
    const seen = new Set<string>();
    const add = (problem: number, prefix: number[], source: Item['source']) => {
      const key = `${problem}:${prefix.join(',')}`;
      if (seen.has(key)) return;
      seen.add(key);
      items.push({ problem, prefix, source });
    };
    seeds.forEach((s, r) => {
      for (let h = 0; h <= s.length; h++) add(seedProblem(r), s.slice(0, h), 'seed');
    });

    // 3. First-pit seeding.
    let pitPaths = 0, pitRollouts = 0;
    if (pit) {
      const pathProblems: number[] = [], pathPrefixes: number[][] = [], from: number[] = [];
      seeds.forEach((s, r) => {
        from.push(pathPrefixes.length);
        for (let h = 0; h <= s.length; h++) {
          pathProblems.push(seedProblem(r));
          pathPrefixes.push(s.slice(0, h));
        }
      });
      const values = valuePrefixes(table, pathProblems, pathPrefixes, { gamma, threads });
      const start = startValues(table, { gamma });
      const pitStates: { problem: number; prefix: number[] }[] = [];
      seeds.forEach((s, r) => {
        const h = findPrePit(values, from[r], s.length, start[seedProblem(r)]);
        if (h >= 0) pitStates.push({ problem: seedProblem(r), prefix: s.slice(0, h) });
      });
      pitPaths = pitStates.length;
      if (pitStates.length) {
        const branches = rolloutArrays(await sampleRolloutsAsync(table, pitStates.map((p) => p.problem), pitStates.map((p) => p.prefix), { gamma, n: pit.branches, seed: seed + 2, threads }));
        pitRollouts = branches.length;
        branches.forEach((cont, k) => {
          const st = pitStates[Math.floor(k / pit.branches)];
          for (let h = 0; h <= cont.length; h++) add(st.problem, [...st.prefix, ...cont.slice(0, h)], 'pit');
        });
      }
    }

    // 4. Label with n_mc partial rollouts each and stream rows out.
    let qSum = 0, high = 0, zero = 0, seedRows = 0;
    for (let c = 0; c < items.length; c += chunk) {
      const part = items.slice(c, c + chunk);
      // Streams continue the global item index, so labels do not depend on the chunk size.
      const streams = Uint32Array.from(part, (_, i) => c + i);
      const roll = await sampleRolloutsAsync(table, part.map((it) => it.problem), part.map((it) => it.prefix), { gamma, n: nMc, seed: seed + 1, streams, threads });
      let buf = '';
      part.forEach((it, i) => {
        let successes = 0;
        for (let j = 0; j < nMc; j++) successes += roll.success[i * nMc + j];
        const q = successes / nMc;
        qSum += q;
        if (q >= 0.5) high++;
        if (successes === 0) zero++;
        if (it.source === 'seed') seedRows++;
        const t = table.task(it.problem);
        const row: PavDataRow = {
          problem_id: `planted/${it.problem}`, problem: it.problem, target: [...t.target], max_len: t.maxLen, vocab: t.vocab,
          prefix: it.prefix, q_hat: q, successes, n: nMc, prover: { gamma }, source: it.source,
        };
        buf += JSON.stringify(row) + '\n';
      });
      if (!out.write(buf)) await once(out, 'drain');
    }
    return {
      path: o.out,
      problems: problems.length,
      seedRollouts: seeds.length,
      pitPaths,
      pitRollouts,
      mcRollouts: items.length * nMc,
      rows: items.length,
      seedRows,
      pitRows: items.length - seedRows,
      meanQHat: items.length ? qSum / items.length : 0,
      highRows: high,
      zeroRows: zero,
    };
  } finally {
    out.end();
    await finishedWriting;
  }
}

/** Read a JSONL file written by collectPavData. */
export async function readPavData(path: string): Promise<PavDataRow[]> {
  const rows: PavDataRow[] = [];
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (!text.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      throw new PavRangeError(`${path}:${line}: not a JSON row (${(e as Error).message})`);
    }
    checkPavRow(row, `${path}:${line}`);
    rows.push(row);
  }
  return rows;
}

/** The fields a trainer reads; a row missing one would fail deep in the fit with no line to point at. */
function checkPavRow(v: unknown, where: string): asserts v is PavDataRow {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PavTypeError(`${where}: a row must be a JSON object`);
  const r = v as Record<string, unknown>;
  requireInteger(`${where}: problem`, r.problem, 0);
  const maxLen = requireInteger(`${where}: max_len`, r.max_len, 1);
  const vocab = requireInteger(`${where}: vocab`, r.vocab, 1);
  const tokens = (field: string) => {
    const a = r[field];
    if (!Array.isArray(a)) throw new PavTypeError(`${where}: ${field} must be an array of tokens`);
    a.forEach((x, i) => requireInteger(`${where}: ${field}[${i}]`, x, 0, vocab - 1));
    return a;
  };
  tokens('target');
  const prefix = tokens('prefix');
  if (prefix.length > maxLen) throw new PavRangeError(`${where}: prefix has ${prefix.length} tokens, more than max_len ${maxLen}`);
  const q = requireFinite(`${where}: q_hat`, r.q_hat);
  if (q < 0 || q > 1) throw new PavRangeError(`${where}: q_hat must be in [0, 1], got ${q}`);
  const prover = r.prover as { gamma?: unknown } | null | undefined;
  if (typeof prover !== 'object' || prover === null) throw new PavTypeError(`${where}: prover must be an object {gamma}`);
  if (!(requireFinite(`${where}: prover.gamma`, prover.gamma) > 0)) throw new PavRangeError(`${where}: prover.gamma must be > 0, got ${prover.gamma}`);
}
