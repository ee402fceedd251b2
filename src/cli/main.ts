// The pavsearch command line: the main job (`run`), one problem (`search`), PAV training data
// (`collect`), reports (`report`), the toy policy as an HTTP server (`serve-policy`) and the
// prover study (`study`).
// Plain commander: the shared option set is added by a helper, which extra-typings cannot follow.
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, isCodedError } from '../errors.ts';
import { isPlain, mergeConfig, parseRunConfig, readConfigFile, type RunConfig } from '../run/run_config.ts';
import { runMainJob } from '../run/main_job.ts';
import { formatSummary } from '../run/table.ts';
import { createProgress } from './progress.ts';
import { writeReport } from '../report/write.ts';
import { createToyBackends } from '../run/toy_backends.ts';
import { createTextBackends } from '../run/text_backends.ts';
import { ALGORITHMS, parseSearchConfig } from '../search/config.ts';
import { createPolicyServer, parseStepPrompt, toyStepCodec } from '../real/policy_server.ts';
import { ToyPolicy } from '../toy/backends.ts';
import { generateSuite, ProblemTable } from '../toy/task.ts';
import { DEFAULT_STUDY, formatStudy, runStudy } from '../run/study.ts';
import { solveAndDescribe } from '../run/solve_report.ts';
import { collectPavData, readPavData } from '../toy/collect.ts';
import { RL_DEMO_DEFAULTS, RL_DEMO_PAPER_SCALE, runRlDemo, type RlDemoOptions } from '../rl/demo.ts';
import { formatRlTables, writeRlReport } from '../rl/report.ts';
import { fitToyPrm, writeToyPrm } from '../toy/fit.ts';
import { LearnedVerifier, evaluateAgainstOracle, formatOracleErrorReport } from '../toy/learned.ts';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const defaults = parseRunConfig({});

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const int = (name: string, min?: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
  // A range checked here names the flag (the library's check names its own option) and fails before any output.
  if (min !== undefined && n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${v}"`);
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

/** Create the output folder (mkdir -p, as `run` does) before the work, so a bad --out fails at once, not after it. */
function prepareOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(`--out: cannot write to ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

/** Check before the work that an output file can be written where it goes (its folder must exist). */
function checkOutFile(path: string): void {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`${path} is a folder`);
    accessSync(existsSync(path) ? path : dir, constants.W_OK);
  } catch (err) {
    throw new ConfigError(`--out: cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Problems `study` runs when --problems is not given (a sweep runs many searches per problem). */
const STUDY_PROBLEMS = 200;

/** Options shared by every command that runs searches on the embedded benchmark. */
function withRunOptions(cmd: Command, problems = defaults.benchmark.problems): Command {
  return cmd
    .option('-c, --config <file>', 'JSON or YAML config file; flags override it')
    .option('--problems <n>', 'problems in the embedded suite' + d(problems), int('--problems'))
    .option('--suite-seed <n>', 'seed of the suite' + d(defaults.benchmark.seed), int('--suite-seed'))
    .option('--gamma <x>', 'base policy mu_gamma' + d(defaults.policy.gamma), float('--gamma'))
    .option('--verifier <kind>', 'oracle | noisy | learned' + d(defaults.verifier.kind))
    .option('--noise <sigma>', 'logit noise of the noisy verifier' + d(defaults.verifier.noise), float('--noise'))
    .option('--noise-correlation <rho>', "correlation of a prefix's noise with its extension's" + d(defaults.verifier.noiseCorrelation), float('--noise-correlation'))
    .option('--model <file>', 'ONNX model of the learned verifier')
    .option('--workers <n>', 'verifier pool workers' + d(defaults.verifier.workers), int('--workers'))
    .option('--methods <list>', 'comma-separated methods' + d(defaults.methods), list)
    .option('--budgets <list>', 'comma-separated budgets N' + d(defaults.budgets), intList('--budgets'))
    .option('--expansions <C>', 'next steps sampled per beam' + d(defaults.search.expansions), int('--expansions'))
    .option('--alpha <x>', 'weight of the prover advantage' + d(defaults.search.alpha), float('--alpha'))
    .option('--prover-k <K>', 'Best-of-K prover' + d(defaults.search.proverK), int('--prover-k'))
    .option('--prover <kind>', 'a separate prover verifier for PAV: oracle | noisy | learned (default: Best-of-K of the verifier)')
    .option('--prover-gamma <x>', 'prover policy mu_gamma (default: 10)', float('--prover-gamma'))
    .option('--prover-noise <sigma>', 'logit noise of a noisy prover (default: 1)', float('--prover-noise'))
    .option('--prover-noise-correlation <rho>', "a noisy prover's noise correlation along the prefix (default: 0)", float('--prover-noise-correlation'))
    .option('--prover-model <file>', 'ONNX model of a learned prover')
    .option('--dvts-width <n>', 'candidates per DVTS subtree' + d(defaults.search.dvtsWidth), int('--dvts-width'))
    .option('--selection <s>', 'best-of-n selection: max | weighted | majority' + d(defaults.search.selection))
    .option('--rerank-aggregate <a>', 'PAV rerank aggregation: last | min | prod | mean' + d(defaults.search.rerankAggregate))
    .option('--dedupe', 'drop identical prefixes in beam search')
    .option('--no-dedupe', 'keep identical prefixes (overrides a config file)')
    .option('--max-steps <n>', 'step cap' + d(defaults.search.maxSteps), int('--max-steps'))
    .option('--seed <n>', 'search seed' + d(defaults.search.seed), int('--seed'))
    .option('--window <n>', 'problems in flight' + d(defaults.engine.window), int('--window'))
    .option('--lanes <n>', 'concurrent cohorts' + d(defaults.engine.lanes), int('--lanes'))
    .option('--policy-params <n>', 'policy parameters, for FLOPs estimates', float('--policy-params'))
    .option('--verifier-params <n>', 'verifier parameters, for FLOPs estimates', float('--verifier-params'))
    .option('--prover-params <n>', 'separate prover parameters, for FLOPs estimates (default: the verifier\'s)', float('--prover-params'))
    .option('-o, --out <dir>', 'results folder (default: results/run-<timestamp>, linked as results/latest)')
    .option('--trace', 'write trace.json (Chrome trace events, for Perfetto)')
    .option('--no-trace', 'no trace.json (overrides a config file)')
    // Real models (backend kind 'openai'); the config file holds the rest of the backend section.
    .option('--problems-file <file>', 'JSONL of {id, problem, answer}: search real models instead of the embedded benchmark')
    .option('--policy-url <list>', 'comma-separated OpenAI-compatible base URLs of the policy (e.g. http://127.0.0.1:8000/v1)', list)
    .option('--policy-model <name>', 'policy model name as the server knows it')
    .option('--prm-onnx <file>', 'process reward model exported to ONNX (verifier kind onnx-prm)')
    .option('--tokenizer <file>', "the PRM's tokenizer.json");
}

type RunFlags = {
  config?: string; problems?: number; suiteSeed?: number; gamma?: number; verifier?: string; noise?: number; model?: string;
  workers?: number; methods?: string[]; budgets?: number[]; expansions?: number; alpha?: number; proverK?: number;
  prover?: string; proverGamma?: number; proverNoise?: number; proverNoiseCorrelation?: number; proverModel?: string; noiseCorrelation?: number;
  dvtsWidth?: number; selection?: string; rerankAggregate?: string; dedupe?: boolean; maxSteps?: number; seed?: number;
  window?: number; lanes?: number; policyParams?: number; verifierParams?: number; proverParams?: number; out?: string; trace?: boolean;
  problemsFile?: string; policyUrl?: string[]; policyModel?: string; prmOnnx?: string; tokenizer?: string;
};

/** The backend section from the real-model flags, or undefined when none is given (the file's, or toy). */
function backendFromFlags(flags: RunFlags): Record<string, unknown> | undefined {
  const { problemsFile, policyUrl, policyModel, prmOnnx, tokenizer } = flags;
  if ([problemsFile, policyUrl, policyModel, prmOnnx, tokenizer].every((v) => v === undefined)) return undefined;
  return {
    kind: 'openai',
    problemsFile,
    policy: policyUrl !== undefined || policyModel !== undefined ? { endpoints: policyUrl, model: policyModel } : undefined,
    verifier: prmOnnx !== undefined || tokenizer !== undefined ? { kind: 'onnx-prm', modelPath: prmOnnx, tokenizerPath: tokenizer } : undefined,
  };
}

/** Defaults < config file < flags, validated by the one schema. */
export function resolveRunConfig(flags: RunFlags): RunConfig {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const fromFlags = {
    benchmark: { problems: flags.problems, seed: flags.suiteSeed },
    policy: { gamma: flags.gamma },
    verifier: { kind: flags.verifier, noise: flags.noise, noiseCorrelation: flags.noiseCorrelation, model: flags.model, workers: flags.workers },
    prover: [flags.prover, flags.proverGamma, flags.proverNoise, flags.proverNoiseCorrelation, flags.proverModel].some((v) => v !== undefined)
      ? { kind: flags.prover, gamma: flags.proverGamma, noise: flags.proverNoise, noiseCorrelation: flags.proverNoiseCorrelation, model: flags.proverModel }
      : undefined,
    methods: flags.methods,
    budgets: flags.budgets,
    search: {
      expansions: flags.expansions, alpha: flags.alpha, proverK: flags.proverK, dvtsWidth: flags.dvtsWidth,
      selection: flags.selection, rerankAggregate: flags.rerankAggregate, dedupe: flags.dedupe, maxSteps: flags.maxSteps, seed: flags.seed,
    },
    engine: { window: flags.window, lanes: flags.lanes },
    modelSizes: { policyParams: flags.policyParams, verifierParams: flags.verifierParams, proverParams: flags.proverParams },
    out: flags.out,
    trace: flags.trace,
    backend: backendFromFlags(flags),
  };
  return parseRunConfig(mergeConfig(file, fromFlags), flags.config ? `config (${flags.config} and flags)` : 'options');
}

/** Where PAV's A^mu comes from in this run, in words. */
function proverDescription(config: RunConfig): string {
  const p = config.prover;
  if (p) {
    const what = p.kind === 'learned' ? `learned, ${p.model}` : p.kind === 'noisy' ? `noisy, gamma ${p.gamma}, sigma ${p.noise}` : `oracle, gamma ${p.gamma}`;
    return `a separate prover verifier (${what})`;
  }
  const real = config.backend?.kind === 'openai' ? config.backend.prover : undefined;
  if (real) return `a separate prover verifier (${real.kind}, ${real.kind === 'onnx-prm' ? real.modelPath : real.model})`;
  return `Best-of-${config.search.proverK} of the verifier`;
}

export function buildProgram(): Command {
  const program = new Command()
    .name('pavsearch')
    .version(packageVersion())
    .description('Verifier-guided test-time search with process advantage verifiers (PAV) on a native core.')
    .showHelpAfterError();

  withRunOptions(
    program
      .command('run')
      .description('the main job: every method at every budget on the embedded benchmark (or on real models: a config `backend` section, --problems-file), with the accuracy-against-compute table and report'),
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
      const { dir, summary, seconds } = await runMainJob(config, {
        resume: flags.resume,
        signal: ac.signal,
        progress,
        onStart: (d) => flags.quiet || console.error(`writing results to ${d} (resume an interrupted run with --out ${d} --resume)`),
      });
      console.log(formatSummary(summary));
      if (config.methods.some((m) => m.endsWith('/pav'))) console.log(`\nPAV advantages: ${proverDescription(config)}.`);
      console.log(`\n${summary.problems} problems, ${seconds.toFixed(1)} s. Results, summary and report.html in ${dir}`);
    });

  program
    .command('report')
    .description('rebuild summary.json and report.html from a results folder')
    .argument('<dir>', 'results folder written by `pavsearch run`')
    .action(async (dir: string) => {
      const { reportPath, summary } = await writeReport(dir);
      console.log(formatSummary(summary));
      console.log(`\nreport: ${reportPath}`);
    });

  withRunOptions(
    program
      .command('search')
      .description('solve one problem (embedded benchmark, or real models with a backend config) and print the chosen trace with its step scores'),
  )
    .option('--problem <i>', 'problem index (default: 0; in the embedded suite, the paper\'s task)', int('--problem'))
    .option('--algorithm <a>', `${ALGORITHMS.join(' | ')} (default: beam)`)
    .option('--score <s>', 'prm | pav (default: pav)')
    .option('--budget <N>', 'samples / beam width (default: 16)', int('--budget'))
    .option('--deadline-ms <ms>', 'return the best answer so far after this long', int('--deadline-ms', 0))
    .action(async (flags: RunFlags & { problem?: number; algorithm?: string; score?: string; budget?: number; deadlineMs?: number }) => {
      const config = resolveRunConfig(flags);
      const search = parseSearchConfig({
        ...config.search,
        algorithm: flags.algorithm ?? 'beam',
        score: flags.score ?? 'pav',
        budget: flags.budget ?? 16,
      });
      const problem = flags.problem ?? 0;
      if (config.backend?.kind === 'openai') {
        const backends = await createTextBackends(config.backend);
        try {
          console.log(`problem ${backends.task.problemId(problem)}: ${backends.problems[problem]?.problem.slice(0, 200) ?? ''}`);
          console.log(await solveAndDescribe(backends, search, problem, { deadlineMs: flags.deadlineMs }));
        } finally {
          await backends.close();
        }
        return;
      }
      const backends = await createToyBackends(config);
      try {
        const task = backends.table.task(problem);
        console.log(`problem ${backends.task.problemId(problem)}: target ${task.target.join(' ')}, vocab ${task.vocab}, max length ${task.maxLen}`);
        console.log(await solveAndDescribe(backends, search, problem, { deadlineMs: flags.deadlineMs }));
      } finally {
        await backends.close();
      }
    });

  withRunOptions(
    program
      .command('study')
      .description('sweep the prover (Best-of-K, or separate provers with --prover) and alpha of beam (PAV), and report which wins'),
    STUDY_PROBLEMS,
  )
    .option('--ks <list>', 'Best-of-K prover K values' + d(DEFAULT_STUDY.ks), intList('--ks'))
    .option('--prover-gammas <list>', 'with --prover oracle|noisy: the separate prover policies mu_gamma to sweep (rows instead of K)', (v: string) => list(v).map(float('--prover-gammas')))
    .option('--alphas <list>', 'alpha values (0 = PRM)' + d(DEFAULT_STUDY.alphas), (v: string) => list(v).map(float('--alphas')))
    .option('--study-budgets <list>', 'beam widths' + d(DEFAULT_STUDY.budgets), intList('--study-budgets'))
    .action(async (flags: RunFlags & { ks?: number[]; proverGammas?: number[]; alphas?: number[]; studyBudgets?: number[] }) => {
      const given = resolveRunConfig(flags);
      if (given.backend?.kind === 'openai') throw new ConfigError('`study` runs the embedded benchmark only; real models run with `pavsearch run`');
      // The study's own default problem count, unless the flags or the config file give one.
      const file = flags.config ? readConfigFile(flags.config) : undefined;
      const fileProblems = isPlain(file) && isPlain(file.benchmark) && file.benchmark.problems !== undefined;
      const config = flags.problems !== undefined || fileProblems ? given : resolveRunConfig({ ...flags, problems: STUDY_PROBLEMS });
      const study = {
        ks: flags.ks ?? DEFAULT_STUDY.ks,
        proverGammas: flags.proverGammas,
        alphas: flags.alphas ?? DEFAULT_STUDY.alphas,
        budgets: flags.studyBudgets ?? DEFAULT_STUDY.budgets,
      };
      const result = await runStudy(config, study);
      console.log(formatStudy(result, study));
    });

  program
    .command('collect')
    .description('collect PAV training data on the embedded benchmark: (prefix, Q_hat) rows as JSONL (paper section 4.2)')
    .requiredOption('-o, --out <file>', 'JSONL output')
    .option('--problems <n>', 'problems of the suite' + d(defaults.benchmark.problems), int('--problems'))
    .option('--suite-seed <n>', 'seed of the suite' + d(defaults.benchmark.seed), int('--suite-seed'))
    .option('--gamma <x>', 'rollout policy mu_gamma' + d(defaults.policy.gamma), float('--gamma'))
    .option('--n-cov <n>', 'seed rollouts per problem (coverage) (default: 8)', int('--n-cov', 1))
    .option('--n-mc <n>', 'Monte-Carlo rollouts per prefix (default: 16)', int('--n-mc', 1))
    .option('--first-pit', 'also sample densely before the first pit of high-value paths (paper App. D)')
    .option('--seed <n>', 'collection seed (default: 0)', int('--seed'))
    .option('--threads <n>', 'native sampling threads (default: 1)', int('--threads'))
    .action(async (f: { out: string; problems?: number; suiteSeed?: number; gamma?: number; nCov?: number; nMc?: number; firstPit?: boolean; seed?: number; threads?: number }) => {
      checkOutFile(f.out); // the library checks too, but names its option, not the flag
      const table = new ProblemTable(generateSuite({ size: f.problems ?? defaults.benchmark.problems, seed: f.suiteSeed ?? defaults.benchmark.seed }));
      const t0 = performance.now();
      const s = await collectPavData({
        table,
        gamma: f.gamma ?? defaults.policy.gamma,
        nCov: f.nCov ?? 8,
        nMc: f.nMc ?? 16,
        firstPit: f.firstPit ?? false,
        seed: f.seed ?? 0,
        out: f.out,
        threads: f.threads ?? 1,
      });
      console.log(JSON.stringify({ ...s, seconds: +((performance.now() - t0) / 1000).toFixed(2) }, null, 2));
    });

  program
    .command('fit')
    .description('fit the toy PRM to collected data, write it as ONNX, serve it and report its error against the exact oracle')
    .requiredOption('--data <file>', 'JSONL from `pavsearch collect`')
    .requiredOption('-o, --out <file>', 'ONNX output')
    .option('--hidden <n>', 'hidden units (default: 64)', int('--hidden'))
    .option('--epochs <n>', 'epochs (default: 20)', int('--epochs'))
    .option('--seed <n>', 'fit seed (default: 0)', int('--seed'))
    .option('--no-balance', 'do not balance the Q_hat < 0.5 and >= 0.5 buckets')
    .option('--no-recalibrate', 'skip the post-fit logit recalibration')
    .option('--problems <n>', 'problems of the evaluation suite' + d(defaults.benchmark.problems), int('--problems'))
    .option('--suite-seed <n>', 'seed of the evaluation suite' + d(defaults.benchmark.seed), int('--suite-seed'))
    .action(async (f: { data: string; out: string; hidden?: number; epochs?: number; seed?: number; balance: boolean; recalibrate: boolean; problems?: number; suiteSeed?: number }) => {
      checkOutFile(f.out);
      const rows = await readPavData(f.data);
      const fit = fitToyPrm(rows, {
        hidden: f.hidden ?? 64,
        epochs: f.epochs ?? 20,
        seed: f.seed ?? 0,
        balance: f.balance,
        recalibrate: f.recalibrate,
        onEpoch: (e, l) => process.stderr.write(`epoch ${e + 1}: loss ${l.toFixed(5)}\n`),
      });
      await writeToyPrm(fit, f.out);
      console.log(`wrote ${f.out}: ${fit.trainRows} rows, ${fit.seconds.toFixed(1)} s`);
      const gamma = rows[0]?.prover.gamma ?? defaults.policy.gamma;
      const table = new ProblemTable(generateSuite({ size: f.problems ?? defaults.benchmark.problems, seed: f.suiteSeed ?? defaults.benchmark.seed }));
      const verifier = await LearnedVerifier.create(table, { modelPath: f.out, workers: 2 });
      try {
        const report = await evaluateAgainstOracle(verifier, table, { gamma, trainMean: fit.meanLabel });
        console.log(`error against the exact oracle on fresh rollouts of the suite (served by onnxruntime-node):\n${formatOracleErrorReport(report)}`);
      } finally {
        await verifier.close();
      }
    });

  const rd = RL_DEMO_DEFAULTS;
  program
    .command('rl-demo')
    .description('the paper\'s didactic RL result: REINFORCE with Q^pi + alpha A^mu against outcome-only on the planted-subsequence task')
    .option('--seeds <n>', 'seeds' + d(rd.seeds), int('--seeds'))
    .option('--iterations <n>', 'REINFORCE iterations of the main comparison' + d(rd.iterations), int('--iterations'))
    .option('--batch-size <n>', 'trajectories per iteration' + d(rd.batchSize), int('--batch-size'))
    .option('--alpha <x>', 'weight of A^mu' + d(rd.alpha), float('--alpha'))
    .option('--prover-gamma <x>', 'prover mu_gamma of the PAV arm' + d(rd.proverGamma), float('--prover-gamma'))
    .option('--lr <x>', 'REINFORCE learning rate' + d(rd.lr), float('--lr'))
    .option('--optimizer <o>', 'adam | sgd (plain gradient descent, the ablation)' + d(rd.optimizer))
    .option('--qmu-arm', "also train with the prover's value Q^mu instead of its advantage (the paper's collapse case)")
    .option('--hidden <n>', 'hidden units of the policy MLP' + d(rd.hidden), int('--hidden'))
    .option('--qpi-rollouts <n>', 'fresh rollouts per step for the Monte-Carlo Q^pi (0 = R(y))' + d(rd.qpiRollouts), int('--qpi-rollouts'))
    .option('--form <f>', 'q-pi (the didactic weight) | outcome (R(y), section 5)' + d(rd.form))
    .option('--baseline <b>', 'none | batch-mean' + d(rd.baseline))
    .option('--sweep-gammas <list>', 'prover gammas of the sweep ("" skips it)' + d(rd.sweepGammas), (v: string) => list(v).map(float('--sweep-gammas')))
    .option('--sweep-iterations <n>', 'iterations per sweep run' + d(rd.sweepIterations), int('--sweep-iterations'))
    .option('--paper-scale', 'the paper\'s 10,000 iterations (hours on a laptop)')
    .option('-o, --out <dir>', 'where rl-report.html and rl-results.json go (default: results/rl)')
    .action(async (f: RlDemoOptions & { paperScale?: boolean; out?: string }) => {
      const { paperScale, out, ...rest } = f;
      const options: RlDemoOptions = { ...(paperScale ? RL_DEMO_PAPER_SCALE : {}), ...rest };
      const dir = out ?? 'results/rl';
      prepareOutDir(dir);
      const results = await runRlDemo(options, { log: (line: string) => process.stderr.write(line + '\n') });
      console.log(formatRlTables(results));
      await writeRlReport(results, dir);
      console.log(`\nrl-report.html and rl-results.json in ${dir}`);
    });

  program
    .command('serve-policy')
    .description('serve the embedded benchmark\'s policy as an OpenAI-compatible completions server on loopback')
    .option('--port <n>', 'port (default: a free one)', int('--port'))
    .option('--problems <n>', 'problems in the suite' + d(defaults.benchmark.problems), int('--problems'))
    .option('--suite-seed <n>', 'seed of the suite' + d(defaults.benchmark.seed), int('--suite-seed'))
    .option('--gamma <x>', 'policy mu_gamma' + d(defaults.policy.gamma), float('--gamma'))
    .action(async (flags: { port?: number; problems?: number; suiteSeed?: number; gamma?: number }) => {
      const table = new ProblemTable(generateSuite({ size: flags.problems ?? defaults.benchmark.problems, seed: flags.suiteSeed ?? defaults.benchmark.seed }));
      const codec = toyStepCodec(table.vocab);
      const server = await createPolicyServer({
        policy: new ToyPolicy(table, { gamma: flags.gamma ?? defaults.policy.gamma }),
        ...codec,
        parsePrompt: (p) => parseStepPrompt(p, codec.parseStep),
        port: flags.port ?? 0,
      });
      console.log(`serving ${table.size} problems at ${server.url} (POST /v1/completions, GET /v1/models); Ctrl-C stops`);
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  return program;
}

/** Parse argv and run; errors print one line with their code and set a non-zero exit status. */
export async function runCli(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    const code = isCodedError(err) ? ` [${err.code}]` : '';
    console.error(`pavsearch: ${err instanceof Error ? err.message : String(err)}${code}`);
    process.exitCode = 1;
  }
}

// Run when executed directly (`tsx src/cli/main.ts`, `npm start`); bin/pavsearch.js calls runCli itself.
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await runCli();
