// Plugging your own process reward model into pavsearch: a VerifierBackend over any async scoring
// function (here, one call per prefix to a service of yours), with bounded concurrency. The engine
// batches the live candidates of every problem into one scorePrefixes call; this backend reads the
// prefixes in place through prefixList() and returns one value in [0, 1] and a token count each.
//
// Run it (from a checkout): npx tsx examples/custom_verifier.ts
// It searches the embedded benchmark with the toy policy and, as "your service", the exact oracle
// scored one prefix at a time, so its results can be checked against the built-in OracleVerifier.
import pLimit from 'p-limit';
import {
  generateSuite,
  OracleVerifier,
  prefixList,
  ProblemTable,
  runSearchBatch,
  ToyPolicy,
  ToyTask,
  type ScoreBatch,
  type ScoreRequestBatch,
  type VerifierBackend,
} from '../src/index.ts';

/** What your service answers for one prefix: P(the response ends correct) and the tokens it read. */
export type ScorePrefix<S> = (problem: number, steps: readonly S[], signal?: AbortSignal) => Promise<{ value: number; tokens: number }>;

export class FunctionVerifier<S> implements VerifierBackend<S> {
  /** scorePrefixes reads through prefixList(), so the engine may pass its prefixes in place. */
  readonly readsPrefixLists = true;
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    readonly name: string,
    private readonly score: ScorePrefix<S>,
    /** Prefixes in flight at once (your service's capacity). */
    concurrency = 16,
  ) {
    this.limit = pLimit(concurrency);
  }

  async scorePrefixes(batch: ScoreRequestBatch<S>): Promise<ScoreBatch> {
    // A PrefixList from the engine (see readsPrefixLists), plain arrays from other callers.
    const prefixes = prefixList(batch.prefixes);
    const values = new Float64Array(prefixes.length);
    const tokens = new Uint32Array(prefixes.length);
    await Promise.all(
      Array.from({ length: prefixes.length }, (_, i) =>
        this.limit(async () => {
          const r = await this.score(batch.problems[i], prefixes.at(i), batch.signal);
          values[i] = r.value;
          tokens[i] = r.tokens;
        }),
      ),
    );
    return { values, tokens };
  }
}

/** Beam search (PAV) over `size` problems with the oracle served one prefix at a time. */
export async function main(size = 50) {
  const table = new ProblemTable(generateSuite({ size, seed: 1 }));
  const oracle = new OracleVerifier(table, { gamma: 5 });
  // Stand-in for an HTTP call to your PRM: one prefix per request.
  const service: ScorePrefix<number> = async (problem, steps) => {
    const r = await oracle.scorePrefixes({ problems: Uint32Array.of(problem), prefixes: [steps] });
    return { value: r.values[0], tokens: r.tokens[0] };
  };
  const backends = { policy: new ToyPolicy(table, { gamma: 5 }), verifier: new FunctionVerifier('my-prm', service, 32), task: new ToyTask(table) };
  const problems = Array.from({ length: size }, (_, i) => i);
  const results = await runSearchBatch(backends, { algorithm: 'beam', budget: 8, score: 'pav' }, problems);
  const correct = results.filter((r) => r.correct).length;
  console.log(`beam (PAV), N = 8, verifier my-prm: ${correct} of ${size} problems solved`);
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
