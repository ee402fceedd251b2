// Loads the compiled addon once per thread and reports which backend it offers. Each concern's
// facade (src/ops/*.ts, src/toy/*.ts) declares the slice of the native surface it calls.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddonLoadError } from '../errors.ts';

export interface CudaStatus {
  /** Built with nvcc: the CUDA kernels are in the binary. */
  compiled: boolean;
  /** Usable devices now; 0 without a driver or GPU. */
  devices: number;
  /** Why devices is 0, when known. */
  error: string | null;
}

export interface AddonInfo {
  cuda: CudaStatus;
  napiVersion: number;
  debug: boolean;
}

/** The part of the native surface every build has. */
export interface CoreBinding {
  info(): AddonInfo;
}

const require = createRequire(import.meta.url);
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

let loaded: { binding: CoreBinding; path: string } | undefined;

/** Candidate paths in order: PAVSEARCH_ADDON_PATH, build/Release, build/Debug. */
export function addonCandidates(explicitPath = process.env.PAVSEARCH_ADDON_PATH): string[] {
  const list: string[] = [];
  if (explicitPath) list.push(resolve(explicitPath));
  list.push(resolve(packageRoot, 'build', 'Release', 'pavsearch.node'));
  list.push(resolve(packageRoot, 'build', 'Debug', 'pavsearch.node'));
  return list;
}

/** Try each candidate; throw one AddonLoadError naming every place tried and how to fix it. */
export function loadAddonFrom(candidates: readonly string[]): { binding: CoreBinding; path: string } {
  const failures: string[] = [];
  for (const path of candidates) {
    if (!existsSync(path)) {
      failures.push(`${path}: not found`);
      continue;
    }
    try {
      return { binding: require(path) as CoreBinding, path };
    } catch (err) {
      failures.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new AddonLoadError(
    'Could not load the pavsearch native addon. Tried:\n' +
      failures.map((f) => `  - ${f}`).join('\n') +
      '\nBuild it with `npm run build:native` (needs cmake and a C++17 compiler; `npm run build:native:cpu` skips CUDA),' +
      ' or point PAVSEARCH_ADDON_PATH at a built pavsearch.node.',
    failures,
  );
}

/** The addon, typed as the slice the caller declares. Loaded once per thread. */
export function addon<T extends object = CoreBinding>(): T & CoreBinding {
  loaded ??= loadAddonFrom(addonCandidates());
  return loaded.binding as T & CoreBinding;
}

/** Where the addon was loaded from and what it can run on. */
export function backendInfo(): AddonInfo & { path: string; backends: ('cpu' | 'cuda')[] } {
  const b = addon();
  const info = b.info();
  return { ...info, path: loaded!.path, backends: info.cuda.devices > 0 ? ['cpu', 'cuda'] : ['cpu'] };
}
