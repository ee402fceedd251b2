// N-API binding of the planted-subsequence toy task: exact prefix values, automaton states, and the
// seeded next-step and rollout samplers. One options object per call (see src/toy/*.ts):
//   table:   targets Int32Array, targetOffsets Uint32Array, maxLen Uint32Array, vocab number
//   batch:   problems Uint32Array, tokens Uint8Array | Int32Array, offsets Uint32Array
//   options: gamma (5), K (1), n (1), seed (0), streams Uint32Array?, threads (1), async (false)
// Small calls stay synchronous (beam search asks for a few hundred prefixes at a time); `async: true`
// runs the op on the libuv pool and returns a Promise.
#include <cstdint>
#include <string>

#include "addon/napi_util.h"
#include "addon/registry.h"
#include "core/planted.h"
#include "core/sampler.h"

namespace pavnapi {

namespace {

using pav::toy::PrefixBatch;
using pav::toy::ProblemTable;

constexpr uint64_t kMaxRows = 0x7FFFFFFFull;  // rows of one output array (Uint32 offsets, JS lengths)

ProblemTable ReadTable(const Napi::Object& o) {
  auto targets = GetArray<int32_t>(o, "targets");
  auto target_offsets = GetArray<uint32_t>(o, "targetOffsets");
  auto max_len = GetArray<uint32_t>(o, "maxLen");
  int64_t vocab = GetInteger(o, "vocab");
  return Guard(o.Env(), [&] { return pav::toy::make_problem_table(targets, target_offsets, max_len, vocab); });
}

enum class TokKind { U8, I32 };

TokKind TokenKind(const Napi::Object& o) {
  Napi::Value v = o.Get("tokens");
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>().TypedArrayType();
    if (t == napi_uint8_array) return TokKind::U8;
    if (t == napi_int32_array) return TokKind::I32;
  }
  throw ToJsError(o.Env(), pav::ErrorKind::Type, pav::code::kInvalidType, "tokens must be a Uint8Array or Int32Array");
}

template <class Tok>
PrefixBatch<Tok> ReadBatch(const Napi::Object& o) {
  return PrefixBatch<Tok>{GetArray<uint32_t>(o, "problems"), GetArray<Tok>(o, "tokens"),
                          GetArray<uint32_t>(o, "offsets")};
}

// Input arrays the async worker must keep alive.
std::vector<Napi::Value> Keep(const Napi::Object& o) {
  std::vector<Napi::Value> keep;
  for (const char* k : {"targets", "targetOffsets", "maxLen", "problems", "tokens", "offsets", "streams"})
    if (Has(o, k)) keep.push_back(o.Get(k));
  return keep;
}

pav::toy::SampleParams ReadSampleParams(const Napi::Object& o) {
  pav::toy::SampleParams p;
  Napi::Env env = o.Env();
  int64_t n = GetIntegerOr(o, "n", 1);
  int64_t seed = GetIntegerOr(o, "seed", 0);
  int64_t threads = GetIntegerOr(o, "threads", 1);
  p.gamma = GetNumberOr(o, "gamma", 5.0);
  Guard(env, [&] {
    if (n < 1 || static_cast<uint64_t>(n) > kMaxRows)
      pav::throw_range("n must be an integer in [1, " + std::to_string(kMaxRows) + "], got " + std::to_string(n));
    if (seed < 0) pav::throw_range("seed must be a non-negative integer, got " + std::to_string(seed));
    pav::toy::check_gamma(p.gamma);
    p.threads = pav::toy::check_threads(threads);
  });
  p.n = static_cast<uint32_t>(n);
  p.seed = static_cast<uint64_t>(seed);
  if (Has(o, "streams")) p.streams = GetArray<uint32_t>(o, "streams");
  return p;
}

void CheckRows(Napi::Env env, size_t requests, uint32_t n) {
  Guard(env, [&] {
    if (static_cast<uint64_t>(requests) * n > kMaxRows)
      pav::throw_range("problems.length * n = " + std::to_string(static_cast<uint64_t>(requests) * n) +
                           " samples is more than one call can return (" + std::to_string(kMaxRows) + "): split the batch",
                       pav::code::kOutOfRange);
  });
}

template <class Tok>
Napi::TypedArray NewTokens(Napi::Env env, size_t n) {
  if constexpr (sizeof(Tok) == 1)
    return Napi::Uint8Array::New(env, n);
  else
    return Napi::Int32Array::New(env, n);
}

template <class Tok>
Napi::Value ValuePrefixesT(const Napi::Object& o) {
  Napi::Env env = o.Env();
  ProblemTable table = ReadTable(o);
  PrefixBatch<Tok> batch = ReadBatch<Tok>(o);
  double gamma = GetNumberOr(o, "gamma", 5.0);
  double K = GetNumberOr(o, "K", 1.0);
  int64_t threads_in = GetIntegerOr(o, "threads", 1);
  uint32_t threads = Guard(env, [&] { return pav::toy::check_threads(threads_in); });
  bool async = GetBoolOr(o, "async", false);
  Napi::Float64Array out = NewF64(env, batch.size());
  double* dst = static_cast<double*>(MutableData(out));
  auto keep = Keep(o);
  keep.push_back(out);
  return RunOp(env, async, keep,
               [table, batch, gamma, K, threads, dst] {
                 pav::toy::value_prefixes(table, batch, gamma, K, threads, dst);
               },
               out);
}

template <class Tok>
Napi::Value PrefixStatesT(const Napi::Object& o) {
  Napi::Env env = o.Env();
  ProblemTable table = ReadTable(o);
  PrefixBatch<Tok> batch = ReadBatch<Tok>(o);
  size_t P = batch.size();
  Napi::Uint32Array state = NewU32(env, P);
  Napi::Uint8Array solved = Napi::Uint8Array::New(env, P);
  Napi::Uint8Array finished = Napi::Uint8Array::New(env, P);
  Guard(env, [&] {
    pav::toy::prefix_states(table, batch, static_cast<uint32_t*>(MutableData(state)),
                            static_cast<uint8_t*>(MutableData(solved)), static_cast<uint8_t*>(MutableData(finished)));
  });
  Napi::Object res = Napi::Object::New(env);
  res.Set("state", state);
  res.Set("solved", solved);
  res.Set("finished", finished);
  return res;
}

template <class Tok>
Napi::Value SampleStepsT(const Napi::Object& o) {
  Napi::Env env = o.Env();
  ProblemTable table = ReadTable(o);
  PrefixBatch<Tok> batch = ReadBatch<Tok>(o);
  pav::toy::SampleParams p = ReadSampleParams(o);
  bool async = GetBoolOr(o, "async", false);
  CheckRows(env, batch.size(), p.n);
  size_t R = batch.size() * p.n;
  Napi::TypedArray tokens = NewTokens<Tok>(env, R);
  Napi::Uint8Array finished = Napi::Uint8Array::New(env, R);
  Tok* tok_out = static_cast<Tok*>(MutableData(tokens));
  uint8_t* fin_out = static_cast<uint8_t*>(MutableData(finished));
  Napi::Object res = Napi::Object::New(env);
  res.Set("tokens", tokens);
  res.Set("finished", finished);
  auto keep = Keep(o);
  keep.push_back(res);
  return RunOp(env, async, keep,
               [table, batch, p, tok_out, fin_out] { pav::toy::sample_steps(table, batch, p, tok_out, fin_out); }, res);
}

template <class Tok>
Napi::Value SampleRolloutsT(const Napi::Object& o) {
  Napi::Env env = o.Env();
  ProblemTable table = ReadTable(o);
  PrefixBatch<Tok> batch = ReadBatch<Tok>(o);
  pav::toy::SampleParams p = ReadSampleParams(o);
  bool async = GetBoolOr(o, "async", false);
  CheckRows(env, batch.size(), p.n);
  uint64_t cap = Guard(env, [&] {
    uint64_t c = pav::toy::rollout_capacity(table, batch, p.n);
    if (c > 0xFFFFFFFFull)
      pav::throw_range("the rollouts could need " + std::to_string(c) +
                           " tokens, more than Uint32 offsets can address: split the batch",
                       pav::code::kOutOfRange);
    return c;
  });
  size_t R = batch.size() * p.n;
  // Worst-case room; the op compacts in place and offsets[R] is the used length (the facade slices).
  Napi::TypedArray tokens = NewTokens<Tok>(env, cap);
  Napi::Uint32Array offsets = NewU32(env, R + 1);
  Napi::Uint8Array success = Napi::Uint8Array::New(env, R);
  Tok* tok_out = static_cast<Tok*>(MutableData(tokens));
  uint32_t* off_out = static_cast<uint32_t*>(MutableData(offsets));
  uint8_t* ok_out = static_cast<uint8_t*>(MutableData(success));
  Napi::Object res = Napi::Object::New(env);
  res.Set("tokens", tokens);
  res.Set("offsets", offsets);
  res.Set("success", success);
  auto keep = Keep(o);
  keep.push_back(res);
  return RunOp(env, async, keep,
               [table, batch, p, tok_out, off_out, ok_out] {
                 pav::toy::sample_rollouts(table, batch, p, tok_out, off_out, ok_out);
               },
               res);
}

template <template <class> class Op>
Napi::Value Dispatch(const Napi::CallbackInfo& info) {
  Napi::Object o = ArgObject(info, 0, "options");
  if (TokenKind(o) == TokKind::U8) return Op<uint8_t>::Run(o);
  return Op<int32_t>::Run(o);
}

template <class T>
struct ValueOp {
  static Napi::Value Run(const Napi::Object& o) { return ValuePrefixesT<T>(o); }
};
template <class T>
struct StatesOp {
  static Napi::Value Run(const Napi::Object& o) { return PrefixStatesT<T>(o); }
};
template <class T>
struct StepsOp {
  static Napi::Value Run(const Napi::Object& o) { return SampleStepsT<T>(o); }
};
template <class T>
struct RolloutsOp {
  static Napi::Value Run(const Napi::Object& o) { return SampleRolloutsT<T>(o); }
};

}  // namespace

void RegisterToyOps(Napi::Env env, Napi::Object exports) {
  exports.Set("toyValuePrefixes", Napi::Function::New(env, Dispatch<ValueOp>, "toyValuePrefixes"));
  exports.Set("toyPrefixStates", Napi::Function::New(env, Dispatch<StatesOp>, "toyPrefixStates"));
  exports.Set("toySampleSteps", Napi::Function::New(env, Dispatch<StepsOp>, "toySampleSteps"));
  exports.Set("toySampleRollouts", Napi::Function::New(env, Dispatch<RolloutsOp>, "toySampleRollouts"));
}

}  // namespace pavnapi
