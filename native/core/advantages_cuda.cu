// CUDA versions of the elementwise advantage ops. The _rn intrinsics stop nvcc contracting the
// shared formulas into FMAs, so results are bit-identical to the CPU path.
// nvcc compiles this file twice; only the device pass (__CUDA_ARCH__) may use the intrinsics.
#ifdef __CUDA_ARCH__
#define PAV_MUL(a, b) __dmul_rn((a), (b))
#define PAV_ADD(a, b) __dadd_rn((a), (b))
#define PAV_SUB(a, b) __dsub_rn((a), (b))
#endif
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "core/advantages.h"
#include "core/error.h"

namespace pav {

namespace {

void cuda_check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear non-sticky errors so later calls can run
    throw_runtime(std::string("CUDA ") + what + " failed: " + cudaGetErrorName(err) + ": " + cudaGetErrorString(err),
                  code::kCuda);
  }
}

// A device buffer freed on every exit path (validation already ran, but copies can still fail).
template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t n = 0;
  explicit DeviceBuffer(size_t count) : n(count) {
    if (n) cuda_check(cudaMalloc(&ptr, n * sizeof(T)), "cudaMalloc");
  }
  DeviceBuffer(const T* host, size_t count) : DeviceBuffer(count) {
    if (n) cuda_check(cudaMemcpy(ptr, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (to device)");
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void to_host(T* host) const {
    if (n) cuda_check(cudaMemcpy(host, ptr, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy (to host)");
  }
};

constexpr int kBlock = 256;
unsigned grid_for(size_t n) { return static_cast<unsigned>(std::min<size_t>((n + kBlock - 1) / kBlock, 65535u * 8u)); }

void launch_check() {
  cuda_check(cudaGetLastError(), "kernel launch");
  cuda_check(cudaDeviceSynchronize(), "kernel execution");
}

// Trajectory of step h: the last t with offsets[t] <= h (empty trajectories are skipped over).
__device__ size_t trajectory_of(const uint32_t* offsets, size_t T, size_t h) {
  size_t lo = 0, hi = T;  // answer in [lo, hi)
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (offsets[mid] <= h) lo = mid; else hi = mid;
  }
  return lo;
}

template <class T>
__global__ void bok_kernel(const T* q, size_t n, uint64_t K, T* out) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    out[i] = static_cast<T>(bok(static_cast<double>(q[i]), K));
}

template <class T>
__global__ void step_kernel(const T* values, size_t n, const uint32_t* offsets, size_t T_, const T* root,
                            const T* outcomes, double alpha, const T* baselines, uint64_t K, bool dense, T* out) {
  for (size_t h = blockIdx.x * size_t(blockDim.x) + threadIdx.x; h < n; h += size_t(gridDim.x) * blockDim.x) {
    size_t t = trajectory_of(offsets, T_, h);
    double cur = bok(static_cast<double>(values[h]), K);
    double prev = h == offsets[t] ? bok(static_cast<double>(root[t]), K) : bok(static_cast<double>(values[h - 1]), K);
    double r;
    if (dense) {
      r = progress_reward(static_cast<double>(outcomes[t]), alpha, cur, prev);
      if (baselines) r = PAV_SUB(r, static_cast<double>(baselines[h]));
    } else {
      r = PAV_SUB(cur, prev);
    }
    out[h] = static_cast<T>(r);
  }
}

template <class T>
__global__ void eff_kernel(const T* q, const uint32_t* parentIndex, const T* parentQ, const T* proverChild,
                           const T* proverParent, size_t n, double alpha, uint64_t K, T* out) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    double qi = q[i];
    uint32_t p = parentIndex[i];
    double mc, mp;
    if (proverChild) {
      mc = proverChild[i];
      mp = proverParent[p];
    } else {
      mc = bok(qi, K);
      mp = bok(static_cast<double>(parentQ[p]), K);
    }
    out[i] = static_cast<T>(progress_reward(qi, alpha, mc, mp));
  }
}

}  // namespace

template <class T>
void bok_transform_cuda(View<T> q, uint64_t K, T* out) {
  check_K(K);
  check_unit_interval("q", q);
  if (q.size == 0) return;
  DeviceBuffer<T> dq(q.data, q.size), dout(q.size);
  bok_kernel<T><<<grid_for(q.size), kBlock>>>(dq.ptr, q.size, K, dout.ptr);
  launch_check();
  dout.to_host(out);
}

