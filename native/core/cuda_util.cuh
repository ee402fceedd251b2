// Shared host helpers of the CUDA translation units added for aggregateSteps, expandToTokens,
// voteAnswers and the extended selectTopK: every runtime call is checked and turned into a
// pav::Error (ERR_PAV_CUDA, or ERR_PAV_OUT_OF_MEMORY for a failed allocation), and device buffers
// are freed on every exit path. Header-only and internal (included by *.cu files only).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "core/error.h"

namespace pav {
namespace cudautil {

inline void check(cudaError_t err, const char* op, const char* what) {
  if (err == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so later calls can run
  throw_runtime(std::string("CUDA ") + what + " failed in " + op + ": " + cudaGetErrorName(err) + ": " +
                    cudaGetErrorString(err),
                err == cudaErrorMemoryAllocation ? code::kOutOfMemory : code::kCuda);
}

// A device buffer of count elements, optionally filled from host memory.
template <class T>
struct Buffer {
  T* ptr = nullptr;
  size_t n = 0;
  Buffer(const char* op, size_t count) : n(count) {
    if (n) check(cudaMalloc(&ptr, n * sizeof(T)), op, "cudaMalloc");
  }
  Buffer(const char* op, const T* host, size_t count) : Buffer(op, host ? count : 0) {
    if (n) check(cudaMemcpy(ptr, host, n * sizeof(T), cudaMemcpyHostToDevice), op, "cudaMemcpy (to device)");
  }
  ~Buffer() {
    if (ptr) cudaFree(ptr);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void to_host(const char* op, T* host, size_t count) const {
    if (count) check(cudaMemcpy(host, ptr, count * sizeof(T), cudaMemcpyDeviceToHost), op, "cudaMemcpy (to host)");
  }
};

// After a launch: the launch error, then the execution error.
inline void launched(const char* op) {
  check(cudaGetLastError(), op, "kernel launch");
  check(cudaDeviceSynchronize(), op, "kernel execution");
}

constexpr int kBlock = 256;

// Grid for a grid-stride loop over n items (kernels loop, so capping the grid is safe).
inline unsigned grid_for(size_t n) {
  return static_cast<unsigned>(std::max<size_t>(1, std::min<size_t>((n + kBlock - 1) / kBlock, 65535u * 8u)));
}

}  // namespace cudautil
}  // namespace pav
