// The pavsearch command line: the main job (`run`), one problem (`search`), PAV training data
// (`collect`), reports (`report`), the toy policy as an HTTP server (`serve-policy`) and the
// prover study (`study`).
// Plain commander: the shared option set is added by a helper, which extra-typings cannot follow.
import { Command, InvalidArgumentError } from 'commander';
import { isCodedError } from '../errors.ts';
import { mergeConfig, parseRunConfig, readConfigFile, type RunConfig } from '../run/run_config.ts';
import { runMainJob } from '../run/main_job.ts';
import { formatSummary } from '../run/table.ts';
import { createProgress } from './progress.ts';

const defaults = parseRunConfig({});

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
  return n;
};
const float = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${v}"`);
  return n;
};
const intList = (name: string) => (v: string) =>
  v.split(',').map((s, i) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name}[${i}] must be an integer, got "${s}"`);
    return n;
  });
const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const d = (v: unknown) => ` (default: ${Array.isArray(v) ? v.join(',') : String(v)})`;

/** Options shared by every command that runs searches on the embedded benchmark. */
function withRunOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'JSON or YAML config file; flags override it')
    .option('--problems <n>', 'problems in the embedded suite' + d(defaults.benchmark.problems), int('--problems'))
    .option('--suite-seed <n>', 'seed of the suite' + d(defaults.benchmark.seed), int('--suite-seed'))
    .option('--gamma <x>', 'base policy mu_gamma' + d(defaults.policy.gamma), float('--gamma'))
    .option('--verifier <kind>', 'oracle | noisy | learned' + d(defaults.verifier.kind))
    .option('--noise <sigma>', 'logit noise of the noisy verifier' + d(defaults.verifier.noise), float('--noise'))
    .option('--model <file>', 'ONNX model of the learned verifier')
    .option('--workers <n>', 'verifier pool workers' + d(defaults.verifier.workers), int('--workers'))
    .option('--methods <list>', 'comma-separated methods' + d(defaults.methods), list)
    .option('--budgets <list>', 'comma-separated budgets N' + d(defaults.budgets), intList('--budgets'))
    .option('--expansions <C>', 'next steps sampled per beam' + d(defaults.search.expansions), int('--expansions'))
    .option('--alpha <x>', 'weight of the prover advantage' + d(defaults.search.alpha), float('--alpha'))
    .option('--prover-k <K>', 'Best-of-K prover' + d(defaults.search.proverK), int('--prover-k'))
    .option('--dvts-width <n>', 'candidates per DVTS subtree' + d(defaults.search.dvtsWidth), int('--dvts-width'))
    .option('--selection <s>', 'best-of-n selection: max | weighted | majority' + d(defaults.search.selection))
    .option('--rerank-aggregate <a>', 'PAV rerank aggregation: last | min | prod | mean' + d(defaults.search.rerankAggregate))
    .option('--dedupe', 'drop identical prefixes in beam search')
    .option('--max-steps <n>', 'step cap' + d(defaults.search.maxSteps), int('--max-steps'))
    .option('--seed <n>', 'search seed' + d(defaults.search.seed), int('--seed'))
    .option('--window <n>', 'problems in flight' + d(defaults.engine.window), int('--window'))
    .option('--lanes <n>', 'concurrent cohorts' + d(defaults.engine.lanes), int('--lanes'))
    .option('--policy-params <n>', 'policy parameters, for FLOPs estimates', float('--policy-params'))
    .option('--verifier-params <n>', 'verifier parameters, for FLOPs estimates', float('--verifier-params'))
    .option('-o, --out <dir>', 'results folder' + d(defaults.out))
    .option('--trace', 'write trace.json (Chrome trace events, for Perfetto)');
}

type RunFlags = {
  config?: string; problems?: number; suiteSeed?: number; gamma?: number; verifier?: string; noise?: number; model?: string;
  workers?: number; methods?: string[]; budgets?: number[]; expansions?: number; alpha?: number; proverK?: number;
  dvtsWidth?: number; selection?: string; rerankAggregate?: string; dedupe?: boolean; maxSteps?: number; seed?: number;
  window?: number; lanes?: number; policyParams?: number; verifierParams?: number; out?: string; trace?: boolean;
};

/** Defaults < config file < flags, validated by the one schema. */
export function resolveRunConfig(flags: RunFlags): RunConfig {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const fromFlags = {
    benchmark: { problems: flags.problems, seed: flags.suiteSeed },
    policy: { gamma: flags.gamma },
    verifier: { kind: flags.verifier, noise: flags.noise, model: flags.model, workers: flags.workers },
    methods: flags.methods,
    budgets: flags.budgets,
    search: {
      expansions: flags.expansions, alpha: flags.alpha, proverK: flags.proverK, dvtsWidth: flags.dvtsWidth,
      selection: flags.selection, rerankAggregate: flags.rerankAggregate, dedupe: flags.dedupe, maxSteps: flags.maxSteps, seed: flags.seed,
    },
    engine: { window: flags.window, lanes: flags.lanes },
    modelSizes: { policyParams: flags.policyParams, verifierParams: flags.verifierParams },
    out: flags.out,
    trace: flags.trace,
  };
  return parseRunConfig(mergeConfig(file, fromFlags), flags.config ? `config (${flags.config} and flags)` : 'options');
}

export function buildProgram(): Command {
  const program = new Command()
    .name('pavsearch')
    .description('Verifier-guided test-time search with process advantage verifiers (PAV) on a native core.')
    .showHelpAfterError();

  withRunOptions(
    program
      .command('run')
      .description('the main job: every method at every budget on the embedded benchmark, with the accuracy-against-compute table and report'),
  )
    .option('--resume', 'continue the run in --out, skipping finished rows')
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: RunFlags & { resume?: boolean; quiet?: boolean }) => {
      const config = resolveRunConfig(flags as RunFlags);
      const ac = new AbortController();
      const onSig = () => ac.abort(new Error('interrupted'));
      process.once('SIGINT', onSig);
      process.once('SIGTERM', onSig);
      const progress = createProgress('run', flags.quiet);
      const { dir, summary, seconds } = await runMainJob(config, { resume: flags.resume, signal: ac.signal, progress });
      console.log(formatSummary(summary));
      console.log(`\n${summary.problems} problems, ${seconds.toFixed(1)} s. Results, summary and report.html in ${dir}`);
    });

  return program;
}

const isMain = process.argv[1] && /cli[\\/]main\.ts$|bin[\\/]pavsearch(\.js)?$/.test(process.argv[1]);
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      const code = isCodedError(err) ? ` [${err.code}]` : '';
      console.error(`pavsearch: ${err instanceof Error ? err.message : String(err)}${code}`);
      process.exitCode = 1;
    });
}
