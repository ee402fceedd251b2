// N-API binding for the toy ops (being written in this session).
#include "addon/registry.h"

namespace pavnapi {
void RegisterToyOps(Napi::Env, Napi::Object) {}
}  // namespace pavnapi
