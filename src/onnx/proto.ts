// The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) needed to write
// and read back inference graphs, parsed at load time by protobufjs. Field numbers are the official ones;
// proto2 syntax so that explicitly set zero values (an int attribute 0, dim 0) are still written.
import protobuf from 'protobufjs';
import { ConfigError, PavTypeError } from '../errors.ts';

const ONNX_SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7;
    STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

/** ONNX TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
export const AttributeType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
} as const;

// Plain-object shapes of the messages (what encode() takes and decode() + toObject() give back).
export interface TensorProtoObject {
  name?: string;
  dims?: (number | bigint)[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int64Data?: (number | bigint)[];
}
export interface AttributeProtoObject {
  name: string;
  type: number;
  f?: number;
  i?: number | bigint;
  s?: Uint8Array;
  t?: TensorProtoObject;
  floats?: number[];
  ints?: (number | bigint)[];
}
export interface NodeProtoObject {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProtoObject[];
}
export interface DimensionObject {
  dimValue?: number | bigint;
  dimParam?: string;
}
export interface ValueInfoProtoObject {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: DimensionObject[] } } };
}
export interface GraphProtoObject {
  name: string;
  node: NodeProtoObject[];
  initializer: TensorProtoObject[];
  input: ValueInfoProtoObject[];
  output: ValueInfoProtoObject[];
  docString?: string;
}
export interface ModelProtoObject {
  irVersion: number;
  opsetImport: { domain?: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  graph: GraphProtoObject;
  metadataProps?: { key: string; value: string }[];
}

let modelType: protobuf.Type | undefined;

/** The protobufjs type of onnx.ModelProto (parsed once). */
export function modelProtoType(): protobuf.Type {
  if (!modelType) modelType = protobuf.parse(ONNX_SCHEMA, { keepCase: false }).root.lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialize a model to the bytes of an .onnx file. */
export function encodeModel(model: ModelProtoObject): Uint8Array {
  const T = modelProtoType();
  const err = T.verify(model);
  if (err) throw new Error(`invalid ModelProto: ${err}`);
  return T.encode(T.fromObject(model)).finish();
}

/**
 * Parse the bytes of an .onnx file (int64 fields come back as numbers; bytes as Uint8Array); `what`
 * names them in errors (a file path). Bytes that are not a model are a ConfigError.
 */
export function decodeModel(bytes: Uint8Array, what = 'the model bytes'): ModelProtoObject {
  if (!(bytes instanceof Uint8Array)) throw new PavTypeError(`${what} must be a Uint8Array`);
  const T = modelProtoType();
  let m: ModelProtoObject;
  try {
    m = T.toObject(T.decode(bytes), { longs: Number, defaults: false, arrays: true }) as ModelProtoObject;
  } catch (e) {
    throw new ConfigError(`${what} is not an ONNX model (${(e as Error).message})`, { cause: e });
  }
  // Empty or unrelated bytes can decode to a message with no graph at all.
  if (!m.graph) throw new ConfigError(`${what} is not an ONNX model (no graph)`);
  return m;
}
