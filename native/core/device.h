// Whether CUDA kernels were compiled in and whether a device is usable right now.
#pragma once
#include <string>

namespace pav {

struct CudaInfo {
  bool compiled = false;  // built with nvcc
  int devices = 0;        // usable devices now (0 without a driver or GPU)
  std::string error;      // why devices is 0, when the runtime said so
};

// Queried once per call; cheap after the first CUDA runtime initialisation.
CudaInfo cuda_info();

// Throws pav::Error (ERR_PAV_NO_GPU) when no device can run a kernel.
void require_cuda_device();

}  // namespace pav
