// Writes summary.json and report.html into a results folder: at the end of a run, or later from
// the folder alone (`pavsearch report <dir>`), recomputing the summary from the rows.
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { readResults, type ResultRow } from '../run/results_store.ts';
import { summarize, type RunSummary } from '../run/summary.ts';
import { buildReportHtml, type ReportManifest, type ReportOptions } from './html.ts';
import type { ModelSizes } from '../search/compute.ts';

export interface ReportFiles {
  summaryPath: string;
  reportPath: string;
  summary: RunSummary;
}

/** Write dir/summary.json and dir/report.html from an already computed summary. */
export async function writeReportFrom(
  summary: RunSummary,
  rows: readonly ResultRow[],
  manifest: ReportManifest,
  dir: string,
  opts: ReportOptions = {},
): Promise<ReportFiles> {
  const summaryPath = join(dir, 'summary.json');
  const reportPath = join(dir, 'report.html');
  writeAtomic(summaryPath, JSON.stringify(summary, null, 2) + '\n');
  writeAtomic(reportPath, buildReportHtml(summary, rows, manifest, opts));
  return { summaryPath, reportPath, summary };
}

/** Read dir/results.jsonl and dir/manifest.json, recompute the summary, write both files. */
export async function writeReport(dir: string, opts: ReportOptions = {}): Promise<ReportFiles> {
  const resultsPath = join(dir, 'results.jsonl');
  if (!existsSync(resultsPath)) throw new ConfigError(`${resultsPath} does not exist: point \`pavsearch report\` at a run's output folder`);
  const rows = readResults(resultsPath);
  if (rows.length === 0) throw new ConfigError(`${resultsPath} holds no result rows yet; nothing to report`);
  const manifest = readManifest(join(dir, 'manifest.json'));
  const sizes = isObj(manifest.config) && isObj(manifest.config.modelSizes) ? manifest.config.modelSizes : isObj(manifest.modelSizes) ? manifest.modelSizes : {};
  // Every size the run priced its FLOPs with (a separate prover's too), so the report's FLOPs are the run's.
  const size = (k: keyof ModelSizes) => (typeof sizes[k] === 'number' ? (sizes[k] as number) : undefined);
  const summary = summarize(rows, { policyParams: size('policyParams'), verifierParams: size('verifierParams'), proverParams: size('proverParams') });
  return writeReportFrom(summary, rows, manifest, dir, opts);
}

function readManifest(path: string): ReportManifest {
  // A report without a manifest is still useful: the header then says what is unknown.
  if (!existsSync(path)) return {};
  try {
    const m = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (!isObj(m)) throw new Error('not a JSON object');
    return m;
  } catch (err) {
    throw new ConfigError(`${path} is not a valid manifest: ${(err as Error).message}`);
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Write beside and rename, so a reader never sees half a report. */
function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
