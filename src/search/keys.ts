// 64-bit keys for dedupe and answer voting (xxhash64: stable across runs and machines).
import xxhash from 'xxhash-wasm';

type Hasher = Awaited<ReturnType<typeof xxhash>>;
let hasher: Hasher | undefined;

/** Load the wasm hasher once; call before keysOf. */
export async function initKeys(): Promise<void> {
  hasher ??= await xxhash();
}

/** Key of a sequence of steps; the separator cannot occur inside a rendered step. */
export function stepsKey(steps: readonly unknown[]): bigint {
  if (!hasher) throw new Error('initKeys() must be awaited before stepsKey()');
  return hasher.h64(steps.join('\u0001'));
}

export function stringKey(s: string): bigint {
  if (!hasher) throw new Error('initKeys() must be awaited before stringKey()');
  return hasher.h64(s);
}
