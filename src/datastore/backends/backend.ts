/**
 * The storage interface under the datastore, in the spirit of abstract-level: small, string keys
 * and values, atomic multi-key writes. The datastore above it owns the tree, validation and
 * conflicts; a backend only stores bytes. Every backend passes test/datastore/backend-suite.ts.
 *
 * Revisions make room for shared backends (etcd): each successful write bumps the store revision
 * by one, and a write may demand that the revision is still the one its writer last saw.
 */

export type BackendOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

export interface BackendEntry {
  key: string;
  value: string;
}

export type WriteResult = { ok: true; revision: number } | { ok: false; revision: number };

export interface Backend {
  /** `memory`, `level`, ... for logs and the ready line. */
  readonly kind: string;
  /** Where it keeps its data, for logs (`memory`, a directory, a URL). */
  readonly location: string;
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<string | undefined>;
  /** Every entry whose key starts with `prefix`, in ascending key order (UTF-16 code units). */
  list(prefix: string): Promise<BackendEntry[]>;
  /** The revision of the last successful write (0 for a new store); survives reopening. */
  revision(): Promise<number>;
  /**
   * Applies every op or none. With `expectRevision`, applies only if the store's revision still
   * equals it, and otherwise answers `{ ok: false }` with the current revision and writes nothing.
   */
  write(ops: BackendOp[], opts?: { expectRevision?: number }): Promise<WriteResult>;
}

/** Raised when a backend cannot be opened (for example, another process holds the LevelDB lock). */
export class BackendOpenError extends Error {
  constructor(
    message: string,
    readonly code: 'locked' | 'unavailable' | 'corrupt',
  ) {
    super(message);
    this.name = 'BackendOpenError';
  }
}
