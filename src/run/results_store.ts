// Append-only results file: one JSON row per (configuration, problem), written as each problem
// finishes, so a killed process loses at most the row being written (the kernel keeps what was
// written). fsync runs at most once per sync interval and at close, so an OS crash or power loss
// loses at most that interval's rows; an fsync per row cost a third of a toy grid's wall time.
// Resuming reads the rows back, drops a torn last line, and tells the runner which rows are done.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { PavError, ErrorCodes } from '../errors.ts';

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
    const lines = text.slice(0, end).split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let row: ResultRow;
      try {
        row = JSON.parse(line) as ResultRow;
      } catch {
        throw new PavError(`${this.path}:${i + 1} is not valid JSON; the results file is damaged`, ErrorCodes.CONFIG);
      }
      this.done.add(rowKey(row.configKey, row.problem));
    });
  }

  has(configKey: string, problem: number): boolean {
    return this.done.has(rowKey(configKey, problem));
  }

  /** Append one row (written before returning; synced per the interval). Duplicates are ignored. */
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
  const text = readFileSync(path, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  return text
    .slice(0, end)
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ResultRow);
}
