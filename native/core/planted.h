// The planted-subsequence toy task (paper section 3.3, App. B): problem tables, the KMP automaton
// of the prover family mu_gamma, and the exact value oracle by dynamic programming over (k, t).
//
// Conventions (ours; they reproduce the paper's V^mu(start) for gamma 5/8/10/15/100, see below):
//  - Tokens are 0 .. V-1; V-1 is the end token. Targets y* use tokens 0 .. V-2 only.
//  - A response holds at most L = maxLen tokens, the end token included if it is sampled: generation
//    stops after the end token or after the L-th token, whichever comes first. A response that reaches
//    L tokens without the end token is finished (truncated), not wrong by itself.
//  - Reward 1 iff y* occurs contiguously inside the response before the end token. Once y* has
//    occurred the response is correct whatever follows, so such a prefix has value 1 even if it is
//    not finished yet.
//  - mu_gamma in automaton state k < |y*| puts weight gamma on y*[k] and weight 1 on each of the
//    other V-1 tokens (end token included): P(y*[k]) = gamma / (gamma + V - 1). In state |y*|
//    (y* complete) the weight gamma moves to the end token.
// With V = 15, L = 10, y* = [3,6,0,3,5] this gives V(start) = 0.00539 (gamma 5), 0.02449 (8),
// 0.04552 (10), 0.1181 (15), 0.8151 (100): the paper's 0.005, 0.024, 0.046, 0.12, 0.82 at their
// printed precision. The other natural reading, L counting a mandatory end token (y* must end by
// position L-1), gives 0.0047, 0.021, 0.040, 0.103, 0.76 and does not match.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/validate.h"

namespace pav {
namespace toy {

inline constexpr uint32_t kMaxVocab = 1u << 16;
inline constexpr uint32_t kMaxTargetLen = 255;  // automaton states fit a byte
inline constexpr uint32_t kMaxLen = 1u << 16;
inline constexpr uint32_t kMaxThreads = 256;

// A validated view of the caller's problem table (typed-array memory, not copied).
struct ProblemTable {
  View<int32_t> targets;          // all targets, concatenated
  View<uint32_t> target_offsets;  // CSR, one more than problems
  View<uint32_t> max_len;         // L per problem
  uint32_t vocab = 0;             // V, shared by every problem; V-1 is the end token

