// Process advantages of a Best-of-K prover (Setlur et al. 2024): the BoK transform, per-step
// advantages, effective rewards for beam search and dense per-step/per-token RL weights.
//
// Every op validates its whole input before (or, on the CPU hot path, fused with) the arithmetic,
// so a malformed call throws pav::Error and never reads out of bounds. Arithmetic runs in double for
// both float and double inputs (float only at the output): differences of nearby BoK values cancel
// badly in float, and doing the same double ops on CPU and GPU makes their results bit-identical.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/validate.h"

#if defined(__CUDACC__)
#define PAV_HD __host__ __device__ __forceinline__
#else
#define PAV_HD inline
#endif

namespace pav {

// Largest K accepted: exponentiation by squaring needs at most 53 squarings up to here, and K is
// still an exact JS number.
inline constexpr uint64_t kMaxK = 9007199254740991ull;  // 2^53 - 1

// Shared by host and device so the CPU and CUDA paths run the exact same operations. The CUDA
// translation unit defines PAV_MUL/PAV_ADD/PAV_SUB as the _rn intrinsics so nvcc cannot contract
// them into FMAs (the host compiler does not contract without -mfma).
#ifndef PAV_MUL
#define PAV_MUL(a, b) ((a) * (b))
#define PAV_ADD(a, b) ((a) + (b))
#define PAV_SUB(a, b) ((a) - (b))
#endif

// Q^{BoK}(q) = 1 - (1 - q)^K. K = 1 returns q exactly (1 - (1 - q) may round).
PAV_HD double bok(double q, uint64_t K) {
  if (K == 1) return q;
  double base = PAV_SUB(1.0, q), acc = 1.0;
  bool first = true;
  for (uint64_t k = K; k; k >>= 1) {
    if (k & 1) {
      acc = first ? base : PAV_MUL(acc, base);
      first = false;
    }
    if (k > 1) base = PAV_MUL(base, base);
  }
  return PAV_SUB(1.0, acc);
}

// q + alpha * (mu_child - mu_parent): the effective reward of paper section 4, and (with the
// outcome in place of q) the dense RL weight of section 5.
PAV_HD double progress_reward(double base, double alpha, double mu_child, double mu_parent) {
  return PAV_ADD(base, PAV_MUL(alpha, PAV_SUB(mu_child, mu_parent)));
}

// ---- argument bundles (views into caller memory) ----

template <class T>
struct StepAdvantagesArgs {
  View<T> values;        // per step, prover values (or base values when K > 1)
  View<uint32_t> offsets;  // CSR over trajectories, length T + 1
  View<T> root;          // per trajectory: value of the bare problem
  uint64_t K = 1;
};

template <class T>
struct EffectiveRewardsArgs {
  View<T> q;                  // per candidate: Q^pi of the child
  View<uint32_t> parentIndex;  // per candidate: index into parentQ
  View<T> parentQ;            // per parent: Q^pi of the parent
  double alpha = 0;
  uint64_t K = 1;
  bool hasProver = false;     // use proverChild/proverParent instead of BoK_K(q)
  View<T> proverChild;        // per candidate
  View<T> proverParent;       // per parent (gathered through parentIndex like parentQ)
};

template <class T>
struct DenseRewardsArgs {
  View<uint32_t> offsets;  // CSR over trajectories
  View<T> outcomes;        // per trajectory: R(y)
  View<T> values;          // per step
  View<T> root;            // per trajectory
  double alpha = 0;
  bool hasBaselines = false;
  View<T> baselines;       // per step
  uint64_t K = 1;
};

// ---- validation (throws pav::Error; the CUDA paths call these before launch) ----

void check_K(uint64_t K);
template <class T>
void validate_step_advantages(const StepAdvantagesArgs<T>& a);
template <class T>
void validate_effective_rewards(const EffectiveRewardsArgs<T>& a);
template <class T>
void validate_dense_rewards(const DenseRewardsArgs<T>& a);
// Validates and returns the number of tokens (tokenOffsets' last element).
template <class T>
size_t validate_expand_to_tokens(View<T> stepWeights, View<uint32_t> tokenOffsets);

// ---- CPU ops: out has the length of the main input (tokens for expand_to_tokens) ----

template <class T>
void bok_transform(View<T> q, uint64_t K, T* out);
template <class T>
void step_advantages(const StepAdvantagesArgs<T>& a, T* out);
template <class T>
void effective_rewards(const EffectiveRewardsArgs<T>& a, T* out);
template <class T>
void dense_rewards(const DenseRewardsArgs<T>& a, T* out);
template <class T>
void expand_to_tokens(View<T> stepWeights, View<uint32_t> tokenOffsets, T* out);

#ifdef PAVSEARCH_WITH_CUDA
// Same contracts; inputs and outputs are host memory, copied to and from the current device.
// Validation runs on the CPU first. CUDA failures throw pav::Error code ERR_PAV_CUDA.
template <class T>
void bok_transform_cuda(View<T> q, uint64_t K, T* out);
template <class T>
void step_advantages_cuda(const StepAdvantagesArgs<T>& a, T* out);
template <class T>
void effective_rewards_cuda(const EffectiveRewardsArgs<T>& a, T* out);
template <class T>
void dense_rewards_cuda(const DenseRewardsArgs<T>& a, T* out);
// One thread per token copies its step's weight (a binary search over tokenOffsets): exact.
// out has validate_expand_to_tokens(...) entries.
template <class T>
void expand_to_tokens_cuda(View<T> stepWeights, View<uint32_t> tokenOffsets, T* out);
#endif

}  // namespace pav
