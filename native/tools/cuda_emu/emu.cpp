// Driver of run.sh (see there): emulated kernels against the CPU ops, bit for bit.
#include "emu.h"
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>
#include "core/prune.h"
#include "core/vote.h"
#include "core/aggregate.h"
namespace pav { namespace emu_p {
#include "prune_dev.inc"
}
namespace emu_v {
#include "vote_dev.inc"
}
namespace emu_a {
#include "agg_dev.inc"
}
}
using namespace pav;
int fails = 0;
#define EXPECT(c) do { if (!(c)) { ++fails; if (fails < 20) std::printf("FAIL %s line %d trial\n", #c, __LINE__); } } while (0)

template <class S>
size_t ext_emu(const SelectArgs& a, uint32_t cap, uint32_t* out, uint32_t* out_off) {
  size_t Sc = a.offsets.size - 1;
  std::vector<uint32_t> tmp(a.n + 1), counts(Sc, 0);
  unsigned long long stream = a.sample.enabled ? select_gumbel_stream(a.sample.seed) : 0;
  emu_p::ext_kernel<S>((const S*)a.scores, a.offsets.data, (const unsigned long long*)(a.has_keys ? a.keys.data : nullptr),
                       a.has_groups ? a.groups.data : nullptr, a.sample.enabled, a.sample.temperature, stream,
                       (uint32_t)std::min<uint64_t>(a.k, 0xFFFFFFFFull), cap, Sc, tmp.data(), counts.data());
  size_t w = 0; out_off[0] = 0;
  for (size_t s = 0; s < Sc; ++s) {
    uint32_t lo = a.offsets[s], m = a.offsets[s + 1] - lo;
    size_t c;
    if (m > cap) c = select_segment_cpu(a, s, out + w);
    else { c = counts[s]; std::copy(tmp.begin() + lo, tmp.begin() + lo + c, out + w); }
    w += c; out_off[s + 1] = w;
  }
  return w;
}

