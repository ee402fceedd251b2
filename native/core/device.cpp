// CPU side of device discovery; the CUDA runtime calls live in device_cuda.cu.
#include "core/device.h"

#include "core/error.h"

namespace pav {

#ifdef PAVSEARCH_WITH_CUDA
CudaInfo cuda_info_impl();  // device_cuda.cu
CudaInfo cuda_info() { return cuda_info_impl(); }
#else
CudaInfo cuda_info() {
  CudaInfo info;
  info.compiled = false;
  info.devices = 0;
  info.error = "built without CUDA (nvcc was not found or PAVSEARCH_CUDA=OFF)";
  return info;
}
#endif

void require_cuda_device() {
  CudaInfo info = cuda_info();
  if (info.devices > 0) return;
  throw_runtime("device 'cuda' was requested but no CUDA device is usable: " + info.error, code::kNoGpu);
}

}  // namespace pav
