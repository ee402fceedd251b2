// Typed errors with stable codes; the native core throws the same codes (native/core/error.h).

export const ErrorCodes = {
  INVALID_ARG: 'ERR_PAV_INVALID_ARG',
  INVALID_TYPE: 'ERR_PAV_INVALID_TYPE',
  LENGTH_MISMATCH: 'ERR_PAV_LENGTH_MISMATCH',
  BAD_OFFSETS: 'ERR_PAV_BAD_OFFSETS',
  NON_FINITE: 'ERR_PAV_NON_FINITE',
  OUT_OF_RANGE: 'ERR_PAV_OUT_OF_RANGE',
  NO_GPU: 'ERR_PAV_NO_GPU',
  CUDA: 'ERR_PAV_CUDA',
  OUT_OF_MEMORY: 'ERR_PAV_OUT_OF_MEMORY',
  ADDON_LOAD: 'ERR_PAV_ADDON_LOAD',
  CONFIG: 'ERR_PAV_CONFIG',
  BACKEND: 'ERR_PAV_BACKEND',
  ABORTED: 'ERR_PAV_ABORTED',
  DEADLINE: 'ERR_PAV_DEADLINE',
  INTERNAL: 'ERR_PAV_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Error with a stable machine-readable code. */
export interface CodedError extends Error {
  code: ErrorCode;
}

/** A wrong kind of value (a number[] where a Float32Array is needed, a string for a number). */
export class PavTypeError extends TypeError implements CodedError {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = ErrorCodes.INVALID_TYPE) {
    super(message);
    this.name = 'PavTypeError';
    this.code = code;
  }
}

/** A bad size or value (mismatched lengths, k <= 0, NaN scores, broken offsets). */
export class PavRangeError extends RangeError implements CodedError {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode = ErrorCodes.INVALID_ARG) {
    super(message);
    this.name = 'PavRangeError';
    this.code = code;
  }
}

/** A runtime failure of the project's own machinery (addon load, GPU, backend, config). */
export class PavError extends Error implements CodedError {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PavError';
    this.code = code;
  }
}

export class AddonLoadError extends PavError {
  readonly tried: readonly string[];
  constructor(message: string, tried: readonly string[], options?: { cause?: unknown }) {
    super(message, ErrorCodes.ADDON_LOAD, options);
    this.name = 'AddonLoadError';
    this.tried = tried;
  }
}

export class ConfigError extends PavError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ErrorCodes.CONFIG, options);
    this.name = 'ConfigError';
  }
}

export class BackendError extends PavError {
  /** Whether retrying the same call could succeed (connection reset, 429, 5xx). */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, ErrorCodes.BACKEND, options);
    this.name = 'BackendError';
    this.retryable = retryable;
  }
}

export function isCodedError(e: unknown): e is CodedError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}
