// N-API binding for the vote ops (being written in this session).
#include "addon/registry.h"

namespace pavnapi {
void RegisterVoteOps(Napi::Env, Napi::Object) {}
}  // namespace pavnapi
