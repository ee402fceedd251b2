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

export async function createToyBackends(config: Pick<RunConfig, 'benchmark' | 'policy' | 'verifier' | 'prover'>): Promise<ToyBackends> {
  const table = new ProblemTable(generateSuite({ size: config.benchmark.problems, seed: config.benchmark.seed }));
  const policy = new ToyPolicy(table, { gamma: config.policy.gamma });
  // The verifier estimates Q of the base policy (the PRM the paper trains for pi).
  const v = config.verifier;
  const verifier = await toyVerifier(
    table,
    { kind: v.kind, gamma: config.policy.gamma, noise: v.noise, correlation: v.noiseCorrelation, seed: 0, model: v.model, workers: v.workers },
    'verifier',
  );
  // A separate prover estimates Q of mu_gamma' (PAV's A^mu); without one, PAV uses Best-of-K of the verifier.
  let prover: VerifierBackend<number> | undefined;
  try {
    if (config.prover) prover = await createToyProver(table, config.prover, v.workers);
  } catch (e) {
    await verifier.close?.();
    throw e;
  }
  return {
    table,
    policy,
    verifier,
    ...(prover ? { prover } : {}),
    task: new ToyTask(table),
    close: async () => {
      await verifier.close?.();
      await prover?.close?.();
    },
  };
}

/** The separate prover a `prover` section describes (learned provers get `workers` pool workers). */
export function createToyProver(table: ProblemTable, pr: NonNullable<RunConfig['prover']>, workers: number): Promise<VerifierBackend<number>> {
  return toyVerifier(table, { kind: pr.kind, gamma: pr.gamma, noise: pr.noise, correlation: pr.noiseCorrelation, seed: pr.seed, model: pr.model, workers }, 'prover');
}

interface ToyVerifierSpec {
  kind: 'oracle' | 'noisy' | 'learned';
  gamma: number;
  noise: number;
  correlation: number;
  seed: number;
  model?: string;
  workers: number;
}

async function toyVerifier(table: ProblemTable, o: ToyVerifierSpec, what: 'verifier' | 'prover'): Promise<VerifierBackend<number>> {
  switch (o.kind) {
    case 'oracle':
      return new OracleVerifier(table, { gamma: o.gamma });
    case 'noisy':
      return new NoisyVerifier(table, { gamma: o.gamma, sigma: o.noise, seed: o.seed, correlation: o.correlation });
    case 'learned': {
      const flag = what === 'verifier' ? '--model' : '--prover-model';
      if (!o.model) throw new ConfigError(`${what}.kind "learned" needs ${what}.model (${flag} <file.onnx>); make one with \`pavsearch collect\` and \`pavsearch fit\``);
      const { LearnedVerifier } = await import('../toy/learned.ts');
      return LearnedVerifier.create(table, { modelPath: o.model, workers: o.workers });
    }
  }
}
