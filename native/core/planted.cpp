// The planted-subsequence task: table validation, KMP automaton, exact DP oracle (see planted.h).
#include "core/planted.h"

#include <cmath>
#include <limits>
#include <string>

namespace pav {
namespace toy {

namespace {
std::string num(uint64_t v) { return std::to_string(v); }
}  // namespace

ProblemTable make_problem_table(View<int32_t> targets, View<uint32_t> target_offsets, View<uint32_t> max_len,
                                int64_t vocab) {
  if (vocab < 2 || vocab > static_cast<int64_t>(kMaxVocab))
    throw_range("vocab must be an integer in [2, " + num(kMaxVocab) + "], got " + std::to_string(vocab));
  if (target_offsets.size != max_len.size + 1)
    throw_range("targetOffsets has length " + num(target_offsets.size) + " but maxLen has length " +
                    num(max_len.size) + " (expected one more offset than problems)",
                code::kLengthMismatch);
  check_offsets("targetOffsets", target_offsets, targets.size, "targets");
  ProblemTable t{targets, target_offsets, max_len, static_cast<uint32_t>(vocab)};
  for (size_t p = 0; p < t.size(); ++p) {
    uint32_t m = t.target_len(p);
    if (m < 1 || m > kMaxTargetLen)
      throw_range("problem " + num(p) + " has a target of length " + num(m) + " (targetOffsets[" + num(p) + ".." +
                      num(p + 1) + "]); expected 1 .. " + num(kMaxTargetLen),
                  code::kBadOffsets);
    if (max_len[p] < 1 || max_len[p] > kMaxLen)
      throw_range(at("maxLen", p) + " is " + num(max_len[p]) + ", expected 1 .. " + num(kMaxLen));
  }
  for (size_t i = 0; i < targets.size; ++i)
    if (targets[i] < 0 || static_cast<uint32_t>(targets[i]) >= t.vocab - 1)
      throw_range(at("targets", i) + " is " + std::to_string(targets[i]) + ", expected a token in [0, " +
                      num(t.vocab - 2) + "] (" + num(t.vocab - 1) + " is the end token)",
                  code::kOutOfRange);
  return t;
}

Automaton build_automaton(const int32_t* target, uint32_t m, uint32_t vocab, uint32_t max_len) {
  Automaton a;
  a.m = m;
  a.vocab = vocab;
  a.max_len = max_len;
  a.next.assign(static_cast<size_t>(m + 1) * vocab, 0);
  a.favored.resize(m + 1);
  for (uint32_t k = 0; k < m; ++k) a.favored[k] = static_cast<uint32_t>(target[k]);
  a.favored[m] = vocab - 1;
  // delta(k, c) = k+1 if c == y[k], else delta(fail(k), c); fail(k) is the longest proper border of
  // y[0..k), maintained as `border` while the rows are filled in order.
  const uint32_t end = vocab - 1;
  uint32_t border = 0;
  for (uint32_t k = 0; k < m; ++k) {
    uint8_t* row = &a.next[static_cast<size_t>(k) * vocab];
    if (k == 0) {
      // all zeros except the match
    } else {
      const uint8_t* brow = &a.next[static_cast<size_t>(border) * vocab];
      for (uint32_t c = 0; c < end; ++c) row[c] = brow[c];
    }
    row[target[k]] = static_cast<uint8_t>(k + 1);
    if (k > 0) border = a.next[static_cast<size_t>(border) * vocab + target[k]];
    // (for k == 0 the border of y[0..1) stays 0)
  }
  uint8_t* last = &a.next[static_cast<size_t>(m) * vocab];
  for (uint32_t c = 0; c < end; ++c) last[c] = static_cast<uint8_t>(m);  // absorbing
  return a;
}

ValueTable build_value_table(const Automaton& a, double gamma) {
  ValueTable v;
  v.m = a.m;
  v.max_len = a.max_len;
  const uint32_t L = a.max_len, m = a.m, V = a.vocab, end = V - 1;
  const size_t stride = L + 1;
  v.q.assign(static_cast<size_t>(m + 1) * stride, 0.0);
  for (uint32_t t = 0; t <= L; ++t) v.q[static_cast<size_t>(m) * stride + t] = 1.0;
  const double total = gamma + static_cast<double>(V - 1);
  for (uint32_t t = L; t-- > 0;) {
    for (uint32_t k = 0; k < m; ++k) {
      const uint8_t* row = &a.next[static_cast<size_t>(k) * V];
      const uint32_t fav = a.favored[k];
      double s = 0.0;
      for (uint32_t c = 0; c < end; ++c)  // the end token contributes 0 (ends unsolved)
        s += (c == fav ? gamma : 1.0) * v.q[static_cast<size_t>(row[c]) * stride + t + 1];
      v.q[static_cast<size_t>(k) * stride + t] = s / total;
    }
  }
  return v;
}

double best_of_k(double q, double k) {
  if (k == 1.0) return q;
  return 1.0 - std::pow(1.0 - q, k);
}

void check_gamma(double gamma) {
  if (!std::isfinite(gamma)) throw_range("gamma is " + fmt_num(gamma), code::kNonFinite);
  if (!(gamma > 0)) throw_range("gamma must be > 0, got " + fmt_num(gamma));
}

void check_best_of(double k) {
  if (!std::isfinite(k)) throw_range("K is " + fmt_num(k), code::kNonFinite);
  if (k < 1 || std::floor(k) != k || k > 1e9) throw_range("K must be an integer >= 1, got " + fmt_num(k));
}

uint32_t check_threads(int64_t threads) {
  if (threads < 1 || threads > static_cast<int64_t>(kMaxThreads))
    throw_range("threads must be an integer in [1, " + num(kMaxThreads) + "], got " + std::to_string(threads));
  return static_cast<uint32_t>(threads);
}

template <class Tok>
void check_batch(const ProblemTable& table, const PrefixBatch<Tok>& batch) {
  if (batch.offsets.size != batch.problems.size + 1)
    throw_range("offsets has length " + num(batch.offsets.size) + " but problems has length " +
                    num(batch.problems.size) + " (expected one more offset than prefixes)",
                code::kLengthMismatch);
  check_offsets("offsets", batch.offsets, batch.tokens.size, "tokens");
  for (size_t i = 0; i < batch.size(); ++i) {
    uint32_t p = batch.problems[i];
    if (p >= table.size())
      throw_range(at("problems", i) + " is " + num(p) + " but the table has " + num(table.size()) + " problems",
                  code::kOutOfRange);
    uint32_t len = batch.offsets[i + 1] - batch.offsets[i];
    if (len > table.max_len[p])
      throw_range("prefix " + num(i) + " has " + num(len) + " tokens, more than maxLen " + num(table.max_len[p]) +
                      " of problem " + num(p),
                  code::kOutOfRange);
  }
  if (sizeof(Tok) == 1 && table.vocab > 256)
    throw_range("tokens is a Uint8Array but vocab is " + num(table.vocab) + " (use an Int32Array above 256)");
}

template <class Tok>
CallContext::CallContext(const ProblemTable& table, const PrefixBatch<Tok>& batch)
    : table_(table), slot_(table.size(), std::numeric_limits<uint32_t>::max()) {
  for (size_t i = 0; i < batch.size(); ++i) {
    uint32_t p = batch.problems[i];
    if (slot_[p] != std::numeric_limits<uint32_t>::max()) continue;
    slot_[p] = static_cast<uint32_t>(automata_.size());
    automata_.push_back(build_automaton(table.target(p), table.target_len(p), table.vocab, table.max_len[p]));
  }
}

void CallContext::build_values(double gamma) {
  values_.clear();
  values_.reserve(automata_.size());
  for (const auto& a : automata_) values_.push_back(build_value_table(a, gamma));
}

template <class Tok>
PrefixState run_prefix(const Automaton& a, const PrefixBatch<Tok>& batch, size_t i) {
  const uint32_t b = batch.offsets[i], e = batch.offsets[i + 1];
  const uint32_t end = a.vocab - 1;
  PrefixState s;
  s.length = e - b;
  uint32_t k = 0;
  for (uint32_t j = b; j < e; ++j) {
    const int64_t tok = static_cast<int64_t>(batch.tokens[j]);
    if (tok < 0 || tok >= static_cast<int64_t>(a.vocab))
      throw_range(at("tokens", j) + " is " + std::to_string(tok) + " (prefix " + num(i) + ", position " + num(j - b) +
                      "), expected a token in [0, " + num(a.vocab - 1) + "]",
                  code::kOutOfRange);
    if (static_cast<uint32_t>(tok) == end) {
      if (j + 1 != e)
        throw_range(at("tokens", j) + " is the end token at position " + num(j - b) + " of prefix " + num(i) +
                        ", which has " + num(e - b) + " tokens: nothing may follow the end token",
                    code::kInvalidArg);
      s.finished = true;
      break;
    }
    k = a.step(k, static_cast<uint32_t>(tok));
    if (k == a.m) s.solved = true;
  }
  s.state = k;
  if (s.length >= a.max_len) s.finished = true;
  return s;
}

template <class Tok>
void value_prefixes(const ProblemTable& table, const PrefixBatch<Tok>& batch, double gamma, double best_of,
                    uint32_t threads, double* out) {
  check_gamma(gamma);
  check_best_of(best_of);
  check_batch(table, batch);
  CallContext ctx(table, batch);
  ctx.build_values(gamma);
  parallel_for(batch.size(), threads, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) {
      uint32_t p = batch.problems[i];
      PrefixState s = run_prefix(ctx.automaton(p), batch, i);
      out[i] = best_of_k(prefix_value(ctx.values(p), s), best_of);
    }
  });
}

