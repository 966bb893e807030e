/**
 * A keyed work queue for plugins that reconcile derived state (flows, elections, tunnels) from
 * datastore changes. Listeners mark keys dirty; one worker drains them in batches. A key is never
 * worked on twice at once (a key marked while its batch runs waits for the next batch), marks
 * that arrive together coalesce, and a failed batch is put back and retried after a pause, so
 * reconciliation is level-triggered: whatever changed, the next batch recomputes from the
 * current state.
 */
import type { DataPath, Mode } from '../yang/binding.ts';
import type { Change, Datastore, StoreName } from '../datastore/datastore.ts';

export interface WorkQueueOptions<K> {
  /** Keys per batch; the rest wait for the next round. */
  batchSize?: number;
  /** Works on one batch. Throwing puts the batch back. */
  process(batch: K[]): Promise<void>;
  /** Called with the error of a failed batch. */
  onError?(e: unknown): void;
  /** Called when the queue becomes empty after work. */
  onIdle?(): void | Promise<void>;
  /** Orders a batch (for deterministic results); insertion order otherwise. */
  compare?(a: K, b: K): number;
  retryDelayMs?: number;
}

export class WorkQueue<K> {
  private dirty = new Set<K>();
  private running: Promise<void> | undefined;
  /** Why the work is held (restart hold, not the leader, ...): it runs when no reason is left. */
  private readonly holds = new Set<string>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: WorkQueueOptions<K>) {}

  /** Keys waiting (not counting a batch in progress). */
  get pending(): number {
    return this.dirty.size;
  }

  mark(keys: Iterable<K>): void {
    if (this.stopped) return;
    for (const k of keys) this.dirty.add(k);
    this.kick();
  }

  /** Holds the work until resume() with the same reason (marks keep accumulating). */
  pause(reason = 'paused'): void {
    this.holds.add(reason);
  }

  resume(reason = 'paused'): void {
    this.holds.delete(reason);
    this.kick();
  }

  /** Resolves once no key is waiting and no batch runs. */
  idle(): Promise<void> {
    if (!this.running && (this.dirty.size === 0 || this.stopped)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.dirty.clear();
    await this.running;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private kick(): void {
    if (this.running || this.holds.size || this.stopped || this.dirty.size === 0) return;
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.dirty.size && !this.stopped && !this.holds.size) this.kick();
      else for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private async loop(): Promise<void> {
    const size = this.opts.batchSize ?? 256;
    while (this.dirty.size && !this.holds.size && !this.stopped) {
      let batch = [...this.dirty];
      if (this.opts.compare) batch.sort(this.opts.compare);
      batch = batch.slice(0, size);
      for (const k of batch) this.dirty.delete(k);
      try {
        await this.opts.process(batch);
      } catch (e) {
        this.opts.onError?.(e);
        if (this.stopped) return;
        for (const k of batch) this.dirty.add(k);
        await new Promise((r) => setTimeout(r, this.opts.retryDelayMs ?? 200));
      }
      if (!this.dirty.size) await this.opts.onIdle?.();
    }
  }
}

/**
 * Subscribes to a pattern and marks on `queue` the keys `apply` returns for each change (it
 * usually updates the plugin's indexes as it goes). A failing `apply` is reported, not thrown.
 */
export function markOnChange<K, T = unknown>(
  data: Pick<Datastore, 'subscribe'>,
  queue: WorkQueue<K>,
  store: StoreName,
  path: string | DataPath<T, Mode>,
  apply: (c: Change<T>) => Iterable<K>,
  onError: (e: unknown) => void,
): () => void {
  return data.subscribe<T>(
    store,
    path,
    (changes) => {
      const work = new Set<K>();
      for (const c of changes) for (const k of apply(c)) work.add(k);
      if (work.size) queue.mark(work);
    },
    { onError },
  );
}
