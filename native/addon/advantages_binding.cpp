// N-API binding for the advantages ops (being written in this session).
#include "addon/registry.h"

namespace pavnapi {
void RegisterAdvantageOps(Napi::Env, Napi::Object) {}
}  // namespace pavnapi
