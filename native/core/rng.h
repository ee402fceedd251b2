// Counter-based randomness: every draw is a pure function of (seed, stream, substream, counter),
// so results do not depend on thread count, batch splits or the order work is done in.
//
// The generator is SplitMix64's output function (Stafford's "Mix13" finalizer, the one
// java.util.SplittableRandom uses) applied to a key derived from the coordinates. Each key is
// itself a chain of finalizer calls, so neighbouring streams (seed, 0), (seed, 1), ... share no
// arithmetic structure; within a stream the counter walks the Weyl sequence key + (c+1)*phi, which
// is exactly SplitMix64 (passes BigCrush/PractRand). One draw costs one 64-bit mix (~1 ns).
#pragma once
#include <cstdint>

namespace pav {
namespace rng {

inline constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

// Stafford Mix13: a bijective 64-bit finalizer with full avalanche.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Key of one stream: a hash of its coordinates. Distinct coordinates give unrelated keys.
inline uint64_t stream_key(uint64_t seed, uint64_t a, uint64_t b = 0) {
  uint64_t k = mix64(seed + kGolden);
  k = mix64(k ^ (a + 0x632BE59BD9B4E019ull));
  k = mix64(k ^ (b + 0x8CB92BA72F3D8DD7ull));
  return k;
}

// The counter-th 64-bit draw of a stream.
inline uint64_t draw(uint64_t key, uint64_t counter) { return mix64(key + (counter + 1) * kGolden); }

// Uniform in [0, 1) with 53 random bits.
inline double to_unit(uint64_t x) { return static_cast<double>(x >> 11) * 0x1.0p-53; }

// Uniform in (0, 1): never 0, for logs (Box-Muller and friends).
inline double to_open_unit(uint64_t x) { return (static_cast<double>(x >> 11) + 0.5) * 0x1.0p-53; }

// A 64-bit hash of a sequence of 32-bit words, seeded (for "fixed per item" noise).
inline uint64_t hash_words(uint64_t seed, const uint32_t* w, uint64_t n) {
  uint64_t h = mix64(seed ^ (n * kGolden));
  for (uint64_t i = 0; i < n; ++i) h = mix64(h + (static_cast<uint64_t>(w[i]) + 1) * kGolden);
  return h;
}

}  // namespace rng
}  // namespace pav
