// Plumbing for the N-API layer (see napi_util.h).
#include "addon/napi_util.h"

#include <cmath>

namespace pavnapi {

Napi::Error ToJsError(Napi::Env env, pav::ErrorKind kind, const std::string& code, const std::string& message) {
  Napi::Error err;
  switch (kind) {
    case pav::ErrorKind::Type:
      err = Napi::TypeError::New(env, message);
      break;
    case pav::ErrorKind::Range:
      err = Napi::RangeError::New(env, message);
      break;
    default:
      err = Napi::Error::New(env, message);
      break;
  }
  err.Set("code", Napi::String::New(env, code));
  return err;
}

static std::string Quote(const char* key) { return std::string(key); }

Napi::Object ArgObject(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsObject())
    throw ToJsError(info.Env(), pav::ErrorKind::Type, pav::code::kInvalidType, std::string(name) + " must be an object");
  return info[i].As<Napi::Object>();
}

bool Has(const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return false;
  Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

double GetNumber(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber())
    throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType, Quote(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

double GetNumberOr(const Napi::Object& o, const char* key, double fallback) {
  return Has(o, key) ? GetNumber(o, key) : fallback;
}

int64_t GetInteger(const Napi::Object& o, const char* key) {
  double d = GetNumber(o, key);
  if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9007199254740991.0)
    throw ToJsError(o.Env(), pav::ErrorKind::Range, pav::code::kInvalidArg,
                    Quote(key) + " must be an integer, got " + pav::fmt_num(d));
  return static_cast<int64_t>(d);
}

int64_t GetIntegerOr(const Napi::Object& o, const char* key, int64_t fallback) {
  return Has(o, key) ? GetInteger(o, key) : fallback;
}

bool GetBoolOr(const Napi::Object& o, const char* key, bool fallback) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean())
    throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType, Quote(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

bool GetCudaDevice(const Napi::Object& o) {
  std::string d = GetStringOr(o, "device", "cpu");
  if (d != "cpu" && d != "cuda")
    throw ToJsError(o.Env(), pav::ErrorKind::Range, pav::code::kInvalidArg, "device must be 'cpu' or 'cuda', got '" + d + "'");
  return d == "cuda";
}

std::string GetStringOr(const Napi::Object& o, const char* key, const std::string& fallback) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsString())
    throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType, Quote(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// The typed-array kind that holds each element type, and its name for error messages.
template <class T>
struct ArrayKind;
#define PAV_ARRAY_KIND(T, KIND, NAME)                                  \
  template <>                                                          \
  struct ArrayKind<T> {                                                \
    static constexpr napi_typedarray_type type = KIND;                 \
    static constexpr const char* name = NAME;                          \
  };
PAV_ARRAY_KIND(float, napi_float32_array, "Float32Array")
PAV_ARRAY_KIND(double, napi_float64_array, "Float64Array")
PAV_ARRAY_KIND(uint32_t, napi_uint32_array, "Uint32Array")
PAV_ARRAY_KIND(int32_t, napi_int32_array, "Int32Array")
PAV_ARRAY_KIND(uint8_t, napi_uint8_array, "Uint8Array")
PAV_ARRAY_KIND(uint64_t, napi_biguint64_array, "BigUint64Array")
PAV_ARRAY_KIND(int64_t, napi_bigint64_array, "BigInt64Array")
#undef PAV_ARRAY_KIND

template <class T>
bool HasArray(const Napi::Object& o, const char* key) {
  return Has(o, key);
}

template <class T>
pav::View<T> GetArray(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayKind<T>::type)
    throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType,
                    Quote(key) + " must be a " + ArrayKind<T>::name);
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  bool detached = false;
  napi_is_detached_arraybuffer(o.Env(), a.ArrayBuffer(), &detached);
  if (detached) throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType, Quote(key) + " is detached");
  auto* base = static_cast<uint8_t*>(a.ArrayBuffer().Data());
  if (base == nullptr) return pav::View<T>{nullptr, 0};  // a zero-length buffer may have no storage
  return pav::View<T>{reinterpret_cast<const T*>(base + a.ByteOffset()), a.ElementLength()};
}

#define PAV_INSTANTIATE(T)                                                   \
  template pav::View<T> GetArray<T>(const Napi::Object&, const char*); \
  template bool HasArray<T>(const Napi::Object&, const char*);
PAV_INSTANTIATE(float)
PAV_INSTANTIATE(double)
PAV_INSTANTIATE(uint32_t)
PAV_INSTANTIATE(int32_t)
PAV_INSTANTIATE(uint8_t)
PAV_INSTANTIATE(uint64_t)
PAV_INSTANTIATE(int64_t)
#undef PAV_INSTANTIATE

FloatArray GetFloatArray(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>().TypedArrayType();
    if (t == napi_float32_array) {
      auto view = GetArray<float>(o, key);
      return FloatArray{false, view.data, view.size};
    }
    if (t == napi_float64_array) {
      auto view = GetArray<double>(o, key);
      return FloatArray{true, view.data, view.size};
    }
  }
  throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType,
                  Quote(key) + " must be a Float32Array or Float64Array");
}

Napi::Float32Array NewF32(Napi::Env env, size_t n) { return Napi::Float32Array::New(env, n); }
Napi::Float64Array NewF64(Napi::Env env, size_t n) { return Napi::Float64Array::New(env, n); }
Napi::Uint32Array NewU32(Napi::Env env, size_t n) { return Napi::Uint32Array::New(env, n); }

Napi::TypedArray NewFloatLike(Napi::Env env, const FloatArray& like, size_t n) {
  if (like.is64) return NewF64(env, n);
  return NewF32(env, n);
}

void* MutableData(const Napi::TypedArray& a) {
  return static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

namespace {

class OpWorker : public Napi::AsyncWorker {
 public:
  OpWorker(Napi::Env env, const std::vector<Napi::Value>& keep, std::function<void()> compute, Napi::Value result)
      : Napi::AsyncWorker(env, "pavsearch:op"), deferred_(Napi::Promise::Deferred::New(env)), compute_(std::move(compute)) {
    for (const auto& v : keep)
      if (v.IsObject()) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    result_ = Napi::Persistent(result.As<Napi::Object>());
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      compute_();
    } catch (const pav::Error& e) {
      kind_ = e.kind();
      code_ = e.code();
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      kind_ = pav::ErrorKind::Range;
      code_ = pav::code::kOutOfMemory;
      SetError("out of memory");
    } catch (const std::exception& e) {
      kind_ = pav::ErrorKind::Runtime;
      code_ = "ERR_PAV_INTERNAL";
      SetError(e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(result_.Value()); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(ToJsError(Env(), kind_, code_, e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> compute_;
  std::vector<Napi::ObjectReference> keep_;
  Napi::ObjectReference result_;
  pav::ErrorKind kind_ = pav::ErrorKind::Runtime;
  std::string code_ = "ERR_PAV_INTERNAL";
};

}  // namespace

Napi::Value RunOp(Napi::Env env, bool async, const std::vector<Napi::Value>& keep, std::function<void()> compute,
                  Napi::Value result) {
  if (!async) {
    Guard(env, [&] { compute(); });
    return result;
  }
  auto* worker = new OpWorker(env, keep, std::move(compute), result);
  Napi::Promise p = worker->Promise();
  worker->Queue();
  return p;
}

}  // namespace pavnapi