int main() {
  std::mt19937_64 rng(5);
  // portable log and gumbel keys
  for (int i = 0; i < 2000000; ++i) {
    uint64_t bits = rng();
    double x; std::memcpy(&x, &bits, 8);
    x = std::fabs(x);
    if (!std::isfinite(x) || x == 0) continue;
    double h = select_portable_log(x), d = emu_p::dev_portable_log(x);
    EXPECT(std::memcmp(&h, &d, 8) == 0);
  }
  for (int i = 0; i < 200000; ++i) {
    double sc = std::uniform_real_distribution<double>(-50, 50)(rng);
    double temp = i % 3 ? 0.7 : 1e-3;
    uint64_t seed = rng() >> 11;
    uint64_t idx = rng() % 4000000000ull;
    double h = select_gumbel_key(sc, temp, seed, idx);
    double d = emu_p::dev_gumbel_key(sc, temp, select_gumbel_stream(seed), idx);
    EXPECT(std::memcmp(&h, &d, 8) == 0);
  }
  std::printf("log/gumbel done, fails=%d\n", fails);
  // selection
  for (int trial = 0; trial < 3000; ++trial) {
    size_t S = 1 + rng() % 12;
    size_t maxLen = trial % 4 == 0 ? 3000 : (trial % 4 == 1 ? 40 : 300);
    std::vector<uint32_t> off{0};
    for (size_t s = 0; s < S; ++s) off.push_back(off.back() + rng() % (maxLen + 1));
    size_t n = off.back();
    int levels = trial % 3 == 0 ? 0 : 5;
    std::vector<float> sf(n);
    for (auto& v : sf) v = levels ? float((int)(rng() % levels) - 2) * 0.25f : float(std::uniform_real_distribution<double>(-1, 1)(rng));
    if (n > 3 && trial % 7 == 0) { sf[0] = -0.0f; sf[1] = 0.0f; }
    std::vector<double> sd(sf.begin(), sf.end());
    std::vector<uint64_t> keys(n); for (auto& k : keys) k = rng() % (1 + trial % 9);
    std::vector<uint32_t> groups(n); for (auto& g : groups) g = (uint32_t)(rng() % (1 + trial % 5)) * 1000u + (trial % 2 ? 0xFFFFFF00u : 0);
    for (int dbl = 0; dbl < 2; ++dbl) for (int mode = 1; mode < 8; ++mode) {
      SelectArgs a;
      a.scores64 = dbl; a.scores = dbl ? (const void*)sd.data() : (const void*)sf.data(); a.n = n;
      a.offsets = View<uint32_t>{off.data(), off.size()};
      a.k = 1 + rng() % (trial % 5 == 0 ? 500 : 6);
      if (mode & 1) { a.has_keys = true; a.keys = View<uint64_t>{keys.data(), n}; }
      if (mode & 2) { a.has_groups = true; a.groups = View<uint32_t>{groups.data(), n}; }
      if (mode & 4) { a.sample.enabled = true; a.sample.temperature = trial % 2 ? 0.5 : 3; a.sample.seed = rng() >> 11; }
      size_t cap = select_capacity(a);
      std::vector<uint32_t> o1(cap + 1), f1(off.size()), o2(cap + 1), f2(off.size());
      size_t c1 = select_topk_cpu(a, o1.data(), cap, f1.data());
      size_t c2 = dbl ? ext_emu<double>(a, trial % 2 ? 2048 : 1024, o2.data(), f2.data()) : ext_emu<float>(a, trial % 2 ? 2048 : 1024, o2.data(), f2.data());
      EXPECT(c1 == c2);
      EXPECT(f1 == f2);
      EXPECT(std::equal(o1.begin(), o1.begin() + c1, o2.begin()));
    }
  }
  std::printf("select done, fails=%d\n", fails);
  // vote
  for (int trial = 0; trial < 3000; ++trial) {
    size_t P = 1 + rng() % 10;
    std::vector<uint32_t> off{0};
    for (size_t p = 0; p < P; ++p) off.push_back(off.back() + rng() % (trial % 10 == 0 ? 6000 : 30));
    size_t n = off.back();
    std::vector<uint64_t> keys(n); for (auto& k : keys) k = rng() % (1 + trial % 7);
    std::vector<double> wd(n); for (auto& w : wd) w = trial % 3 == 0 ? double(rng() % 3) : std::uniform_real_distribution<double>(-1, 1)(rng);
    std::vector<float> wf(wd.begin(), wd.end());
    for (int m = 0; m < 3; ++m) for (int hw = 0; hw < 2; ++hw) {
      if (!hw && m != 0) continue;
      VoteArgs<float> a{View<uint64_t>{keys.data(), n}, hw != 0, View<float>{wf.data(), hw ? n : 0}, View<uint32_t>{off.data(), off.size()}, (VoteMethod)m};
      std::vector<uint32_t> w1(P), w2(P); std::vector<double> s1(P), s2(P);
      vote_answers(a, w1.data(), s1.data());
      std::vector<unsigned char> first(n); std::vector<double> cnt(n), ws(n), mx(n); std::vector<uint32_t> rep(n);
      const uint32_t maxLen = kVoteCudaMaxCandidates;
      emu_v::answers_kernel<float>((const unsigned long long*)keys.data(), hw ? wf.data() : nullptr, off.data(), P, n, maxLen, first.data(), cnt.data(), ws.data(), mx.data(), rep.data());
      emu_v::pick_kernel(off.data(), P, maxLen, m, hw != 0, first.data(), cnt.data(), ws.data(), mx.data(), rep.data(), w2.data(), s2.data());
      for (size_t p = 0; p < P; ++p) {
        uint32_t b = off[p], e = off[p + 1];
        if (e - b <= maxLen) continue;
        const uint32_t lo[2] = {0, e - b};
        VoteArgs<float> one{View<uint64_t>{keys.data() + b, e - b}, hw != 0, View<float>{hw ? wf.data() + b : nullptr, hw ? size_t{e - b} : 0}, View<uint32_t>{lo, 2}, (VoteMethod)m};
        uint32_t w; double sc; vote_answers(one, &w, &sc); w2[p] = w + b; s2[p] = sc;
      }
      EXPECT(w1 == w2);
      EXPECT(std::memcmp(s1.data(), s2.data(), P * 8) == 0);
    }
  }
  std::printf("vote done, fails=%d\n", fails);
  // aggregate
  for (int trial = 0; trial < 2000; ++trial) {
    size_t T = 1 + rng() % 20;
    std::vector<uint32_t> off{0};
    for (size_t t = 0; t < T; ++t) off.push_back(off.back() + 1 + rng() % 50);
    size_t n = off.back();
    std::vector<float> sf(n); for (auto& v : sf) v = float(std::uniform_real_distribution<double>(0, 1)(rng));
    for (int m = 0; m < 4; ++m) {
      std::vector<float> o1(T), o2(T);
      aggregate_steps(View<float>{sf.data(), n}, View<uint32_t>{off.data(), off.size()}, (AggregateMethod)m, o1.data());
      emu_a::aggregate_kernel<float>(sf.data(), off.data(), T, m, o2.data());
      EXPECT(std::memcmp(o1.data(), o2.data(), T * 4) == 0);
    }
  }
  std::printf("aggregate done, fails=%d\n", fails);
  return fails != 0;
}
