// Piscina worker: renders and tokenizes PRM prefixes off the main thread (the pure-JS tokenizer costs
// about 3.5 us a token, 1-2 ms for a typical prefix; a round of beam search has thousands).
// The tokenizer is loaded once per worker from the pool's workerData.
import Piscina from 'piscina';
import { HfTokenizer } from './hf_tokenizer.ts';
import { encodePrmText, renderPrmInput, type EncodedPrefix, type EncodeFailure, type PrmEncodingSettings } from './prm_encoding.ts';
import { templateFn, type PrmTemplate } from './prm_templates.ts';

export interface TokenizeWorkerConfig extends PrmEncodingSettings {
  /** A template by name or spec (a function cannot cross threads). */
  template: Exclude<PrmTemplate, (...args: never[]) => unknown>;
}

export interface TokenizeItem {
  problem: string;
  problemId: string;
  steps: readonly string[];
}

export type TokenizeTask = { kind: 'init' } | { kind: 'encode'; items: readonly TokenizeItem[] };

let state: { tok: HfTokenizer; render: ReturnType<typeof templateFn>; cfg: TokenizeWorkerConfig } | undefined;

export default function handle(task: TokenizeTask): null | (EncodedPrefix | EncodeFailure)[] {
  if (!state) {
    const cfg = Piscina.workerData as TokenizeWorkerConfig;
    state = { tok: HfTokenizer.load(cfg.tokenizerPath), render: templateFn(cfg.template), cfg };
  }
  if (task.kind === 'init') return null;
  const { tok, render, cfg } = state;
  return task.items.map((it) => encodePrmText(tok, cfg, it.problemId, renderPrmInput(render, cfg.stepTag, it.problem, it.steps), it.steps.length));
}
