// N-API binding for segmented top-k selection (core/prune.h): selectTopK (inline) and
// selectTopKAsync (libuv pool, Promise). Arrays are read in place; everything is validated in the
// core before any element is touched.
#include <algorithm>
#include <thread>

#include "addon/napi_util.h"
#include "addon/registry.h"
#include "core/device.h"
#include "core/prune.h"

namespace pavnapi {

namespace {

struct Parsed {
  pav::SelectArgs args;
  bool cuda = false;
};

// Reads the options object: { scores, offsets, k, keys?, groups?, sample?: { temperature, seed },
// device?: 'cpu' | 'cuda', threads? }. Kind errors are TypeErrors; sizes are checked by the core.
Parsed Parse(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  Napi::Object o = ArgObject(info, 0, "options");
  Parsed p;
  pav::SelectArgs& a = p.args;
  FloatArray scores = GetFloatArray(o, "scores");
  a.scores64 = scores.is64;
  a.scores = scores.data;
  a.n = scores.size;
  a.offsets = GetArray<uint32_t>(o, "offsets");
  if (!Has(o, "k")) throw ToJsError(env, pav::ErrorKind::Type, pav::code::kInvalidType, "k must be a number");
  int64_t k = GetInteger(o, "k");
  if (k < 1)
    throw ToJsError(env, pav::ErrorKind::Range, pav::code::kInvalidArg,
                    "k must be an integer >= 1, got " + std::to_string(k));
  a.k = static_cast<uint64_t>(k);
  if (Has(o, "keys")) {
    a.has_keys = true;
    a.keys = GetArray<uint64_t>(o, "keys");
  }
  if (Has(o, "groups")) {
    a.has_groups = true;
    a.groups = GetArray<uint32_t>(o, "groups");
  }
  if (Has(o, "sample")) {
    Napi::Value sv = o.Get("sample");
    if (!sv.IsObject() || sv.IsArray() || sv.IsTypedArray())
      throw ToJsError(env, pav::ErrorKind::Type, pav::code::kInvalidType,
                      "sample must be an object { temperature, seed }");
    Napi::Object so = sv.As<Napi::Object>();
    a.sample.enabled = true;
    a.sample.temperature = GetNumberOr(so, "temperature", 1.0);
    int64_t seed = GetIntegerOr(so, "seed", 0);
    if (seed < 0)
      throw ToJsError(env, pav::ErrorKind::Range, pav::code::kInvalidArg,
                      "sample.seed must be a non-negative integer, got " + std::to_string(seed));
    a.sample.seed = static_cast<uint64_t>(seed);
  }
  p.cuda = GetCudaDevice(o);
  int64_t threads = GetIntegerOr(o, "threads", async ? 0 : 1);
  if (threads < 0 || threads > 1024)
    throw ToJsError(env, pav::ErrorKind::Range, pav::code::kInvalidArg,
                    "threads must be an integer in [0, 1024] (0 = all cores), got " + std::to_string(threads));
  a.threads = static_cast<unsigned>(threads);
  return p;
}

Napi::Value Select(const Napi::CallbackInfo& info, bool async) {
  Napi::Env env = info.Env();
  Parsed p = Parse(info, async);
  // Cheap structural checks (offsets, lengths, k, temperature) on the calling thread, so the
  // output can be sized; the finite check runs fused into the selection itself.
  size_t capacity = Guard(env, [&] { return pav::select_capacity(p.args); });
  if (p.cuda) Guard(env, [&] { pav::require_cuda_device(); });
  Napi::Uint32Array indices = NewU32(env, capacity);
  Napi::Uint32Array offsets = NewU32(env, p.args.offsets.size);
  uint32_t* out = static_cast<uint32_t*>(MutableData(indices));
  uint32_t* out_off = static_cast<uint32_t*>(MutableData(offsets));
  Napi::Object result = Napi::Object::New(env);
  // indices may be longer than offsets[S] (dedupe and groups keep fewer than the bound);
  // the facade trims it.
  result.Set("indices", indices);
  result.Set("offsets", offsets);
  Napi::Object opts = info[0].As<Napi::Object>();
  std::vector<Napi::Value> keep{opts, opts.Get("scores"), opts.Get("offsets"), indices, offsets};
  if (p.args.has_keys) keep.push_back(opts.Get("keys"));
  if (p.args.has_groups) keep.push_back(opts.Get("groups"));
  pav::SelectArgs args = p.args;
  bool cuda = p.cuda;
  return RunOp(
      env, async, keep,
      [args, cuda, out, capacity, out_off] {
#ifdef PAVSEARCH_WITH_CUDA
        if (cuda) {
          pav::select_topk_cuda(args, out, capacity, out_off);
          return;
        }
#else
        if (cuda) pav::throw_runtime("the addon was built without CUDA", pav::code::kNoGpu);
#endif
        pav::select_topk_cpu(args, out, capacity, out_off);
      },
      result);
}

Napi::Value SelectTopK(const Napi::CallbackInfo& info) { return Select(info, false); }
Napi::Value SelectTopKAsync(const Napi::CallbackInfo& info) {
  // Argument errors of an async call reject the Promise rather than throw synchronously.
  Napi::Env env = info.Env();
  try {
    return Select(info, true);
  } catch (const Napi::Error& e) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(e.Value());
    return d.Promise();
  }
}

}  // namespace

void RegisterPruneOps(Napi::Env env, Napi::Object exports) {
  exports.Set("selectTopK", Napi::Function::New(env, SelectTopK, "selectTopK"));
  exports.Set("selectTopKAsync", Napi::Function::New(env, SelectTopKAsync, "selectTopKAsync"));
}

}  // namespace pavnapi
