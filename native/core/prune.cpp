// CPU segmented selection (see prune.h): adaptive bucket selection on order-preserving score bits,
// with the finite check fused into the key pass and thread-local scratch reused across segments.
//
// Per segment: build items (descending-score key, global index) whose ascending order is the
// output order; histogram the keys into ~m buckets spanning [min, max]; everything below the
// bucket that holds the k-th item is kept (scattered stably, so each bucket stays in index
// order and only needs a tiny sort); the pivot bucket is narrowed again with its own range.
// Equal keys in a bucket are already in index order, so ties cost nothing.
#include "core/prune.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace pav {

// ---------------------------------------------------------------- portable log and Gumbel keys

// fdlibm's log kernel (argument reduction to [sqrt(1/2), sqrt(2)], degree-14 odd series in
// s = f / (2 + f)), written with +, -, *, / only and no contraction into FMA: every step is
// correctly rounded IEEE arithmetic, so test/reference/prune.ts gets the same bits in JS.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif
double select_portable_log(double x) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int k = 0;
  if ((bits >> 52) == 0) {  // subnormal (or zero): scale into the normal range first
    x *= 18014398509481984.0;  // 2^54
    std::memcpy(&bits, &x, sizeof bits);
    k = -54;
  }
  k += static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  // Mantissa into [sqrt(1/2), sqrt(2)): exponent 0x3FF, or 0x3FE when the mantissa exceeds
  // sqrt(2) (0x3FF6A09E667F3BCD; for m in [1, 2) the bit order is the value order). Branch-free:
  // the comparison is a coin flip for random inputs, and a mispredict would serialise the
  // otherwise independent per-candidate dependency chains.
  const uint64_t frac = bits & 0x000FFFFFFFFFFFFFull;
  const uint64_t big = frac > 0x6A09E667F3BCDull;
  k += static_cast<int>(big);
  bits = frac | ((0x3FFull - big) << 52);
  double m;
  std::memcpy(&m, &bits, sizeof m);
  const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
               Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
               Lg7 = 1.479819860511658591e-01;
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  double f = m - 1.0;
  double s = f / (2.0 + f);
  double dk = static_cast<double>(k);
  double z = s * s;
  double w = z * z;
  double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  double R = t2 + t1;
  double hfsq = 0.5 * f * f;
  return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
}

// Stream id of pruning's draws in the shared counter-based generator ("prune").
static constexpr uint64_t kPruneStream = 0x7072756E65ull;

static inline uint64_t gumbel_stream(uint64_t seed) { return rng::stream_key(seed, kPruneStream); }

// stream = gumbel_stream(seed), hoisted out of the per-candidate loop.
static inline double gumbel_key_in(double score, double temperature, uint64_t stream, uint64_t index) {
#if defined(__clang__)
#pragma clang fp contract(off)
#endif
  double u = rng::to_open_unit(rng::draw(stream, index));
  double g = -select_portable_log(-select_portable_log(u));
  return score / temperature + g;
}

uint64_t select_gumbel_stream(uint64_t seed) { return gumbel_stream(seed); }

