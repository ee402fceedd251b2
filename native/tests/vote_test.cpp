// Core tests of vote_answers: methods, tie-breaking, empty problems, validation.
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/vote.h"
#include "tests/check.h"

namespace {
template <class T>
pav::View<T> V(const std::vector<T>& v) {
  return pav::View<T>{v.data(), v.size()};
}
}  // namespace

TEST_CASE("vote: majority, weighted, max") {
  //                      problem 0: answers 7,9,7,9,5     problem 1: empty   problem 2: 3
  std::vector<uint64_t> keys{7, 9, 7, 9, 5, 3};
  std::vector<double> w{0.1, 0.9, 0.3, 0.2, 1.5, 0.4};
  std::vector<uint32_t> off{0, 5, 5, 6};
  std::vector<uint32_t> win(3);
  std::vector<double> score(3);
  // 7 and 9 tie on count 2; weight sum 9 (1.1) > 7 (0.4) -> 9, representative index 1 (weight 0.9)
  pav::vote_answers(pav::VoteArgs<double>{V(keys), true, V(w), V(off), pav::VoteMethod::Majority}, win.data(),
                    score.data());
  CHECK(win[0] == 1 && score[0] == 2.0);
  CHECK(win[1] == pav::kNoWinner && score[1] == 0.0);
  CHECK(win[2] == 5 && score[2] == 1.0);
  // without weights the tie goes to the answer seen first (7), represented by its first candidate
  pav::vote_answers(pav::VoteArgs<double>{V(keys), false, {}, V(off), pav::VoteMethod::Majority}, win.data(),
                    score.data());
  CHECK(win[0] == 0 && score[0] == 2.0);
  pav::vote_answers(pav::VoteArgs<double>{V(keys), true, V(w), V(off), pav::VoteMethod::Weighted}, win.data(),
                    score.data());
  CHECK(win[0] == 4 && score[0] == 1.5);
  pav::vote_answers(pav::VoteArgs<double>{V(keys), true, V(w), V(off), pav::VoteMethod::Max}, win.data(),
                    score.data());
  CHECK(win[0] == 4 && score[0] == 1.5);
}

TEST_CASE("vote: representative ties go to the lowest index") {
  std::vector<uint64_t> keys{1, 2, 2, 2};
  std::vector<float> w{5.0f, 1.0f, 3.0f, 3.0f};
  std::vector<uint32_t> off{0, 4};
  uint32_t win;
  double score;
  pav::vote_answers(pav::VoteArgs<float>{V(keys), true, V(w), V(off), pav::VoteMethod::Majority}, &win, &score);
  CHECK(win == 2 && score == 3.0);
  pav::vote_answers(pav::VoteArgs<float>{V(keys), true, V(w), V(off), pav::VoteMethod::Max}, &win, &score);
  CHECK(win == 0 && score == 5.0);
  // equal weighted sums: the answer seen first wins
  std::vector<float> w2{7.0f, 1.0f, 3.0f, 3.0f};
  pav::vote_answers(pav::VoteArgs<float>{V(keys), true, V(w2), V(off), pav::VoteMethod::Weighted}, &win, &score);
  CHECK(win == 0 && score == 7.0);
}

TEST_CASE("vote: many colliding keys in one problem") {
  std::vector<uint64_t> keys;
  for (uint64_t i = 0; i < 5000; ++i) keys.push_back((i % 37) << 40);  // same low bits: stress probing
  std::vector<uint32_t> off{0, 5000};
  uint32_t win;
  double score;
  pav::vote_answers(pav::VoteArgs<double>{V(keys), false, {}, V(off), pav::VoteMethod::Majority}, &win, &score);
  CHECK(win == 0 && score == 136.0);  // 5000 = 37 * 135 + 5: answers 0..4 have 136 votes
}

TEST_CASE("vote: validation") {
  std::vector<uint64_t> keys{1, 2};
  std::vector<double> w{0.5, NAN}, w1{0.5};
  std::vector<uint32_t> off{0, 2};
  uint32_t win[1];
  double score[1];
  CHECK_THROWS_CODE(
      pav::vote_answers(pav::VoteArgs<double>{V(keys), true, V(w), V(off), pav::VoteMethod::Majority}, win, score),
      pav::code::kNonFinite);
  CHECK_THROWS_CODE(
      pav::vote_answers(pav::VoteArgs<double>{V(keys), true, V(w1), V(off), pav::VoteMethod::Majority}, win, score),
      pav::code::kLengthMismatch);
  CHECK_THROWS_CODE(
      pav::vote_answers(pav::VoteArgs<double>{V(keys), false, {}, V(off), pav::VoteMethod::Weighted}, win, score),
      pav::code::kInvalidArg);
  std::vector<uint32_t> bad{0, 3};
  CHECK_THROWS_CODE(
      pav::vote_answers(pav::VoteArgs<double>{V(keys), false, {}, V(bad), pav::VoteMethod::Majority}, win, score),
      pav::code::kBadOffsets);
  CHECK_THROWS_CODE(pav::parse_vote_method("plurality"), pav::code::kInvalidArg);
}