template <class Tok>
void prefix_states(const ProblemTable& table, const PrefixBatch<Tok>& batch, uint32_t* out_state,
                   uint8_t* out_solved, uint8_t* out_finished) {
  check_batch(table, batch);
  CallContext ctx(table, batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    PrefixState s = run_prefix(ctx.automaton(batch.problems[i]), batch, i);
    out_state[i] = s.state;
    out_solved[i] = s.solved;
    out_finished[i] = s.finished;
  }
}

#define PAV_TOY_INSTANTIATE(T)                                                                                 \
  template void check_batch<T>(const ProblemTable&, const PrefixBatch<T>&);                                    \
  template CallContext::CallContext(const ProblemTable&, const PrefixBatch<T>&);                               \
  template PrefixState run_prefix<T>(const Automaton&, const PrefixBatch<T>&, size_t);                         \
  template void value_prefixes<T>(const ProblemTable&, const PrefixBatch<T>&, double, double, uint32_t, double*); \
  template void prefix_states<T>(const ProblemTable&, const PrefixBatch<T>&, uint32_t*, uint8_t*, uint8_t*);
PAV_TOY_INSTANTIATE(uint8_t)
PAV_TOY_INSTANTIATE(int32_t)
#undef PAV_TOY_INSTANTIATE

}  // namespace toy
}  // namespace pav
