// Argument checks shared by every op. Messages name the argument and the index
// ("scores[17] is NaN") because that is what a user needs to find the bad row.
#pragma once
#include <cstdio>
#include <string>

#include "core/error.h"

namespace pav {

// A read-only view of a flat array (typed-array memory owned by the caller).
template <class T>
struct View {
  const T* data = nullptr;
  size_t size = 0;
  const T& operator[](size_t i) const { return data[i]; }
};

inline std::string at(const char* name, size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

inline void check_same_length(const char* a, size_t na, const char* b, size_t nb) {
  if (na != nb)
    throw_range(std::string(b) + " has length " + std::to_string(nb) + " but " + a + " has length " +
                    std::to_string(na),
                code::kLengthMismatch);
}

// CSR offsets: offsets[0] == 0, non-decreasing, offsets[last] == data_len.
inline void check_offsets(const char* name, View<uint32_t> off, size_t data_len, const char* data_name) {
  if (off.size == 0) throw_range(std::string(name) + " must have at least one element (0)", code::kBadOffsets);
  if (off[0] != 0) throw_range(at(name, 0) + " is " + std::to_string(off[0]) + ", expected 0", code::kBadOffsets);
  for (size_t i = 1; i < off.size; ++i) {
    if (off[i] < off[i - 1])
      throw_range(at(name, i) + " is " + std::to_string(off[i]) + ", less than " + at(name, i - 1) + " = " +
                      std::to_string(off[i - 1]) + " (offsets must be non-decreasing)",
                  code::kBadOffsets);
    if (off[i] > data_len)
      throw_range(at(name, i) + " is " + std::to_string(off[i]) + ", past the end of " + data_name + " (length " +
                      std::to_string(data_len) + ")",
                  code::kBadOffsets);
  }
  if (off[off.size - 1] != data_len)
    throw_range(at(name, off.size - 1) + " is " + std::to_string(off[off.size - 1]) + " but " + data_name +
                    " has length " + std::to_string(data_len),
                code::kBadOffsets);
}

template <class T>
inline void check_finite(const char* name, View<T> x) {
  for (size_t i = 0; i < x.size; ++i)
    if (!std::isfinite(static_cast<double>(x[i]))) throw_range(at(name, i) + " is " + fmt_num(x[i]), code::kNonFinite);
}

// Probabilities (verifier values) must lie in [0, 1]; NaN is reported as non-finite.
template <class T>
inline void check_unit_interval(const char* name, View<T> x) {
  for (size_t i = 0; i < x.size; ++i) {
    double v = static_cast<double>(x[i]);
    if (!std::isfinite(v)) throw_range(at(name, i) + " is " + fmt_num(v), code::kNonFinite);
    if (v < 0.0 || v > 1.0) throw_range(at(name, i) + " = " + fmt_num(v) + " is outside [0, 1]", code::kOutOfRange);
  }
}

inline void check_finite_scalar(const char* name, double v) {
  if (!std::isfinite(v)) throw_range(std::string(name) + " is " + fmt_num(v), code::kNonFinite);
}

}  // namespace pav
