// CUDA segmented top-k: one block per segment, bitonic sort in shared memory of
// (descending-score key, global index) items, so results equal the CPU path bit for bit, tie
// order included.
//  - Plain top-k: segments longer than the shared buffer stream through it in chunks, keeping the
//    best half after each sort.
//  - keys / groups / sample: the segment's items (Gumbel-perturbed keys when sampling, computed
//    with the same IEEE operations as the CPU's portable log) are sorted once in shared memory;
//    then dedupe keeps the first item of each key in sorted order (= the CPU's best of each key),
//    and each survivor's rank within its group and its output slot (groups ascending, then rank)
//    come from plain quadratic counts over the sorted segment. Segments longer than
//    select_cuda_segment_cap() run on the CPU (select_segment_cpu), which gives the same result.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
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

// ---------------------------------------------------------------- keys / groups / sample

// Device copies of rng::mix64 / draw / to_open_unit and of select_portable_log (prune.cpp), with
// every floating-point operation an explicit round-to-nearest intrinsic in the host's evaluation
// order: the host compiles that code with FP contraction off, so both sides perform the same
// correctly rounded IEEE operations and the Gumbel keys agree bit for bit.
__device__ __forceinline__ unsigned long long dev_mix64(unsigned long long z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

__device__ __forceinline__ double dev_open_unit(unsigned long long stream, unsigned long long counter) {
  const unsigned long long x = dev_mix64(stream + (counter + 1) * 0x9E3779B97F4A7C15ull);
  return __dmul_rn(__dadd_rn(static_cast<double>(x >> 11), 0.5), 0x1.0p-53);  // x >> 11 < 2^53: exact
}

__device__ double dev_portable_log(double x) {
  unsigned long long bits = static_cast<unsigned long long>(__double_as_longlong(x));
  int k = 0;
  if ((bits >> 52) == 0) {
    x = __dmul_rn(x, 18014398509481984.0);  // 2^54
    bits = static_cast<unsigned long long>(__double_as_longlong(x));
    k = -54;
  }
  k += static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const unsigned long long frac = bits & 0x000FFFFFFFFFFFFFull;
  const unsigned long long big = frac > 0x6A09E667F3BCDull;
  k += static_cast<int>(big);
  bits = frac | ((0x3FFull - big) << 52);
  const double m = __longlong_as_double(static_cast<long long>(bits));
  const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
               Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
               Lg7 = 1.479819860511658591e-01;
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double f = __dsub_rn(m, 1.0);
  const double s = __ddiv_rn(f, __dadd_rn(2.0, f));
  const double dk = static_cast<double>(k);
  const double z = __dmul_rn(s, s);
  const double w = __dmul_rn(z, z);
  // t1 = w * (Lg2 + w * (Lg4 + w * Lg6))
  const double t1 = __dmul_rn(w, __dadd_rn(Lg2, __dmul_rn(w, __dadd_rn(Lg4, __dmul_rn(w, Lg6)))));
  // t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)))
  const double t2 =
      __dmul_rn(z, __dadd_rn(Lg1, __dmul_rn(w, __dadd_rn(Lg3, __dmul_rn(w, __dadd_rn(Lg5, __dmul_rn(w, Lg7)))))));
  const double R = __dadd_rn(t2, t1);
  const double hfsq = __dmul_rn(__dmul_rn(0.5, f), f);  // 0.5 * f * f
  // dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f)
  const double inner = __dadd_rn(__dmul_rn(s, __dadd_rn(hfsq, R)), __dmul_rn(dk, ln2_lo));
  return __dsub_rn(__dmul_rn(dk, ln2_hi), __dsub_rn(__dsub_rn(hfsq, inner), f));
}

// score / temperature - log(-log(u)), u the open-unit draw of (stream, global index).
__device__ double dev_gumbel_key(double score, double temperature, unsigned long long stream,
                                 unsigned long long index) {
  const double u = dev_open_unit(stream, index);
  const double g = -dev_portable_log(-dev_portable_log(u));
  return __dadd_rn(__ddiv_rn(score, temperature), g);
}

// Order-preserving maps of prune.cpp (descending value = ascending key; -0 maps like +0).
__device__ __forceinline__ unsigned long long dev_desc_key64(unsigned long long b) {
  b = (b == 0x8000000000000000ull) ? 0ull : b;
  unsigned long long mask = static_cast<unsigned long long>(static_cast<long long>(b) >> 63) | 0x8000000000000000ull;
  return ~(b ^ mask);
}
__device__ __forceinline__ uint32_t dev_desc_key32(uint32_t b) {
  b = (b == 0x80000000u) ? 0u : b;
  uint32_t mask = static_cast<uint32_t>(static_cast<int32_t>(b) >> 31) | 0x80000000u;
  return ~(b ^ mask);
}

// One item of the extended kernel, always a (64-bit key, index) pair: float keys are widened,
// which keeps their order (the CPU's packed float items compare key, then index, the same way).
__device__ __forceinline__ DevPair ext_item(float v, uint32_t idx, bool sample, double temperature,
                                            unsigned long long stream) {
  if (sample) {
    const double g = dev_gumbel_key(static_cast<double>(v), temperature, stream, idx);
    return DevPair{dev_desc_key64(static_cast<unsigned long long>(__double_as_longlong(g))), idx};
  }
  return DevPair{static_cast<unsigned long long>(dev_desc_key32(__float_as_uint(v))), idx};
}
__device__ __forceinline__ DevPair ext_item(double v, uint32_t idx, bool sample, double temperature,
                                            unsigned long long stream) {
  const double key = sample ? dev_gumbel_key(v, temperature, stream, idx) : v;
  return DevPair{dev_desc_key64(static_cast<unsigned long long>(__double_as_longlong(key))), idx};
}

constexpr uint32_t kNotSelected = 0xFFFFFFFFu;
// Shared memory per candidate of the extended kernel: item, dedupe key, group, alive, rank.
constexpr size_t kExtBytesPerItem = sizeof(DevPair) + sizeof(unsigned long long) + 3 * sizeof(uint32_t);

// One block per segment of at most cap candidates (longer ones are left to the host: counts[s]
// is not written). Writes the segment's selection to out_tmp[lo, lo + count) and counts[s].
template <class S>
__global__ void ext_kernel(const S* __restrict__ scores, const uint32_t* __restrict__ off,
                           const unsigned long long* __restrict__ keys, const uint32_t* __restrict__ groups,
                           bool sample, double temperature, unsigned long long stream, uint32_t k, uint32_t cap,
                           size_t S_count, uint32_t* __restrict__ out_tmp, uint32_t* __restrict__ counts) {
  extern __shared__ __align__(16) unsigned char ext_smem[];
  DevPair* items = reinterpret_cast<DevPair*>(ext_smem);
  unsigned long long* ukey = reinterpret_cast<unsigned long long*>(items + cap);
  uint32_t* grp = reinterpret_cast<uint32_t*>(ukey + cap);
  uint32_t* alive = grp + cap;
  uint32_t* rank = alive + cap;
  __shared__ uint32_t selected;
  for (size_t s = blockIdx.x; s < S_count; s += gridDim.x) {
    const uint32_t lo = off[s], hi = off[s + 1];
    const uint32_t m = hi - lo;
    if (m == 0) {
      if (threadIdx.x == 0) counts[s] = 0;
      continue;
    }
    if (m > cap) continue;  // block-uniform: the host selects this segment on the CPU
    uint32_t P = 1;
    while (P < m) P <<= 1;
    if (threadIdx.x == 0) selected = 0;
    for (uint32_t t = threadIdx.x; t < P; t += blockDim.x)
      items[t] = t < m ? ext_item(scores[lo + t], lo + t, sample, temperature, stream) : DevItemF64::max_item();
    bitonic_sort<DevItemF64>(items, static_cast<int>(P));  // ends with __syncthreads
    // Sorted position t now holds the t-th best item; gather its dedupe key and group.
    for (uint32_t t = threadIdx.x; t < m; t += blockDim.x) {
      const uint32_t idx = items[t].idx;
      ukey[t] = keys ? keys[idx] : 0ull;
      grp[t] = groups ? groups[idx] : 0u;
    }
    __syncthreads();
    // Dedupe: an item survives iff no better item (earlier in sorted order) has its key.
    for (uint32_t t = threadIdx.x; t < m; t += blockDim.x) {
      uint32_t a = 1;
      if (keys)
        for (uint32_t q = 0; q < t; ++q)
          if (ukey[q] == ukey[t]) {
            a = 0;
            break;
          }
      alive[t] = a;
    }
    __syncthreads();
    // Rank among the survivors of its group (sorted order); the first k of each group are kept.
    for (uint32_t t = threadIdx.x; t < m; t += blockDim.x) {
      uint32_t r = kNotSelected;
      if (alive[t]) {
        uint32_t c = 0;
        if (!keys && !groups) {
          c = t;
        } else {
          const uint32_t g = grp[t];
          for (uint32_t q = 0; q < t; ++q) c += (alive[q] && grp[q] == g) ? 1u : 0u;
        }
        if (c < k) r = c;
      }
      rank[t] = r;
    }
    __syncthreads();
    // Output slot: the kept items of smaller group ids come first, then the rank.
    for (uint32_t t = threadIdx.x; t < m; t += blockDim.x) {
      if (rank[t] == kNotSelected) continue;
      uint32_t pos = rank[t];
      if (groups) {
        const uint32_t g = grp[t];
        for (uint32_t q = 0; q < m; ++q) pos += (rank[q] != kNotSelected && grp[q] < g) ? 1u : 0u;
      }
      out_tmp[lo + pos] = items[t].idx;
      atomicAdd(&selected, 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) counts[s] = selected;
    __syncthreads();  // shared memory and `selected` are reused by this block's next segment
  }
}

size_t ext_cap_for_device() {
  int dev = 0, optin = 0;
  PAV_CUDA_CHECK(cudaGetDevice(&dev));
  PAV_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  return static_cast<size_t>(optin) >= 2048 * kExtBytesPerItem + 1024 ? 2048 : 1024;
}

template <class S>
size_t run_cuda_ext(const SelectArgs& a, uint32_t* out_indices, uint32_t* out_offsets) {
  const size_t S_count = a.offsets.size - 1;
  const S* scores = static_cast<const S*>(a.scores);
  // Validation on the CPU before the launch: the first non-finite score, as the CPU reports it
  // (segments are contiguous and run in order there, so its first error is the lowest index).
  for (size_t i = 0; i < a.n; ++i)
    if (!std::isfinite(static_cast<double>(scores[i])))
      throw_range(at("scores", i) + " is " + fmt_num(static_cast<double>(scores[i])), code::kNonFinite);
  out_offsets[0] = 0;
  if (S_count == 0) return 0;
  const uint32_t k32 = static_cast<uint32_t>(std::min<uint64_t>(a.k, 0xFFFFFFFFull));
  const size_t cap = ext_cap_for_device();

  std::vector<uint32_t> tmp(a.n), counts(S_count, 0);
  if (a.n > 0) {
    DeviceBuffer<S> d_scores(a.n);
    DeviceBuffer<uint32_t> d_off(a.offsets.size), d_tmp(a.n), d_counts(S_count);
    DeviceBuffer<unsigned long long> d_keys(a.has_keys ? a.n : 0);
    DeviceBuffer<uint32_t> d_groups(a.has_groups ? a.n : 0);
    PAV_CUDA_CHECK(cudaMemcpy(d_scores.ptr, scores, a.n * sizeof(S), cudaMemcpyHostToDevice));
    PAV_CUDA_CHECK(cudaMemcpy(d_off.ptr, a.offsets.data, a.offsets.size * sizeof(uint32_t), cudaMemcpyHostToDevice));
    if (a.has_keys)
      PAV_CUDA_CHECK(cudaMemcpy(d_keys.ptr, a.keys.data, a.n * sizeof(uint64_t), cudaMemcpyHostToDevice));
    if (a.has_groups)
      PAV_CUDA_CHECK(cudaMemcpy(d_groups.ptr, a.groups.data, a.n * sizeof(uint32_t), cudaMemcpyHostToDevice));
    PAV_CUDA_CHECK(cudaMemset(d_counts.ptr, 0, S_count * sizeof(uint32_t)));
    const size_t shmem = cap * kExtBytesPerItem;
    PAV_CUDA_CHECK(cudaFuncSetAttribute(ext_kernel<S>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(shmem)));
    const unsigned long long stream = a.sample.enabled ? select_gumbel_stream(a.sample.seed) : 0ull;
    const size_t blocks = std::min<size_t>(S_count, 1u << 20);
    ext_kernel<S><<<static_cast<unsigned>(blocks), 256, shmem>>>(
        d_scores.ptr, d_off.ptr, d_keys.ptr, d_groups.ptr, a.sample.enabled, a.sample.temperature, stream, k32,
        static_cast<uint32_t>(cap), S_count, d_tmp.ptr, d_counts.ptr);
    PAV_CUDA_CHECK(cudaGetLastError());
    PAV_CUDA_CHECK(cudaDeviceSynchronize());
    PAV_CUDA_CHECK(cudaMemcpy(tmp.data(), d_tmp.ptr, a.n * sizeof(uint32_t), cudaMemcpyDeviceToHost));
    PAV_CUDA_CHECK(cudaMemcpy(counts.data(), d_counts.ptr, S_count * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  }
  // Compact the per-segment results in segment order; long segments are selected on the CPU.
  size_t w = 0;
  for (size_t s = 0; s < S_count; ++s) {
    const uint32_t lo = a.offsets[s], m = a.offsets[s + 1] - lo;
    size_t c;
    if (m > cap) {
      c = select_segment_cpu(a, s, out_indices + w);
    } else {
      c = counts[s];
      std::copy(tmp.begin() + lo, tmp.begin() + lo + c, out_indices + w);
    }
    w += c;
    out_offsets[s + 1] = static_cast<uint32_t>(w);
  }
  return w;
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

size_t select_cuda_segment_cap() { return ext_cap_for_device(); }

size_t select_topk_cuda(const SelectArgs& a, uint32_t* out_indices, size_t out_capacity, uint32_t* out_offsets) {
  size_t need = select_capacity(a);
  if (out_capacity < need)
    throw_range("output has room for " + std::to_string(out_capacity) + " indices, " + std::to_string(need) +
                " needed");
  if (out_offsets == nullptr || (need > 0 && out_indices == nullptr)) throw_range("output arrays have no data");
  if (a.has_keys || a.has_groups || a.sample.enabled)
    return a.scores64 ? run_cuda_ext<double>(a, out_indices, out_offsets)
                      : run_cuda_ext<float>(a, out_indices, out_offsets);
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