template <class T>
static void steps_cuda(View<T> values, View<uint32_t> offsets, View<T> root, const T* outcomes, double alpha,
                       const T* baselines, uint64_t K, bool dense, T* out) {
  const size_t n = values.size, T_ = offsets.size - 1;
  if (n == 0) return;
  DeviceBuffer<T> dv(values.data, n), dr(root.data, T_), dout(n);
  DeviceBuffer<uint32_t> doff(offsets.data, offsets.size);
  DeviceBuffer<T> doc(dense ? outcomes : nullptr, dense ? T_ : 0), db(baselines, baselines ? n : 0);
  step_kernel<T><<<grid_for(n), kBlock>>>(dv.ptr, n, doff.ptr, T_, dr.ptr, doc.ptr, alpha, db.ptr, K, dense, dout.ptr);
  launch_check();
  dout.to_host(out);
}

template <class T>
void step_advantages_cuda(const StepAdvantagesArgs<T>& a, T* out) {
  validate_step_advantages(a);
  steps_cuda<T>(a.values, a.offsets, a.root, nullptr, 0.0, nullptr, a.K, false, out);
}

template <class T>
void dense_rewards_cuda(const DenseRewardsArgs<T>& a, T* out) {
  validate_dense_rewards(a);
  steps_cuda<T>(a.values, a.offsets, a.root, a.outcomes.data, a.alpha, a.hasBaselines ? a.baselines.data : nullptr,
                a.K, true, out);
}

template <class T>
void effective_rewards_cuda(const EffectiveRewardsArgs<T>& a, T* out) {
  validate_effective_rewards(a);
  const size_t n = a.q.size, m = a.parentQ.size;
  if (n == 0) return;
  DeviceBuffer<T> dq(a.q.data, n), dpq(a.parentQ.data, m), dout(n);
  DeviceBuffer<uint32_t> dpi(a.parentIndex.data, n);
  DeviceBuffer<T> dpc(a.hasProver ? a.proverChild.data : nullptr, a.hasProver ? n : 0);
  DeviceBuffer<T> dpp(a.hasProver ? a.proverParent.data : nullptr, a.hasProver ? m : 0);
  eff_kernel<T><<<grid_for(n), kBlock>>>(dq.ptr, dpi.ptr, dpq.ptr, dpc.ptr, dpp.ptr, n, a.alpha, a.K, dout.ptr);
  launch_check();
  dout.to_host(out);
}

// ---------------------------------------------------------------- expandToTokens

namespace {

// Token k belongs to the last step s with tokenOffsets[s] <= k (empty steps are skipped over,
// since the next non-empty step starts at the same offset). Pure copies: bit-exact.
template <class T>
__global__ void expand_kernel(const T* w, size_t S, const uint32_t* tokenOffsets, size_t n, T* out) {
  for (size_t k = blockIdx.x * size_t(blockDim.x) + threadIdx.x; k < n; k += size_t(gridDim.x) * blockDim.x)
    out[k] = w[trajectory_of(tokenOffsets, S, k)];
}

}  // namespace

template <class T>
void expand_to_tokens_cuda(View<T> stepWeights, View<uint32_t> tokenOffsets, T* out) {
  const size_t n = validate_expand_to_tokens(stepWeights, tokenOffsets);  // on the CPU, before launch
  if (n == 0) return;  // also covers S == 0 (tokenOffsets == [0])
  const size_t S = stepWeights.size;
  DeviceBuffer<T> dw(stepWeights.data, S), dout(n);
  DeviceBuffer<uint32_t> doff(tokenOffsets.data, tokenOffsets.size);
  expand_kernel<T><<<grid_for(n), kBlock>>>(dw.ptr, S, doff.ptr, n, dout.ptr);
  launch_check();
  dout.to_host(out);
}

#define PAV_INSTANTIATE(T)                                                        \
  template void expand_to_tokens_cuda<T>(View<T>, View<uint32_t>, T*);            \
  template void bok_transform_cuda<T>(View<T>, uint64_t, T*);                     \
  template void step_advantages_cuda<T>(const StepAdvantagesArgs<T>&, T*);        \
  template void effective_rewards_cuda<T>(const EffectiveRewardsArgs<T>&, T*);    \
  template void dense_rewards_cuda<T>(const DenseRewardsArgs<T>&, T*);
PAV_INSTANTIATE(float)
PAV_INSTANTIATE(double)
#undef PAV_INSTANTIATE

}  // namespace pav
