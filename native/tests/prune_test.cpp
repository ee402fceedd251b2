// Segmented top-k selection: exact small cases, ties, dedupe, groups, sampling, validation, thread
// independence, and CUDA == CPU (skipped without a device), against a plain sort-based reference.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "core/prune.h"
#include "tests/check.h"

namespace {

struct Out {
  std::vector<uint32_t> idx, off;
};

template <class S>
pav::SelectArgs make_args(const std::vector<S>& scores, const std::vector<uint32_t>& off, uint64_t k) {
  pav::SelectArgs a;
  a.scores64 = sizeof(S) == 8;
  a.scores = scores.data();
  a.n = scores.size();
  a.offsets = pav::View<uint32_t>{off.data(), off.size()};
  a.k = k;
  return a;
}

Out run_cpu(const pav::SelectArgs& a) {
  Out o;
  o.idx.resize(pav::select_capacity(a) + 1);
  o.off.resize(a.offsets.size);
  size_t n = pav::select_topk_cpu(a, o.idx.data(), o.idx.size(), o.off.data());
  o.idx.resize(n);
  return o;
}

// Obvious reference: per segment, dedupe with a map, group with a map, sort with a comparator.
template <class S>
Out reference(const pav::SelectArgs& a) {
  const S* sc = static_cast<const S*>(a.scores);
  Out o;
  o.off.push_back(0);
  for (size_t s = 0; s + 1 < a.offsets.size; ++s) {
    uint32_t lo = a.offsets[s], hi = a.offsets[s + 1];
    std::vector<double> key(hi - lo);
    for (uint32_t i = lo; i < hi; ++i)
      key[i - lo] = a.sample.enabled ? pav::select_gumbel_key(double(sc[i]), a.sample.temperature, a.sample.seed, i)
                                     : double(sc[i]);
    auto better = [&](uint32_t x, uint32_t y) {
      double kx = key[x - lo], ky = key[y - lo];
      return kx > ky || (kx == ky && x < y);
    };
    std::vector<uint32_t> cand;
    if (a.has_keys) {
      std::map<uint64_t, uint32_t> best;
      for (uint32_t i = lo; i < hi; ++i) {
        auto it = best.find(a.keys[i]);
        if (it == best.end() || better(i, it->second)) best[a.keys[i]] = i;
      }
      for (auto& kv : best) cand.push_back(kv.second);
    } else {
      for (uint32_t i = lo; i < hi; ++i) cand.push_back(i);
    }
    std::map<uint32_t, std::vector<uint32_t>> by_group;
    for (uint32_t i : cand) by_group[a.has_groups ? a.groups[i] : 0].push_back(i);
    for (auto& g : by_group) {
      std::sort(g.second.begin(), g.second.end(), better);
      size_t take = std::min<size_t>(g.second.size(), a.k);
      o.idx.insert(o.idx.end(), g.second.begin(), g.second.begin() + take);
    }
    o.off.push_back(static_cast<uint32_t>(o.idx.size()));
  }
  return o;
}

bool same(const Out& x, const Out& y) { return x.idx == y.idx && x.off == y.off; }

std::vector<uint32_t> random_offsets(std::mt19937_64& rng, size_t S, size_t max_len) {
  std::vector<uint32_t> off{0};
  for (size_t s = 0; s < S; ++s) off.push_back(off.back() + static_cast<uint32_t>(rng() % (max_len + 1)));
  return off;
}

template <class S>
std::vector<S> random_scores(std::mt19937_64& rng, size_t n, int levels) {
  std::vector<S> v(n);
  for (auto& x : v) {
    if (levels > 0)
      x = static_cast<S>(static_cast<int>(rng() % levels) - levels / 2) / S(4);  // many exact ties, +-0
    else
      x = static_cast<S>(std::ldexp(double(rng() >> 11), -53) * 2 - 1) * S(rng() % 2 ? 1 : 1e-3);
    if (rng() % 50 == 0) x = -x;  // -0 and +0 both appear
  }
  return v;
}

}  // namespace

