// Batched seeded sampling from mu_gamma (see sampler.h). The hot loop is one 64-bit mix, one
// multiply and one table lookup per token.
#include "core/sampler.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/rng.h"

namespace pav {
namespace toy {

namespace {

// Draws one token of mu_gamma in automaton state k at position t.
struct TokenDraw {
  double gamma, total;
  uint32_t last_other;  // V - 2: the largest index among the V-1 non-favoured tokens
  uint32_t operator()(const Automaton& a, uint32_t k, uint64_t key, uint32_t t) const {
    const double u = rng::to_unit(rng::draw(key, t)) * total;
    const uint32_t fav = a.favored[k];
    if (u < gamma) return fav;
    uint32_t j = static_cast<uint32_t>(u - gamma);
    if (j > last_other) j = last_other;  // rounding at the top of the range
    return j < fav ? j : j + 1;          // the j-th token other than fav
  }
};

// One rollout from automaton state k at position t into w; returns the tokens written. Everything the
// loop reads is copied into locals first: stores through a byte pointer may alias any memory, and
// would otherwise force the automaton's fields to be reloaded after every token.
template <class Tok>
inline uint32_t rollout(const Automaton& a, const TokenDraw& d, uint64_t key, uint32_t k, uint32_t t, bool& solved,
                        Tok* w) {
  const uint8_t* const next = a.next.data();
  const uint32_t* const fav = a.favored.data();
  const uint32_t V = a.vocab, m = a.m, L = a.max_len, end = a.vocab - 1, last_other = d.last_other;
  const double gamma = d.gamma, total = d.total;
  bool hit = solved;
  uint32_t written = 0;
  for (;;) {
    const double u = rng::to_unit(rng::draw(key, t)) * total;
    const uint32_t f = fav[k];
    uint32_t tok;
    if (u < gamma) {
      tok = f;
    } else {
      uint32_t jx = static_cast<uint32_t>(u - gamma);
      if (jx > last_other) jx = last_other;
      tok = jx < f ? jx : jx + 1;
    }
    w[written++] = static_cast<Tok>(tok);
    ++t;
    if (tok == end) break;
    k = next[static_cast<size_t>(k) * V + tok];
    hit |= (k == m);
    if (t >= L) break;
  }
  solved = hit;
  return written;
}

inline uint64_t stream_of(const SampleParams& p, size_t i) { return p.streams.size ? p.streams[i] : i; }

template <class Tok>
std::vector<PrefixState> run_prefixes(const CallContext& ctx, const PrefixBatch<Tok>& batch, uint32_t threads) {
  std::vector<PrefixState> states(batch.size());
  parallel_for(batch.size(), threads, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) states[i] = run_prefix(ctx.automaton(batch.problems[i]), batch, i);
  });
  return states;
}

}  // namespace

template <class Tok>
void check_sample_params(const ProblemTable& table, const PrefixBatch<Tok>& batch, const SampleParams& p) {
  check_gamma(p.gamma);
  if (p.n < 1) throw_range("n must be an integer >= 1, got " + std::to_string(p.n));
  check_batch(table, batch);
  if (p.streams.size != 0) check_same_length("problems", batch.size(), "streams", p.streams.size);
}

template <class Tok>
void sample_steps(const ProblemTable& table, const PrefixBatch<Tok>& batch, const SampleParams& p, Tok* out_tokens,
                  uint8_t* out_finished) {
  check_sample_params(table, batch, p);
  CallContext ctx(table, batch);
  const TokenDraw draw{p.gamma, p.gamma + static_cast<double>(table.vocab - 1), table.vocab - 2};
  const uint32_t end = table.vocab - 1;
  const std::vector<PrefixState> states = run_prefixes(ctx, batch, p.threads);
  for (size_t i = 0; i < batch.size(); ++i) {
    const PrefixState& s = states[i];
    if (s.finished)
      throw_range("prefix " + std::to_string(i) + " is finished (" +
                      (s.length >= table.max_len[batch.problems[i]]
                           ? "it has maxLen " + std::to_string(table.max_len[batch.problems[i]]) + " tokens"
                           : std::string("it ends with the end token")) +
                      "): there is no next step to sample",
                  code::kInvalidArg);
  }
  const uint32_t n = p.n;
  parallel_for(batch.size() * n, p.threads, [&](size_t lo, size_t hi) {
    for (size_t r = lo; r < hi; ++r) {
      const size_t i = r / n;
      const uint32_t j = static_cast<uint32_t>(r % n);
      const Automaton& a = ctx.automaton(batch.problems[i]);
      const PrefixState& s = states[i];
      const uint64_t key = rng::stream_key(p.seed, stream_of(p, i), j);
      const uint32_t tok = draw(a, s.state, key, s.length);
      out_tokens[r] = static_cast<Tok>(tok);
      out_finished[r] = (tok == end || s.length + 1 >= a.max_len) ? 1 : 0;
    }
  });
}

