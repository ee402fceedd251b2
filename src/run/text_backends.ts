// Backends of the main job on real models: problems from a JSONL file, the policy behind
// OpenAI-compatible completion servers (vLLM, SGLang), and a process reward model scored either by
// onnxruntime in the verifier pool (OnnxPrmVerifier) or by vLLM's pooling endpoint; optionally a
// second one as PAV's separate prover.
import { ConfigError } from '../errors.ts';
import type { EndpointConfig, PoolOptions } from '../real/endpoints.ts';
import { OnnxPrmVerifier } from '../real/onnx_prm_verifier.ts';
import { OpenAIPolicy } from '../real/openai_policy.ts';
import { loadProblems, type TextProblem } from '../real/problems.ts';
import { TextTask } from '../real/text_task.ts';
import { VllmPoolingVerifier } from '../real/vllm_pooling_verifier.ts';
import type { VerifierBackend } from '../search/backends.ts';
import type { Backends } from '../search/result.ts';
import type { OpenAIBackendConfig } from './run_config.ts';

export interface TextBackends extends Backends<string> {
  problems: TextProblem[];
  task: TextTask;
  close(): Promise<void>;
}

export interface TextBackendOptions {
  /** Environment the endpoints' apiKeyEnv are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  onRetry?: PoolOptions['onRetry'];
}

type EndpointEntry = OpenAIBackendConfig['policy']['endpoints'][number];

export function endpointConfigs(entries: readonly EndpointEntry[], where: string, env: NodeJS.ProcessEnv = process.env): EndpointConfig[] {
  return entries.map((e, i) => {
    if (typeof e === 'string') return { baseURL: e };
    let apiKey: string | undefined;
    if (e.apiKeyEnv !== undefined) {
      apiKey = env[e.apiKeyEnv];
      if (!apiKey) throw new ConfigError(`${where}[${i}].apiKeyEnv: environment variable ${e.apiKeyEnv} is not set`);
    }
    return { baseURL: e.url, maxConcurrency: e.maxConcurrency, apiKey };
  });
}

export async function createTextBackends(config: OpenAIBackendConfig, opts: TextBackendOptions = {}): Promise<TextBackends> {
  const problems = await loadProblems(config.problemsFile, { limit: config.limit });
  if (problems.length === 0) throw new ConfigError(`backend.problemsFile ${config.problemsFile} holds no problems`);
  const p = config.policy;
  const tpl = p.promptTemplate;
  if (tpl !== undefined && !tpl.includes('{problem}')) throw new ConfigError('backend.policy.promptTemplate must contain {problem}');
  const policy = new OpenAIPolicy({
    model: p.model,
    endpoints: endpointConfigs(p.endpoints, 'backend.policy.endpoints', opts.env),
    problems: problems.map((x) => x.problem),
    template: tpl === undefined ? undefined : (problem) => tpl.replace(/\{problem\}/g, () => problem),
    delimiter: p.delimiter,
    maxStepTokens: p.maxStepTokens,
    maxCompletionTokens: p.maxCompletionTokens,
    temperature: p.temperature,
    topP: p.topP,
    seedMode: p.seedMode,
    extraBody: p.extraBody,
    retry: p.retry,
    circuit: p.circuit,
    onRetry: opts.onRetry,
  });
  const verifier = await textVerifier(config.verifier, problems, 'backend.verifier', opts);
  let prover: VerifierBackend<string> | undefined;
  try {
    if (config.prover) prover = await textVerifier(config.prover, problems, 'backend.prover', opts);
  } catch (e) {
    await verifier.close?.();
    throw e;
  }
  // The task joins steps as the policy does, so answers are extracted from the text the policy wrote.
  const task = new TextTask(problems, { name: `text:${config.problemsFile}`, delimiter: p.delimiter, timeoutMs: config.gradeTimeoutMs });
  return {
    problems,
    policy,
    verifier,
    ...(prover ? { prover } : {}),
    task,
    close: async () => {
      await Promise.all([policy.close(), verifier.close?.(), prover?.close?.()]);
    },
  };
}

/** A PRM as configured: onnxruntime in the verifier pool, or vLLM's pooling endpoint. */
async function textVerifier(v: OpenAIBackendConfig['verifier'], problems: TextProblem[], where: string, opts: TextBackendOptions): Promise<VerifierBackend<string>> {
  if (v.kind === 'onnx-prm')
    return OnnxPrmVerifier.create({
      modelPath: v.modelPath,
      tokenizerPath: v.tokenizerPath,
      problems,
      template: v.template,
      stepTag: v.stepTag,
      stepTagId: v.stepTagId,
      head: v.head,
      maxLength: v.maxLength,
      truncation: v.truncation,
      padMultiple: v.padMultiple,
      padTokenId: v.padTokenId,
      emptyPrefixValue: v.emptyPrefixValue,
      workers: v.workers,
      intraOpThreads: v.intraOpThreads,
      tokenizerWorkers: v.tokenizerWorkers,
      maxBatchRows: v.maxBatchRows,
      executionProviders: v.executionProviders,
      inputNames: v.inputNames,
      outputName: v.outputName,
    });
  return new VllmPoolingVerifier({
    model: v.model,
    endpoints: endpointConfigs(v.endpoints, `${where}.endpoints`, opts.env),
    problems: problems.map((x) => x.problem),
    stepTag: v.stepTag,
    format: v.format,
    rewardIndex: v.rewardIndex,
    transform: v.transform,
    emptyPrefixValue: v.emptyPrefixValue,
    maxBatch: v.maxBatch,
    retry: v.retry,
    circuit: v.circuit,
    onRetry: opts.onRetry,
  });
}
