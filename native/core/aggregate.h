// Reduce per-step verifier scores to one score per trajectory (PRM-as-ORM reranking, best-of-N).
#pragma once
#include <cstdint>
#include <string>

#include "core/validate.h"

namespace pav {

enum class AggregateMethod { Last, Min, Prod, Mean };

// 'last' | 'min' | 'prod' | 'mean'; anything else throws ERR_PAV_INVALID_ARG.
AggregateMethod parse_aggregate_method(const std::string& s);

// Scores must be finite. An empty trajectory has no defined last/min/mean (and an empty product of
// 1 would rank a trajectory with no steps as certain), so it throws ERR_PAV_BAD_OFFSETS naming it.
template <class T>
void validate_aggregate_steps(View<T> scores, View<uint32_t> offsets);

// out has offsets.size - 1 entries. Products, sums and the mean are accumulated in double in step
// order, so float and double inputs give the correctly-ordered double result rounded once.
template <class T>
void aggregate_steps(View<T> scores, View<uint32_t> offsets, AggregateMethod method, T* out);

#ifdef PAVSEARCH_WITH_CUDA
// Same contract and bit-identical results: one device thread per trajectory runs the CPU's loop
// (same double operations in the same step order, _rn intrinsics so nothing is contracted into an
// FMA). Inputs and outputs are host memory; validation runs on the CPU before the launch. CUDA
// failures throw ERR_PAV_CUDA. Requires a device (the binding calls require_cuda_device first).
template <class T>
void aggregate_steps_cuda(View<T> scores, View<uint32_t> offsets, AggregateMethod method, T* out);
#endif

}  // namespace pav
