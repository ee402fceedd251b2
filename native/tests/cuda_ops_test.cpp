// CUDA paths of aggregateSteps, expandToTokens, voteAnswers and selectTopK with keys / groups /
// sample, against the CPU on seeded random inputs: bit-identical outputs (no tolerance; every
// kernel performs the CPU's double operations in the CPU's order). Each case SKIPs, with the
// reason, where no CUDA device is usable or the build has no CUDA; without CUDA it also checks
// that nothing here pretends to exist (require_cuda_device throws ERR_PAV_NO_GPU).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/advantages.h"
#include "core/aggregate.h"
#include "core/device.h"
#include "core/error.h"
#include "core/prune.h"
#include "core/vote.h"
#include "tests/check.h"

namespace {

template <class T>
pav::View<T> V(const std::vector<T>& v) {
  return pav::View<T>{v.data(), v.size()};
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Random CSR offsets: `count` rows of length in [min_len, max_len].
std::vector<uint32_t> offsets(std::mt19937_64& rng, size_t count, uint32_t min_len, uint32_t max_len) {
  std::vector<uint32_t> off{0};
  for (size_t i = 0; i < count; ++i)
    off.push_back(off.back() + min_len + static_cast<uint32_t>(rng() % (max_len - min_len + 1)));
  return off;
}

void skip_without_device() {
  pav::CudaInfo ci = pav::cuda_info();
  if (!ci.compiled) SKIP("built without CUDA (PAVSEARCH_CUDA=OFF or no nvcc)");
  if (ci.devices == 0) SKIP("no CUDA device: " + ci.error);
}

}  // namespace

TEST_CASE("cuda ops: without a device, device 'cuda' is ERR_PAV_NO_GPU") {
  if (pav::cuda_info().devices > 0) SKIP("a CUDA device is present (covered by the CUDA == CPU cases)");
  CHECK_THROWS_CODE(pav::require_cuda_device(), pav::code::kNoGpu);
}

#ifdef PAVSEARCH_WITH_CUDA

TEST_CASE("cuda ops: aggregateSteps equals CPU bit for bit") {
  skip_without_device();
  std::mt19937_64 rng(21);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int trial = 0; trial < 6; ++trial) {
    auto off = offsets(rng, 1 + rng() % 20000, 1, trial % 2 ? 9 : 300);
    const size_t n = off.back(), T = off.size() - 1;
    std::vector<double> sd(n);
    for (auto& x : sd) x = trial % 3 == 0 ? std::floor(u(rng) * 4) / 4 : u(rng);  // ties and -0 / +0 too
    if (n > 2) sd[1] = -0.0;
    std::vector<float> sf(sd.begin(), sd.end());
    for (auto m : {pav::AggregateMethod::Last, pav::AggregateMethod::Min, pav::AggregateMethod::Prod,
                   pav::AggregateMethod::Mean}) {
      std::vector<double> cd(T), gd(T);
      pav::aggregate_steps(V(sd), V(off), m, cd.data());
      pav::aggregate_steps_cuda(V(sd), V(off), m, gd.data());
      CHECK(same_bits(cd, gd));
      std::vector<float> cf(T), gf(T);
      pav::aggregate_steps(V(sf), V(off), m, cf.data());
      pav::aggregate_steps_cuda(V(sf), V(off), m, gf.data());
      CHECK(same_bits(cf, gf));
    }
  }
  // Validation on the CPU first, same error: an empty trajectory, a non-finite score.
  std::vector<double> s{0.5, 0.5, 0.5}, out(3);
  std::vector<uint32_t> empty_row{0, 2, 2, 3};
  CHECK_THROWS_CODE(pav::aggregate_steps_cuda(V(s), V(empty_row), pav::AggregateMethod::Mean, out.data()),
                    pav::code::kBadOffsets);
  s[2] = NAN;
  std::vector<uint32_t> ok{0, 2, 3};
  CHECK_THROWS_CODE(pav::aggregate_steps_cuda(V(s), V(ok), pav::AggregateMethod::Min, out.data()),
                    pav::code::kNonFinite);
}

