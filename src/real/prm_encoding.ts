// One PRM prefix as model input: the template's text (step tags removed from the problem and the
// steps so only real tags count), tokenized, the tag positions found, truncated from the left.
// Pure data in and out, so the same code runs on the main thread and in tokenizer workers.
import { BackendError, PavRangeError } from '../errors.ts';
import type { HfTokenizer } from './hf_tokenizer.ts';
import type { PrmTemplateFn } from './prm_templates.ts';

/** One rendered, tokenized prefix. */
export interface EncodedPrefix {
  /** Token ids fed to the model (after truncation). */
  ids: Int32Array;
  /** Position in `ids` of each step's tag, per step; -1 where truncation cut it. */
  tagPositions: Int32Array;
  /** Tokens dropped from the left by truncation. */
  truncated: number;
}

/** Why a prefix could not be encoded ('tags': wrong tag count, a BackendError; 'length': a PavRangeError). */
export interface EncodeFailure {
  failure: 'tags' | 'length';
  message: string;
}

export interface PrmEncodingSettings {
  stepTag: string;
  stepTagId: number;
  maxLength: number;
  truncation: 'left' | 'error';
  /** Named in error messages. */
  tokenizerPath: string;
}

/** The text the model reads: the template over the problem and steps with stray tag text removed. */
export function renderPrmInput(template: PrmTemplateFn, stepTag: string, problem: string, steps: readonly string[]): string {
  // Until none is left: removing one occurrence can join the text around it into a new one.
  const strip = (s: string) => {
    while (s.includes(stepTag)) s = s.split(stepTag).join('');
    return s;
  };
  return template(strip(problem), steps.map(strip), stepTag);
}

/** Tokenize one rendered prefix of `nSteps` steps and locate its tags; a failure is returned, not thrown. */
export function encodePrmText(tok: HfTokenizer, s: PrmEncodingSettings, problemId: string, text: string, nSteps: number): EncodedPrefix | EncodeFailure {
  const all = tok.encode(text);
  const found: number[] = [];
  for (let i = 0; i < all.length; i++) if (all[i] === s.stepTagId) found.push(i);
  if (found.length !== nSteps)
    return {
      failure: 'tags',
      message:
        `problem ${problemId}: the input has ${found.length} step tags (id ${s.stepTagId}, ${JSON.stringify(s.stepTag)}) for ${nSteps} steps; ` +
        `check stepTag/stepTagId and the template against ${s.tokenizerPath}`,
    };
  let cut = 0;
  if (all.length > s.maxLength) {
    if (s.truncation === 'error')
      return { failure: 'length', message: `problem ${problemId}: ${all.length} tokens exceed maxLength ${s.maxLength} (truncation: 'error')` };
    cut = all.length - s.maxLength;
  }
  const ids = Int32Array.from(cut ? all.slice(cut) : all);
  const tagPositions = Int32Array.from(found, (p) => (p >= cut ? p - cut : -1));
  return { ids, tagPositions, truncated: cut };
}

export function isEncodeFailure(e: EncodedPrefix | EncodeFailure): e is EncodeFailure {
  return 'failure' in e;
}

/** The typed error of a failure: BackendError (not retryable) for tags, PavRangeError for length. */
export function encodeError(f: EncodeFailure): Error {
  return f.failure === 'tags' ? new BackendError(f.message, false) : new PavRangeError(f.message);
}
