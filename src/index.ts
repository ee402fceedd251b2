// Public API of pavsearch: the native ops, the search engine, the embedded benchmark's backends,
// the real-model backends, and the typed errors.
export * from './errors.ts';
export { backendInfo, type AddonInfo, type CudaStatus } from './native/binding.ts';
export { type Device, type FloatArray, packRagged, uniformOffsets } from './ops/common.ts';
export {
  bokTransform,
  bokTransformAsync,
  stepAdvantages,
  stepAdvantagesAsync,
  effectiveRewards,
  effectiveRewardsAsync,
  denseRewards,
  denseRewardsAsync,
  expandToTokens,
  expandToTokensAsync,
  aggregateSteps,
  aggregateStepsAsync,
} from './ops/advantages.ts';
export { selectTopK, selectTopKAsync, type SelectTopKOptions, type SelectTopKResult } from './ops/prune.ts';
export { voteAnswers, voteAnswersAsync, NO_WINNER, type VoteMethod } from './ops/vote.ts';
export type * from './search/backends.ts';
export { PrefixList, prefixList, type Prefixes } from './search/prefixes.ts';
export { ROOT, StepTree } from './search/step_tree.ts';
export { runSearchBatch, solve, type BatchOptions, type SolveOptions } from './search/engine.ts';
export { parseSearchConfig, ALGORITHMS, type SearchConfig, type SearchConfigInput, type Algorithm } from './search/config.ts';
export type { ProblemResult, Backends, ProgressEvent } from './search/result.ts';
export { PhaseClock, estimateFlops, type ComputeCounters } from './search/compute.ts';
export { paperTask, generateSuite, ProblemTable, type PlantedTask } from './toy/task.ts';
export { ToyPolicy, OracleVerifier, NoisyVerifier, ToyTask } from './toy/backends.ts';
export { valuePrefixes, valuePrefixesAsync } from './toy/oracle.ts';
export { sampleSteps, sampleRollouts } from './toy/sampler.ts';
export { LearnedVerifier } from './toy/learned.ts';
export { createVerifierPool, type VerifierPool } from './verifier/pool.ts';
export { extractAnswer, answersEqual, canonicalAnswer } from './real/answers.ts';
export { loadProblems } from './real/problems.ts';
export { TextTask } from './real/text_task.ts';
export { OpenAIPolicy } from './real/openai_policy.ts';
export { VllmPoolingVerifier } from './real/vllm_pooling_verifier.ts';
export { createPolicyServer } from './real/policy_server.ts';
export { OnnxPrmVerifier } from './real/onnx_prm_verifier.ts';
export { HfTokenizer } from './real/hf_tokenizer.ts';
export { createTextBackends } from './run/text_backends.ts';
export { computeRewards, computeRewardsWithVerifier } from './rl/rewards.ts';
export { readRewardsFile, writeRewardsFile } from './rl/rewards_io.ts';
export { runRlDemo } from './rl/demo.ts';
