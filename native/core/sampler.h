// Batched, seeded sampling from the prover family mu_gamma of the planted-subsequence task.
//
// Randomness is counter-based (core/rng.h): the token at absolute position t of sample j of a
// request with stream id s is drawn from rng::draw(stream_key(seed, s, j), t). Nothing depends on
// thread count, batch composition, n, or which op asked: sample j's next token from sampleSteps is
// the first token of sample j's rollout from the same prefix, and the first 4 of 8 samples equal the
// 4 of a 4-sample call. The stream id of a request defaults to its index in the batch; callers that
// split or regroup batches pass their own (one seed per request).
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/planted.h"

namespace pav {
namespace toy {

struct SampleParams {
  uint32_t n = 1;               // samples per request
  double gamma = 5.0;           // mu_gamma
  uint64_t seed = 0;
  View<uint32_t> streams;       // per-request stream id; empty = request index
  uint32_t threads = 1;
};

// Checks n >= 1, gamma, streams length, and the batch.
template <class Tok>
void check_sample_params(const ProblemTable& table, const PrefixBatch<Tok>& batch, const SampleParams& p);

// One next token per sample: out_tokens[i*n + j]; out_finished = 1 where the token ends the response
// (the end token, or the L-th token). Sampling from a finished prefix is an error.
template <class Tok>
void sample_steps(const ProblemTable& table, const PrefixBatch<Tok>& batch, const SampleParams& p, Tok* out_tokens,
                  uint8_t* out_finished);

// Upper bound on the tokens sample_rollouts writes: sum over requests of n * (L - prefix length).
// Validates the batch's sizes, offsets and problem indices (not the tokens).
template <class Tok>
uint64_t rollout_capacity(const ProblemTable& table, const PrefixBatch<Tok>& batch, uint32_t n);

// Complete continuations to the end of the response, rollout r = i*n + j at
// out_tokens[out_offsets[r] .. out_offsets[r+1]) (out_offsets has size()*n + 1 entries; out_tokens has
// rollout_capacity() room and is compacted in place). out_success[r] = 1 iff prefix + continuation is
// correct. A finished prefix gets an empty continuation. Returns the total tokens written.
template <class Tok>
uint64_t sample_rollouts(const ProblemTable& table, const PrefixBatch<Tok>& batch, const SampleParams& p,
                         Tok* out_tokens, uint32_t* out_offsets, uint8_t* out_success);

}  // namespace toy
}  // namespace pav
