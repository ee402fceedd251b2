// Append-only results file: one JSON row per (configuration, problem), written and flushed as each
// problem finishes, so a killed run loses at most the row being written. Resuming reads the rows
// back, drops a torn last line, and tells the runner which rows are done.
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { PavError, ErrorCodes } from '../errors.ts';

export interface ResultRow {
  /** Identity of the configuration (algorithm, score, budget, ...) the row belongs to. */
  configKey: string;
  problem: number;
  [field: string]: unknown;
}

export class ResultsStore {
  private fd: number;
  // Only the keys stay in memory during a run, so its footprint does not grow with the rows' traces.
  private readonly done = new Set<string>();

  /** Open (creating or, with resume, continuing) the JSONL file at path. */
  constructor(readonly path: string, resume: boolean) {
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
    ftruncateSync(this.fd, Buffer.byteLength(text.slice(0, end)));
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

  /** Append one row and flush it to disk before returning. Duplicates are ignored. */
  append(row: ResultRow): void {
    const key = rowKey(row.configKey, row.problem);
    if (this.done.has(key)) return;
    const bytes = Buffer.from(JSON.stringify(row) + '\n');
    writeSync(this.fd, bytes, 0, bytes.length, fstatSync(this.fd).size);
    fsyncSync(this.fd);
    this.done.add(key);
  }

  /** Every row written so far, read back from the file. */
  rows(): ResultRow[] {
    return readResults(this.path);
  }

  close(): void {
    closeSync(this.fd);
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
