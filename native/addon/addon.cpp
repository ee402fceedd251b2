// Module entry: per-environment state (so the addon works in worker threads) and registration.
#include <napi.h>

#include "addon/registry.h"
#include "core/device.h"

namespace pavnapi {

namespace {
// Per-environment state: each worker thread gets its own, freed by Node when that env exits.
struct AddonState {
  uint64_t calls = 0;
};
}  // namespace

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* state = env.GetInstanceData<AddonState>();
  if (state) state->calls++;
  pav::CudaInfo ci = pav::cuda_info();
  Napi::Object out = Napi::Object::New(env);
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("compiled", Napi::Boolean::New(env, ci.compiled));
  cuda.Set("devices", Napi::Number::New(env, ci.devices));
  cuda.Set("error", ci.error.empty() ? env.Null() : Napi::String::New(env, ci.error));
  out.Set("cuda", cuda);
  out.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
#ifdef NDEBUG
  out.Set("debug", Napi::Boolean::New(env, false));
#else
  out.Set("debug", Napi::Boolean::New(env, true));
#endif
  return out;
}

void RegisterInfo(Napi::Env env, Napi::Object exports) { exports.Set("info", Napi::Function::New(env, Info, "info")); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<AddonState>(new AddonState());
  RegisterInfo(env, exports);
  RegisterAdvantageOps(env, exports);
  RegisterPruneOps(env, exports);
  RegisterVoteOps(env, exports);
  RegisterToyOps(env, exports);
  return exports;
}

}  // namespace pavnapi

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return pavnapi::Init(env, exports); }
NODE_API_MODULE(pavsearch, InitModule)
