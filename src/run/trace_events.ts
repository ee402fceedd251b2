// Chrome trace-event JSON (Perfetto, chrome://tracing) of a run's phases: one complete event ('X')
// per timed span, one thread per lane. Written by hand: the format is a plain JSON array.
import { writeFileSync } from 'node:fs';
import type { Span } from '../search/compute.ts';

export function traceEventsJson(spans: readonly Span[], processName = 'pavsearch'): string {
  const events: object[] = [{ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: processName } }];
  const lanes = new Set(spans.map((s) => s.lane));
  for (const lane of lanes) events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: lane, args: { name: `lane ${lane}` } });
  for (const s of spans)
    events.push({ name: s.name, cat: s.phase, ph: 'X', ts: Math.round(s.ts), dur: Math.max(1, Math.round(s.dur)), pid: 1, tid: s.lane, args: s.args ?? {} });
  return JSON.stringify(events);
}

export function writeTraceEvents(path: string, spans: readonly Span[], processName?: string): void {
  writeFileSync(path, traceEventsJson(spans, processName));
}
