/**
 * The one error type of the platform. Every failure that a user can cause carries a YANG/NETCONF
 * error-tag (RFC 6241 appendix A) and, where it concerns data, the instance path. Protocol edges
 * (RESTCONF, NETCONF) map it to their own wire form in one place each.
 */

export type ErrorType = 'transport' | 'rpc' | 'protocol' | 'application';

export type ErrorTag =
  | 'in-use'
  | 'invalid-value'
  | 'too-big'
  | 'missing-attribute'
  | 'bad-attribute'
  | 'unknown-attribute'
  | 'missing-element'
  | 'bad-element'
  | 'unknown-element'
  | 'unknown-namespace'
  | 'access-denied'
  | 'lock-denied'
  | 'resource-denied'
  | 'rollback-failed'
  | 'data-exists'
  | 'data-missing'
  | 'operation-not-supported'
  | 'operation-failed'
  | 'partial-operation'
  | 'malformed-message';

export interface YangErrorInit {
  tag: ErrorTag;
  message: string;
  type?: ErrorType;
  /** Instance path in RFC 8040 api-path form, e.g. `/mod:top/item=a/name`. */
  path?: string;
  appTag?: string;
  info?: Record<string, string>;
  /** True when retrying the same work may succeed (optimistic-concurrency conflicts). */
  retryable?: boolean;
}

export class YangError extends Error {
  readonly tag: ErrorTag;
  readonly type: ErrorType;
  readonly path?: string;
  readonly appTag?: string;
  readonly info?: Record<string, string>;
  readonly retryable: boolean;

  constructor(init: YangErrorInit) {
    super(init.message);
    this.name = 'YangError';
    this.tag = init.tag;
    this.type = init.type ?? 'application';
    this.path = init.path;
    this.appTag = init.appTag;
    this.info = init.info;
    this.retryable = init.retryable ?? false;
  }

  /** A copy of this error with a path, used when a lower layer did not know where it stood. */
  at(path: string): YangError {
    if (this.path) return this;
    return new YangError({ ...this.toInit(), path });
  }

  toInit(): YangErrorInit {
    return {
      tag: this.tag,
      message: this.message,
      type: this.type,
      path: this.path,
      appTag: this.appTag,
      info: this.info,
      retryable: this.retryable,
    };
  }

  toJSON(): YangErrorInit {
    return this.toInit();
  }
}

/** Raised by a commit that lost an optimistic-concurrency race; the caller may retry. */
/** Any thrown value as a YangError (unexpected ones become operation-failed), for the protocol edges. */
export function asYangError(e: unknown): YangError {
  if (e instanceof YangError) return e;
  return new YangError({ tag: 'operation-failed', message: e instanceof Error ? e.message : String(e) });
}

export function conflict(message: string, path?: string): YangError {
  return new YangError({ tag: 'in-use', message, path, appTag: 'conflict', retryable: true });
}

export function isConflict(e: unknown): boolean {
  return e instanceof YangError && e.retryable;
}

/** Errors of the YANG compiler: they name the file and line, and stop start-up. */
export class YangCompileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'YangCompileError';
  }
}