double select_gumbel_key(double score, double temperature, uint64_t seed, uint64_t index) {
  return gumbel_key_in(score, temperature, gumbel_stream(seed), index);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// ---------------------------------------------------------------- validation

size_t select_capacity(const SelectArgs& a) {
  if (a.k < 1) throw_range("k must be an integer >= 1, got " + std::to_string(a.k));
  if (a.n > 0 && a.scores == nullptr) throw_range("scores has no data", code::kInvalidArg);
  if (a.n > std::numeric_limits<uint32_t>::max())
    throw_range("scores has " + std::to_string(a.n) + " elements; at most 2^32 - 1 are supported");
  if (a.offsets.size > 0 && a.offsets.data == nullptr) throw_range("offsets has no data", code::kBadOffsets);
  check_offsets("offsets", a.offsets, a.n, "scores");
  if (a.has_keys) {
    check_same_length("scores", a.n, "keys", a.keys.size);
    if (a.n > 0 && a.keys.data == nullptr) throw_range("keys has no data", code::kLengthMismatch);
  }
  if (a.has_groups) {
    check_same_length("scores", a.n, "groups", a.groups.size);
    if (a.n > 0 && a.groups.data == nullptr) throw_range("groups has no data", code::kLengthMismatch);
  }
  if (a.sample.enabled) {
    check_finite_scalar("sample.temperature", a.sample.temperature);
    if (!(a.sample.temperature > 0))
      throw_range("sample.temperature must be > 0, got " + fmt_num(a.sample.temperature));
  }
  if (a.has_groups) return a.n;
  size_t cap = 0;
  for (size_t s = 0; s + 1 < a.offsets.size; ++s) {
    uint64_t len = a.offsets[s + 1] - a.offsets[s];
    cap += static_cast<size_t>(std::min<uint64_t>(len, a.k));
  }
  return cap;
}

namespace {

// ---------------------------------------------------------------- item traits

// Items sort ascending in output order: key (descending score) then global index.
struct ItemsF32 {  // float scores: key in the high half, index in the low half of one uint64
  using Key = uint32_t;
  using Item = uint64_t;
  static Item make(Key key, uint32_t idx) { return (static_cast<uint64_t>(key) << 32) | idx; }
  static Key key(Item it) { return static_cast<uint32_t>(it >> 32); }
  static uint32_t idx(Item it) { return static_cast<uint32_t>(it); }
  static bool less(Item a, Item b) { return a < b; }
};

struct Item64 {
  uint64_t key;
  uint32_t idx;
};
struct ItemsF64 {  // double scores (and every sampled key)
  using Key = uint64_t;
  using Item = Item64;
  static Item make(Key key, uint32_t idx) { return Item{key, idx}; }
  static Key key(const Item& it) { return it.key; }
  static uint32_t idx(const Item& it) { return it.idx; }
  static bool less(const Item& a, const Item& b) { return a.key < b.key || (a.key == b.key && a.idx < b.idx); }
};

// Order-preserving maps: descending value = ascending key; -0 maps like +0.
inline uint32_t desc_key(uint32_t b) {
  b = (b == 0x80000000u) ? 0u : b;
  uint32_t mask = static_cast<uint32_t>(static_cast<int32_t>(b) >> 31) | 0x80000000u;
  return ~(b ^ mask);
}
inline uint64_t desc_key(uint64_t b) {
  b = (b == 0x8000000000000000ull) ? 0ull : b;
  uint64_t mask = static_cast<uint64_t>(static_cast<int64_t>(b) >> 63) | 0x8000000000000000ull;
  return ~(b ^ mask);
}

inline int bit_length(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

// ---------------------------------------------------------------- scratch

constexpr int kMaxBucketBits = 11;
constexpr size_t kSmallSort = 16;
// Scratch above this many items is released after a call, so one huge call does not pin memory.
constexpr size_t kKeepScratchItems = size_t{1} << 20;

template <class Tr>
struct Scratch {
  using Item = typename Tr::Item;
  std::vector<Item> a, b, c, out;
  std::vector<uint32_t> slot_of, ids, starts;
  uint32_t counts[(1u << kMaxBucketBits) + 1];
  // Open-addressing table for dedupe and groups; entries are live when stamp == epoch.
  struct Entry {
    uint64_t key;
    uint32_t value;
    uint32_t stamp;
  };
  std::vector<Entry> table;
  uint32_t epoch = 0;

  void reserve(size_t m) {
    if (a.size() < m + 1) {
      a.resize(m + 1);
      b.resize(m + 1);
      out.resize(m + 1);
    }
  }
  void reserve_aux(size_t m) {
    if (c.size() < m + 1) c.resize(m + 1);
    if (slot_of.size() < m + 1) slot_of.resize(m + 1);
    size_t want = 16;
    while (want < 2 * m) want <<= 1;
    if (table.size() < want) {
      table.assign(want, Entry{0, 0, 0});
      epoch = 0;
    }
  }
  // Start a fresh (empty) table of capacity >= 2m; returns the mask.
  size_t begin_table(size_t m) {
    size_t cap = 16;
    while (cap < 2 * m) cap <<= 1;
    if (++epoch == 0) {  // wrapped: stamps from 2^32 segments ago could look live
      for (auto& e : table) e.stamp = 0;
      epoch = 1;
    }
    return cap - 1;
  }
  void trim() {
    if (a.size() > kKeepScratchItems) {
      std::vector<Item>().swap(a);
      std::vector<Item>().swap(b);
      std::vector<Item>().swap(out);
    }
    if (c.size() > kKeepScratchItems) {
      std::vector<Item>().swap(c);
      std::vector<uint32_t>().swap(slot_of);
      std::vector<Entry>().swap(table);
      epoch = 0;
    }
  }
};

template <class Tr>
Scratch<Tr>& scratch() {
  thread_local Scratch<Tr> s;
  return s;
}

inline uint64_t hash64(uint64_t x) { return rng::mix64(x + rng::kGolden); }

// ---------------------------------------------------------------- selection kernel

template <class Tr>
inline void insertion_sort(typename Tr::Item* a, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    auto v = a[i];
    size_t j = i;
    while (j > 0 && Tr::less(v, a[j - 1])) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = v;
  }
}

// Tiny runs (the common case after bucketing): compare-exchange passes with no data-dependent
// branch, since a mispredicted insertion-sort exit costs more than the few extra exchanges.
template <class Tr>
inline void tiny_sort(typename Tr::Item* a, size_t n) {
  using Item = typename Tr::Item;
  for (size_t i = 1; i < n; ++i)
    for (size_t j = i; j > 0; --j) {
      Item x = a[j - 1], y = a[j];
      bool sw = Tr::less(y, x);
      a[j - 1] = sw ? y : x;
      a[j] = sw ? x : y;
    }
}

template <class Tr>
inline void sort_run(typename Tr::Item* a, size_t n) {
  if (n <= 8)
    tiny_sort<Tr>(a, n);
  else if (n <= kSmallSort)
    insertion_sort<Tr>(a, n);
  else
    std::sort(a, a + n, [](const typename Tr::Item& x, const typename Tr::Item& y) { return Tr::less(x, y); });
}

// Writes the min(k, m) smallest items of in[0, m) to out, sorted. `in` must be in ascending
// index order (so equal keys are already ordered); in and spare (capacity >= m) are clobbered.
template <class Tr>
void select_sorted(typename Tr::Item* in, size_t m, size_t k, typename Tr::Item* out, typename Tr::Item* spare,
                   uint32_t* counts) {
  using Item = typename Tr::Item;
  using Key = typename Tr::Key;
  for (;;) {
    if (k > m) k = m;
    if (k == 0) return;
    if (m <= kSmallSort) {
      sort_run<Tr>(in, m);
      std::copy(in, in + k, out);
      return;
    }
    Key mn = Tr::key(in[0]), mx = mn;
    for (size_t i = 1; i < m; ++i) {
      Key v = Tr::key(in[i]);
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    if (mn == mx) {  // all keys equal: index order is the output order
      std::copy(in, in + k, out);
      return;
    }
    int want_bits = std::min(kMaxBucketBits, std::max(4, bit_length(m - 1)));
    int shift = std::max(0, bit_length(static_cast<uint64_t>(mx - mn)) - want_bits);
    size_t nb = static_cast<size_t>(static_cast<uint64_t>(mx - mn) >> shift) + 1;
    std::memset(counts, 0, nb * sizeof(uint32_t));
    for (size_t i = 0; i < m; ++i) counts[static_cast<size_t>((Tr::key(in[i]) - mn) >> shift)]++;
    size_t cum = 0, p = 0;
    while (cum + counts[p] < k) cum += counts[p++];
    // Filter the kept buckets and the pivot bucket (about k items) in index order, then
    // scatter only those: kept buckets to their output positions, the pivot bucket back to in.
    size_t nf = 0;
    for (size_t i = 0; i < m; ++i) {
      Item it = in[i];
      spare[nf] = it;
      nf += (static_cast<size_t>((Tr::key(it) - mn) >> shift) <= p);
    }
    if (m >= 2 * k && nf < m) {
      // Most items fell away: narrow the range to the survivors before placing anything, so
      // the next histogram spreads them over ~nf buckets (tiny runs, cheap sorts).
      std::swap(in, spare);
      m = nf;
      continue;
    }
    // Buckets below p are kept whole: turn their counts into output positions.
    uint32_t pos = 0;
    for (size_t b = 0; b < p; ++b) {
      uint32_t c = counts[b];
      counts[b] = pos;
      pos += c;
    }
    size_t np = 0;
    for (size_t j = 0; j < nf; ++j) {
      Item it = spare[j];
      size_t b = static_cast<size_t>((Tr::key(it) - mn) >> shift);
      bool lt = b < p;
      Item* dst = lt ? out + counts[b] : in + np;
      *dst = it;
      counts[b] += lt;
      np += !lt;
    }
    // Each kept bucket is in index order; sort by key inside it (usually 0-3 items).
    uint32_t start = 0;
    for (size_t b = 0; b < p; ++b) {
      uint32_t end = counts[b];
      if (end - start > 1) sort_run<Tr>(out + start, end - start);
      start = end;
    }
    out += cum;
    k -= cum;
    m = np;
  }
}

// ---------------------------------------------------------------- per-segment driver

template <class S>
inline uint32_t bits_of(S v);
template <>
inline uint32_t bits_of<float>(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

[[noreturn]] void throw_non_finite(size_t i, double v) {
  throw_range(at("scores", i) + " is " + fmt_num(v), code::kNonFinite);
}

template <class S>
[[noreturn]] void report_non_finite(const S* scores, size_t lo, size_t hi) {
  for (size_t i = lo; i < hi; ++i)
    if (!std::isfinite(static_cast<double>(scores[i]))) throw_non_finite(i, static_cast<double>(scores[i]));
  throw_range("scores: non-finite value reported but not found", code::kNonFinite);
}

// Builds the items of [lo, hi) into `items` in index order; throws on a non-finite score.
template <class S, class Tr>
inline void build_items(const SelectArgs& a, size_t lo, size_t hi, typename Tr::Item* items);

template <>
inline void build_items<float, ItemsF32>(const SelectArgs& a, size_t lo, size_t hi, uint64_t* items) {
  const uint32_t* bits = static_cast<const uint32_t*>(a.scores) + lo;
  const uint32_t base = static_cast<uint32_t>(lo);
  const uint32_t m = static_cast<uint32_t>(hi - lo);
  // Exponent all ones <=> |bits| >= 0x7F800000; the max of |bits| is checked once at the end.
  uint32_t worst = 0;
  for (uint32_t j = 0; j < m; ++j) {
    uint32_t b = bits[j];
    uint32_t mag = b & 0x7FFFFFFFu;
    worst = mag > worst ? mag : worst;
    items[j] = ItemsF32::make(desc_key(b), base + j);
  }
  if (worst >= 0x7F800000u) report_non_finite(static_cast<const float*>(a.scores), lo, hi);
}

template <>
inline void build_items<double, ItemsF64>(const SelectArgs& a, size_t lo, size_t hi, Item64* items) {
  const uint64_t* bits = static_cast<const uint64_t*>(a.scores) + lo;
  const uint32_t base = static_cast<uint32_t>(lo);
  const uint32_t m = static_cast<uint32_t>(hi - lo);
  uint64_t worst = 0;
  for (uint32_t j = 0; j < m; ++j) {
    uint64_t b = bits[j];
    uint64_t mag = b & 0x7FFFFFFFFFFFFFFFull;
    worst = mag > worst ? mag : worst;
    items[j] = ItemsF64::make(desc_key(b), base + j);
  }
  if (worst >= 0x7FF0000000000000ull) report_non_finite(static_cast<const double*>(a.scores), lo, hi);
}

// Sampling: items keyed by the Gumbel-perturbed score (double), whatever the score type.
template <class S>
inline void build_sample_items(const SelectArgs& a, size_t lo, size_t hi, Item64* items) {
  const S* scores = static_cast<const S*>(a.scores);
  const uint64_t stream = gumbel_stream(a.sample.seed);
  for (size_t i = lo; i < hi; ++i) {
    double v = static_cast<double>(scores[i]);
    if (!std::isfinite(v)) throw_non_finite(i, v);
    double g = gumbel_key_in(v, a.sample.temperature, stream, i);
    uint64_t b;
    std::memcpy(&b, &g, sizeof b);
    items[i - lo] = ItemsF64::make(desc_key(b), static_cast<uint32_t>(i));
  }
}

template <class Tr>
inline uint32_t find_slot(typename Scratch<Tr>::Entry* table, size_t mask, uint32_t epoch, uint64_t key,
                          bool& fresh) {
  size_t h = static_cast<size_t>(hash64(key)) & mask;
  for (;;) {
    auto& e = table[h];
    if (e.stamp != epoch) {
      e.stamp = epoch;
      e.key = key;
      fresh = true;
      return static_cast<uint32_t>(h);
    }
    if (e.key == key) {
      fresh = false;
      return static_cast<uint32_t>(h);
    }
    h = (h + 1) & mask;
  }
}

// One segment: returns the number of indices written to out.
template <class S, class Tr>
size_t select_segment(const SelectArgs& a, size_t lo, size_t hi, uint32_t* out, Scratch<Tr>& sc) {
  using Item = typename Tr::Item;
  size_t m = hi - lo;
  if (m == 0) return 0;
  size_t k = static_cast<size_t>(std::min<uint64_t>(a.k, m));
  sc.reserve(m);
  Item* items = sc.a.data();
  if constexpr (std::is_same_v<Tr, ItemsF64>) {
    if (a.sample.enabled)
      build_sample_items<S>(a, lo, hi, items);
    else if constexpr (std::is_same_v<S, double>)
      build_items<double, ItemsF64>(a, lo, hi, items);
    else
      throw_runtime("prune: float scores without sampling use 32-bit keys", "ERR_PAV_INTERNAL");
  } else {
    build_items<S, Tr>(a, lo, hi, items);
  }

  if (!a.has_keys && !a.has_groups) {
    if (k == 1 && m > 1) {  // beam width 1 is common: a single min pass
      Item best = items[0];
      for (size_t i = 1; i < m; ++i) best = Tr::less(items[i], best) ? items[i] : best;
      out[0] = Tr::idx(best);
      return 1;
    }
    Item* dst = sc.out.data();
    select_sorted<Tr>(items, m, k, dst, sc.b.data(), sc.counts);
    for (size_t j = 0; j < k; ++j) out[j] = Tr::idx(dst[j]);
    return k;
  }

  sc.reserve_aux(m);
  if (a.has_keys) {  // keep the best item of each key, in index order
    size_t mask = sc.begin_table(m);
    auto* table = sc.table.data();
    uint32_t* slot_of = sc.slot_of.data();
    for (size_t j = 0; j < m; ++j) {
      bool fresh;
      uint32_t s = find_slot<Tr>(table, mask, sc.epoch, a.keys[lo + j], fresh);
      slot_of[j] = s;
      if (fresh || Tr::less(items[j], items[table[s].value])) table[s].value = static_cast<uint32_t>(j);
    }
    size_t w = 0;
    for (size_t j = 0; j < m; ++j) {
      Item it = items[j];
      items[w] = it;
      w += (table[slot_of[j]].value == j);
    }
    m = w;
  }

  if (!a.has_groups) {
    k = std::min(k, m);
    Item* dst = sc.out.data();
    select_sorted<Tr>(items, m, k, dst, sc.b.data(), sc.counts);
    for (size_t j = 0; j < k; ++j) out[j] = Tr::idx(dst[j]);
    return k;
  }

  // Groups: count per group id, order the distinct ids, scatter stably into contiguous runs.
  size_t mask = sc.begin_table(m);
  auto* table = sc.table.data();
  uint32_t* slot_of = sc.slot_of.data();
  std::vector<uint32_t>& ids = sc.ids;
  ids.clear();
  for (size_t j = 0; j < m; ++j) {
    bool fresh;
    uint32_t g = a.groups[Tr::idx(items[j])];
    uint32_t s = find_slot<Tr>(table, mask, sc.epoch, g, fresh);
    slot_of[j] = s;
    if (fresh) {
      table[s].value = 0;
      ids.push_back(g);
    }
    table[s].value++;
  }
  std::sort(ids.begin(), ids.end());
  // Run starts, in ascending id order; table values become write positions.
  std::vector<uint32_t>& starts = sc.starts;
  starts.resize(ids.size() + 1);
  uint32_t pos = 0;
  for (size_t g = 0; g < ids.size(); ++g) {
    bool fresh;
    uint32_t s = find_slot<Tr>(table, mask, sc.epoch, ids[g], fresh);
    starts[g] = pos;
    pos += table[s].value;
    table[s].value = starts[g];
  }
  starts[ids.size()] = pos;
  Item* runs = sc.c.data();
  for (size_t j = 0; j < m; ++j) runs[table[slot_of[j]].value++] = items[j];
  size_t written = 0;
  Item* dst = sc.out.data();
  for (size_t g = 0; g < ids.size(); ++g) {
    size_t len = starts[g + 1] - starts[g];
    size_t kg = std::min(k, len);
    select_sorted<Tr>(runs + starts[g], len, kg, dst, items, sc.counts);
    for (size_t j = 0; j < kg; ++j) out[written + j] = Tr::idx(dst[j]);
    written += kg;
  }
  return written;
}



// Segments [s0, s1) written contiguously to out; seg_counts[s - s0] gets each segment's count.
template <class S, class Tr>
size_t run_range(const SelectArgs& a, size_t s0, size_t s1, uint32_t* out, uint32_t* seg_counts) {
  Scratch<Tr>& sc = scratch<Tr>();
  struct Trim {
    Scratch<Tr>& sc;
    ~Trim() { sc.trim(); }
  } trim{sc};
  size_t w = 0;
  for (size_t s = s0; s < s1; ++s) {
    size_t c = select_segment<S, Tr>(a, a.offsets[s], a.offsets[s + 1], out + w, sc);
    seg_counts[s - s0] = static_cast<uint32_t>(c);
    w += c;
  }
  return w;
}

using RangeFn = size_t (*)(const SelectArgs&, size_t, size_t, uint32_t*, uint32_t*);

RangeFn pick_range_fn(const SelectArgs& a) {
  if (a.sample.enabled) return a.scores64 ? &run_range<double, ItemsF64> : &run_range<float, ItemsF64>;
  return a.scores64 ? &run_range<double, ItemsF64> : &run_range<float, ItemsF32>;
}

// Below this many candidates per thread, a thread costs more than it saves.
constexpr size_t kMinPerThread = size_t{1} << 17;

}  // namespace

size_t select_segment_cpu(const SelectArgs& a, size_t s, uint32_t* out) {
  uint32_t count = 0;
  pick_range_fn(a)(a, s, s + 1, out, &count);
  return count;
}

size_t select_topk_cpu(const SelectArgs& a, uint32_t* out_indices, size_t out_capacity, uint32_t* out_offsets) {
  size_t need = select_capacity(a);
  if (out_capacity < need)
    throw_range("output has room for " + std::to_string(out_capacity) + " indices, " + std::to_string(need) +
                " needed");
  if (need > 0 && out_indices == nullptr) throw_range("output indices has no data");
  if (out_offsets == nullptr) throw_range("output offsets has no data");
  const size_t S = a.offsets.size - 1;
  RangeFn run = pick_range_fn(a);
  out_offsets[0] = 0;

  size_t T = a.threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : a.threads;
  T = std::min(T, std::max<size_t>(1, a.n / kMinPerThread));
  T = std::min(T, std::max<size_t>(1, S));
  if (T <= 1) {
    run(a, 0, S, out_indices, out_offsets + 1);
  } else {
    // Contiguous segment ranges of about n / T candidates; each writes at its upper-bound start,
    // then the ranges are compacted in order. Segments are independent, so the result is the
    // same as one thread's, and the error reported is the first one in segment order.
    std::vector<size_t> seg_begin(T + 1), out_begin(T + 1), written(T, 0);
    const uint32_t* off = a.offsets.data;
    for (size_t t = 0; t <= T; ++t) {
      uint64_t target = static_cast<uint64_t>(a.n) * t / T;
      size_t s = static_cast<size_t>(std::lower_bound(off, off + S, target) - off);
      seg_begin[t] = t == T ? S : std::max(s, t == 0 ? size_t{0} : seg_begin[t - 1]);
    }
    size_t pos = 0, t = 0;
    for (size_t s = 0; s <= S; ++s) {
      while (t <= T && seg_begin[t] == s) out_begin[t++] = pos;
      if (s == S) break;
      uint64_t len = off[s + 1] - off[s];
      pos += a.has_groups ? static_cast<size_t>(len) : static_cast<size_t>(std::min<uint64_t>(len, a.k));
    }
    std::vector<std::exception_ptr> errors(T);
    std::vector<std::thread> pool;
    pool.reserve(T - 1);
    auto work = [&](size_t t) {
      try {
        written[t] = run(a, seg_begin[t], seg_begin[t + 1], out_indices + out_begin[t], out_offsets + 1 + seg_begin[t]);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    };
    try {
      for (size_t i = 1; i < T; ++i) pool.emplace_back(work, i);
    } catch (...) {
      for (auto& th : pool) th.join();
      throw;
    }
    work(0);
    for (auto& th : pool) th.join();
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    size_t dst = 0;
    for (size_t i = 0; i < T; ++i) {
      if (dst != out_begin[i] && written[i] > 0)
        std::memmove(out_indices + dst, out_indices + out_begin[i], written[i] * sizeof(uint32_t));
      dst += written[i];
    }
  }
  for (size_t s = 0; s < S; ++s) out_offsets[s + 1] += out_offsets[s];
  return out_offsets[S];
}

}  // namespace pav
