/**
 * The storage interface under the datastore, in the spirit of abstract-level: small, string keys
 * and values, atomic multi-key writes. The datastore above it owns the tree, validation and
 * conflicts; a backend only stores bytes. Every backend passes test/datastore/backend-suite.ts.
 *
 * Revisions make room for shared backends (etcd): each successful write bumps the store revision
 * by one, and a write may demand that the revision is still the one its writer last saw.
 *
 * Shared backends add optional members (memory and level leave them out; check for them):
 * - two numbers, not one: the store `revision` counts this store's writes (what `expectRevision`
 *   compares); the history position (`etcdRevision`) orders writes across the whole shared store
 *   and is what a watch starts from and a key's `modRevision` is measured in;
 * - `guards`: per-key compares, so writers on disjoint keys never conflict, while any two writes
 *   guarding one key cannot both apply; a failed compare answers `{ ok: false }` and writes nothing;
 * - a replica loads `listWithRevisions(prefix)` and then `watch(snapshot.etcdRevision, ...)`: every
 *   later write arrives once, as one batch, in commit order, also across reconnects; if that part
 *   of the history is gone, `onReset` says so and the replica loads again.
 * A write that fails may have applied anyway when the backend could not tell (see the backend's
 * error type); the watch shows every write that applied.
 */

/**
 * One key to write or delete. A put may name a `lease` (shared backends): the key goes when the
 * lease does, e.g. data an instance learnt from a switch, gone if that instance dies.
 */
/**
 * One key written or deleted. `lease` (shared backends): the key goes when the lease ends.
 * `structural`: a list entry stored only because something below it was written; it is shared
 * by every writer below it, so it never goes under one writer's lease.
 */
export type BackendOp = { type: 'put'; key: string; value: string; lease?: string; structural?: boolean } | { type: 'del'; key: string };

export interface BackendEntry {
  key: string;
  value: string;
}

export type WriteResult = { ok: true; revision: number } | { ok: false; revision: number };

/**
 * A compare on one key for shared backends: the write applies only if `key` was last modified at
 * `modRevision` (the backend's own per-key revision, e.g. etcd's mod_revision, as `listWithRevisions`
 * reported it); 0 means the key must not exist. Writers guarding disjoint keys never conflict.
 */
export interface WriteGuard {
  key: string;
  modRevision: number;
}

export interface WriteOptions {
  /** The store revision must still be this (one compare on the whole store). */
  expectRevision?: number;
  /** Every guard must hold (per-key compares); combined with `expectRevision` if both are given. */
  guards?: WriteGuard[];
  /**
   * Shared backends: none of these keys (or no key under these prefixes) was modified or created
   * after the given backend revision. What a per-key guard cannot see: another writer creating a key inside
   * a subtree this write replaces or depends on.
   */
  rangeGuards?: RangeGuard[];
  /**
   * Shared backends: keys outside the store (absolute backend keys) that must still have been
   * created at the given revision: a leader's fence, so a deposed leader's write fails.
   */
  fences?: { key: string; createRevision: string }[];
}

export interface RangeGuard {
  /** The key, or with `prefix` every key starting with it. */
  key: string;
  prefix?: boolean;
  /** The backend revision (e.g. etcd's) the writer's snapshot was taken at. */
  notModifiedAfter: number;
}

/** A write's result plus the shared history position it was decided at (the write's own when ok). */
export type CommitResult = { ok: true; revision: number; etcdRevision: number } | { ok: false; revision: number; etcdRevision: number };

export interface BackendEntryWithRevision extends BackendEntry {
  /** The backend's revision of the last change to this key (what a `WriteGuard` compares). */
  modRevision: number;
}

/** One snapshot of a prefix: entries, the store revision and the shared history position it was read at. */
export interface RevisionedList {
  entries: BackendEntryWithRevision[];
  revision: number;
  etcdRevision: number;
}

/**
 * One write as a watcher sees it: exactly the write's effect, in one batch. `ops` holds the final
 * op per key (a write that put and then deleted a key shows the del only; deleting a missing key
 * shows nothing, yet the batch is still delivered since the revision moved).
 */
export interface WatchBatch {
  /** The store revision after this write (the one `write` answered to its writer). */
  revision: number;
  /** Its position in the shared history; resume or `watch` again from here. */
  etcdRevision: number;
  ops: BackendOp[];
}

export interface WatchHandlers {
  /** Called once per write, in commit order; the next batch waits until a returned promise settles. */
  onBatch(batch: WatchBatch): void | Promise<void>;
  /**
   * The history after the watch's position is gone (compacted): changes may have been missed. The
   * watch has ended; the caller reloads (`listWithRevisions`) and watches again from that snapshot.
   */
  onReset(): void;
  /** The connection broke; the watch reconnects by itself and resumes without loss or repetition. */
  onDisconnect?(err: Error): void;
}

export interface BackendWatch {
  /** Stops delivering; resolves once no `onBatch` runs any more. */
  close(): Promise<void>;
}

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
  /**
   * Optional: what `list` answers, in chunks as they are read, for reading a whole store back
   * without holding all of its rows at once. In ascending key order as the backend keeps it
   * (the reader checks for UTF-16 order and falls back to `list`).
   */
  scan?(prefix: string): AsyncIterable<BackendEntry[]>;
  /** The revision of the last successful write (0 for a new store); survives reopening. */
  revision(): Promise<number>;
  /**
   * Applies every op or none. With `expectRevision`, applies only if the store's revision still
   * equals it, and otherwise answers `{ ok: false }` with the current revision and writes nothing.
   */
  write(ops: BackendOp[], opts?: WriteOptions): Promise<WriteResult>;
  /**
   * Keeps nothing (the operational store of a single instance: the tree in memory is the store,
   * and nothing of it outlives the process). The datastore then does not lay commits out in
   * units at all; `write` only counts revisions.
   */
  readonly volatile?: boolean;

  // Shared backends (etcd) only: several processes write one store, so a replica in each process
  // loads a snapshot and follows the history from it. Memory and level leave these out.

  /**
   * Like `write`, also answering where the write sits in the shared history, so its writer can
   * wait until its own replica has applied it (read-your-writes). `guards` need this kind of backend.
   */
  commit?(ops: BackendOp[], opts?: WriteOptions): Promise<CommitResult>;
  /** `list` plus each entry's `modRevision`, the store revision and the history position, all of one snapshot. */
  listWithRevisions?(prefix: string): Promise<RevisionedList>;
  /** The shared history's current position, read from the cluster (fails if unreachable): for fresh reads. */
  etcdRevision?(): Promise<number>;
  /**
   * Follows every write to this store made after history position `afterEtcdRevision` (from
   * `listWithRevisions` or `commit`), by any process: `onBatch` once per write, in commit order,
   * exactly once, resuming by itself after a broken connection; `onReset` when the history it
   * needs was compacted.
   */
  watch?(afterEtcdRevision: number, handlers: WatchHandlers): BackendWatch;
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
