// Writing token ids into the int64 tensors onnxruntime takes without a BigInt per element: a
// BigInt64Array seen through an Int32Array view, low words only (ids and masks are small
// non-negative ints, so the high word of a zeroed element stays 0).
import { endianness } from 'node:os';

/** Where element k's low 32-bit word sits in the view: 2k + LOW_WORD. */
export const LOW_WORD = endianness() === 'LE' ? 0 : 1;

/** The 32-bit view of an int64 array (same memory). */
export function int64Words(a: BigInt64Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length * 2);
}
