// CUDA voteAnswers (see vote.h). Two simple kernels instead of a device hash table:
//   1. one thread per candidate i: is i the first candidate of its problem with its key? If so,
//      walk the rest of the problem in candidate order accumulating count, weight sum, max weight
//      and representative exactly as the CPU's table entry does (same double ops, same order);
//   2. one thread per problem: scan its candidates in order and pick the best first occurrence
//      with the CPU's comparisons (strictly better replaces, so ties go to the earliest answer).
// Quadratic in a problem's size, so problems above kVoteCudaMaxCandidates are skipped by the
// kernels and computed on the CPU afterwards (same function, same result).
#include <cuda_runtime.h>

#include <vector>

#include "core/cuda_util.cuh"
#include "core/vote.h"

namespace pav {

namespace {

// Problem of candidate i: the last p with offsets[p] <= i.
__device__ size_t problem_of(const uint32_t* offsets, size_t P, size_t i) {
  size_t lo = 0, hi = P;
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (offsets[mid] <= i) lo = mid; else hi = mid;
  }
  return lo;
}

template <class T>
__global__ void answers_kernel(const unsigned long long* __restrict__ keys, const T* __restrict__ weights,
                               const uint32_t* __restrict__ offsets, size_t P, size_t n, uint32_t maxLen,
                               unsigned char* __restrict__ first, double* __restrict__ count,
                               double* __restrict__ wsum, double* __restrict__ maxW, uint32_t* __restrict__ rep) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const size_t p = problem_of(offsets, P, i);
    const uint32_t b = offsets[p], e = offsets[p + 1];
    if (e - b > maxLen) continue;  // the host runs this problem on the CPU
    const unsigned long long key = keys[i];
    bool isFirst = true;
    for (uint32_t j = b; j < i; ++j)
      if (keys[j] == key) {
        isFirst = false;
        break;
      }
    first[i] = isFirst ? 1 : 0;
    if (!isFirst) continue;
    const double w0 = weights ? static_cast<double>(weights[i]) : 1.0;
    double c = 1.0, s = w0, mx = w0, repW = w0;
    uint32_t r = static_cast<uint32_t>(i);
    for (uint32_t j = static_cast<uint32_t>(i) + 1; j < e; ++j) {
      if (keys[j] != key) continue;
      const double w = weights ? static_cast<double>(weights[j]) : 1.0;
      c = __dadd_rn(c, 1.0);
      s = __dadd_rn(s, w);
      if (w > mx) mx = w;
      if (w > repW) {
        repW = w;
        r = j;
      }
    }
    count[i] = c;
    wsum[i] = s;
    maxW[i] = mx;
    rep[i] = r;
  }
}

// method: 0 majority, 1 weighted, 2 max (VoteMethod order).
__global__ void pick_kernel(const uint32_t* __restrict__ offsets, size_t P, uint32_t maxLen, int method,
                            bool hasWeights, const unsigned char* __restrict__ first, const double* __restrict__ count,
                            const double* __restrict__ wsum, const double* __restrict__ maxW,
                            const uint32_t* __restrict__ rep, uint32_t* __restrict__ winner,
                            double* __restrict__ score) {
  for (size_t p = blockIdx.x * size_t(blockDim.x) + threadIdx.x; p < P; p += size_t(gridDim.x) * blockDim.x) {
    const uint32_t b = offsets[p], e = offsets[p + 1];
    if (b == e) {
      winner[p] = kNoWinner;
      score[p] = 0.0;
      continue;
    }
    if (e - b > maxLen) continue;  // CPU
    uint32_t best = b;  // candidate b is always its answer's first occurrence
    for (uint32_t i = b + 1; i < e; ++i) {
      if (!first[i]) continue;
      bool better;
      switch (method) {
        case 0:
          better = count[i] > count[best] || (hasWeights && count[i] == count[best] && wsum[i] > wsum[best]);
          break;
        case 1: better = wsum[i] > wsum[best]; break;
        default: better = maxW[i] > maxW[best]; break;
      }
      if (better) best = i;
    }
    winner[p] = rep[best];
    score[p] = method == 0 ? count[best] : method == 1 ? wsum[best] : maxW[best];
  }
}

}  // namespace

template <class T>
void vote_answers_cuda(const VoteArgs<T>& a, uint32_t* winner, double* score) {
  validate_vote(a);  // on the CPU, before anything touches the device
  const size_t P = a.offsets.size - 1, n = a.keys.size;
  if (P == 0) return;
  const char* op = "voteAnswers";
  const int method = a.method == VoteMethod::Majority ? 0 : a.method == VoteMethod::Weighted ? 1 : 2;
  const uint32_t maxLen = kVoteCudaMaxCandidates;
  {
    static_assert(sizeof(unsigned long long) == sizeof(uint64_t), "64-bit keys");
    cudautil::Buffer<unsigned long long> dkeys(op, reinterpret_cast<const unsigned long long*>(a.keys.data), n);
    cudautil::Buffer<T> dw(op, a.hasWeights ? a.weights.data : nullptr, n);
    cudautil::Buffer<uint32_t> doff(op, a.offsets.data, a.offsets.size);
    cudautil::Buffer<unsigned char> dfirst(op, n);
    cudautil::Buffer<double> dcount(op, n), dwsum(op, n), dmax(op, n), dscore(op, P);
    cudautil::Buffer<uint32_t> drep(op, n), dwinner(op, P);
    if (n > 0) {
      answers_kernel<T><<<cudautil::grid_for(n), cudautil::kBlock>>>(dkeys.ptr, dw.ptr, doff.ptr, P, n, maxLen,
                                                                       dfirst.ptr, dcount.ptr, dwsum.ptr, dmax.ptr,
                                                                       drep.ptr);
      cudautil::launched(op);
    }
    pick_kernel<<<cudautil::grid_for(P), cudautil::kBlock>>>(doff.ptr, P, maxLen, method, a.hasWeights, dfirst.ptr,
                                                             dcount.ptr, dwsum.ptr, dmax.ptr, drep.ptr, dwinner.ptr,
                                                             dscore.ptr);
    cudautil::launched(op);
    dwinner.to_host(op, winner, P);
    dscore.to_host(op, score, P);
  }
  // Problems too large for the quadratic device pass: the CPU op on that problem alone (its
  // candidates as a one-problem view), shifted back to global indices.
  for (size_t p = 0; p < P; ++p) {
    const uint32_t b = a.offsets[p], e = a.offsets[p + 1];
    if (e - b <= maxLen) continue;
    const uint32_t local_off[2] = {0, e - b};
    VoteArgs<T> one{View<uint64_t>{a.keys.data + b, e - b}, a.hasWeights,
                    View<T>{a.hasWeights ? a.weights.data + b : nullptr, a.hasWeights ? size_t{e - b} : 0},
                    View<uint32_t>{local_off, 2}, a.method};
    uint32_t w;
    double s;
    vote_answers(one, &w, &s);
    winner[p] = w + b;  // e > b, so w is a real candidate
    score[p] = s;
  }
}

template void vote_answers_cuda<float>(const VoteArgs<float>&, uint32_t*, double*);
template void vote_answers_cuda<double>(const VoteArgs<double>&, uint32_t*, double*);

}  // namespace pav
