// Typed errors of the core library: the addon maps kind to TypeError / RangeError / Error and
// keeps the code, so JS callers can branch on err.code.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pav {

enum class ErrorKind { Type, Range, Runtime };

// Stable codes, mirrored in src/errors.ts.
namespace code {
inline constexpr const char* kInvalidArg = "ERR_PAV_INVALID_ARG";
inline constexpr const char* kInvalidType = "ERR_PAV_INVALID_TYPE";
inline constexpr const char* kLengthMismatch = "ERR_PAV_LENGTH_MISMATCH";
inline constexpr const char* kBadOffsets = "ERR_PAV_BAD_OFFSETS";
inline constexpr const char* kNonFinite = "ERR_PAV_NON_FINITE";
inline constexpr const char* kOutOfRange = "ERR_PAV_OUT_OF_RANGE";
inline constexpr const char* kNoGpu = "ERR_PAV_NO_GPU";
inline constexpr const char* kCuda = "ERR_PAV_CUDA";
inline constexpr const char* kOutOfMemory = "ERR_PAV_OUT_OF_MEMORY";
}  // namespace code

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string code, const std::string& message)
      : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& code() const { return code_; }

 private:
  ErrorKind kind_;
  std::string code_;
};

[[noreturn]] inline void throw_range(const std::string& msg, const char* c = code::kInvalidArg) {
  throw Error(ErrorKind::Range, c, msg);
}
[[noreturn]] inline void throw_type(const std::string& msg, const char* c = code::kInvalidType) {
  throw Error(ErrorKind::Type, c, msg);
}
[[noreturn]] inline void throw_runtime(const std::string& msg, const char* c) {
  throw Error(ErrorKind::Runtime, c, msg);
}

inline std::string fmt_num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace pav
