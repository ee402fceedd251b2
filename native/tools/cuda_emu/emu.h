// Stand-ins for CUDA keywords and intrinsics so kernel bodies compile as host C++ (run.sh).
#pragma once
#include <cstdint>
#include <cstring>
#include <algorithm>
struct Dim { unsigned x; };
static Dim threadIdx{0}, blockIdx{0}, blockDim{1}, gridDim{1};
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
#define __syncthreads()
inline double __dmul_rn(double a, double b) { volatile double r = a * b; return r; }
inline double __dadd_rn(double a, double b) { volatile double r = a + b; return r; }
inline double __dsub_rn(double a, double b) { volatile double r = a - b; return r; }
inline double __ddiv_rn(double a, double b) { volatile double r = a / b; return r; }
inline long long __double_as_longlong(double x) { long long r; std::memcpy(&r, &x, 8); return r; }
inline double __longlong_as_double(long long x) { double r; std::memcpy(&r, &x, 8); return r; }
inline uint32_t __float_as_uint(float x) { uint32_t r; std::memcpy(&r, &x, 4); return r; }
template <class T> inline T atomicAdd(T* p, T v) { T o = *p; *p += v; return o; }
template <class T> inline T atomicMin(T* p, T v) { T o = *p; *p = std::min(o, v); return o; }
using std::min;
static unsigned char g_smem[1 << 20];
