// N-API binding of voteAnswers: returns { winner: Uint32Array, score: Float64Array }.
#include <string>
#include <vector>

#include "addon/napi_util.h"
#include "addon/registry.h"
#include "core/device.h"
#include "core/vote.h"

namespace pavnapi {

namespace {

// Keeps the array for an async call (GetArray refuses a detached one).
void Keep(const Napi::Object& o, const char* key, std::vector<Napi::Value>& keep) {
  Napi::Value v = o.Get(key);
  if (v.IsTypedArray()) keep.push_back(v);
}

Napi::Value VoteAnswers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "options");
  std::vector<Napi::Value> keep;
  Keep(o, "keys", keep);
  pav::View<uint64_t> keys = GetArray<uint64_t>(o, "keys");
  Keep(o, "offsets", keep);
  pav::View<uint32_t> offsets = GetArray<uint32_t>(o, "offsets");
  const bool hasWeights = Has(o, "weights");
  FloatArray weights;
  if (hasWeights) {
    Keep(o, "weights", keep);
    weights = GetFloatArray(o, "weights");
  }
  pav::VoteMethod method = Guard(env, [&] { return pav::parse_vote_method(GetStringOr(o, "method", "majority")); });
  const bool cuda = GetCudaDevice(o);
  const size_t P = offsets.size ? offsets.size - 1 : 0;
  Napi::Uint32Array winner = NewU32(env, P);
  Napi::Float64Array score = NewF64(env, P);
  auto* wd = static_cast<uint32_t*>(MutableData(winner));
  auto* sd = static_cast<double*>(MutableData(score));
  Napi::Object result = Napi::Object::New(env);
  result.Set("winner", winner);
  result.Set("score", score);
  return RunOp(env, GetBoolOr(o, "async", false), keep, [=] {
    auto run = [&](auto tag) {
      using T = decltype(tag);
      pav::VoteArgs<T> args{keys, hasWeights, weights.as<T>(), offsets, method};
      if (cuda) {
#ifdef PAVSEARCH_WITH_CUDA
        pav::require_cuda_device();
        pav::vote_answers_cuda(args, wd, sd);
#else
        pav::throw_runtime("device 'cuda' was requested but the addon was built without CUDA", pav::code::kNoGpu);
#endif
      } else {
        pav::vote_answers(args, wd, sd);
      }
    };
    if (weights.is64) run(double{});
    else run(float{});
  }, result);
}

}  // namespace

void RegisterVoteOps(Napi::Env env, Napi::Object exports) {
  exports.Set("voteAnswers", Napi::Function::New(env, VoteAnswers, "voteAnswers"));
}

}  // namespace pavnapi
