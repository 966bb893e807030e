/**
 * The backend of a store that is not persisted: the datastore's tree is the store, so there is
 * nothing to lay out, keep or list. Writes only count revisions (the datastore's optimistic
 * concurrency and entity tags stand on them). A single instance's operational store: what the
 * switches and the plugins report is learnt again after a restart. Against MemoryBackend, which
 * keeps every unit's JSON, it halves the memory of operational data and skips the encoding.
 */
import type { Backend, BackendEntry, BackendOp, WriteOptions, WriteResult } from './backend.ts';

export class VolatileBackend implements Backend {
  readonly kind = 'memory';
  readonly location = 'memory (not kept)';
  readonly volatile = true;
  private rev = 0;

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async get(_key: string): Promise<string | undefined> {
    return undefined;
  }
  async list(_prefix: string): Promise<BackendEntry[]> {
    return [];
  }
  async revision(): Promise<number> {
    return this.rev;
  }
  async write(_ops: BackendOp[], opts: WriteOptions = {}): Promise<WriteResult> {
    if (opts.expectRevision !== undefined && opts.expectRevision !== this.rev) return { ok: false, revision: this.rev };
    return { ok: true, revision: ++this.rev };
  }
}
