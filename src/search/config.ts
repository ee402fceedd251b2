// Search configuration: one schema gives defaults, validation with messages that name the key,
// and the JSON schema the CLI publishes. Defaults are the paper's reference configuration.
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

export const ALGORITHMS = ['best-of-n', 'beam', 'dvts', 'pav-rerank'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const searchConfigSchema = z
  .object({
    algorithm: z.enum(ALGORITHMS).describe('search algorithm'),
    /** N: samples for best-of-N / PAV-rerank, beam width for beam search, total width for DVTS. */
    budget: z.number().int().min(1).max(1 << 16).describe('N: samples (best-of-n), beam width (beam), total width (dvts)'),
    /** C: next steps sampled per live beam (paper: 3). */
    expansions: z.number().int().min(1).max(1024).default(3).describe('C: next steps sampled per beam'),
    /** Beam step scores: Q^pi alone (prm) or Q^pi + alpha * A^mu (pav). */
    score: z.enum(['prm', 'pav']).default('pav').describe('step score for beam and dvts'),
    alpha: z.number().finite().default(0.5).describe('weight of the prover advantage'),
    /** Best-of-K prover of the base verifier's values (paper App. D, K = 4 was best). */
    proverK: z.number().int().min(1).max(1024).default(4).describe('K of the Best-of-K prover'),
    /** Width of one DVTS subtree (candidates per subtree per step); subtrees = budget / width, width = min(dvtsWidth, budget). */
    dvtsWidth: z.number().int().min(1).default(4).describe('candidates per DVTS subtree'),
    /** How best-of-N picks among its samples. */
    selection: z.enum(['max', 'weighted', 'majority']).default('max').describe('best-of-n selection'),
    /** How PAV-rerank turns per-step effective rewards into one trace score. */
    rerankAggregate: z.enum(['last', 'min', 'prod', 'mean']).default('min').describe('pav-rerank step aggregation'),
    /** Drop candidates whose whole prefix equals a better one (same problem). */
    dedupe: z.boolean().default(false).describe('drop identical prefixes'),
    /** Step cap (ours: the paper stops when B traces finished). */
    maxSteps: z.number().int().min(1).max(100_000).default(64).describe('step cap per trace'),
    seed: z.number().int().min(0).max(0xffffffff).default(0).describe('run seed'),
  })
  .strict()
  // DVTS runs floor(N / width) subtrees: the rest of a budget that is not a multiple of the width
  // would go unspent while the results said N.
  .refine((c) => c.algorithm !== 'dvts' || c.budget < c.dvtsWidth || c.budget % c.dvtsWidth === 0, {
    path: ['budget'],
    message: 'a DVTS budget must be a multiple of dvtsWidth (or below it: one subtree of N candidates)',
  });

export type SearchConfigInput = z.input<typeof searchConfigSchema>;
export type SearchConfig = z.output<typeof searchConfigSchema>;

/** Validate and fill defaults; throws ConfigError naming the key. */
export function parseSearchConfig(input: unknown, where = 'search config'): SearchConfig {
  const r = searchConfigSchema.safeParse(input);
  if (!r.success) throw new ConfigError(`invalid ${where}:\n${z.prettifyError(r.error)}`);
  return r.data;
}