TEST_CASE("prune: exact small case, ties by lower index, -0 equals +0") {
  std::vector<float> sc{0.1f, 0.5f, 0.5f, 0.9f, -0.0f, 0.0f, 3.0f, -1.0f};
  std::vector<uint32_t> off{0, 6, 6, 8};
  auto o = run_cpu(make_args(sc, off, 3));
  CHECK((o.idx == std::vector<uint32_t>{3, 1, 2, 6, 7}));
  CHECK((o.off == std::vector<uint32_t>{0, 3, 3, 5}));
  std::vector<float> z{-0.0f, 0.0f, -0.0f};
  std::vector<uint32_t> zoff{0, 3};
  auto oz = run_cpu(make_args(z, zoff, 2));
  CHECK((oz.idx == std::vector<uint32_t>{0, 1}));
}

TEST_CASE("prune: float and double equal the sorting reference (ties, short segments, threads)") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    size_t S = 1 + rng() % 40;
    size_t max_len = trial % 3 == 0 ? 5 : (trial % 3 == 1 ? 70 : 600);
    auto off = random_offsets(rng, S, max_len);
    uint64_t k = 1 + rng() % (trial % 2 ? 8 : 200);
    int levels = trial % 4 == 0 ? 0 : static_cast<int>(1 + rng() % 20);
    auto sf = random_scores<float>(rng, off.back(), levels);
    std::vector<double> sd(sf.begin(), sf.end());
    if (trial % 5 == 0)
      for (auto& x : sd) x = x * 1e-300;  // subnormal doubles keep their order
    auto af = make_args(sf, off, k);
    auto ad = make_args(sd, off, k);
    auto of = run_cpu(af);
    CHECK(same(of, reference<float>(af)));
    CHECK(same(run_cpu(ad), reference<double>(ad)));
    af.threads = 3;
    CHECK(same(run_cpu(af), of));
  }
}

TEST_CASE("prune: large batch split across threads gives identical results") {
  std::mt19937_64 rng(11);
  auto off = random_offsets(rng, 3000, 300);
  auto sf = random_scores<float>(rng, off.back(), 9);
  auto a = make_args(sf, off, 40);
  auto one = run_cpu(a);
  a.threads = 4;
  CHECK(same(run_cpu(a), one));
  a.threads = 0;
  CHECK(same(run_cpu(a), one));
  CHECK(same(one, reference<float>(a)));
}

TEST_CASE("prune: dedupe keys and groups equal the reference") {
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 300; ++trial) {
    size_t S = 1 + rng() % 20;
    auto off = random_offsets(rng, S, trial % 2 ? 30 : 400);
    size_t n = off.back();
    uint64_t k = 1 + rng() % 12;
    auto sf = random_scores<float>(rng, n, trial % 3 == 0 ? 0 : 6);
    std::vector<uint64_t> keys(n);
    std::vector<uint32_t> groups(n);
    uint64_t key_space = 1 + rng() % 40, group_space = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i) {
      keys[i] = (rng() % key_space) * 0x100000000ull;  // collisions, and low bits that defeat weak hashes
      groups[i] = trial % 4 == 0 ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng() % group_space) * 1000;
    }
    auto a = make_args(sf, off, k);
    int mode = trial % 3;
    if (mode != 1) {
      a.has_keys = true;
      a.keys = pav::View<uint64_t>{keys.data(), n};
    }
    if (mode != 0) {
      a.has_groups = true;
      a.groups = pav::View<uint32_t>{groups.data(), n};
    }
    auto o = run_cpu(a);
    CHECK(same(o, reference<float>(a)));
    std::vector<double> sd(sf.begin(), sf.end());
    auto ad = a;
    ad.scores = sd.data();
    ad.scores64 = true;
    CHECK(same(run_cpu(ad), o));
  }
}

