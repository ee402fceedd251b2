// Append-only results file: one JSON row per (configuration, problem), written as each problem
// finishes, so a killed process loses at most the row being written (the kernel keeps what was
// written). fsync runs at most once per sync interval and at close, so an OS crash or power loss
// loses at most that interval's rows; an fsync per row cost a third of a toy grid's wall time.
// Resuming reads the rows back, drops a torn last line, and tells the runner which rows are done.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { PavError, PavTypeError, ErrorCodes } from '../errors.ts';
import { requireFinite, requireInteger } from '../ops/common.ts';
import { PHASES } from '../search/compute.ts';
import { isPlain } from './run_config.ts';

export interface ResultRow {
  /** Identity of the configuration (algorithm, score, budget, ...) the row belongs to. */
  configKey: string;
  problem: number;
  [field: string]: unknown;
}

export interface ResultsStoreOptions {
  /** Continue an existing file instead of refusing to overwrite it. */
  resume?: boolean;
  /** Milliseconds between fsyncs (default 1000); 0 syncs after every row. */
  syncIntervalMs?: number;
}

export class ResultsStore {
  private fd: number;
  /** End of the file: where the next row goes. */
  private size = 0;
  private lastSync = performance.now();
  private dirty = false;
  private readonly syncIntervalMs: number;
  // Only the keys stay in memory during a run, so its footprint does not grow with the rows' traces.
  private readonly done = new Set<string>();

  /** Open (creating or, with resume, continuing) the JSONL file at path. */
  constructor(
    readonly path: string,
    options: ResultsStoreOptions = {},
  ) {
    const resume = options.resume ?? false;
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
    if (!(Number.isFinite(this.syncIntervalMs) && this.syncIntervalMs >= 0))
      throw new PavError(`syncIntervalMs must be a number >= 0, got ${options.syncIntervalMs}`, ErrorCodes.CONFIG);
    if (existsSync(path) && !resume)
      throw new PavError(`${path} already exists: pass --resume to continue that run or choose another --out`, ErrorCodes.CONFIG);
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    if (resume) {
      try {
        this.load();
      } catch (err) {
        closeSync(this.fd);
        throw err;
      }
    }
  }

  private load(): void {
    const text = readFileSync(this.path, 'utf8');
    // A kill during a write leaves a last line without its newline: cut it off, it is redone.
    const end = text.lastIndexOf('\n') + 1;
    this.size = Buffer.byteLength(text.slice(0, end));
    ftruncateSync(this.fd, this.size);
    // A failed row (a backend error) is not done: the resumed run tries that problem again, and
    // its new row takes the failed one's place (parseRows).
    for (const row of parseRows(this.path, text)) if (row.status !== 'failed') this.done.add(rowKey(row.configKey, row.problem));
  }

  has(configKey: string, problem: number): boolean {
    return this.done.has(rowKey(configKey, problem));
  }

  /** Append one row (written before returning; synced per the interval). Rows already done are ignored. */
  append(row: ResultRow): void {
    const key = rowKey(row.configKey, row.problem);
    if (this.done.has(key)) return;
    const bytes = Buffer.from(JSON.stringify(row) + '\n');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off, this.size + off);
    this.size += bytes.length;
    this.dirty = true;
    this.done.add(key);
    if (performance.now() - this.lastSync >= this.syncIntervalMs) this.sync();
  }

  /** fsync what has been appended so far. */
  sync(): void {
    if (!this.dirty) return;
    fsyncSync(this.fd);
    this.dirty = false;
    this.lastSync = performance.now();
  }

  /** Every row written so far, read back from the file. */
  rows(): ResultRow[] {
    return readResults(this.path);
  }

  close(): void {
    try {
      this.sync();
    } finally {
      closeSync(this.fd);
    }
  }
}

function rowKey(configKey: string, problem: number): string {
  return `${configKey}\u0000${problem}`;
}

/** Read rows of a finished or partial results file (for `report`). */
export function readResults(path: string): ResultRow[] {
  return parseRows(path, readFileSync(path, 'utf8'));
}

/**
 * The complete lines of a results file as checked rows, one per (configKey, problem): the first, as
 * append keeps them, except that a later row replaces a failed one (a resumed run's retry). A last
 * line without its newline is a write cut by a kill: left out, not an error.
 */
function parseRows(path: string, text: string): ResultRow[] {
  const rows: ResultRow[] = [];
  const seen = new Map<string, number>();
  const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new PavError(`${path}:${i + 1} is not valid JSON; the results file is damaged`, ErrorCodes.CONFIG);
    }
    checkRow(row, `${path}:${i + 1}`);
    const key = rowKey(row.configKey, row.problem);
    const at = seen.get(key);
    if (at === undefined) {
      seen.set(key, rows.length);
      rows.push(row);
    } else if (rows[at].status === 'failed') rows[at] = row;
  });
  return rows;
}

/** The fields the summary and report read (the shape grid.ts toRow writes): a wrong type there is a wrong table. */
function checkRow(v: unknown, where: string): asserts v is ResultRow {
  const need = (ok: boolean, field: string, what: string, got: unknown) => {
    if (!ok) throw new PavTypeError(`${where}: ${field} must be ${what}, got ${(JSON.stringify(got) ?? 'nothing').slice(0, 60)}; the results file is damaged`);
  };
  need(isPlain(v), 'a row', 'a JSON object', v);
  const r = v as Record<string, unknown>;
  for (const f of ['configKey', 'algorithm', 'score', 'status']) need(typeof r[f] === 'string', f, 'a string', r[f]);
  requireInteger(`${where}: problem`, r.problem, 0);
  requireInteger(`${where}: budget`, r.budget, 1);
  need(typeof r.correct === 'boolean', 'correct', 'true or false', r.correct);
  need(r.passAtN === undefined || typeof r.passAtN === 'boolean', 'passAtN', 'true or false', r.passAtN);
  need(isPlain(r.compute), 'compute', 'an object', r.compute);
  const compute = r.compute as Record<string, unknown>;
  for (const f of ['policyTokens', 'verifierTokens', 'policySamples']) requireFinite(`${where}: compute.${f}`, compute[f]);
  // Rows written before provers were counted apart have no proverTokens.
  if (compute.proverTokens !== undefined) requireFinite(`${where}: compute.proverTokens`, compute.proverTokens);
  need(isPlain(r.phases), 'phases', 'an object', r.phases);
  for (const k of PHASES) requireFinite(`${where}: phases.${k}`, (r.phases as Record<string, unknown>)[k]);
}
