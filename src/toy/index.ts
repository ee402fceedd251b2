// The planted-subsequence toy task in one import: task and suites, exact oracle, sampler, backends.
export * from './task.ts';
export * from './oracle.ts';
export * from './sampler.ts';
export * from './backends.ts';
export { packPrefixes, packProblems, type PackedPrefixes, type PrefixInput, type ProblemsInput, type TokenArray } from './native.ts';
