// CUDA runtime queries for device discovery. With a static cudart, a machine without a driver
// reports an error here instead of failing to load the addon.
#include <cuda_runtime.h>

#include <mutex>

#include "core/device.h"

namespace pav {

CudaInfo cuda_info_impl() {
  // The answer cannot change within a process, and cudaGetDeviceCount is slow the first time.
  static std::once_flag once;
  static CudaInfo cached;
  std::call_once(once, [] {
    cached.compiled = true;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      cached.devices = 0;
      cached.error = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
      cudaGetLastError();  // clear the sticky error state
    } else {
      cached.devices = n;
      if (n == 0) cached.error = "no CUDA devices found";
    }
  });
  return cached;
}

}  // namespace pav
