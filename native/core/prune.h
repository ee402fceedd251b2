// Segmented selection for beam pruning: per CSR segment keep the k best candidates (optionally
// after deduplicating equal keys, per diversity group, or as a seeded Gumbel-top-k sample).
//
// Order everywhere: score descending, ties by lower (global) index. -0 and +0 are equal scores.
// Output: global candidate indices, CSR by segment; within a segment grouped by ascending group
// id when groups are given, then in the selection order.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/validate.h"

namespace pav {

struct SelectSample {
  bool enabled = false;
  double temperature = 1.0;  // > 0, finite
  uint64_t seed = 0;         // any 64-bit value (the facade passes integers < 2^53)
};

struct SelectArgs {
  bool scores64 = false;        // scores are double (Float64Array) rather than float
  const void* scores = nullptr;
  size_t n = 0;                 // number of candidates (scores length)
  View<uint32_t> offsets;       // S + 1 CSR offsets into scores
  uint64_t k = 1;               // >= 1; segments shorter than k keep everything
  bool has_keys = false;        // dedupe: among equal keys in a segment only the best survives
  View<uint64_t> keys;
  bool has_groups = false;      // top-k per (segment, group)
  View<uint32_t> groups;
  SelectSample sample;
  unsigned threads = 1;         // 0 = one per hardware thread (only used for large batches)
};

// Validates everything except score finiteness (checked in the fused key pass) and returns the
// output capacity the indices array needs: sum of min(len, k) per segment, or n with groups.
// Throws pav::Error (RangeError codes) on bad offsets, lengths, k or temperature.
size_t select_capacity(const SelectArgs& a);

// CPU selection. out_indices must hold select_capacity(a) entries, out_offsets a.offsets.size.
// Returns the number of indices written (== out_offsets[S]). Results do not depend on threads.
size_t select_topk_cpu(const SelectArgs& a, uint32_t* out_indices, size_t out_capacity, uint32_t* out_offsets);

// The Gumbel perturbation used by sampling, exposed so tests and the CUDA path can match it
// bit for bit: score / temperature - log(-log(u)), u = open-unit draw of (seed, global index).
// The log is computed with basic IEEE operations only (no libm, no FMA), so the TypeScript
// reference reproduces it exactly.
double select_gumbel_key(double score, double temperature, uint64_t seed, uint64_t index);
double select_portable_log(double x);

// Key of the counter-based stream the Gumbel draws of `seed` come from (hoisted per call).
uint64_t select_gumbel_stream(uint64_t seed);

// One segment s of select_topk_cpu, written to out (room for the segment's length); returns the
// count. No validation beyond the per-segment finite check: a must have passed select_capacity.
// The CUDA path uses it for segments too long for its shared-memory sort.
size_t select_segment_cpu(const SelectArgs& a, size_t s, uint32_t* out);

#ifdef PAVSEARCH_WITH_CUDA
// CUDA selection, every option (keys, groups, sample). Same results as select_topk_cpu, tie
// order included. Requires a device (require_cuda_device). Plain top-k streams long segments
// through shared memory; with keys, groups or sample a segment is sorted and filtered in shared
// memory (up to select_cuda_segment_cap() candidates) and longer segments run on the CPU
// (select_segment_cpu), with the same result. Score finiteness is checked on the CPU before the
// launch for those options, and reported as the first non-finite score like the CPU does.
size_t select_topk_cuda(const SelectArgs& a, uint32_t* out_indices, size_t out_capacity, uint32_t* out_offsets);
// Longest segment the keys/groups/sample kernel handles on the current device (2048 where the
// device allows 72 KiB of shared memory per block, else 1024).
size_t select_cuda_segment_cap();
#endif

}  // namespace pav
