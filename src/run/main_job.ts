// The main job: the embedded benchmark (or real models, with a `backend` section) under every method
// and budget, written to a results folder (manifest, rows, summary, report, optional trace) and
// summarised as a table.
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { backendInfo } from '../native/binding.ts';
import { configHash, type RunConfig } from './run_config.ts';
import { gridCells, runGrid } from './grid.ts';
import { ResultsStore } from './results_store.ts';
import { summarize, type RunSummary } from './summary.ts';
import { writeTraceEvents } from './trace_events.ts';
import { createToyBackends } from './toy_backends.ts';
import { createTextBackends } from './text_backends.ts';
import type { Backends } from '../search/result.ts';
import { writeReportFrom } from '../report/write.ts';
import type { Progress } from '../cli/progress.ts';

export interface MainJobOptions {
  resume?: boolean;
  signal?: AbortSignal;
  progress?: Progress;
  /** Told the results folder once the run has started writing there. */
  onStart?: (dir: string) => void;
}

export interface MainJobResult {
  dir: string;
  summary: RunSummary;
  seconds: number;
}

export function manifestOf(config: RunConfig): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const info = backendInfo();
  return {
    tool: 'pavsearch',
    version: pkg.version,
    configHash: configHash(config),
    config,
    startedAt: new Date().toISOString(),
    node: process.version,
    addon: { path: info.path, backends: info.backends, cuda: info.cuda },
    machine: { platform: platform(), arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: +(totalmem() / 2 ** 30).toFixed(1) },
  };
}

/** A fresh folder per run, so `npm start` can be run again without --out. */
export function defaultOutDir(now = new Date()): string {
  return join('results', `run-${now.toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')}`);
}

/** Point results/latest at the newest run (best effort: a filesystem without symlinks just skips it). */
function linkLatest(dir: string): void {
  const latest = join(dirname(dir), 'latest');
  try {
    if (existsSync(latest) && !lstatSync(latest).isSymbolicLink()) return;
    rmSync(latest, { force: true });
    symlinkSync(basename(dir), latest, 'dir');
  } catch {
    // not worth failing a finished run over
  }
}

/**
 * Where this run's trace goes: trace.json, or after a resume trace-2.json, trace-3.json, ... (the
 * earlier part's spans are kept: a resumed run records only the part it ran).
 */
function freeTracePath(dir: string): string {
  let path = join(dir, 'trace.json');
  for (let k = 2; existsSync(path); k++) path = join(dir, `trace-${k}.json`);
  return path;
}

export async function runMainJob(config: RunConfig, opts: MainJobOptions = {}): Promise<MainJobResult> {
  const t0 = performance.now();
  const dir = resolve(config.out ?? defaultOutDir());
  const manifestPath = join(dir, 'manifest.json');
  const hash = configHash(config);
  if (opts.resume) {
    if (!existsSync(manifestPath)) throw new ConfigError(`--resume: ${manifestPath} does not exist; nothing to resume`);
    const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as { configHash?: string };
    if (old.configHash !== hash)
      throw new ConfigError(`--resume: ${dir} was written with config ${old.configHash}, this run has ${hash}; use the same options or another --out`);
  } else if (existsSync(join(dir, 'results.jsonl'))) {
    throw new ConfigError(`${dir} already holds a run: pass --resume to continue it, or choose another --out`);
  }

  // Backends first: a bad model path or endpoint fails before anything is written to the folder.
  // Real models when the config has an openai backend; the embedded benchmark otherwise.
  const backends: Backends<unknown> & { close(): Promise<void> } =
    config.backend?.kind === 'openai' ? await createTextBackends(config.backend) : await createToyBackends(config);
  let store: ResultsStore | undefined;
  try {
    // Checked before the folder is written: a bad cell (a DVTS budget off its width) fails here.
    const cells = gridCells(config.methods, config.budgets, config.search);
    if (!opts.resume) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(manifestPath, JSON.stringify(manifestOf(config), null, 2));
    }
    store = new ResultsStore(join(dir, 'results.jsonl'), { resume: opts.resume ?? false });
    opts.onStart?.(dir);
    const problems = Array.from({ length: backends.task.problemCount }, (_, i) => i);
    const clock = await runGrid(backends, cells, problems, store, {
      window: config.engine.window,
      lanes: config.engine.lanes,
      signal: opts.signal,
      recordSpans: config.trace,
      modelSizes: config.modelSizes,
      onRow: (row, done, total) => opts.progress?.update(done, total, String(row.configKey)),
    });
    opts.progress?.stop();
    if (config.trace && clock.spans) writeTraceEvents(freeTracePath(dir), clock.spans);
    const rows = store.rows();
    const summary = summarize(rows, config.modelSizes);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    await writeReportFrom(summary, rows, manifest, dir);
    if (config.out === undefined) linkLatest(dir);
    return { dir, summary, seconds: (performance.now() - t0) / 1000 };
  } finally {
    store?.close();
    await backends.close();
  }
}
