// Core tests of the advantage ops: small exact cases, validation errors, CUDA against CPU.
#include <cstdint>
#include <random>
#include <vector>

#include "core/advantages.h"
#include "core/aggregate.h"
#include "core/device.h"
#include "core/error.h"
#include "tests/check.h"

namespace {
template <class T>
pav::View<T> V(const std::vector<T>& v) {
  return pav::View<T>{v.data(), v.size()};
}
}  // namespace

TEST_CASE("adv: bok transform closed form") {
  std::vector<double> q{0.0, 0.25, 0.5, 1.0};
  std::vector<double> out(4);
  pav::bok_transform(V(q), 1, out.data());
  for (int i = 0; i < 4; ++i) CHECK(out[i] == q[i]);  // K = 1 is the identity, bit for bit
  pav::bok_transform(V(q), 4, out.data());
  CHECK(out[0] == 0.0);
  CHECK_NEAR(out[1], 1 - 0.75 * 0.75 * 0.75 * 0.75, 1e-15);
  CHECK_NEAR(out[2], 0.9375, 1e-15);
  CHECK(out[3] == 1.0);
  for (uint64_t K : {3ull, 5ull, 7ull, 13ull, 64ull}) {
    pav::bok_transform(V(q), K, out.data());
    CHECK_NEAR(out[1], 1 - std::pow(0.75, double(K)), 1e-14);
  }
  std::vector<float> qf{0.25f};
  std::vector<float> of(1);
  pav::bok_transform(V(qf), 2, of.data());
  CHECK(of[0] == 0.4375f);
}

TEST_CASE("adv: bok transform validation") {
  std::vector<double> q{0.5, NAN}, out(2);
  CHECK_THROWS_CODE(pav::bok_transform(V(q), 4, out.data()), pav::code::kNonFinite);
  q[1] = 1.5;
  CHECK_THROWS_CODE(pav::bok_transform(V(q), 4, out.data()), pav::code::kOutOfRange);
  q[1] = 0.5;
  CHECK_THROWS_CODE(pav::bok_transform(V(q), 0, out.data()), pav::code::kInvalidArg);
  try {
    q[1] = -0.1;
    pav::bok_transform(V(q), 3, out.data());
  } catch (const pav::Error& e) {
    CHECK(std::string(e.what()).find("q[1]") != std::string::npos);
  }
}

TEST_CASE("adv: step advantages telescope to final minus root") {
  // two trajectories (3 steps, 0 steps, 2 steps)
  std::vector<double> v{0.2, 0.5, 0.4, 0.9, 1.0};
  std::vector<uint32_t> off{0, 3, 3, 5};
  std::vector<double> root{0.1, 0.3, 0.6};
  std::vector<double> out(5);
  pav::step_advantages(pav::StepAdvantagesArgs<double>{V(v), V(off), V(root), 1}, out.data());
  CHECK_NEAR(out[0], 0.1, 1e-15);
  CHECK_NEAR(out[1], 0.3, 1e-15);
  CHECK_NEAR(out[2], -0.1, 1e-15);
  CHECK_NEAR(out[3], 0.3, 1e-15);
  CHECK_NEAR(out[4], 0.1, 1e-15);
  pav::step_advantages(pav::StepAdvantagesArgs<double>{V(v), V(off), V(root), 4}, out.data());
  CHECK_NEAR(out[0] + out[1] + out[2], pav::bok(0.4, 4) - pav::bok(0.1, 4), 1e-15);
}

TEST_CASE("adv: step advantages validation") {
  std::vector<double> v{0.2, 0.5}, root{0.1}, out(2);
  std::vector<uint32_t> off{0, 3};
  CHECK_THROWS_CODE(pav::step_advantages(pav::StepAdvantagesArgs<double>{V(v), V(off), V(root), 1}, out.data()),
                    pav::code::kBadOffsets);
  off = {0, 2};
  std::vector<double> root2{0.1, 0.2};
  CHECK_THROWS_CODE(pav::step_advantages(pav::StepAdvantagesArgs<double>{V(v), V(off), V(root2), 1}, out.data()),
                    pav::code::kLengthMismatch);
  std::vector<uint32_t> empty;
  CHECK_THROWS_CODE(pav::step_advantages(pav::StepAdvantagesArgs<double>{V(v), V(empty), V(root), 1}, out.data()),
                    pav::code::kBadOffsets);
}

TEST_CASE("adv: effective rewards exact small case") {
  std::vector<double> q{0.5, 0.25, 1.0}, pq{0.5, 0.0}, out(3);
  std::vector<uint32_t> pi{1, 0, 0};
  pav::EffectiveRewardsArgs<double> a{V(q), V(pi), V(pq), 0.5, 2};
  pav::effective_rewards(a, out.data());
  CHECK(out[0] == 0.5 + 0.5 * (0.75 - 0.0));
  CHECK(out[1] == 0.25 + 0.5 * (0.4375 - 0.75));
  CHECK(out[2] == 1.0 + 0.5 * (1.0 - 0.75));
  std::vector<double> pc{0.1, 0.2, 0.3}, pp{0.4, 0.5};
  a.hasProver = true;
  a.proverChild = V(pc);
  a.proverParent = V(pp);
  pav::effective_rewards(a, out.data());
  CHECK(out[0] == 0.5 + 0.5 * (0.1 - 0.5));
  CHECK(out[2] == 1.0 + 0.5 * (0.3 - 0.4));
}

