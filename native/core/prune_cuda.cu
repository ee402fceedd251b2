// CUDA segmented top-k (plain selection): one block per segment, bitonic sort in shared memory
// of (descending-score key, global index) items, so results equal the CPU path bit for bit,
// tie order included. Segments longer than the shared buffer stream through it in chunks,
// keeping the best half after each sort.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/prune.h"

namespace pav {

namespace {

#define PAV_CUDA_CHECK(expr)                                                                          \
  do {                                                                                                \
    cudaError_t pav_err = (expr);                                                                     \
    if (pav_err != cudaSuccess) {                                                                     \
      cudaGetLastError();                                                                             \
      throw_runtime(std::string("CUDA error in selectTopK: ") + cudaGetErrorName(pav_err) + ": " +     \
                        cudaGetErrorString(pav_err),                                                  \
                    pav_err == cudaErrorMemoryAllocation ? code::kOutOfMemory : code::kCuda);          \
    }                                                                                                 \
  } while (0)

template <class T>
struct DeviceBuffer {
  T* ptr = nullptr;
  explicit DeviceBuffer(size_t n) {
    if (n > 0) PAV_CUDA_CHECK(cudaMalloc(&ptr, n * sizeof(T)));
  }
  ~DeviceBuffer() {
    if (ptr) cudaFree(ptr);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

// Items: ascending order = output order (key = descending score, then global index).
struct DevItemF32 {
  using Item = unsigned long long;
  static constexpr int kCap = 4096;  // 32 KiB of shared memory
  __device__ static Item make(float v, uint32_t idx, bool& bad) {
    uint32_t b = __float_as_uint(v);
    bad = (b & 0x7F800000u) == 0x7F800000u;
    b = (b == 0x80000000u) ? 0u : b;
    uint32_t mask = static_cast<uint32_t>(static_cast<int32_t>(b) >> 31) | 0x80000000u;
    uint32_t key = ~(b ^ mask);
    return (static_cast<Item>(key) << 32) | idx;
  }
  __device__ static Item max_item() { return ~0ull; }
  __device__ static bool less(const Item& a, const Item& b) { return a < b; }
  __device__ static uint32_t idx(const Item& a) { return static_cast<uint32_t>(a); }
};

struct DevPair {
  unsigned long long key;
  uint32_t idx;
};
struct DevItemF64 {
  using Item = DevPair;
  static constexpr int kCap = 2048;  // 32 KiB of shared memory
  __device__ static Item make(double v, uint32_t idx, bool& bad) {
    unsigned long long b = static_cast<unsigned long long>(__double_as_longlong(v));
    bad = (b & 0x7FF0000000000000ull) == 0x7FF0000000000000ull;
    b = (b == 0x8000000000000000ull) ? 0ull : b;
    unsigned long long mask =
        static_cast<unsigned long long>(static_cast<long long>(b) >> 63) | 0x8000000000000000ull;
    return DevPair{~(b ^ mask), idx};
  }
  __device__ static Item max_item() { return DevPair{~0ull, 0xFFFFFFFFu}; }
  __device__ static bool less(const Item& a, const Item& b) {
    return a.key < b.key || (a.key == b.key && a.idx < b.idx);
  }
  __device__ static uint32_t idx(const Item& a) { return a.idx; }
};

// Ascending bitonic sort of buf[0, P), P a power of two.
template <class Tr>
__device__ void bitonic_sort(typename Tr::Item* buf, int P) {
  for (int size = 2; size <= P; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      __syncthreads();
      for (int t = threadIdx.x; t < (P >> 1); t += blockDim.x) {
        int i = 2 * t - (t & (stride - 1));
        int j = i + stride;
        bool up = (i & size) == 0;
        typename Tr::Item a = buf[i], b = buf[j];
        if (Tr::less(b, a) == up) {
          buf[i] = b;
          buf[j] = a;
        }
      }
    }
  }
  __syncthreads();
}

template <class S, class Tr>
__global__ void topk_kernel(const S* __restrict__ scores, const uint32_t* __restrict__ off,
                            const uint32_t* __restrict__ out_off, uint32_t* __restrict__ out, uint32_t k,
                            size_t S_count, unsigned int* bad_index) {
  using Item = typename Tr::Item;
  extern __shared__ unsigned char smem[];
  Item* buf = reinterpret_cast<Item*>(smem);
  constexpr int kCap = Tr::kCap;
  for (size_t s = blockIdx.x; s < S_count; s += gridDim.x) {
    const uint32_t lo = off[s], hi = off[s + 1];
    const uint32_t m = hi - lo;
    if (m == 0) continue;
    const uint32_t kk = min(k, m);
    if (m <= static_cast<uint32_t>(kCap)) {
      int P = 1;
      while (P < static_cast<int>(m)) P <<= 1;
      for (int t = threadIdx.x; t < P; t += blockDim.x) {
        if (static_cast<uint32_t>(t) < m) {
          bool bad;
          buf[t] = Tr::make(scores[lo + t], lo + t, bad);
          if (bad) atomicMin(bad_index, lo + t);
        } else {
          buf[t] = Tr::max_item();
        }
      }
      bitonic_sort<Tr>(buf, P);
    } else {
      // Stream: the best kCap/2 so far stay in buf[0, kCap/2); each chunk fills the rest
      // (the host guarantees kk <= kCap/2 here).
      constexpr int half = kCap / 2;
      uint32_t next = 0;
      for (int t = threadIdx.x; t < kCap; t += blockDim.x) {
        bool bad;
        buf[t] = Tr::make(scores[lo + t], lo + t, bad);
        if (bad) atomicMin(bad_index, lo + t);
      }
      next = kCap;
      bitonic_sort<Tr>(buf, kCap);
      while (next < m) {
        for (int t = threadIdx.x; t < half; t += blockDim.x) {
          uint32_t i = next + t;
          if (i < m) {
            bool bad;
            buf[half + t] = Tr::make(scores[lo + i], lo + i, bad);
            if (bad) atomicMin(bad_index, lo + i);
          } else {
            buf[half + t] = Tr::max_item();
          }
        }
        next += half;
        bitonic_sort<Tr>(buf, kCap);
      }
    }
    const uint32_t base = out_off[s];
    for (uint32_t t = threadIdx.x; t < kk; t += blockDim.x) out[base + t] = Tr::idx(buf[t]);
    __syncthreads();  // buf is reused by this block's next segment
  }
}

template <class S, class Tr>
size_t run_cuda(const SelectArgs& a, uint32_t* out_indices, uint32_t* out_offsets) {
  const size_t S_count = a.offsets.size - 1;
  const S* scores = static_cast<const S*>(a.scores);
  const uint32_t k32 = static_cast<uint32_t>(std::min<uint64_t>(a.k, 0xFFFFFFFFull));
  out_offsets[0] = 0;
  for (size_t s = 0; s < S_count; ++s)
    out_offsets[s + 1] = out_offsets[s] + std::min<uint32_t>(a.offsets[s + 1] - a.offsets[s], k32);
  const size_t total = out_offsets[S_count];
  if (S_count == 0 || a.n == 0) return total;

  DeviceBuffer<S> d_scores(a.n);
  DeviceBuffer<uint32_t> d_off(a.offsets.size), d_out_off(a.offsets.size), d_out(total);
  DeviceBuffer<unsigned int> d_bad(1);
  PAV_CUDA_CHECK(cudaMemcpy(d_scores.ptr, scores, a.n * sizeof(S), cudaMemcpyHostToDevice));
  PAV_CUDA_CHECK(cudaMemcpy(d_off.ptr, a.offsets.data, a.offsets.size * sizeof(uint32_t), cudaMemcpyHostToDevice));
  PAV_CUDA_CHECK(cudaMemcpy(d_out_off.ptr, out_offsets, a.offsets.size * sizeof(uint32_t), cudaMemcpyHostToDevice));
  PAV_CUDA_CHECK(cudaMemset(d_bad.ptr, 0xFF, sizeof(unsigned int)));

  const int threads = 256;
  const size_t blocks = std::min<size_t>(S_count, 1u << 20);
  const size_t shmem = sizeof(typename Tr::Item) * Tr::kCap;
  topk_kernel<S, Tr><<<static_cast<unsigned>(blocks), threads, shmem>>>(d_scores.ptr, d_off.ptr, d_out_off.ptr, d_out.ptr,
                                                                         k32, S_count, d_bad.ptr);
  PAV_CUDA_CHECK(cudaGetLastError());
  unsigned int bad = 0;
  PAV_CUDA_CHECK(cudaMemcpy(&bad, d_bad.ptr, sizeof bad, cudaMemcpyDeviceToHost));
  if (bad != 0xFFFFFFFFu)
    throw_range(at("scores", bad) + " is " + fmt_num(static_cast<double>(scores[bad])), code::kNonFinite);
  if (total > 0) PAV_CUDA_CHECK(cudaMemcpy(out_indices, d_out.ptr, total * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  return total;
}

}  // namespace

size_t select_topk_cuda(const SelectArgs& a, uint32_t* out_indices, size_t out_capacity, uint32_t* out_offsets) {
  size_t need = select_capacity(a);
  if (!select_cuda_supports(a)) throw_range("keys, groups and sample run on the CPU only; use device 'cpu' or 'auto'");
  if (out_capacity < need)
    throw_range("output has room for " + std::to_string(out_capacity) + " indices, " + std::to_string(need) +
                " needed");
  if (out_offsets == nullptr || (need > 0 && out_indices == nullptr)) throw_range("output arrays have no data");
  // A segment longer than the shared buffer streams through it keeping its best half, which
  // must hold k. Those rare shapes (k > 1024 or 2048 with longer segments) run on the CPU,
  // which gives the same result.
  const uint64_t half = a.scores64 ? DevItemF64::kCap / 2 : DevItemF32::kCap / 2;
  const uint64_t cap = half * 2;
  if (a.k > half) {
    for (size_t s = 0; s + 1 < a.offsets.size; ++s)
      if (a.offsets[s + 1] - a.offsets[s] > cap) return select_topk_cpu(a, out_indices, out_capacity, out_offsets);
  }
  return a.scores64 ? run_cuda<double, DevItemF64>(a, out_indices, out_offsets)
                    : run_cuda<float, DevItemF32>(a, out_indices, out_offsets);
}

}  // namespace pav