TEST_CASE("prune: sampling is reproducible, thread-independent, and matches the Gumbel reference") {
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 100; ++trial) {
    auto off = random_offsets(rng, 1 + rng() % 30, 100);
    auto sf = random_scores<float>(rng, off.back(), trial % 2 ? 0 : 4);
    auto a = make_args(sf, off, 1 + rng() % 10);
    a.sample.enabled = true;
    a.sample.temperature = trial % 3 == 0 ? 0.05 : 1.7;
    a.sample.seed = rng() >> 11;
    auto o = run_cpu(a);
    CHECK(same(o, reference<float>(a)));
    CHECK(same(run_cpu(a), o));
    a.threads = 3;
    CHECK(same(run_cpu(a), o));
  }
}

TEST_CASE("prune: sampling frequencies follow softmax(score / T)") {
  // One segment of 4 candidates, k = 1: P(i) = softmax(s / T).
  std::vector<double> sc{1.0, 0.5, 0.0, -1.0};
  std::vector<uint32_t> off{0, 4};
  const double T = 0.7;
  double z = 0;
  for (double s : sc) z += std::exp(s / T);
  std::vector<int> hits(4, 0);
  const int trials = 20000;
  for (int t = 0; t < trials; ++t) {
    auto a = make_args(sc, off, 1);
    a.sample.enabled = true;
    a.sample.temperature = T;
    a.sample.seed = static_cast<uint64_t>(t);
    hits[run_cpu(a).idx[0]]++;
  }
  for (int i = 0; i < 4; ++i) {
    double p = std::exp(sc[i] / T) / z;
    double sd = std::sqrt(p * (1 - p) / trials);
    CHECK_NEAR(double(hits[i]) / trials, p, 5 * sd);
  }
}

TEST_CASE("prune: portable log matches libm to within an ulp or two") {
  std::mt19937_64 rng(1);
  for (int i = 0; i < 100000; ++i) {
    double x = std::ldexp(double((rng() >> 11) | 1), -53) * std::ldexp(1.0, static_cast<int>(rng() % 80) - 40);
    double a = pav::select_portable_log(x), b = std::log(x);
    CHECK(std::fabs(a - b) <= 4e-16 * std::max(1.0, std::fabs(b)));
  }
  CHECK(pav::select_portable_log(1.0) == 0.0);
  CHECK_NEAR(pav::select_portable_log(4.9406564584124654e-324), std::log(4.9406564584124654e-324), 1e-12);
}

TEST_CASE("prune: validation throws typed errors before reading out of bounds") {
  std::vector<float> sc(20, 1.0f);
  sc[17] = std::nanf("");
  std::vector<uint32_t> off{0, 10, 20};
  auto a = make_args(sc, off, 2);
  try {
    run_cpu(a);
    CHECK(false);
  } catch (const pav::Error& e) {
    CHECK(e.code() == pav::code::kNonFinite);
    CHECK(std::string(e.what()) == "scores[17] is NaN");
  }
  sc[17] = 1.0f;
  sc[3] = -INFINITY;
  sc[15] = INFINITY;
  a.threads = 2;
  try {
    run_cpu(a);
    CHECK(false);
  } catch (const pav::Error& e) {
    CHECK(std::string(e.what()) == "scores[3] is -Infinity");
  }
  sc[3] = sc[15] = 0.0f;
  std::vector<double> sd(20, 0.0);
  sd[19] = INFINITY;
  CHECK_THROWS_CODE(run_cpu(make_args(sd, off, 2)), pav::code::kNonFinite);
  a.sample.enabled = true;
  sc[4] = std::nanf("");
  CHECK_THROWS_CODE(run_cpu(a), pav::code::kNonFinite);
  sc[4] = 0.0f;
  a.sample.temperature = 0.0;
  CHECK_THROWS_CODE(pav::select_capacity(a), pav::code::kInvalidArg);
  a.sample.temperature = NAN;
  CHECK_THROWS_CODE(pav::select_capacity(a), pav::code::kNonFinite);
  a.sample = pav::SelectSample{};
  a.k = 0;
  CHECK_THROWS_CODE(pav::select_capacity(a), pav::code::kInvalidArg);
  a.k = 2;
  std::vector<uint32_t> bad_off{0, 30};
  CHECK_THROWS_CODE(run_cpu(make_args(sc, bad_off, 2)), pav::code::kBadOffsets);
  std::vector<uint32_t> dec_off{0, 12, 11, 20};
  CHECK_THROWS_CODE(run_cpu(make_args(sc, dec_off, 2)), pav::code::kBadOffsets);
  std::vector<uint32_t> empty_off;
  CHECK_THROWS_CODE(run_cpu(make_args(sc, empty_off, 2)), pav::code::kBadOffsets);
  std::vector<uint64_t> keys(19);
  a.has_keys = true;
  a.keys = pav::View<uint64_t>{keys.data(), keys.size()};
  CHECK_THROWS_CODE(pav::select_capacity(a), pav::code::kLengthMismatch);
  a.has_keys = false;
  std::vector<uint32_t> groups(21);
  a.has_groups = true;
  a.groups = pav::View<uint32_t>{groups.data(), groups.size()};
  CHECK_THROWS_CODE(pav::select_capacity(a), pav::code::kLengthMismatch);
  a.has_groups = false;
  std::vector<uint32_t> small(3), oo(3);
  CHECK_THROWS_CODE(pav::select_topk_cpu(a, small.data(), small.size(), oo.data()), pav::code::kInvalidArg);
  // Empty input and huge k are fine.
  std::vector<float> none;
  std::vector<uint32_t> zero{0};
  CHECK(run_cpu(make_args(none, zero, 5)).idx.empty());
  a.k = ~0ull;
  CHECK(run_cpu(a).idx.size() == 20);
}