TEST_CASE("adv: effective rewards validation names the index") {
  std::vector<double> q{0.5, 0.25, 0.1, 0.2}, pq{0.5, 0.0, 0.3, 0.3}, out(4);
  std::vector<uint32_t> pi{1, 0, 0, 9};
  pav::EffectiveRewardsArgs<double> a{V(q), V(pi), V(pq), 0.5, 4};
  bool thrown = false;
  try {
    pav::effective_rewards(a, out.data());
  } catch (const pav::Error& e) {
    thrown = true;
    CHECK(e.code() == pav::code::kOutOfRange);
    CHECK(std::string(e.what()) == "parentIndex[3] = 9 is out of range for parentQ (length 4)");
  }
  CHECK(thrown);
  pi[3] = 0;
  q[2] = NAN;
  CHECK_THROWS_CODE(pav::effective_rewards(a, out.data()), pav::code::kNonFinite);
  q[2] = 0.1;
  a.alpha = INFINITY;
  CHECK_THROWS_CODE(pav::effective_rewards(a, out.data()), pav::code::kNonFinite);
  a.alpha = -1.0;  // negative alpha is allowed
  pav::effective_rewards(a, out.data());
  a.K = 0;
  CHECK_THROWS_CODE(pav::effective_rewards(a, out.data()), pav::code::kInvalidArg);
  a.K = 4;
  std::vector<uint32_t> shortIdx{0};
  a.parentIndex = V(shortIdx);
  CHECK_THROWS_CODE(pav::effective_rewards(a, out.data()), pav::code::kLengthMismatch);
  // no parents but children: every index is out of range
  std::vector<double> none;
  std::vector<uint32_t> pi1{0};
  std::vector<double> q1{0.5};
  pav::EffectiveRewardsArgs<double> b{V(q1), V(pi1), V(none), 0.5, 4};
  CHECK_THROWS_CODE(pav::effective_rewards(b, out.data()), pav::code::kOutOfRange);
}

TEST_CASE("adv: children of one parent keep their q order (alpha >= 0, BoK prover)") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const size_t n = 4000, m = 50;
  std::vector<double> q(n), pq(m), out(n);
  std::vector<uint32_t> pi(n);
  for (auto& x : pq) x = u(rng);
  for (size_t i = 0; i < n; ++i) {
    q[i] = u(rng);
    pi[i] = static_cast<uint32_t>(rng() % m);
  }
  for (uint64_t K : {1ull, 2ull, 4ull, 16ull}) {
    for (double alpha : {0.0, 0.5, 3.0}) {
      pav::effective_rewards(pav::EffectiveRewardsArgs<double>{V(q), V(pi), V(pq), alpha, K}, out.data());
      for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < std::min(n, i + 200); ++j)
          if (pi[i] == pi[j] && q[i] < q[j]) CHECK(out[i] <= out[j]);
    }
  }
}

TEST_CASE("adv: dense rewards and token expansion") {
  std::vector<double> v{0.2, 0.5, 0.9}, root{0.1, 0.3}, outc{1.0, 0.0}, base{0.1, 0.2, 0.3}, out(3);
  std::vector<uint32_t> off{0, 2, 3};
  pav::DenseRewardsArgs<double> a{V(off), V(outc), V(v), V(root), 2.0, true, V(base), 1};
  pav::dense_rewards(a, out.data());
  CHECK_NEAR(out[0], 1.0 + 2.0 * 0.1 - 0.1, 1e-15);
  CHECK_NEAR(out[1], 1.0 + 2.0 * 0.3 - 0.2, 1e-15);
  CHECK_NEAR(out[2], 0.0 + 2.0 * 0.6 - 0.3, 1e-15);
  a.hasBaselines = false;
  pav::dense_rewards(a, out.data());
  CHECK_NEAR(out[2], 1.2, 1e-15);
  std::vector<double> w{1.5, -2.0, 3.0}, tok(6);
  std::vector<uint32_t> toff{0, 2, 2, 6};
  CHECK(pav::validate_expand_to_tokens(V(w), V(toff)) == 6);
  pav::expand_to_tokens(V(w), V(toff), tok.data());
  CHECK(tok[0] == 1.5 && tok[1] == 1.5 && tok[2] == 3.0 && tok[5] == 3.0);
  toff = {0, 2, 1, 6};
  CHECK_THROWS_CODE(pav::validate_expand_to_tokens(V(w), V(toff)), pav::code::kBadOffsets);
  toff = {0, 2, 6};
  CHECK_THROWS_CODE(pav::validate_expand_to_tokens(V(w), V(toff)), pav::code::kLengthMismatch);
  outc[1] = NAN;
  a.hasBaselines = true;
  CHECK_THROWS_CODE(pav::dense_rewards(a, out.data()), pav::code::kNonFinite);
}

