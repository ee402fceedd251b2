// Rendering and tokenizing PRM prefixes (the ONNX PRM's CPU work before the model runs) on the main
// thread against tokenizer worker threads, on the real Qwen2.5 vocabulary and Qwen-PRM chat format.
// Prints a table and one JSON line.
//   npx tsx bench/search/prm_tokenize.ts [--prefixes 512] [--steps 6] [--workers 2] [--reps 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HfTokenizer } from '../../src/real/hf_tokenizer.ts';
import { encodePrmText, renderPrmInput, type PrmEncodingSettings } from '../../src/real/prm_encoding.ts';
import { qwenPrmInput } from '../../src/real/prm_templates.ts';
import { PrmTokenizerPool } from '../../src/real/tokenizer_pool.ts';
import { formatTable } from '../../src/run/table.ts';
import { QWEN_STEP_TAG_ID, writeQwenPrmTokenizer } from '../../test/fixtures/qwen_tokenizer.ts';

const { values: a } = parseArgs({
  options: {
    prefixes: { type: 'string', default: '512' },
    steps: { type: 'string', default: '6' },
    workers: { type: 'string', default: String(Math.max(1, availableParallelism())) },
    reps: { type: 'string', default: '3' },
  },
});
const N = Number(a.prefixes), H = Number(a.steps), W = Number(a.workers), REPS = Number(a.reps);
const dir = mkdtempSync(join(tmpdir(), 'pav-bench-tok-'));
try {
  const tokenizerPath = writeQwenPrmTokenizer(dir);
  const settings: PrmEncodingSettings = { stepTag: '<extra_0>', stepTagId: QWEN_STEP_TAG_ID, maxLength: 4096, truncation: 'left', tokenizerPath };
  const problem = 'Find the value of $x$ such that $\\sqrt{x + 7} = 9$, then the sum of the integers from 1 to $x$.';
  // Distinct prefixes (a number in every step), as in a beam search round.
  const items = Array.from({ length: N }, (_, i) => ({
    problem,
    problemId: `q${i}`,
    steps: Array.from({ length: 1 + (i % H) }, (_, h) => `Step ${h + 1}: square both sides to get $x + 7 = 81$, so $x = ${74 + i + h}$.`),
  }));
  const tok = HfTokenizer.load(tokenizerPath);
  const main = () => items.map((it) => encodePrmText(tok, settings, it.problemId, renderPrmInput(qwenPrmInput, settings.stepTag, it.problem, it.steps), it.steps.length));
  const pool = await PrmTokenizerPool.create(W, { ...settings, template: 'qwen-prm' });
  let tokens = 0;
  for (const e of main()) if ('ids' in e) tokens += e.ids.length;
  await pool.encode(items); // warm-up
  const time = async (f: () => unknown) => {
    const t: number[] = [];
    for (let r = 0; r < REPS; r++) {
      const t0 = performance.now();
      await f();
      t.push((performance.now() - t0) / 1000);
    }
    return t.sort((x, y) => x - y)[Math.floor(REPS / 2)];
  };
  const sMain = await time(main);
  const sPool = await time(() => pool.encode(items));
  await pool.close();
  console.log(`${N} Qwen-PRM prefixes (1-${H} steps, ${tokens} tokens in all) on ${availableParallelism()} cores; median of ${REPS}`);
  console.log(
    formatTable(
      ['tokenized on', 'seconds', 'ms / prefix', 'k tokens/s', 'speedup'],
      [
        ['the main thread', sMain.toFixed(3), ((1000 * sMain) / N).toFixed(3), (tokens / sMain / 1000).toFixed(0), '1.00x'],
        [`${W} tokenizer workers`, sPool.toFixed(3), ((1000 * sPool) / N).toFixed(3), (tokens / sPool / 1000).toFixed(0), `${(sMain / sPool).toFixed(2)}x`],
      ],
    ),
  );
  console.log(JSON.stringify({ bench: 'prm_tokenize', prefixes: N, tokens, workers: W, cores: availableParallelism(), mainS: sMain, workersS: sPool, speedup: sMain / sPool }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
