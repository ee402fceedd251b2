// CPU implementation of vote_answers: one open-addressing table sized for the largest problem,
// reused for every problem via a generation stamp, so there is no per-problem allocation or clear.
#include "core/vote.h"

#include <algorithm>
#include <vector>

namespace pav {

VoteMethod parse_vote_method(const std::string& s) {
  if (s == "majority") return VoteMethod::Majority;
  if (s == "weighted") return VoteMethod::Weighted;
  if (s == "max") return VoteMethod::Max;
  throw_range("method must be 'majority', 'weighted' or 'max', got '" + s + "'", code::kInvalidArg);
}

template <class T>
void validate_vote(const VoteArgs<T>& a) {
  if (!a.hasWeights && a.method != VoteMethod::Majority)
    throw_range(std::string("method '") + (a.method == VoteMethod::Weighted ? "weighted" : "max") +
                    "' needs weights",
                code::kInvalidArg);
  check_offsets("offsets", a.offsets, a.keys.size, "keys");
  if (a.hasWeights) {
    check_same_length("keys", a.keys.size, "weights", a.weights.size);
    check_finite("weights", a.weights);
  }
}

namespace {

struct Answer {
  uint64_t key;
  uint64_t gen;    // slot is live for the current problem iff gen matches (64-bit: never wraps)
  uint32_t rep;    // representative candidate (global index)
  double repW;     // its weight
  double count;
  double wsum;
  double maxW;
};

inline size_t hash_slot(uint64_t key, int shift) {
  // Fibonacci hashing: keys are often hashes already, but small integers (answer ids) must spread too.
  return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift);
}

}  // namespace

template <class T>
void vote_answers(const VoteArgs<T>& a, uint32_t* winner, double* score) {
  validate_vote(a);
  const size_t P = a.offsets.size - 1;
  size_t maxLen = 0;
  for (size_t p = 0; p < P; ++p) maxLen = std::max<size_t>(maxLen, a.offsets[p + 1] - a.offsets[p]);
  int bits = 1;
  while ((size_t{1} << bits) < 2 * maxLen) ++bits;  // load factor <= 1/2
  std::vector<Answer> table(size_t{1} << bits);
  std::vector<size_t> order;  // slots in first-occurrence order, so ties go to the earliest answer
  order.reserve(maxLen);

  for (size_t p = 0; p < P; ++p) {
    const uint32_t b = a.offsets[p], e = a.offsets[p + 1];
    if (b == e) {
      winner[p] = kNoWinner;
      score[p] = 0.0;
      continue;
    }
    // Small problems use a small slice of the table: probing stays within cache.
    int pbits = 1;
    while ((size_t{1} << pbits) < 2 * size_t{e - b}) ++pbits;
    const size_t mask = (size_t{1} << pbits) - 1;
    const int shift = 64 - pbits;
    const uint64_t gen = p + 1;  // table starts zeroed, so gen 0 is "never used"
    order.clear();
    for (uint32_t i = b; i < e; ++i) {
      const uint64_t key = a.keys[i];
      const double w = a.hasWeights ? static_cast<double>(a.weights[i]) : 1.0;
      size_t s = hash_slot(key, shift);
      while (table[s].gen == gen && table[s].key != key) s = (s + 1) & mask;
      Answer& x = table[s];
      if (x.gen != gen) {
        x = Answer{key, gen, i, w, 1.0, w, w};
        order.push_back(s);
      } else {
        x.count += 1.0;
        x.wsum += w;
        if (w > x.maxW) x.maxW = w;
        if (w > x.repW) {
          x.repW = w;
          x.rep = i;
        }
      }
    }
    const Answer* best = &table[order[0]];
    for (size_t k = 1; k < order.size(); ++k) {
      const Answer& x = table[order[k]];
      bool better;
      switch (a.method) {
        case VoteMethod::Majority:
          better = x.count > best->count || (a.hasWeights && x.count == best->count && x.wsum > best->wsum);
          break;
        case VoteMethod::Weighted: better = x.wsum > best->wsum; break;
        default: better = x.maxW > best->maxW; break;
      }
      if (better) best = &x;
    }
    winner[p] = best->rep;
    score[p] = a.method == VoteMethod::Majority ? best->count
               : a.method == VoteMethod::Weighted ? best->wsum
                                                  : best->maxW;
  }
}

template void validate_vote<float>(const VoteArgs<float>&);
template void validate_vote<double>(const VoteArgs<double>&);
template void vote_answers<float>(const VoteArgs<float>&, uint32_t*, double*);
template void vote_answers<double>(const VoteArgs<double>&, uint32_t*, double*);

}  // namespace pav
