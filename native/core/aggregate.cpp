// CPU implementation of aggregate_steps (see aggregate.h).
#include "core/aggregate.h"

namespace pav {

AggregateMethod parse_aggregate_method(const std::string& s) {
  if (s == "last") return AggregateMethod::Last;
  if (s == "min") return AggregateMethod::Min;
  if (s == "prod") return AggregateMethod::Prod;
  if (s == "mean") return AggregateMethod::Mean;
  throw_range("method must be 'last', 'min', 'prod' or 'mean', got '" + s + "'", code::kInvalidArg);
}

template <class T>
void validate_aggregate_steps(View<T> scores, View<uint32_t> offsets) {
  check_offsets("offsets", offsets, scores.size, "scores");
  for (size_t t = 0; t + 1 < offsets.size; ++t)
    if (offsets[t] == offsets[t + 1])
      throw_range("trajectory " + std::to_string(t) + " is empty (" + at("offsets", t) + " = " + at("offsets", t + 1) +
                      " = " + std::to_string(offsets[t]) + "); aggregateSteps needs at least one step per trajectory",
                  code::kBadOffsets);
  check_finite("scores", scores);
}

template <class T>
void aggregate_steps(View<T> scores, View<uint32_t> offsets, AggregateMethod method, T* out) {
  validate_aggregate_steps(scores, offsets);
  const size_t T_ = offsets.size - 1;
  for (size_t t = 0; t < T_; ++t) {
    const uint32_t b = offsets[t], e = offsets[t + 1];
    double r;
    switch (method) {
      case AggregateMethod::Last:
        r = scores[e - 1];
        break;
      case AggregateMethod::Min:
        r = scores[b];
        for (uint32_t h = b + 1; h < e; ++h) r = scores[h] < r ? static_cast<double>(scores[h]) : r;
        break;
      case AggregateMethod::Prod:
        r = 1.0;
        for (uint32_t h = b; h < e; ++h) r *= static_cast<double>(scores[h]);
        break;
      default:  // Mean
        r = 0.0;
        for (uint32_t h = b; h < e; ++h) r += static_cast<double>(scores[h]);
        r /= static_cast<double>(e - b);
        break;
    }
    out[t] = static_cast<T>(r);
  }
}

template void validate_aggregate_steps<float>(View<float>, View<uint32_t>);
template void validate_aggregate_steps<double>(View<double>, View<uint32_t>);
template void aggregate_steps<float>(View<float>, View<uint32_t>, AggregateMethod, float*);
template void aggregate_steps<double>(View<double>, View<uint32_t>, AggregateMethod, double*);

}  // namespace pav
