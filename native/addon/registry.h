// Each concern's binding file exports one Register function; addon.cpp calls them all.
#pragma once
#include <napi.h>

namespace pavnapi {
void RegisterInfo(Napi::Env env, Napi::Object exports);
void RegisterAdvantageOps(Napi::Env env, Napi::Object exports);  // advantages_binding.cpp
void RegisterPruneOps(Napi::Env env, Napi::Object exports);      // prune_binding.cpp
void RegisterVoteOps(Napi::Env env, Napi::Object exports);       // vote_binding.cpp
void RegisterToyOps(Napi::Env env, Napi::Object exports);        // toy_binding.cpp
}  // namespace pavnapi
