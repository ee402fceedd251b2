// CPU implementation of the advantage ops (see advantages.h for the contracts).
#include "core/advantages.h"

#include <algorithm>
#include <string>
#include <vector>

namespace pav {

namespace {

void check_alpha(double alpha) { check_finite_scalar("alpha", alpha); }

// Per-trajectory arrays must match the number of trajectories the offsets describe.
void check_per_trajectory(const char* name, size_t got, View<uint32_t> offsets) {
  size_t T = offsets.size ? offsets.size - 1 : 0;
  if (got != T)
    throw_range(std::string(name) + " has length " + std::to_string(got) + " but offsets describes " +
                    std::to_string(T) + " trajectories",
                code::kLengthMismatch);
}

// Thrown only if a fused fast path and its validator disagree: a bug, not a user error.
[[noreturn]] void validator_disagrees(const char* op) {
  throw_runtime(std::string(op) + ": fast-path check failed but validation passed (internal error)",
                "ERR_PAV_INTERNAL");
}

// Branch-free scans that vectorise; only a failing scan pays for the indexed message.
template <class T>
bool all_unit(View<T> x) {
  int bad = 0;  // int, not bool: GCC vectorises an int OR-reduction but not a bool one
  for (size_t i = 0; i < x.size; ++i) bad |= !((x[i] >= T(0)) & (x[i] <= T(1)));  // NaN fails both
  return !bad;
}
template <class T>
bool all_finite(View<T> x) {
  int bad = 0;  // int, not bool: GCC vectorises an int OR-reduction but not a bool one
  for (size_t i = 0; i < x.size; ++i) bad |= !((x[i] - x[i]) == T(0));  // NaN and +-Inf give NaN
  return !bad;
}
template <class T>
void unit_interval(const char* name, View<T> x) {
  if (!all_unit(x)) check_unit_interval(name, x);
}
template <class T>
void finite(const char* name, View<T> x) {
  if (!all_finite(x)) check_finite(name, x);
}

}  // namespace

void check_K(uint64_t K) {
  if (K < 1 || K > kMaxK)
    throw_range("K must be an integer in [1, 2^53 - 1], got " + std::to_string(K), code::kInvalidArg);
}

// ---------------------------------------------------------------- bokTransform

template <class T, uint64_t KC>
static bool bok_loop(const T* q, size_t n, uint64_t K, T* out) {
  if (KC) K = KC;  // a compile-time K lets the compiler unroll the squarings and vectorise
  int bad = 0;  // int, not bool: GCC vectorises an int OR-reduction but not a bool one
  for (size_t i = 0; i < n; ++i) {
    double v = q[i];
    bad |= !((v >= 0.0) & (v <= 1.0));  // NaN fails both comparisons
    out[i] = static_cast<T>(bok(v, K));
  }
  return !bad;
}

template <class T>
void bok_transform(View<T> q, uint64_t K, T* out) {
  check_K(K);
  bool ok;
  switch (K) {
    case 1: ok = bok_loop<T, 1>(q.data, q.size, K, out); break;
    case 2: ok = bok_loop<T, 2>(q.data, q.size, K, out); break;
    case 4: ok = bok_loop<T, 4>(q.data, q.size, K, out); break;
    case 8: ok = bok_loop<T, 8>(q.data, q.size, K, out); break;
    default: ok = bok_loop<T, 0>(q.data, q.size, K, out); break;
  }
  if (!ok) {
    check_unit_interval("q", q);
    validator_disagrees("bokTransform");
  }
}

// ---------------------------------------------------------------- stepAdvantages

template <class T>
void validate_step_advantages(const StepAdvantagesArgs<T>& a) {
  check_K(a.K);
  check_offsets("offsets", a.offsets, a.values.size, "values");
  check_per_trajectory("rootValues", a.root.size, a.offsets);
  unit_interval("rootValues", a.root);
  unit_interval("values", a.values);
}

template <class T>
void step_advantages(const StepAdvantagesArgs<T>& a, T* out) {
  validate_step_advantages(a);
  const size_t T_ = a.offsets.size - 1;
  for (size_t t = 0; t < T_; ++t) {
    double prev = bok(static_cast<double>(a.root[t]), a.K);
    for (uint32_t h = a.offsets[t]; h < a.offsets[t + 1]; ++h) {
      double cur = bok(static_cast<double>(a.values[h]), a.K);
      out[h] = static_cast<T>(PAV_SUB(cur, prev));
      prev = cur;
    }
  }
}

// ---------------------------------------------------------------- effectiveRewards

template <class T>
static void check_effective_rewards_shape(const EffectiveRewardsArgs<T>& a) {
  check_alpha(a.alpha);
  if (!a.hasProver) check_K(a.K);
  check_same_length("q", a.q.size, "parentIndex", a.parentIndex.size);
  if (a.hasProver) {
    check_same_length("q", a.q.size, "proverChild", a.proverChild.size);
    check_same_length("parentQ", a.parentQ.size, "proverParent", a.proverParent.size);
  }
}

template <class T>
void validate_effective_rewards(const EffectiveRewardsArgs<T>& a) {
  check_effective_rewards_shape(a);
  unit_interval("parentQ", a.parentQ);
  if (a.hasProver) unit_interval("proverParent", a.proverParent);
  unit_interval("q", a.q);
  const size_t m = a.parentQ.size;
  uint32_t maxIndex = 0;
  for (size_t i = 0; i < a.parentIndex.size; ++i) maxIndex = std::max(maxIndex, a.parentIndex[i]);
  if (a.parentIndex.size && maxIndex >= m)
    for (size_t i = 0; i < a.parentIndex.size; ++i)
      if (a.parentIndex[i] >= m)
        throw_range(at("parentIndex", i) + " = " + std::to_string(a.parentIndex[i]) +
                        " is out of range for parentQ (length " + std::to_string(m) + ")",
                    code::kOutOfRange);
  if (a.hasProver) unit_interval("proverChild", a.proverChild);
}

namespace {

// Parent values in double, reused across calls on the same thread: a fresh buffer per call costs
// more in page faults than the whole pass. Large one-off batches do not stay resident.
std::vector<double>& parent_scratch(size_t m) {
  thread_local std::vector<double> buf;
  constexpr size_t kKeep = size_t{1} << 22;  // 32 MiB
  if (buf.size() < m) {
    buf.clear();
    buf.shrink_to_fit();
    buf.resize(m);
  } else if (buf.size() > kKeep && m <= kKeep) {
    std::vector<double>(m).swap(buf);
  }
  return buf;
}

// Two passes, both branch-free: mu of every parent once (vectorises; a parent has several
// children), then the children with a gather of the precomputed parent value. Per-element checks
// fold into one flag; a set flag re-runs the validator for the exact message. Out-of-range parent
// indices are clamped so nothing is read past the parents before the error is raised.
template <class T, uint64_t KC>
bool eff_loops(const EffectiveRewardsArgs<T>& a, T* out) {
  const size_t n = a.q.size, m = a.parentQ.size;
  const uint64_t K = KC ? KC : a.K;
  const double alpha = a.alpha;
  int bad = !all_unit(a.parentQ);
  const double* mu;
  std::vector<double>& scratch = parent_scratch(a.hasProver ? 0 : m);
  if (a.hasProver) {
    bad |= !all_unit(a.proverParent);
    mu = nullptr;
  } else {
    const T* pq = a.parentQ.data;
    double* s = scratch.data();
    for (size_t j = 0; j < m; ++j) s[j] = bok(static_cast<double>(pq[j]), K);
    mu = s;
  }
  const T* q = a.q.data;
  const uint32_t* pi = a.parentIndex.data;
  if (a.hasProver) {
    const T* pc = a.proverChild.data;
    const T* pp = a.proverParent.data;
    for (size_t i = 0; i < n; ++i) {
      const double qi = q[i], ci = pc[i];
      uint32_t p = pi[i];
      const bool inRange = p < m;
      bad |= !((qi >= 0.0) & (qi <= 1.0) & (ci >= 0.0) & (ci <= 1.0) & inRange);
      p = inRange ? p : 0;
      out[i] = static_cast<T>(progress_reward(qi, alpha, ci, static_cast<double>(pp[p])));
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      const double qi = q[i];
      uint32_t p = pi[i];
      const bool inRange = p < m;
      bad |= !((qi >= 0.0) & (qi <= 1.0) & inRange);
      p = inRange ? p : 0;
      out[i] = static_cast<T>(progress_reward(qi, alpha, bok(qi, K), mu[p]));
    }
  }
  return !bad;
}

}  // namespace

template <class T>
void effective_rewards(const EffectiveRewardsArgs<T>& a, T* out) {
  check_effective_rewards_shape(a);
  if (a.q.size > 0 && a.parentQ.size == 0) validate_effective_rewards(a);  // every index is out of range
  bool ok;
  switch (a.hasProver ? 0 : a.K) {
    case 1: ok = eff_loops<T, 1>(a, out); break;
    case 2: ok = eff_loops<T, 2>(a, out); break;
    case 4: ok = eff_loops<T, 4>(a, out); break;
    case 8: ok = eff_loops<T, 8>(a, out); break;
    default: ok = eff_loops<T, 0>(a, out); break;
  }
  if (!ok) {
    validate_effective_rewards(a);
    validator_disagrees("effectiveRewards");
  }
}

// ---------------------------------------------------------------- denseRewards

template <class T>
void validate_dense_rewards(const DenseRewardsArgs<T>& a) {
  check_alpha(a.alpha);
  check_K(a.K);
  check_offsets("offsets", a.offsets, a.values.size, "values");
  check_per_trajectory("outcomes", a.outcomes.size, a.offsets);
  check_per_trajectory("rootValues", a.root.size, a.offsets);
  if (a.hasBaselines) check_same_length("values", a.values.size, "baselines", a.baselines.size);
  finite("outcomes", a.outcomes);
  unit_interval("rootValues", a.root);
  unit_interval("values", a.values);
  if (a.hasBaselines) finite("baselines", a.baselines);
}

template <class T>
void dense_rewards(const DenseRewardsArgs<T>& a, T* out) {
  validate_dense_rewards(a);
  const size_t T_ = a.offsets.size - 1;
  for (size_t t = 0; t < T_; ++t) {
    const double outcome = a.outcomes[t];
    double prev = bok(static_cast<double>(a.root[t]), a.K);
    for (uint32_t h = a.offsets[t]; h < a.offsets[t + 1]; ++h) {
      const double cur = bok(static_cast<double>(a.values[h]), a.K);
      double w = progress_reward(outcome, a.alpha, cur, prev);
      if (a.hasBaselines) w = PAV_SUB(w, static_cast<double>(a.baselines[h]));
      out[h] = static_cast<T>(w);
      prev = cur;
    }
  }
}

// ---------------------------------------------------------------- expandToTokens

template <class T>
size_t validate_expand_to_tokens(View<T> stepWeights, View<uint32_t> tokenOffsets) {
  if (tokenOffsets.size != stepWeights.size + 1)
    throw_range("tokenOffsets has length " + std::to_string(tokenOffsets.size) + " but stepWeights has length " +
                    std::to_string(stepWeights.size) + " (expected stepWeights.length + 1)",
                code::kLengthMismatch);
  if (tokenOffsets[0] != 0)
    throw_range(at("tokenOffsets", 0) + " is " + std::to_string(tokenOffsets[0]) + ", expected 0", code::kBadOffsets);
  for (size_t i = 1; i < tokenOffsets.size; ++i)
    if (tokenOffsets[i] < tokenOffsets[i - 1])
      throw_range(at("tokenOffsets", i) + " is " + std::to_string(tokenOffsets[i]) + ", less than " +
                      at("tokenOffsets", i - 1) + " = " + std::to_string(tokenOffsets[i - 1]) +
                      " (offsets must be non-decreasing)",
                  code::kBadOffsets);
  finite("stepWeights", stepWeights);
  return tokenOffsets[tokenOffsets.size - 1];
}

template <class T>
void expand_to_tokens(View<T> stepWeights, View<uint32_t> tokenOffsets, T* out) {
  validate_expand_to_tokens(stepWeights, tokenOffsets);
  for (size_t s = 0; s < stepWeights.size; ++s) {
    const T w = stepWeights[s];
    for (uint32_t k = tokenOffsets[s]; k < tokenOffsets[s + 1]; ++k) out[k] = w;
  }
}

#define PAV_INSTANTIATE(T)                                                              \
  template void bok_transform<T>(View<T>, uint64_t, T*);                                \
  template void validate_step_advantages<T>(const StepAdvantagesArgs<T>&);              \
  template void step_advantages<T>(const StepAdvantagesArgs<T>&, T*);                   \
  template void validate_effective_rewards<T>(const EffectiveRewardsArgs<T>&);          \
  template void effective_rewards<T>(const EffectiveRewardsArgs<T>&, T*);               \
  template void validate_dense_rewards<T>(const DenseRewardsArgs<T>&);                  \
  template void dense_rewards<T>(const DenseRewardsArgs<T>&, T*);                       \
  template size_t validate_expand_to_tokens<T>(View<T>, View<uint32_t>);                \
  template void expand_to_tokens<T>(View<T>, View<uint32_t>, T*);
PAV_INSTANTIATE(float)
PAV_INSTANTIATE(double)
#undef PAV_INSTANTIATE

}  // namespace pav
