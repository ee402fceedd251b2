// CUDA aggregateSteps: one thread per trajectory, running the CPU loop of aggregate.cpp with the
// same double operations in the same (step) order, so results are bit-identical. The explicit _rn
// intrinsics keep nvcc from fusing anything into an FMA (the product and the sum have no
// multiply-add to fuse, but the intrinsics make that a guarantee rather than an observation).
// Not the fastest reduction for very long trajectories; it is deterministic and obviously equal
// to the CPU, which is what this op needs (trajectories are tens of steps).
#include <cuda_runtime.h>

#include "core/aggregate.h"
#include "core/cuda_util.cuh"

namespace pav {

namespace {

template <class T>
__global__ void aggregate_kernel(const T* __restrict__ scores, const uint32_t* __restrict__ offsets, size_t T_,
                                 int method, T* __restrict__ out) {
  for (size_t t = blockIdx.x * size_t(blockDim.x) + threadIdx.x; t < T_; t += size_t(gridDim.x) * blockDim.x) {
    const uint32_t b = offsets[t], e = offsets[t + 1];  // b < e: validated on the host
    double r;
    switch (method) {
      case 0:  // Last
        r = static_cast<double>(scores[e - 1]);
        break;
      case 1:  // Min (strict <: the first of equal minima, -0 vs +0 included, as on the CPU)
        r = static_cast<double>(scores[b]);
        for (uint32_t h = b + 1; h < e; ++h) {
          const double v = static_cast<double>(scores[h]);
          r = v < r ? v : r;
        }
        break;
      case 2:  // Prod
        r = 1.0;
        for (uint32_t h = b; h < e; ++h) r = __dmul_rn(r, static_cast<double>(scores[h]));
        break;
      default:  // Mean
        r = 0.0;
        for (uint32_t h = b; h < e; ++h) r = __dadd_rn(r, static_cast<double>(scores[h]));
        r = __ddiv_rn(r, static_cast<double>(e - b));
        break;
    }
    out[t] = static_cast<T>(r);  // double -> float conversion rounds to nearest, like the host
  }
}

int method_id(AggregateMethod m) {
  switch (m) {
    case AggregateMethod::Last: return 0;
    case AggregateMethod::Min: return 1;
    case AggregateMethod::Prod: return 2;
    default: return 3;
  }
}

}  // namespace

template <class T>
void aggregate_steps_cuda(View<T> scores, View<uint32_t> offsets, AggregateMethod method, T* out) {
  validate_aggregate_steps(scores, offsets);  // on the CPU, before anything touches the device
  const size_t T_ = offsets.size - 1;
  if (T_ == 0) return;
  const char* op = "aggregateSteps";
  cudautil::Buffer<T> ds(op, scores.data, scores.size), dout(op, T_);
  cudautil::Buffer<uint32_t> doff(op, offsets.data, offsets.size);
  aggregate_kernel<T><<<cudautil::grid_for(T_), cudautil::kBlock>>>(ds.ptr, doff.ptr, T_, method_id(method), dout.ptr);
  cudautil::launched(op);
  dout.to_host(op, out, T_);
}

template void aggregate_steps_cuda<float>(View<float>, View<uint32_t>, AggregateMethod, float*);
template void aggregate_steps_cuda<double>(View<double>, View<uint32_t>, AggregateMethod, double*);

}  // namespace pav
