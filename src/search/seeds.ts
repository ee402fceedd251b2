// Per-request seeds derived from the run seed and the request's identity (problem, depth, beam),
// so a request's randomness never depends on which other requests share its batch.

/** 32-bit avalanche mix (murmur3 finaliser) folded over the parts. */
export function mixSeed(...parts: number[]): number {
  let h = MIX_START;
  for (const p of parts) h = mixIn(h, p);
  return fmix32(h);
}

/**
 * The running state of mixSeed before any part, for callers that fold a shared head once and the
 * per-request tail in a hot loop: fmix32(mixIn(mixIn(MIX_START, a), b)) === mixSeed(a, b).
 */
export const MIX_START = 0x9e3779b9 | 0;

/** Fold one part into a running mixSeed state (murmur3's block step). */
export function mixIn(h: number, part: number): number {
  let k = Math.imul(part >>> 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A stable 32-bit code for a string (algorithm names in seeds). */
export function stringCode(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