  size_t size() const { return max_len.size; }
  const int32_t* target(size_t p) const { return targets.data + target_offsets[p]; }
  uint32_t target_len(size_t p) const { return target_offsets[p + 1] - target_offsets[p]; }
  uint32_t end_token() const { return vocab - 1; }
};

// Validates sizes, offsets, target tokens (0 .. V-2), target lengths (1 .. 255) and maxLen (>= 1).
ProblemTable make_problem_table(View<int32_t> targets, View<uint32_t> target_offsets, View<uint32_t> max_len,
                                int64_t vocab);

// KMP automaton of y*: state k = length of the longest suffix of the sequence so far that is a
// prefix of y*. State m = |y*| means y* has occurred and is absorbing.
struct Automaton {
  uint32_t m = 0, vocab = 0, max_len = 0;
  std::vector<uint8_t> next;       // (m+1) x vocab, row-major; the end token's column is unused (0)
  std::vector<uint32_t> favored;   // the token mu_gamma favours in state k: y*[k], or the end token at m
  uint32_t step(uint32_t k, uint32_t token) const { return next[static_cast<size_t>(k) * vocab + token]; }
};
Automaton build_automaton(const int32_t* target, uint32_t m, uint32_t vocab, uint32_t max_len);

// Q^{mu_gamma}(k, t): probability of success continuing under mu_gamma from automaton state k after t
// tokens of an unfinished response (t in 0..L). q(m, t) = 1; q(k < m, L) = 0.
struct ValueTable {
  uint32_t m = 0, max_len = 0;
  std::vector<double> q;  // (m+1) x (L+1)
  double at(uint32_t k, uint32_t t) const { return q[static_cast<size_t>(k) * (max_len + 1) + t]; }
};
ValueTable build_value_table(const Automaton& a, double gamma);

// Best-of-K transform of a success probability: 1 - (1 - q)^K.
double best_of_k(double q, double k);

// Where a prefix leaves the automaton, and what the checker already knows about it.
struct PrefixState {
  uint32_t state = 0;     // automaton state after the prefix (m once y* has occurred)
  uint32_t length = 0;    // tokens in the prefix
  bool solved = false;    // y* occurred: value 1 whatever follows
  bool finished = false;  // ended with the end token or reached L tokens: nothing more is sampled
};

// Value of a prefix state under a value table (K = 1): 1 if solved, 0 if finished unsolved, else q(k, t).
inline double prefix_value(const ValueTable& v, const PrefixState& s) {
  if (s.solved) return 1.0;
  if (s.finished) return 0.0;
  return v.at(s.state, s.length);
}

void check_gamma(double gamma);          // finite and > 0
void check_best_of(double k);            // an integer >= 1
uint32_t check_threads(int64_t threads); // 1 .. kMaxThreads

// ---- batched, multi-problem prefix requests ----

// Request i continues prefix tokens[offsets[i] .. offsets[i+1]) of problem problems[i].
template <class Tok>
struct PrefixBatch {
  View<uint32_t> problems;
  View<Tok> tokens;
  View<uint32_t> offsets;
  size_t size() const { return problems.size; }
};

// Checks lengths, offsets, problem indices and per-prefix lengths (<= L of its problem); tokens are
// checked while the prefixes are run.
template <class Tok>
void check_batch(const ProblemTable& table, const PrefixBatch<Tok>& batch);

// Per-call state: automata (and value tables for one gamma) of the problems a call references,
// built once per call and shared read-only by its threads. No process-wide mutable state.
class CallContext {
 public:
  template <class Tok>
  CallContext(const ProblemTable& table, const PrefixBatch<Tok>& batch);
  const ProblemTable& table() const { return table_; }
  const Automaton& automaton(size_t problem) const { return automata_[slot_[problem]]; }
  const ValueTable& values(size_t problem) const { return values_[slot_[problem]]; }
  void build_values(double gamma);

 private:
  const ProblemTable& table_;
  std::vector<uint32_t> slot_;  // problem -> index into automata_ (UINT32_MAX if unreferenced)
  std::vector<Automaton> automata_;
  std::vector<ValueTable> values_;
};

// Runs prefix i through its automaton, checking every token: < V (and >= 0), the end token only
// as the last token. Errors name the flat index in `tokens` and the prefix.
template <class Tok>
PrefixState run_prefix(const Automaton& a, const PrefixBatch<Tok>& batch, size_t i);

// Exact values of each prefix under mu_gamma with the Best-of-K transform (out has batch.size()).
template <class Tok>
void value_prefixes(const ProblemTable& table, const PrefixBatch<Tok>& batch, double gamma, double best_of,
                    uint32_t threads, double* out);

// Automaton state and checker flags per prefix (state, length, solved, finished).
template <class Tok>
void prefix_states(const ProblemTable& table, const PrefixBatch<Tok>& batch, uint32_t* out_state,
                   uint8_t* out_solved, uint8_t* out_finished);

// ---- threads ----

// Splits [0, n) into `threads` contiguous chunks. Each chunk runs on its own std::thread (the first
// on the caller's); an exception is rethrown after all joined, the one from the lowest chunk, so a
// batch with several bad rows reports the same row whatever the thread count.
template <class F>
void parallel_for(size_t n, uint32_t threads, F&& fn) {
  if (threads <= 1 || n < 2) {
    if (n) fn(size_t{0}, n);
    return;
  }
  size_t chunks = threads < n ? threads : n;
  std::vector<std::exception_ptr> errors(chunks);
  std::vector<std::thread> pool;
  pool.reserve(chunks - 1);
  auto run = [&](size_t c) {
    size_t b = n * c / chunks, e = n * (c + 1) / chunks;
    try {
      fn(b, e);
    } catch (...) {
      errors[c] = std::current_exception();
    }
  };
  for (size_t c = 1; c < chunks; ++c) pool.emplace_back(run, c);
  run(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace toy
}  // namespace pav