TEST_CASE("cuda ops: expandToTokens equals CPU") {
  skip_without_device();
  std::mt19937_64 rng(22);
  std::uniform_real_distribution<double> u(-3, 3);
  for (int trial = 0; trial < 4; ++trial) {
    auto tok = offsets(rng, 1 + rng() % 50000, 0, trial % 2 ? 4 : 60);  // includes empty steps
    const size_t S = tok.size() - 1, n = tok.back();
    std::vector<double> wd(S);
    for (auto& x : wd) x = u(rng);
    std::vector<float> wf(wd.begin(), wd.end());
    std::vector<double> cd(n), gd(n);
    pav::expand_to_tokens(V(wd), V(tok), cd.data());
    pav::expand_to_tokens_cuda(V(wd), V(tok), gd.data());
    CHECK(same_bits(cd, gd));
    std::vector<float> cf(n), gf(n);
    pav::expand_to_tokens(V(wf), V(tok), cf.data());
    pav::expand_to_tokens_cuda(V(wf), V(tok), gf.data());
    CHECK(same_bits(cf, gf));
  }
  std::vector<double> none;
  std::vector<uint32_t> zero{0};
  pav::expand_to_tokens_cuda(V(none), V(zero), static_cast<double*>(nullptr));  // empty: no launch, no error
  std::vector<double> w{1.0, 2.0};
  std::vector<uint32_t> bad{0, 3, 1};
  std::vector<double> out(3);
  CHECK_THROWS_CODE(pav::expand_to_tokens_cuda(V(w), V(bad), out.data()), pav::code::kBadOffsets);
}

TEST_CASE("cuda ops: voteAnswers equals CPU (winners and bit-identical scores)") {
  skip_without_device();
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int trial = 0; trial < 8; ++trial) {
    // Mostly small problems, some empty; trial 0 adds problems above kVoteCudaMaxCandidates,
    // which run on the CPU inside the CUDA call.
    auto off = offsets(rng, 1 + rng() % 3000, 0, 40);
    if (trial == 0)
      for (uint32_t len : {pav::kVoteCudaMaxCandidates, pav::kVoteCudaMaxCandidates + 1, 9000u})
        off.push_back(off.back() + len);
    const size_t P = off.size() - 1, n = off.back();
    std::vector<uint64_t> keys(n);
    const uint64_t distinct = 1 + trial % 6;
    for (auto& k : keys) k = trial % 2 ? rng() % distinct : (rng() % distinct) * 0x9E3779B97F4A7C15ull;
    std::vector<double> wd(n);
    for (auto& x : wd) x = trial % 3 == 0 ? std::floor(u(rng) * 3) : u(rng);  // many weight ties
    std::vector<float> wf(wd.begin(), wd.end());
    for (auto m : {pav::VoteMethod::Majority, pav::VoteMethod::Weighted, pav::VoteMethod::Max}) {
      for (int hw = 0; hw < 2; ++hw) {
        if (!hw && m != pav::VoteMethod::Majority) continue;
        std::vector<uint32_t> cw(P), gw(P);
        std::vector<double> cs(P), gs(P);
        pav::VoteArgs<double> ad{V(keys), hw != 0, hw ? V(wd) : pav::View<double>{}, V(off), m};
        pav::vote_answers(ad, cw.data(), cs.data());
        pav::vote_answers_cuda(ad, gw.data(), gs.data());
        CHECK(cw == gw);
        CHECK(same_bits(cs, gs));
        pav::VoteArgs<float> af{V(keys), hw != 0, hw ? V(wf) : pav::View<float>{}, V(off), m};
        pav::vote_answers(af, cw.data(), cs.data());
        pav::vote_answers_cuda(af, gw.data(), gs.data());
        CHECK(cw == gw);
        CHECK(same_bits(cs, gs));
      }
    }
  }
  std::vector<uint64_t> keys{1, 2};
  std::vector<uint32_t> off{0, 2};
  std::vector<uint32_t> win(1);
  std::vector<double> score(1);
  CHECK_THROWS_CODE(
      pav::vote_answers_cuda(pav::VoteArgs<double>{V(keys), false, {}, V(off), pav::VoteMethod::Weighted}, win.data(),
                             score.data()),
      pav::code::kInvalidArg);
}

