// Where a worker module lives: beside its caller, as .ts under tsx in a source checkout (the loader is
// resolved from here, not the cwd) or as the compiled .js in dist.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Piscina's filename and execArgv for worker `name` (no extension) next to the module at `callerUrl`. */
export function workerEntry(callerUrl: string, name: string): { filename: string; execArgv: string[] } {
  if (fileURLToPath(callerUrl).endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { filename: new URL(`./${name}.ts`, callerUrl).href, execArgv: ['--import', tsx] };
  }
  return { filename: new URL(`./${name}.js`, callerUrl).href, execArgv: [] };
}
