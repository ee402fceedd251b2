// A minimal test harness for the core library's standalone test executable (run by ctest on
// machines without Node.js, including the GPU machines). No dependency beyond the standard library.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace pavtest {

struct Case {
  const char* name;
  std::function<void()> fn;
};
std::vector<Case>& registry();
extern int g_failures;

struct Registrar {
  Registrar(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

// Skips the rest of a test (for example a CUDA test on a machine without a GPU).
struct Skip {
  std::string reason;
};

}  // namespace pavtest

#define PAV_CONCAT2(a, b) a##b
#define PAV_CONCAT(a, b) PAV_CONCAT2(a, b)
#define TEST_CASE(name)                                                                      \
  static void PAV_CONCAT(pav_test_fn_, __LINE__)();                                          \
  static pavtest::Registrar PAV_CONCAT(pav_test_reg_, __LINE__)(name, PAV_CONCAT(pav_test_fn_, __LINE__)); \
  static void PAV_CONCAT(pav_test_fn_, __LINE__)()

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "  CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      ++pavtest::g_failures;                                                          \
    }                                                                                 \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                         \
  do {                                                                                                \
    double pav_a = (a), pav_b = (b);                                                                  \
    if (!(std::fabs(pav_a - pav_b) <= (tol))) {                                                       \
      std::fprintf(stderr, "  CHECK_NEAR failed at %s:%d: %s = %.9g vs %s = %.9g\n", __FILE__, __LINE__, #a, \
                   pav_a, #b, pav_b);                                                                 \
      ++pavtest::g_failures;                                                                          \
    }                                                                                                 \
  } while (0)

#define CHECK_THROWS_CODE(expr, code_str)                                                    \
  do {                                                                                        \
    bool pav_thrown = false;                                                                  \
    try {                                                                                     \
      expr;                                                                                   \
    } catch (const pav::Error& e) {                                                           \
      pav_thrown = (e.code() == std::string(code_str));                                       \
      if (!pav_thrown)                                                                        \
        std::fprintf(stderr, "  wrong code %s (%s) at %s:%d\n", e.code().c_str(), e.what(), __FILE__, __LINE__); \
    }                                                                                         \
    if (!pav_thrown) {                                                                        \
      std::fprintf(stderr, "  CHECK_THROWS_CODE failed at %s:%d: %s\n", __FILE__, __LINE__, #expr); \
      ++pavtest::g_failures;                                                                  \
    }                                                                                         \
  } while (0)

#define SKIP(reason) throw pavtest::Skip{reason}
