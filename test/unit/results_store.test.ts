import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultsStore } from '../../src/run/results_store.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const row = (configKey: string, problem: number, extra: Record<string, unknown> = {}) => ({ configKey, problem, correct: true, ...extra });

describe('ResultsStore', () => {
  it('appends rows once each and reads them back', () => {
    const path = join(dir, 'a.jsonl');
    const s = new ResultsStore(path);
    s.append(row('beam/pav@4', 0));
    s.append(row('beam/pav@4', 1));
    s.append(row('beam/pav@4', 0, { correct: false })); // a duplicate is ignored, the first stays
    expect(s.has('beam/pav@4', 1)).toBe(true);
    expect(s.has('beam/pav@8', 1)).toBe(false);
    expect(s.rows()).toEqual([row('beam/pav@4', 0), row('beam/pav@4', 1)]);
    s.close();
    expect(() => new ResultsStore(path)).toThrow(/--resume/);
  });

  it('on resume drops a torn last line, keeps the rest, and appends after them', () => {
    const path = join(dir, 'b.jsonl');
    writeFileSync(path, JSON.stringify(row('m@2', 0)) + '\n' + JSON.stringify(row('m@2', 1)) + '\n');
    appendFileSync(path, '{"configKey":"m@2","prob'); // killed mid-write
    const s = new ResultsStore(path, { resume: true });
    expect(s.has('m@2', 1)).toBe(true);
    s.append(row('m@2', 2));
    s.close();
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.map((r) => r.problem)).toEqual([0, 1, 2]);
  });

  it('refuses a damaged line in the middle, naming it', () => {
    const path = join(dir, 'c.jsonl');
    writeFileSync(path, JSON.stringify(row('m@2', 0)) + '\nnot json\n' + JSON.stringify(row('m@2', 1)) + '\n');
    expect(() => new ResultsStore(path, { resume: true })).toThrow(/c\.jsonl:2 is not valid JSON/);
  });

  it('a row is in the file as soon as append returns, whatever the sync interval', () => {
    const path = join(dir, 'd.jsonl');
    const s = new ResultsStore(path, { syncIntervalMs: 60_000 });
    s.append(row('m@2', 0));
    // Another reader (a resumed run after kill -9) sees it without any fsync or close.
    expect(readFileSync(path, 'utf8')).toBe(JSON.stringify(row('m@2', 0)) + '\n');
    s.append(row('m@2', 1));
    s.sync();
    s.close();
    expect(new ResultsStore(path, { resume: true, syncIntervalMs: 0 }).has('m@2', 1)).toBe(true);
    expect(() => new ResultsStore(join(dir, 'e.jsonl'), { syncIntervalMs: -1 })).toThrow(/syncIntervalMs must be a number >= 0/);
  });
});
