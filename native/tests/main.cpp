// Runner of the core test executable: every TEST_CASE, a summary line ctest and CI can read.
#include <cstring>

#include "core/device.h"
#include "core/error.h"
#include "tests/check.h"

namespace pavtest {
std::vector<Case>& registry() {
  static std::vector<Case> r;
  return r;
}
int g_failures = 0;
}  // namespace pavtest

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0, skipped = 0;
  pav::CudaInfo ci = pav::cuda_info();
  std::printf("cuda: compiled=%d devices=%d %s\n", ci.compiled, ci.devices, ci.error.c_str());
  for (auto& c : pavtest::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    int before = pavtest::g_failures;
    try {
      c.fn();
    } catch (const pavtest::Skip& s) {
      std::printf("SKIP %s: %s\n", c.name, s.reason.c_str());
      ++skipped;
      continue;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "  unexpected exception: %s\n", e.what());
      ++pavtest::g_failures;
    }
    if (pavtest::g_failures == before) {
      ++passed;
      std::printf("ok   %s\n", c.name);
    } else {
      ++failed;
      std::printf("FAIL %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}
