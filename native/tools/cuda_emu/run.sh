#!/usr/bin/env bash
# Host emulation of the device code of aggregate_cuda.cu, vote_cuda.cu and the keys/groups/sample
# part of prune_cuda.cu: the kernel bodies are cut out of the .cu files, compiled as plain C++
# with one thread per block (blockDim = gridDim = 1, __syncthreads a no-op, _rn intrinsics as
# volatile IEEE operations) and compared with the CPU ops on random inputs. It checks the kernels'
# logic and the Gumbel-key bits on a machine without a GPU; it cannot find races, shared-memory
# sizing or launch problems (only a GPU run can: native/tests/cuda_ops_test.cpp, test/gpu/).
# Usage: native/tools/cuda_emu/run.sh   (from anywhere; needs g++ and python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$root" "$work" <<'PY'
import sys
root, work = sys.argv[1], sys.argv[2]
src = open(f'{root}/native/core/prune_cuda.cu').read()
a = src.index('// Items: ascending order = output order')
b = src.index('template <class S, class Tr>\n__global__ void topk_kernel')
c = src.index('// ---------------------------------------------------------------- keys / groups / sample')
d = src.index('size_t ext_cap_for_device()')
body = src[a:b] + src[c:d]
body = body.replace('extern __shared__ __align__(16) unsigned char ext_smem[];', 'unsigned char* ext_smem = g_smem;')
open(f'{work}/prune_dev.inc', 'w').write(body)
for name, stop in [('vote', 'void vote_answers_cuda'), ('aggregate', 'void aggregate_steps_cuda')]:
    s = open(f'{root}/native/core/{name}_cuda.cu').read()
    s = s[s.index('namespace {') + len('namespace {'):s.index('}  // namespace\n\ntemplate <class T>\n' + stop)]
    open(f'{work}/{name[:4] if name == "vote" else "agg"}_dev.inc', 'w').write(s)
PY
g++ -std=c++17 -O3 -DPAVSEARCH_WITH_CUDA=1 -I"$root/native" -I"$work" -include "$here/emu.h" "$here/emu.cpp" \
  -x c++ "$root/native/core/prune.cpp" "$root/native/core/vote.cpp" "$root/native/core/aggregate.cpp" \
  -o "$work/emu" -lpthread
"$work/emu"
