// Device discovery never throws and tells compiled-without-CUDA apart from no-device.
#include "core/device.h"
#include "core/error.h"
#include "tests/check.h"

TEST_CASE("device: cuda_info is consistent") {
  pav::CudaInfo ci = pav::cuda_info();
  CHECK(ci.devices >= 0);
  if (!ci.compiled) CHECK(ci.devices == 0);
  if (ci.devices == 0) {
    CHECK(!ci.error.empty());
    CHECK_THROWS_CODE(pav::require_cuda_device(), pav::code::kNoGpu);
  }
}
