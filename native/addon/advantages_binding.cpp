// N-API binding of the advantage and aggregate ops: one options object per call, outputs allocated
// here on the main thread, compute inline or on the libuv pool (RunOp) with inputs kept alive.
#include <string>
#include <vector>

#include "addon/napi_util.h"
#include "addon/registry.h"
#include "core/advantages.h"
#include "core/aggregate.h"
#include "core/device.h"

namespace pavnapi {

namespace {

using pav::View;

// Reads the options object and remembers every array it hands out, so an async call can keep
// them referenced.
struct Args {
  Napi::Env env;
  Napi::Object o;
  std::vector<Napi::Value> keep;

  Args(const Napi::CallbackInfo& info) : env(info.Env()), o(ArgObject(info, 0, "options")) {}

  // Remembered for async calls; GetArray refuses a detached buffer.
  void attached(const char* key) {
    Napi::Value v = o.Get(key);
    if (v.IsTypedArray()) keep.push_back(v);
  }
  bool has(const char* key) { return Has(o, key); }
  FloatArray floats(const char* key) {
    attached(key);
    return GetFloatArray(o, key);
  }
  // Secondary float inputs must match the main input's kind: one template instance per call.
  FloatArray floatsLike(const char* key, const FloatArray& main, const char* mainKey) {
    FloatArray f = floats(key);
    if (f.is64 != main.is64)
      throw ToJsError(env, pav::ErrorKind::Type, pav::code::kInvalidType,
                      std::string(key) + " must be a " + (main.is64 ? "Float64Array" : "Float32Array") + " like " +
                          mainKey);
    return f;
  }
  View<uint32_t> u32(const char* key) {
    attached(key);
    return GetArray<uint32_t>(o, key);
  }
  uint64_t K(bool required) {
    int64_t k = required ? GetInteger(o, "K") : GetIntegerOr(o, "K", 1);
    if (k < 1 || static_cast<uint64_t>(k) > pav::kMaxK)
      throw ToJsError(env, pav::ErrorKind::Range, pav::code::kInvalidArg,
                      "K must be an integer in [1, 2^53 - 1], got " + std::to_string(k));
    return static_cast<uint64_t>(k);
  }
  bool cuda() { return GetCudaDevice(o); }
  bool async() { return GetBoolOr(o, "async", false); }
};

// Calls f with a float or double tag so one generic lambda serves both kinds.
template <class F>
void by_kind(bool is64, F&& f) {
  if (is64) f(double{});
  else f(float{});
}

#ifdef PAVSEARCH_WITH_CUDA
#define PAV_ON_DEVICE(cuda, cpu_call, cuda_call) \
  do {                                           \
    if (cuda) {                                  \
      pav::require_cuda_device();                \
      cuda_call;                                 \
    } else {                                     \
      cpu_call;                                  \
    }                                            \
  } while (0)
#else
#define PAV_ON_DEVICE(cuda, cpu_call, cuda_call)                                                               \
  do {                                                                                                         \
    if (cuda)                                                                                                  \
      pav::throw_runtime("device 'cuda' was requested but the addon was built without CUDA", pav::code::kNoGpu); \
    cpu_call;                                                                                                  \
  } while (0)
#endif

// Every op here writes one float output of its main input's kind: run
// body(tag, out) for that kind inline or on the libuv pool, and return `out` (or its Promise).
template <class Body>
Napi::Value RunFloatOp(Args& a, bool is64, Napi::TypedArray out, Body body) {
  void* od = MutableData(out);
  return RunOp(a.env, a.async(), a.keep, [=] {
    by_kind(is64, [&](auto tag) { body(tag, static_cast<decltype(tag)*>(od)); });
  }, out);
}

Napi::Value BokTransform(const Napi::CallbackInfo& info) {
  Args a(info);
  FloatArray q = a.floats("q");
  uint64_t K = a.K(true);
  bool cuda = a.cuda();
  return RunFloatOp(a, q.is64, NewFloatLike(a.env, q, q.size), [=](auto tag, auto* od) {
    using T = decltype(tag);
    PAV_ON_DEVICE(cuda, pav::bok_transform(q.as<T>(), K, od),
                  pav::bok_transform_cuda(q.as<T>(), K, od));
  });
}

Napi::Value StepAdvantages(const Napi::CallbackInfo& info) {
  Args a(info);
  FloatArray values = a.floats("values");
  View<uint32_t> offsets = a.u32("offsets");
  FloatArray root = a.floatsLike("rootValues", values, "values");
  uint64_t K = a.K(false);
  bool cuda = a.cuda();
  return RunFloatOp(a, values.is64, NewFloatLike(a.env, values, values.size), [=](auto tag, auto* od) {
    using T = decltype(tag);
    pav::StepAdvantagesArgs<T> s{values.as<T>(), offsets, root.as<T>(), K};
    PAV_ON_DEVICE(cuda, pav::step_advantages(s, od),
                  pav::step_advantages_cuda(s, od));
  });
}

Napi::Value EffectiveRewards(const Napi::CallbackInfo& info) {
  Args a(info);
  FloatArray q = a.floats("q");
  View<uint32_t> parentIndex = a.u32("parentIndex");
  FloatArray parentQ = a.floatsLike("parentQ", q, "q");
  double alpha = GetNumber(a.o, "alpha");
  uint64_t K = a.K(false);
  const bool hasChild = a.has("proverChild"), hasParent = a.has("proverParent");
  if (hasChild != hasParent)
    throw ToJsError(a.env, pav::ErrorKind::Type, pav::code::kInvalidType,
                    "proverChild and proverParent must be given together");
  FloatArray pc, pp;
  if (hasChild) {
    pc = a.floatsLike("proverChild", q, "q");
    pp = a.floatsLike("proverParent", q, "q");
  }
  bool cuda = a.cuda();
  // An optional caller-owned output: beam search calls this every depth, and a fresh multi-MB
  // output costs more in allocation and page faults than the whole computation.
  Napi::TypedArray out;
  if (a.has("out")) {
    FloatArray o = a.floatsLike("out", q, "q");
    if (o.size != q.size)
      throw ToJsError(a.env, pav::ErrorKind::Range, pav::code::kLengthMismatch,
                      "out has length " + std::to_string(o.size) + " but q has length " + std::to_string(q.size));
    const size_t ob = o.size * (o.is64 ? 8 : 4), fb = q.is64 ? 8 : 4;
    const struct { const char* name; const void* p; size_t bytes; } ins[] = {
        {"q", q.data, q.size * fb},
        {"parentIndex", parentIndex.data, parentIndex.size * 4},
        {"parentQ", parentQ.data, parentQ.size * fb},
        {"proverChild", pc.data, pc.size * fb},
        {"proverParent", pp.data, pp.size * fb}};
    for (const auto& in : ins) {
      auto lo = static_cast<const char*>(o.data), hi = lo + ob;
      auto ilo = static_cast<const char*>(in.p), ihi = ilo + in.bytes;
      if (ob && in.bytes && lo < ihi && ilo < hi)
        throw ToJsError(a.env, pav::ErrorKind::Range, pav::code::kInvalidArg,
                        std::string("out must not share memory with ") + in.name);
    }
    out = a.o.Get("out").As<Napi::TypedArray>();
  } else {
    out = NewFloatLike(a.env, q, q.size);
  }
  return RunFloatOp(a, q.is64, out, [=](auto tag, auto* od) {
    using T = decltype(tag);
    pav::EffectiveRewardsArgs<T> e{q.as<T>(), parentIndex, parentQ.as<T>(), alpha, K, hasChild, pc.as<T>(),
                                   pp.as<T>()};
    PAV_ON_DEVICE(cuda, pav::effective_rewards(e, od), pav::effective_rewards_cuda(e, od));
  });
}

Napi::Value DenseRewards(const Napi::CallbackInfo& info) {
  Args a(info);
  FloatArray values = a.floats("values");
  View<uint32_t> offsets = a.u32("offsets");
  FloatArray outcomes = a.floatsLike("outcomes", values, "values");
  FloatArray root = a.floatsLike("rootValues", values, "values");
  double alpha = GetNumber(a.o, "alpha");
  const bool hasBase = a.has("baselines");
  FloatArray base;
  if (hasBase) base = a.floatsLike("baselines", values, "values");
  uint64_t K = a.K(false);
  bool cuda = a.cuda();
  return RunFloatOp(a, values.is64, NewFloatLike(a.env, values, values.size), [=](auto tag, auto* od) {
    using T = decltype(tag);
    pav::DenseRewardsArgs<T> d{offsets, outcomes.as<T>(), values.as<T>(), root.as<T>(), alpha, hasBase,
                               base.as<T>(), K};
    PAV_ON_DEVICE(cuda, pav::dense_rewards(d, od), pav::dense_rewards_cuda(d, od));
  });
}

// device 'cuda': one thread per token (a copy; worth it only when the weights are already headed
// for the GPU, hence 'auto' keeps small batches on the CPU). Validation runs on this thread.
Napi::Value ExpandToTokens(const Napi::CallbackInfo& info) {
  Args a(info);
  FloatArray w = a.floats("stepWeights");
  View<uint32_t> tokenOffsets = a.u32("tokenOffsets");
  bool cuda = a.cuda();
  // The output size comes from tokenOffsets, so they are checked before allocating.
  size_t n = Guard(a.env, [&] {
    return w.is64 ? pav::validate_expand_to_tokens(w.as<double>(), tokenOffsets)
                  : pav::validate_expand_to_tokens(w.as<float>(), tokenOffsets);
  });
  return RunFloatOp(a, w.is64, NewFloatLike(a.env, w, n), [=](auto tag, auto* od) {
    using T = decltype(tag);
    PAV_ON_DEVICE(cuda, pav::expand_to_tokens(w.as<T>(), tokenOffsets, od),
                  pav::expand_to_tokens_cuda(w.as<T>(), tokenOffsets, od));
  });
}

// device 'cuda': one thread per trajectory running the CPU's loop (bit-identical results).
Napi::Value AggregateSteps(const Napi::CallbackInfo& info) {
  Args a(info);
  FloatArray scores = a.floats("scores");
  View<uint32_t> offsets = a.u32("offsets");
  pav::AggregateMethod method = Guard(a.env, [&] { return pav::parse_aggregate_method(GetStringOr(a.o, "method", "")); });
  bool cuda = a.cuda();
  return RunFloatOp(a, scores.is64, NewFloatLike(a.env, scores, offsets.size ? offsets.size - 1 : 0), [=](auto tag, auto* od) {
    using T = decltype(tag);
    PAV_ON_DEVICE(cuda, pav::aggregate_steps(scores.as<T>(), offsets, method, od),
                  pav::aggregate_steps_cuda(scores.as<T>(), offsets, method, od));
  });
}

}  // namespace

void RegisterAdvantageOps(Napi::Env env, Napi::Object exports) {
  exports.Set("bokTransform", Napi::Function::New(env, BokTransform, "bokTransform"));
  exports.Set("stepAdvantages", Napi::Function::New(env, StepAdvantages, "stepAdvantages"));
  exports.Set("effectiveRewards", Napi::Function::New(env, EffectiveRewards, "effectiveRewards"));
  exports.Set("denseRewards", Napi::Function::New(env, DenseRewards, "denseRewards"));
  exports.Set("expandToTokens", Napi::Function::New(env, ExpandToTokens, "expandToTokens"));
  exports.Set("aggregateSteps", Napi::Function::New(env, AggregateSteps, "aggregateSteps"));
}

}  // namespace pavnapi
