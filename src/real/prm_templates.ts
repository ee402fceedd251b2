// The texts a process reward model reads: a problem and its steps, each step followed by the step tag
// whose position (or pooled row) carries that step's score. Shared by the ONNX PRM (tokenized here,
// on the main thread or in tokenizer workers) and vLLM's pooling endpoint (sent as text).
import { ConfigError } from '../errors.ts';

const QWEN_SYSTEM = 'Please reason step by step, and put your final answer within \\boxed{}.';

export function qwenPrmInput(problem: string, steps: readonly string[], stepTag: string): string {
  return (
    `<|im_start|>system\n${QWEN_SYSTEM}<|im_end|>\n<|im_start|>user\n${problem}<|im_end|>\n` +
    `<|im_start|>assistant\n${steps.map((s) => s + stepTag).join('')}<|im_end|><|endoftext|>`
  );
}

export function plainInput(problem: string, steps: readonly string[], stepTag: string): string {
  return `${problem}\n${steps.map((s) => s + stepTag).join('')}`;
}

/** A template from strings: `prefix` with {problem}, `step` with {step}, {tag} and optionally {index} (1-based). */
export interface PrmTemplateSpec {
  prefix: string;
  step: string;
  /** Between rendered steps (default ''). */
  separator?: string;
  /** After the last step (default ''). */
  suffix?: string;
}

export type PrmTemplateFn = (problem: string, steps: readonly string[], stepTag: string) => string;

/**
 * 'qwen-prm': Qwen2.5-Math-PRM's chat format (system prompt, problem as the user turn, steps each
 * followed by the tag as the assistant turn). 'math-shepherd': "<problem> Step 1: <step> <tag>\nStep 2: ..."
 * (a step that already starts with "Step k:" keeps it). 'plain': problem, newline, steps each followed
 * by the tag.
 */
export type PrmTemplate = 'qwen-prm' | 'math-shepherd' | 'plain' | PrmTemplateSpec | PrmTemplateFn;

export function mathShepherdInput(problem: string, steps: readonly string[], stepTag: string): string {
  const body = steps.map((s, i) => {
    const t = s.trim();
    return `${/^step\s*\d+\s*:/i.test(t) ? t : `Step ${i + 1}: ${t}`} ${stepTag}`;
  });
  return `${problem} ${body.join('\n')}`;
}

/** The template as a function; a string spec is checked for its {problem}/{step} fields (errors name the key). */
export function templateFn(t: PrmTemplate | undefined): PrmTemplateFn {
  if (t === undefined || t === 'qwen-prm') return qwenPrmInput;
  if (t === 'plain') return plainInput;
  if (t === 'math-shepherd') return mathShepherdInput;
  if (typeof t === 'function') return t;
  if (typeof t !== 'object' || t === null) throw new ConfigError(`template must be 'qwen-prm', 'math-shepherd', 'plain' or { prefix, step, separator, suffix }, got ${JSON.stringify(t)}`);
  if (typeof t.prefix !== 'string' || !t.prefix.includes('{problem}')) throw new ConfigError('template.prefix must be a string containing {problem}');
  if (typeof t.step !== 'string' || !t.step.includes('{step}') || !t.step.includes('{tag}'))
    throw new ConfigError('template.step must be a string containing {step} and {tag}');
  const fill = (s: string, vars: Record<string, string>) => s.replace(/\{(problem|step|tag|index)\}/g, (m, k: string) => vars[k] ?? m);
  const sep = t.separator ?? '';
  const suffix = t.suffix ?? '';
  return (problem, steps, tag) =>
    fill(t.prefix, { problem }) + steps.map((step, i) => fill(t.step, { step, tag, index: String(i + 1) })).join(sep) + suffix;
}
