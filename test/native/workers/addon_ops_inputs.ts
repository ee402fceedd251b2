// Seeded inputs shared by the piscina addon test and its worker.
export function opsInputs(seed: number) {
  let s = seed >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const segments = 64;
  const len = 40;
  const scores = Float32Array.from({ length: segments * len }, () => Math.round(rand() * 50) / 50);
  const offsets = Uint32Array.from({ length: segments + 1 }, (_, i) => i * len);
  const q = Float64Array.from({ length: segments * len }, () => rand());
  const parentQ = Float64Array.from({ length: segments }, () => rand());
  const parentIndex = Uint32Array.from({ length: segments * len }, (_, i) => Math.floor(i / len));
  const trajOffsets = offsets;
  const roots = Float64Array.from({ length: segments }, () => rand());
  const keys = BigUint64Array.from({ length: 600 }, () => BigInt(Math.floor(rand() * 7)));
  const voteOffsets = Uint32Array.from({ length: 31 }, (_, i) => i * 20);
  return { scores, offsets, q, parentQ, parentIndex, trajOffsets, roots, keys, voteOffsets };
}