template <class Tok>
uint64_t rollout_capacity(const ProblemTable& table, const PrefixBatch<Tok>& batch, uint32_t n) {
  check_batch(table, batch);
  uint64_t cap = 0;
  for (size_t i = 0; i < batch.size(); ++i)
    cap += static_cast<uint64_t>(n) * (table.max_len[batch.problems[i]] - (batch.offsets[i + 1] - batch.offsets[i]));
  return cap;
}

template <class Tok>
uint64_t sample_rollouts(const ProblemTable& table, const PrefixBatch<Tok>& batch, const SampleParams& p,
                         Tok* out_tokens, uint32_t* out_offsets, uint8_t* out_success) {
  check_sample_params(table, batch, p);
  const size_t P = batch.size();
  const uint32_t n = p.n;
  // Slot of rollout i*n + j in the worst-case layout: base[i] + j * room[i].
  std::vector<uint64_t> base(P + 1, 0);
  for (size_t i = 0; i < P; ++i) {
    uint32_t room = table.max_len[batch.problems[i]] - (batch.offsets[i + 1] - batch.offsets[i]);
    base[i + 1] = base[i] + static_cast<uint64_t>(n) * room;
  }
  if (base[P] > 0xFFFFFFFFull)
    throw_range("the rollouts could need " + std::to_string(base[P]) +
                    " tokens, more than a Uint32Array of offsets can address: split the batch",
                code::kOutOfRange);
  CallContext ctx(table, batch);
  const TokenDraw draw{p.gamma, p.gamma + static_cast<double>(table.vocab - 1), table.vocab - 2};
  out_offsets[0] = 0;
  const std::vector<PrefixState> states = run_prefixes(ctx, batch, p.threads);
  // Work unit: one rollout, so one request with many samples spreads over the threads too.
  parallel_for(P * n, p.threads, [&](size_t lo, size_t hi) {
    size_t cur = SIZE_MAX;
    const Automaton* a = nullptr;
    uint64_t stream = 0;
    uint32_t room = 0;
    for (size_t r = lo; r < hi; ++r) {
      const size_t i = r / n;
      const uint32_t j = static_cast<uint32_t>(r % n);
      const PrefixState& s = states[i];
      if (i != cur) {
        cur = i;
        a = &ctx.automaton(batch.problems[i]);
        stream = stream_of(p, i);
        room = a->max_len - s.length;
      }
      if (s.finished) {
        out_offsets[r + 1] = 0;
        out_success[r] = s.solved;
        continue;
      }
      Tok* w = out_tokens + base[i] + static_cast<uint64_t>(j) * room;
      bool solved = s.solved;
      const uint32_t written = rollout(*a, draw, rng::stream_key(p.seed, stream, j), s.state, s.length, solved, w);
      out_offsets[r + 1] = written;  // lengths for now; turned into offsets below
      out_success[r] = solved;
    }
  });
  // Lengths -> offsets, then compact each rollout from its slot (dest <= src: safe left to right).
  const size_t R = P * n;
  uint64_t total = 0;
  for (size_t r = 0; r < R; ++r) {
    const uint32_t len = out_offsets[r + 1];
    const size_t i = r / n, j = r % n;
    const uint32_t room = static_cast<uint32_t>((base[i + 1] - base[i]) / n);
    const uint64_t src = base[i] + static_cast<uint64_t>(j) * room;
    if (src != total && len) std::memmove(out_tokens + total, out_tokens + src, len * sizeof(Tok));
    total += len;
    out_offsets[r + 1] = static_cast<uint32_t>(total);
  }
  return total;
}

#define PAV_TOY_INSTANTIATE(T)                                                                                \
  template void check_sample_params<T>(const ProblemTable&, const PrefixBatch<T>&, const SampleParams&);       \
  template void sample_steps<T>(const ProblemTable&, const PrefixBatch<T>&, const SampleParams&, T*, uint8_t*); \
  template uint64_t rollout_capacity<T>(const ProblemTable&, const PrefixBatch<T>&, uint32_t);                \
  template uint64_t sample_rollouts<T>(const ProblemTable&, const PrefixBatch<T>&, const SampleParams&, T*,      \
                                       uint32_t*, uint8_t*);
PAV_TOY_INSTANTIATE(uint8_t)
PAV_TOY_INSTANTIATE(int32_t)
#undef PAV_TOY_INSTANTIATE

}  // namespace toy
}  // namespace pav
