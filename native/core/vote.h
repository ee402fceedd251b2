// Answer voting over sampled candidates (majority / weighted / max), one winner per problem.
#pragma once
#include <cstdint>
#include <string>

#include "core/validate.h"

namespace pav {

enum class VoteMethod { Majority, Weighted, Max };

// 'majority' | 'weighted' | 'max'; anything else throws ERR_PAV_INVALID_ARG.
VoteMethod parse_vote_method(const std::string& s);

// Winner of a problem with no candidates; its score is 0 (no votes, an empty weight sum).
inline constexpr uint32_t kNoWinner = 0xFFFFFFFFu;

template <class T>
struct VoteArgs {
  View<uint64_t> keys;     // per candidate: the answer's 64-bit key (a hash of the normalised answer)
  bool hasWeights = false;
  View<T> weights;         // per candidate, finite (any sign)
  View<uint32_t> offsets;  // CSR over problems
  VoteMethod method = VoteMethod::Majority;
};

// Throws for bad offsets, mismatched lengths, non-finite weights, or weighted/max without weights.
template <class T>
void validate_vote(const VoteArgs<T>& a);

// Per problem: score each distinct answer (majority: count; weighted: weight sum; max: max weight),
// pick the best (ties: majority falls back to the weight sum when weights exist, then every method
// to the answer seen first), and report its representative candidate: the highest-weight candidate
// of that answer, lowest index on ties (without weights, its first candidate). winner holds global
// candidate indices, score the winning answer's score in double. Weight sums run in candidate
// order, so results are exactly reproducible.
template <class T>
void vote_answers(const VoteArgs<T>& a, uint32_t* winner, double* score);

#ifdef PAVSEARCH_WITH_CUDA
// Problems with more candidates than this run on the CPU inside vote_answers_cuda (the device
// path is quadratic in a problem's size; the CPU's hash table is not).
inline constexpr uint32_t kVoteCudaMaxCandidates = 4096;

// Same contract and identical results (winners, and scores bit for bit): per candidate a device
// thread finds whether it is its answer's first occurrence and, if so, accumulates that answer's
// count / weight sum / max / representative over the later candidates in candidate order (the
// CPU's order); then one thread per problem picks the best answer in first-occurrence order with
// the CPU's comparisons. Validation runs on the CPU before the launch; CUDA failures throw
// ERR_PAV_CUDA. Requires a device.
template <class T>
void vote_answers_cuda(const VoteArgs<T>& a, uint32_t* winner, double* score);
#endif

}  // namespace pav
