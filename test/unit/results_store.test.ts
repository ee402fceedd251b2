import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ResultsStore, readResults } from '../../src/run/results_store.ts';

const dir = mkdtempSync(join(tmpdir(), 'pav-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** A row with the fields the summary reads, as grid.ts toRow writes them. */
const row = (configKey: string, problem: number, extra: Record<string, unknown> = {}) => ({
  configKey,
  problem,
  algorithm: 'beam',
  score: 'pav',
  budget: 2,
  correct: true,
  status: 'ok',
  compute: { policySamples: 6, policyTokens: 12, verifierTokens: 12 },
  phases: { generate: 0, score: 0, prune: 0, other: 0 },
  ...extra,
});

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

  it('on resume a failed row is tried again, and its retry takes its place', () => {
    const path = join(dir, 'f.jsonl');
    const failed = row('m@2', 1, { correct: false, status: 'failed', error: 'ERR_PAV_BACKEND: server down' });
    writeFileSync(path, [row('m@2', 0), failed].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const s = new ResultsStore(path, { resume: true });
    expect(s.has('m@2', 0)).toBe(true);
    // A transient backend outage must not mark the problem failed for good.
    expect(s.has('m@2', 1)).toBe(false);
    s.append(row('m@2', 1));
    expect(s.rows()).toEqual([row('m@2', 0), row('m@2', 1)]);
    s.close();
    expect(readResults(path)).toEqual([row('m@2', 0), row('m@2', 1)]);
    // Done once retried: a second resume leaves it.
    const again = new ResultsStore(path, { resume: true });
    expect(again.has('m@2', 1)).toBe(true);
    again.close();
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

  it('readResults names the file and line of a damaged or mistyped row, drops duplicates, and tolerates a torn last line', () => {
    const file = (name: string, lines: string[], tail = '') => {
      const path = join(dir, name);
      writeFileSync(path, lines.join('\n') + '\n' + tail);
      return path;
    };
    const ok = JSON.stringify(row('m@2', 0));
    expect(() => readResults(file('r1.jsonl', [ok, 'hello']))).toThrow(/r1\.jsonl:2 is not valid JSON/);
    expect(() => readResults(file('r2.jsonl', [ok, '{"configKey":"m@2","prob', ok]))).toThrow(/r2\.jsonl:2 is not valid JSON/);
    const bad = (name: string, r: unknown, want: RegExp) => {
      const path = file(name, [ok, JSON.stringify(r)]);
      expect(() => readResults(path)).toThrow(want);
      // The resume path reads rows the same way: a mistyped row fails the resume, not the summary after it.
      expect(() => new ResultsStore(path, { resume: true })).toThrow(want);
    };
    bad('r3.jsonl', {}, /r3\.jsonl:2: configKey must be a string, got nothing/);
    bad('r4.jsonl', row('m@2', 1, { correct: 'no' }), /r4\.jsonl:2: correct must be true or false, got "no"/);
    bad('r5.jsonl', row('m@2', 1, { budget: 'two' }), /r5\.jsonl:2: budget must be a number/);
    bad('r6.jsonl', row('m@2', 1, { phases: { generate: 0 } }), /r6\.jsonl:2: phases\.score must be a number/);
    bad('r7.jsonl', row('m@2', -1), /r7\.jsonl:2: problem must be an integer in \[0/);
    bad('r8.jsonl', [1], /r8\.jsonl:2: a row must be a JSON object/);
    // A duplicated row counts once (the first, as append keeps it); a torn last line is a cut write.
    const dup = readResults(file('r9.jsonl', [ok, JSON.stringify(row('m@2', 0, { correct: false })), JSON.stringify(row('m@2', 1))], '{"configKey":"m@2","prob'));
    expect(dup).toEqual([row('m@2', 0), row('m@2', 1)]);
  });
});
