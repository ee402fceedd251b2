// Backends of the main job on the embedded benchmark: the seeded suite, the base policy mu_gamma,
// and the chosen verifier of Q^pi (exact oracle, noisy oracle, or the learned ONNX model).
import { ConfigError } from '../errors.ts';
import type { Backends } from '../search/result.ts';
import { NoisyVerifier, OracleVerifier, ToyPolicy, ToyTask } from '../toy/backends.ts';
import { generateSuite, ProblemTable } from '../toy/task.ts';
import type { VerifierBackend } from '../search/backends.ts';
import type { RunConfig } from './run_config.ts';

export interface ToyBackends extends Backends<number> {
  table: ProblemTable;
  close(): Promise<void>;
}

export async function createToyBackends(config: Pick<RunConfig, 'benchmark' | 'policy' | 'verifier'>): Promise<ToyBackends> {
  const table = new ProblemTable(generateSuite({ size: config.benchmark.problems, seed: config.benchmark.seed }));
  const policy = new ToyPolicy(table, { gamma: config.policy.gamma });
  // The verifier estimates Q of the base policy (the PRM the paper trains for pi).
  const gamma = config.policy.gamma;
  let verifier: VerifierBackend<number> & { close?(): Promise<void> };
  switch (config.verifier.kind) {
    case 'oracle':
      verifier = new OracleVerifier(table, { gamma });
      break;
    case 'noisy':
      verifier = new NoisyVerifier(table, { gamma, sigma: config.verifier.noise });
      break;
    case 'learned': {
      if (!config.verifier.model) throw new ConfigError('verifier.kind "learned" needs verifier.model (--model <file.onnx>); make one with `pavsearch collect` and `pavsearch fit`');
      const { LearnedVerifier } = await import('../toy/learned.ts');
      verifier = await LearnedVerifier.create(table, { modelPath: config.verifier.model, workers: config.verifier.workers });
      break;
    }
  }
  return {
    table,
    policy,
    verifier,
    task: new ToyTask(table),
    close: async () => {
      await verifier.close?.();
    },
  };
}
