/**
 * An in-process backend: a Map for point reads plus a sorted key index for prefix listing.
 *
 * The sorted index is maintained lazily. Writes only record which keys were added and whether any
 * were removed; the next `list()` folds those in (sorting just the new keys and merging them with
 * the existing order), so a run of writes followed by many reads costs one merge, and reads on an
 * unchanged store cost a binary search plus the matching range.
 *
 * Data lives in the object, so `close()` followed by `open()` on the same instance keeps it (which
 * is what "survives reopen" means for this backend); nothing survives the process.
 */

import type { Backend, BackendEntry, BackendOp, WriteResult } from './backend.ts';

export class MemoryBackend implements Backend {
  readonly kind = 'memory';
  readonly location = 'memory';

  private readonly data = new Map<string, string>();
  /** Every key of `data` in ascending order, once `added` and `removed` are folded in. */
  private sorted: string[] = [];
  /** Keys that were absent from `data` when put since the last fold (may repeat or be gone). */
  private added: string[] = [];
  /** Whether any key was deleted since the last fold (then `sorted` may hold stale keys). */
  private removed = false;
  private rev = 0;
  private isOpen = false;

  async open(): Promise<void> {
    this.isOpen = true;
  }

  async close(): Promise<void> {
    this.isOpen = false;
  }

  async get(key: string): Promise<string | undefined> {
    this.assertOpen();
    return this.data.get(key);
  }

  async list(prefix: string): Promise<BackendEntry[]> {
    this.assertOpen();
    const keys = this.sortedKeys();
    const out: BackendEntry[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length; i++) {
      const key = keys[i]!;
      if (!key.startsWith(prefix)) break;
      out.push({ key, value: this.data.get(key)! });
    }
    return out;
  }

  async revision(): Promise<number> {
    this.assertOpen();
    return this.rev;
  }

  async write(ops: BackendOp[], opts: { expectRevision?: number } = {}): Promise<WriteResult> {
    this.assertOpen();
    if (opts.expectRevision !== undefined && opts.expectRevision !== this.rev) {
      return { ok: false, revision: this.rev };
    }
    // Validate everything before touching anything, so a bad op cannot leave a half-applied write.
    for (const op of ops) {
      if (typeof op.key !== 'string') throw new TypeError('backend key must be a string');
      if (op.type === 'put') {
        if (typeof op.value !== 'string') throw new TypeError(`value for ${op.key} must be a string`);
      } else if (op.type !== 'del') {
        throw new TypeError(`unknown backend op type ${String((op as { type: unknown }).type)}`);
      }
    }
    for (const op of ops) {
      if (op.type === 'put') {
        if (!this.data.has(op.key)) this.added.push(op.key);
        this.data.set(op.key, op.value);
      } else if (this.data.delete(op.key)) {
        this.removed = true;
      }
    }
    this.rev += 1;
    return { ok: true, revision: this.rev };
  }

  /** Folds pending additions and removals into the sorted index and returns it. */
  private sortedKeys(): string[] {
    if (this.added.length === 0 && !this.removed) return this.sorted;
    const data = this.data;
    const old = this.removed ? this.sorted.filter((k) => data.has(k)) : this.sorted;
    const fresh = this.added.filter((k) => data.has(k)).sort(compare);
    const merged: string[] = new Array(old.length + fresh.length);
    let i = 0;
    let j = 0;
    let n = 0;
    let last: string | undefined;
    // A key deleted and re-put between folds can be in both lists, and one put, deleted and put
    // again can be in `fresh` twice; drop the repeats while merging.
    while (i < old.length || j < fresh.length) {
      let next: string;
      if (j >= fresh.length || (i < old.length && old[i]! <= fresh[j]!)) next = old[i++]!;
      else next = fresh[j++]!;
      if (next !== last) merged[n++] = next;
      last = next;
    }
    merged.length = n;
    this.sorted = merged;
    this.added = [];
    this.removed = false;
    return merged;
  }

  private assertOpen(): void {
    if (!this.isOpen) throw new Error('memory backend is not open');
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first index whose key is >= `key`. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
