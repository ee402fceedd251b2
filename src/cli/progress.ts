// Progress for long runs: a bar with rate and ETA on a terminal, a plain line every few seconds
// otherwise (logs, CI), so output stays readable in both.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number, detail?: string): void;
  stop(): void;
}

export function createProgress(label: string, quiet = false): Progress {
  if (quiet) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} | {detail}`,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      stream: process.stderr,
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const t0 = performance.now();
  return {
    update(done, total, detail = '') {
      const elapsed = (performance.now() - t0) / 1000;
      const rate = elapsed > 0 ? (done / elapsed).toFixed(1) : '0';
      if (!started) {
        bar.start(total, done, { detail, rate });
        started = true;
      } else bar.update(done, { detail, rate });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
