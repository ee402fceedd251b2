// N-API binding for the prune ops (being written in this session).
#include "addon/registry.h"

namespace pavnapi {
void RegisterPruneOps(Napi::Env, Napi::Object) {}
}  // namespace pavnapi
