// Small typed helpers to assemble ONNX inference graphs in TypeScript (initializers from typed arrays,
// nodes with typed attributes, dynamic batch/sequence dims) and write them as .onnx files.
import { writeFile } from 'node:fs/promises';
import { PavRangeError, PavTypeError } from '../errors.ts';
import {
  AttributeType,
  DataType,
  encodeModel,
  type AttributeProtoObject,
  type DataTypeCode,
  type ModelProtoObject,
  type NodeProtoObject,
  type TensorProtoObject,
  type ValueInfoProtoObject,
} from './proto.ts';

/** A dimension: a fixed size, or a symbolic name ('batch', 'seq') for a dynamic one. */
export type Dim = number | string;

export type TensorData = Float32Array | BigInt64Array | Int32Array | Float64Array | Uint8Array;

/** Explicit attribute values, for where a plain number would be ambiguous (1 as int or float). */
export type AttrValue =
  | number
  | string
  | number[]
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'tensor'; data: TensorData; dims: readonly number[] };

/** Tag a float attribute (epsilon = 1e-5, alpha = 1.0). Plain integers are written as INT. */
export const floatAttr = (value: number): AttrValue => ({ kind: 'float', value });
export const floatsAttr = (value: number[]): AttrValue => ({ kind: 'floats', value });
export const tensorAttr = (data: TensorData, dims: readonly number[]): AttrValue => ({ kind: 'tensor', data, dims });

/** ONNX opset used by the builders (LayerNormalization needs 17). IR version 8 goes with opset 17. */
export const DEFAULT_OPSET = 17;
export const DEFAULT_IR_VERSION = 8;

function dataTypeOf(data: TensorData): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof BigInt64Array) return DataType.INT64;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof Float64Array) return DataType.DOUBLE;
  if (data instanceof Uint8Array) return DataType.BOOL;
  throw new PavTypeError('tensor data must be a Float32Array, BigInt64Array, Int32Array, Float64Array or Uint8Array');
}

/** TensorProto with little-endian raw_data (the layout onnxruntime reads fastest). */
export function tensorProto(name: string, data: TensorData, dims: readonly number[]): TensorProtoObject {
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new PavRangeError(`tensor ${name}: dims [${dims.join(',')}] hold ${n} elements, data has ${data.length}`);
  // Typed arrays are host-endian; every platform onnxruntime-node ships for is little-endian.
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  return { name, dims: [...dims], dataType: dataTypeOf(data), rawData: raw };
}

function attribute(name: string, v: AttrValue): AttributeProtoObject {
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    return v.every(Number.isInteger)
      ? { name, type: AttributeType.INTS, ints: v }
      : { name, type: AttributeType.FLOATS, floats: v };
  }
  switch (v.kind) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: v.value };
    case 'int':
      return { name, type: AttributeType.INT, i: v.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: v.value };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: v.value };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: tensorProto('', v.data, v.dims) };
  }
}

function valueInfo(name: string, elemType: DataTypeCode, dims: readonly Dim[]): ValueInfoProtoObject {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Accumulates one graph. Node outputs get unique names from `fresh()` unless given; every method
 * returns the names it made so graphs read as dataflow:
 *   const h = g.node('Relu', [g.node('Gemm', [x, w, b])[0]])[0];
 */
export class GraphBuilder {
  private readonly nodes: NodeProtoObject[] = [];
  private readonly inits: TensorProtoObject[] = [];
  private readonly inputs: ValueInfoProtoObject[] = [];
  private readonly outputs: ValueInfoProtoObject[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** A name not used yet in this graph. */
  fresh(hint = 't'): string {
    let n: string;
    do n = `${hint}_${this.counter++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new PavRangeError(`graph ${this.name}: name ${name} is already used`);
    this.names.add(name);
    return name;
  }

  input(name: string, elemType: DataTypeCode, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, dims));
    return name;
  }

  /** Declare a graph output; `from` is the value to expose (an Identity node renames it when names differ). */
  output(name: string, elemType: DataTypeCode, dims: readonly Dim[], from?: string): string {
    if (from !== undefined && from !== name) this.node('Identity', [from], {}, [name]);
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** A constant weight tensor stored in the file. */
  initializer(name: string, data: TensorData, dims: readonly number[]): string {
    this.inits.push(tensorProto(this.claim(name), data, dims));
    return name;
  }

  /** Shorthand for a fresh-named initializer: `g.const(new BigInt64Array([0n]), [1])`. */
  const(data: TensorData, dims: readonly number[], hint = 'c'): string {
    const name = this.fresh(hint);
    this.inits.push(tensorProto(name, data, dims));
    return name;
  }

  /** Append a node; returns its output names (fresh ones unless `outputs` is a list of names). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outputs: number | readonly string[] = 1): string[] {
    const outs = typeof outputs === 'number'
      ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
      : outputs.map((o) => (this.names.has(o) ? o : this.claim(o)));
    this.nodes.push({
      input: [...inputs],
      output: outs,
      name: this.fresh(`n_${opType}`),
      opType,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Single-output node. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0];
  }

  toModel(opts: { opset?: number; irVersion?: number; producer?: string; docString?: string; metadata?: Record<string, string> } = {}): ModelProtoObject {
    return {
      irVersion: opts.irVersion ?? DEFAULT_IR_VERSION,
      opsetImport: [{ domain: '', version: opts.opset ?? DEFAULT_OPSET }],
      producerName: opts.producer ?? 'pavsearch',
      producerVersion: '0.1.0',
      docString: opts.docString,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.inits,
        input: this.inputs,
        output: this.outputs,
      },
      metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
  }

  /** Bytes of the .onnx file. */
  toBytes(opts?: Parameters<GraphBuilder['toModel']>[0]): Uint8Array {
    return encodeModel(this.toModel(opts));
  }

  async save(path: string, opts?: Parameters<GraphBuilder['toModel']>[0]): Promise<string> {
    await writeFile(path, this.toBytes(opts));
    return path;
  }
}

export { DataType };