TEST_CASE("prune: CUDA equals CPU, tie order included") {
  pav::CudaInfo ci = pav::cuda_info();
  if (ci.devices == 0) SKIP("no CUDA device: " + ci.error);
#ifdef PAVSEARCH_WITH_CUDA
  std::mt19937_64 rng(9);
  for (int trial = 0; trial < 60; ++trial) {
    // Short segments, bitonic-sized ones, and ones longer than the shared buffer (streamed).
    size_t max_len = trial % 3 == 0 ? 40 : (trial % 3 == 1 ? 1000 : 9000);
    auto off = random_offsets(rng, 1 + rng() % 50, max_len);
    uint64_t k = 1 + rng() % (trial % 2 ? 64 : 1500);
    auto sf = random_scores<float>(rng, off.back(), trial % 2 ? 0 : 7);
    std::vector<double> sd(sf.begin(), sf.end());
    for (int dbl = 0; dbl < 2; ++dbl) {
      auto a = dbl ? make_args(sd, off, k) : make_args(sf, off, k);
      Out g;
      g.idx.resize(pav::select_capacity(a));
      g.off.resize(off.size());
      size_t n = pav::select_topk_cuda(a, g.idx.data(), g.idx.size(), g.off.data());
      g.idx.resize(n);
      CHECK(same(g, run_cpu(a)));
    }
  }
  std::vector<float> sc(5000, 0.5f);
  sc[4321] = NAN;
  sc[4400] = NAN;
  std::vector<uint32_t> off{0, 100, 5000};
  auto a = make_args(sc, off, 8);
  std::vector<uint32_t> out(16), oo(3);
  try {
    pav::select_topk_cuda(a, out.data(), out.size(), oo.data());
    CHECK(false);
  } catch (const pav::Error& e) {
    CHECK(std::string(e.what()) == "scores[4321] is NaN");
  }
  // keys / groups / sample run on CUDA too (native/tests/cuda_ops_test.cpp compares them in depth).
  sc[4321] = 0.25f;
  sc[4400] = 0.75f;
  a.has_keys = true;
  std::vector<uint64_t> keys(5000);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = i % 3;
  a.keys = pav::View<uint64_t>{keys.data(), keys.size()};
  size_t n = pav::select_topk_cuda(a, out.data(), out.size(), oo.data());
  Out cpu = run_cpu(a);
  CHECK(n == cpu.idx.size());
  CHECK(std::vector<uint32_t>(out.begin(), out.begin() + n) == cpu.idx);
  CHECK(oo == cpu.off);
#endif
}