TEST_CASE("cuda ops: selectTopK with keys, groups and sample equals CPU, tie order included") {
  skip_without_device();
  const size_t cap = pav::select_cuda_segment_cap();
  CHECK(cap == 1024 || cap == 2048);
  std::mt19937_64 rng(24);
  for (int trial = 0; trial < 48; ++trial) {
    // Short segments, segments near the shared-memory cap, and longer ones (CPU inside the call).
    const uint32_t max_len = trial % 4 == 0 ? 12 : trial % 4 == 1 ? 300 : trial % 4 == 2 ? 2048 : 5000;
    auto off = offsets(rng, 1 + rng() % 40, 0, max_len);
    const size_t n = off.back();
    std::vector<float> sf(n);
    const int levels = trial % 3 == 0 ? 5 : 0;  // heavy ties
    for (auto& x : sf)
      x = levels ? static_cast<float>(static_cast<int>(rng() % levels) - 2) * 0.25f
                 : static_cast<float>(std::uniform_real_distribution<double>(-1, 1)(rng));
    if (n > 3) {
      sf[0] = -0.0f;
      sf[1] = 0.0f;
    }
    std::vector<double> sd(sf.begin(), sf.end());
    std::vector<uint64_t> keys(n);
    for (auto& k : keys) k = rng() % (1 + trial % 13);
    std::vector<uint32_t> groups(n);
    for (auto& g : groups) g = static_cast<uint32_t>(rng() % (1 + trial % 5)) * 0x10000001u;
    for (int dbl = 0; dbl < 2; ++dbl) {
      for (int mode = 1; mode < 8; ++mode) {  // bit 0 keys, bit 1 groups, bit 2 sample
        pav::SelectArgs a;
        a.scores64 = dbl != 0;
        a.scores = dbl ? static_cast<const void*>(sd.data()) : static_cast<const void*>(sf.data());
        a.n = n;
        a.offsets = V(off);
        a.k = 1 + rng() % (trial % 5 == 0 ? 700 : 8);
        if (mode & 1) {
          a.has_keys = true;
          a.keys = V(keys);
        }
        if (mode & 2) {
          a.has_groups = true;
          a.groups = V(groups);
        }
        if (mode & 4) {
          a.sample.enabled = true;
          a.sample.temperature = trial % 2 ? 0.5 : 3.0;
          a.sample.seed = rng() >> 11;
        }
        const size_t need = pav::select_capacity(a);
        std::vector<uint32_t> ci(need + 1), co(off.size()), gi(need + 1), go(off.size());
        const size_t cn = pav::select_topk_cpu(a, ci.data(), ci.size(), co.data());
        const size_t gn = pav::select_topk_cuda(a, gi.data(), gi.size(), go.data());
        ci.resize(cn);
        gi.resize(gn);
        CHECK(cn == gn);
        CHECK(co == go);
        CHECK(ci == gi);
      }
    }
  }
  // The first non-finite score is reported before the launch, with the CPU's message.
  std::vector<double> sc(3000, 0.5);
  sc[2100] = -INFINITY;
  sc[2500] = NAN;
  std::vector<uint32_t> off{0, 1000, 3000};
  std::vector<uint64_t> keys(3000, 1);
  pav::SelectArgs a;
  a.scores64 = true;
  a.scores = sc.data();
  a.n = sc.size();
  a.offsets = V(off);
  a.k = 4;
  a.has_keys = true;
  a.keys = V(keys);
  std::vector<uint32_t> out(16), oo(3);
  try {
    pav::select_topk_cuda(a, out.data(), out.size(), oo.data());
    CHECK(false);
  } catch (const pav::Error& e) {
    CHECK(std::string(e.what()) == "scores[2100] is -Infinity");
    CHECK(e.code() == pav::code::kNonFinite);
  }
}

#else

TEST_CASE("cuda ops: CUDA equals CPU") { SKIP("built without CUDA (PAVSEARCH_CUDA=OFF or no nvcc)"); }

#endif
