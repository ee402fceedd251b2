// Shared plumbing of the N-API layer: typed-array views with kind checks, core errors turned into
// typed JS errors with a code, and one helper that runs an op inline or on a worker thread.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/validate.h"

namespace pavnapi {

// Build the JS error for a core error: TypeError / RangeError / Error with err.code set.
Napi::Error ToJsError(Napi::Env env, pav::ErrorKind kind, const std::string& code, const std::string& message);

// Run fn, converting pav::Error and std::bad_alloc into typed JS exceptions.
template <class F>
auto Guard(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const pav::Error& e) {
    throw ToJsError(env, e.kind(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw ToJsError(env, pav::ErrorKind::Range, pav::code::kOutOfMemory, "out of memory");
  }
}

// ---- argument access (the facade passes one options object per op) ----

Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t i, const char* name);
bool Has(const Napi::Object& o, const char* key);
double GetNumber(const Napi::Object& o, const char* key);
double GetNumberOr(const Napi::Object& o, const char* key, double fallback);
int64_t GetInteger(const Napi::Object& o, const char* key);  // throws unless an integer
int64_t GetIntegerOr(const Napi::Object& o, const char* key, int64_t fallback);
bool GetBoolOr(const Napi::Object& o, const char* key, bool fallback);
std::string GetStringOr(const Napi::Object& o, const char* key, const std::string& fallback);

// device: 'cpu' (default) or 'cuda' (already resolved by the facade); anything else is a RangeError.
bool GetCudaDevice(const Napi::Object& o);

// A typed array of one exact element type, read in place. A detached buffer is a TypeError
// ("<key> is detached"): it would read as empty and succeed on nothing.
template <class T>
pav::View<T> GetArray(const Napi::Object& o, const char* key);
template <class T>
bool HasArray(const Napi::Object& o, const char* key);

// A Float32Array or Float64Array, read in place; ops dispatch on is64.
struct FloatArray {
  bool is64 = false;
  const void* data = nullptr;
  size_t size = 0;
  template <class T>
  pav::View<T> as() const {
    return pav::View<T>{static_cast<const T*>(data), size};
  }
};
FloatArray GetFloatArray(const Napi::Object& o, const char* key);

// Output arrays are allocated on the main thread, written by the op, returned without a copy.
Napi::Float32Array NewF32(Napi::Env env, size_t n);
Napi::Float64Array NewF64(Napi::Env env, size_t n);
Napi::Uint32Array NewU32(Napi::Env env, size_t n);
// A Float32Array or Float64Array of the same kind as a FloatArray input.
Napi::TypedArray NewFloatLike(Napi::Env env, const FloatArray& like, size_t n);
void* MutableData(const Napi::TypedArray& a);

// ---- inline or async execution ----

// Runs compute() either inline (returns result) or on the libuv pool (returns a Promise of
// result). `keep` holds the input and output arrays alive until the worker finishes; compute
// must not touch JS values.
Napi::Value RunOp(Napi::Env env, bool async, const std::vector<Napi::Value>& keep, std::function<void()> compute,
                  Napi::Value result);

}  // namespace pavnapi