TEST_CASE("adv: aggregate steps") {
  std::vector<double> s{0.5, 0.2, 0.8, 0.4, 0.9}, out(2);
  std::vector<uint32_t> off{0, 3, 5};
  pav::aggregate_steps(V(s), V(off), pav::AggregateMethod::Last, out.data());
  CHECK(out[0] == 0.8 && out[1] == 0.9);
  pav::aggregate_steps(V(s), V(off), pav::AggregateMethod::Min, out.data());
  CHECK(out[0] == 0.2 && out[1] == 0.4);
  pav::aggregate_steps(V(s), V(off), pav::AggregateMethod::Prod, out.data());
  CHECK(out[0] == 0.5 * 0.2 * 0.8 && out[1] == 0.4 * 0.9);
  pav::aggregate_steps(V(s), V(off), pav::AggregateMethod::Mean, out.data());
  CHECK(out[0] == (0.5 + 0.2 + 0.8) / 3 && out[1] == (0.4 + 0.9) / 2);
  std::vector<uint32_t> withEmpty{0, 3, 3, 5};
  std::vector<double> out3(3);
  CHECK_THROWS_CODE(pav::aggregate_steps(V(s), V(withEmpty), pav::AggregateMethod::Mean, out3.data()),
                    pav::code::kBadOffsets);
  CHECK_THROWS_CODE(pav::parse_aggregate_method("median"), pav::code::kInvalidArg);
}

#ifdef PAVSEARCH_WITH_CUDA
TEST_CASE("adv: CUDA equals CPU bit for bit") {
  if (pav::cuda_info().devices == 0) SKIP("no CUDA device: " + pav::cuda_info().error);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  const size_t T = 3000;
  std::vector<uint32_t> off{0};
  for (size_t t = 0; t < T; ++t) off.push_back(off.back() + static_cast<uint32_t>(rng() % 7));  // includes empty
  const size_t n = off.back(), m = 997;
  std::vector<float> vf(n), rootf(T), outcf(T), basef(n), pqf(m), pcf(n), ppf(m);
  std::vector<uint32_t> pi(n);
  for (auto* vec : {&vf, &basef, &pcf}) for (auto& x : *vec) x = static_cast<float>(u(rng));
  for (auto* vec : {&rootf, &outcf}) for (auto& x : *vec) x = static_cast<float>(u(rng));
  for (auto* vec : {&pqf, &ppf}) for (auto& x : *vec) x = static_cast<float>(u(rng));
  for (auto& p : pi) p = static_cast<uint32_t>(rng() % m);
  std::vector<double> vd(vf.begin(), vf.end()), rootd(rootf.begin(), rootf.end()), outcd(outcf.begin(), outcf.end()),
      based(basef.begin(), basef.end()), pqd(pqf.begin(), pqf.end()), pcd(pcf.begin(), pcf.end()),
      ppd(ppf.begin(), ppf.end());
  auto same = [](const auto& x, const auto& y) {
    for (size_t i = 0; i < x.size(); ++i)
      if (!(x[i] == y[i])) return false;
    return true;
  };
  auto run = [&](auto tag, const auto& v, const auto& root, const auto& outc, const auto& base, const auto& pq,
                 const auto& pc, const auto& pp) {
    using T_ = decltype(tag);
    std::vector<T_> a(n), b(n);
    for (uint64_t K : {1ull, 4ull, 7ull}) {
      pav::bok_transform(V(v), K, a.data());
      pav::bok_transform_cuda(V(v), K, b.data());
      CHECK(same(a, b));
      pav::StepAdvantagesArgs<T_> s{V(v), V(off), V(root), K};
      pav::step_advantages(s, a.data());
      pav::step_advantages_cuda(s, b.data());
      CHECK(same(a, b));
      pav::DenseRewardsArgs<T_> d{V(off), V(outc), V(v), V(root), 0.7, true, V(base), K};
      pav::dense_rewards(d, a.data());
      pav::dense_rewards_cuda(d, b.data());
      CHECK(same(a, b));
      pav::EffectiveRewardsArgs<T_> e{V(v), V(pi), V(pq), 0.5, K};
      pav::effective_rewards(e, a.data());
      pav::effective_rewards_cuda(e, b.data());
      CHECK(same(a, b));
      e.hasProver = true;
      e.proverChild = V(pc);
      e.proverParent = V(pp);
      pav::effective_rewards(e, a.data());
      pav::effective_rewards_cuda(e, b.data());
      CHECK(same(a, b));
    }
    // validation runs before launch, with the CPU's error
    std::vector<uint32_t> bad = pi;
    bad[5] = static_cast<uint32_t>(m);
    CHECK_THROWS_CODE(pav::effective_rewards_cuda(pav::EffectiveRewardsArgs<T_>{V(v), V(bad), V(pq), 0.5, 4}, b.data()),
                      pav::code::kOutOfRange);
  };
  run(float{}, vf, rootf, outcf, basef, pqf, pcf, ppf);
  run(double{}, vd, rootd, outcd, based, pqd, pcd, ppd);
}
#else
TEST_CASE("adv: CUDA equals CPU bit for bit") { SKIP("built without CUDA"); }
#endif
