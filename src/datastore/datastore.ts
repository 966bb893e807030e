/**
 * The datastore: two trees (`config`, `operational`), each over a backend. Transactions read a
 * snapshot and buffer edits; commit checks for conflicting commits since the snapshot
 * (optimistic: no lock is held while a transaction is open), validates what changed, writes it
 * atomically, publishes the new tree and then tells listeners, in commit order.
 */
import { trace } from '@opentelemetry/api';
import { inSpan } from '../telemetry/tracing.ts';
import { YangError, asYangError, conflict, isConflict } from '../errors.ts';
import { secondsSince, type Metrics } from '../telemetry/metrics.ts';
import { checkDecoded, decodeValue, decodeListEntry, toJsonValue, withPathKeys } from '../yang/json.ts';
import { formatPath, parsePath, type InstancePath } from '../yang/path.ts';
import { resolveDataPath, DataPath, type DeepPartial, type Mode } from '../yang/binding.ts';
import type { DataObject, DataValue, LeafValue, Schema } from '../yang/schema.ts';
import { leafString } from '../yang/cursor.ts';
import { validateChanges } from '../yang/validate.ts';
import type { Backend, BackendOp, BackendWatch, WatchBatch } from './backends/backend.ts';
import { ListenerHub, type Change, type ChangeHandler, type ListenerLag, type SubscribeOptions } from './listeners.ts';
import { CommitPhaseRegistry, type CommitPhases, type PhasedCommit } from './phases.ts';
import { applyUnitOps, loadStore, loadTree, unitOps } from './persist.ts';
import { checkEntryKeys, getAt, mergeValue, setAt, type Found } from './tree.ts';

export type StoreName = 'config' | 'operational';

const tracer = trace.getTracer('sextant.datastore');

interface Head {
  root: DataObject;
  revision: number;
  /** Shared backends: the position in the backend's history this tree reflects. */
  position?: number;
}

interface CommitRecord {
  revision: number;
  paths: string[];
}

/**
 * How many past commits, and how many of their paths in all, are kept to check younger
 * transactions against. A transaction whose snapshot is older than the log is refused as too
 * old (retryable); the path bound keeps bulk commits from pinning hundreds of MB of paths.
 */
const CONFLICT_WINDOW = 4096;
const CONFLICT_WINDOW_PATHS = 65536;

/** A group accepted by prepareGroup, ready to be written. */
interface PreparedGroup {
  /** The published head when it was prepared. */
  base: Head;
  /** The tree once it is written. */
  root: DataObject;
  accepted: { w: Waiting; before: DataObject; after: DataObject; touched: InstancePath[]; texts: string[]; phased?: PhasedCommit }[];
  ops: Map<string, BackendOp>;
  paths: GroupPaths;
  /** Refuses every accepted transaction of the group with `e`. */
  fail: (e: unknown) => void;
}

/** A local store's group being written: later groups are prepared on its tree. */
interface InFlight {
  root: DataObject;
  paths: GroupPaths;
  /** True once written and published; false if it failed. */
  done: Promise<boolean>;
}

interface Waiting {
  tx: Transaction;
  resolve: (revision: number) => void;
  reject: (e: unknown) => void;
}

/** Most transactions written in one backend batch (group commit). */
const MAX_GROUP = 256;

class Store {
  head: Head = { root: {}, revision: 0 };
  readonly log: CommitRecord[] = [];
  /** Paths held by `log`. */
  logPaths = 0;
  /**
   * Commits waiting for the writer. While one batch is being written, the commits that arrive
   * queue up and go out together in the next: each is still checked and validated on its own,
   * in order, but they share one backend write (group commit).
   */
  readonly waiting: Waiting[] = [];
  draining = false;
  /**
   * A local store's group being written (not yet published): the next group is checked and
   * validated on top of its tree while the backend writes it, and written after it.
   */
  inFlight?: InFlight;

  // A shared backend (etcd, cluster mode) has other writers: this store is a replica that
  // follows the backend's history, and every commit, ours included, is applied from that history
  // in its order, so listeners on every instance see the same commits in the same order.
  watch?: BackendWatch;
  /** The backend's revision of each unit key, as this replica last saw it: what a commit guards. */
  readonly modRevisions = new Map<string, number>();
  /** The position in the shared history applied so far (the head's). */
  get position(): number {
    return this.head.position ?? 0;
  }
  /** Our commits the watch has not delivered yet, by their position. */
  readonly own = new Map<number, OwnCommit>();
  /** Fresh reads waiting until the replica reaches a store revision. */
  readonly revisionWaiters: { revision: number; resolve: () => void }[] = [];

  constructor(
    readonly name: StoreName,
    readonly backend: Backend,
  ) {}

  get shared(): boolean {
    return this.watch !== undefined;
  }
}

/** A commit of this instance written to a shared backend, waiting for its batch to come back. */
interface OwnCommit {
  /** The tree it was computed on: if the head is still that tree, its result is used as it is. */
  base: DataObject;
  root: DataObject;
  accepted: { before: DataObject; after: DataObject; touched: InstancePath[]; texts: string[] }[];
  resolve: () => void;
}

/** Longest a commit waits for its own batch to come back from a shared backend. */
const OWN_BATCH_WAIT_MS = 10_000;

export interface DatastoreOptions {
  schema: Schema;
  config: Backend;
  operational: Backend;
  /** Told about stored units that no longer fit the schema (they are skipped). */
  warn?: (message: string) => void;
  /** Longest a commit phase callback may take before its commit fails (default 2000 ms). */
  phaseTimeoutMs?: number;
  /** Told about a phase callback that threw something other than a YangError (apply and abort included). */
  phaseError?: (e: unknown, owner: string, phase: string) => void;
  /** The controller's metrics: commits, conflicts and their latency per store, listener lag. */
  metrics?: Metrics;
}

export class Datastore {
  readonly schema: Schema;
  private readonly stores: Record<StoreName, Store>;
  readonly listeners: ListenerHub;
  private readonly phases: CommitPhaseRegistry;
  private closed = false;
  /** When paths last changed (see ChangeClock at the end of this file). */
  private readonly changeClock = new ChangeClock();

  private constructor(opts: DatastoreOptions) {
    this.schema = opts.schema;
    this.stores = {
      config: new Store('config', opts.config),
      operational: new Store('operational', opts.operational),
    };
    this.listeners = new ListenerHub(this.schema, (store) => this.stores[store].head.root);
    this.phases = new CommitPhaseRegistry(this.listeners, opts.phaseTimeoutMs ?? 2000, opts.phaseError ?? (() => undefined));
    this.warnFn = opts.warn;
    this.metrics = opts.metrics;
    if (opts.metrics) registerListenerLag(opts.metrics, this.listeners);
  }

  private readonly metrics?: Metrics;

  private readonly warnFn?: (message: string) => void;

  static async open(opts: DatastoreOptions): Promise<Datastore> {
    const ds = new Datastore(opts);
    for (const store of Object.values(ds.stores)) {
      await store.backend.open();
      if (store.backend.watch && store.backend.listWithRevisions) {
        await ds.loadShared(store);
        continue;
      }
      store.head = {
        root: await loadStore(ds.schema, store.backend, (key, why) => opts.warn?.(`${store.name}: skipped stored node ${key}: ${why}`)),
        revision: await store.backend.revision(),
      };
    }
    return ds;
  }

  /** A shared store: one snapshot, then the history after it. */
  private async loadShared(store: Store): Promise<void> {
    const snap = await store.backend.listWithRevisions!('/');
    const before = store.head.root;
    const root = loadTree(this.schema, snap.entries, (key, why) => this.warn(`${store.name}: skipped stored node ${key}: ${why}`));
    store.modRevisions.clear();
    for (const e of snap.entries) store.modRevisions.set(e.key, e.modRevision);
    store.head = { root, revision: snap.revision, position: snap.etcdRevision };
    // A reload after a reset: listeners hear the difference, every top-level node touched.
    const tops = new Set([...Object.keys(before), ...Object.keys(root)]);
    if (store.watch) {
      const touched = [...tops].flatMap((m) => {
        try {
          return [parsePath(this.schema, `/${m}`)];
        } catch {
          return [];
        }
      });
      this.noteCommit(store, touched.map(formatPath), snap.revision);
      this.listeners.publish(store.name, before, root, touched);
    }
    store.watch = store.backend.watch!(snap.etcdRevision, {
      onBatch: (b) => this.applyBatch(store, b),
      onReset: () => {
        this.warn(`${store.name}: the shared history was compacted past this replica; reloading`);
        store.watch = undefined;
        void this.loadShared(store).catch((e: unknown) => this.warn(`${store.name}: reload failed: ${(e as Error).message}`));
      },
    });
    this.releasePosition(store);
  }

  /** One write of the shared history (another instance's or ours), applied in history order. */
  private applyBatch(store: Store, batch: WatchBatch): void {
    if (batch.etcdRevision <= store.position) return;
    const before = store.head.root;
    const own = store.own.get(batch.etcdRevision);
    let root: DataObject;
    let items: { before: DataObject; after: DataObject; touched: InstancePath[]; texts: string[] }[];
    if (own && own.base === before) {
      // Nothing came between: the tree our commit computed is the one the history now holds.
      root = own.root;
      items = own.accepted;
    } else {
      const applied = applyUnitOps(this.schema, before, batch.ops, (key, why) => this.warn(`${store.name}: skipped a unit of revision ${batch.revision} (${key}): ${why}`));
      root = applied.root;
      items = [{ before, after: root, touched: applied.touched, texts: applied.touched.map(formatPath) }];
    }
    for (const op of batch.ops) {
      if (op.type === 'put') store.modRevisions.set(op.key, batch.etcdRevision);
      else store.modRevisions.delete(op.key);
    }
    const from = store.head.revision;
    store.head = { root, revision: batch.revision, position: batch.etcdRevision };
    // Last-Modified learns other instances' commits as precisely as ours.
    this.changeClock.record(store.name, from, batch.revision, items);
    for (const it of items) this.noteCommit(store, it.texts, batch.revision);
    for (const it of items) this.listeners.publish(store.name, it.before, it.after, it.touched);
    if (own) {
      store.own.delete(batch.etcdRevision);
      own.resolve();
    }
    this.releasePosition(store);
  }

  private releasePosition(store: Store): void {
    for (let i = store.revisionWaiters.length - 1; i >= 0; i--) {
      if (store.revisionWaiters[i].revision <= store.head.revision) store.revisionWaiters.splice(i, 1)[0].resolve();
    }
  }

  /**
   * Fresh reads on a shared store: resolves once this replica has applied everything committed
   * anywhere before the call (it asks the backend for the store's revision). Fails when the backend
   * cannot be reached or the replica does not catch up within `timeoutMs`. Immediate elsewhere.
   */
  async sync(store: StoreName, timeoutMs = 5000): Promise<void> {
    const s = this.stores[store];
    if (!s.shared) return;
    // The store's own revision counts its writes, wherever they were made: once the replica has
    // applied that many, it has seen everything committed before this call.
    let revision: number;
    try {
      revision = await s.backend.revision();
    } catch (e) {
      throw new YangError({ tag: 'operation-failed', appTag: 'datastore-unavailable', message: `the shared datastore cannot be reached: ${(e as Error).message}` });
    }
    if (s.head.revision >= revision) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = { revision, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        const i = s.revisionWaiters.indexOf(waiter);
        if (i >= 0) s.revisionWaiters.splice(i, 1);
        reject(new YangError({ tag: 'operation-failed', appTag: 'datastore-unavailable', message: `this instance has not caught up with the shared datastore within ${timeoutMs} ms` }));
      }, timeoutMs);
      s.revisionWaiters.push(waiter);
    });
  }

  /** Files a commit's paths in the conflict log, bounded by commits and by paths. */
  private noteCommit(store: Store, texts: string[], revision: number): void {
    store.log.push({ revision, paths: texts });
    store.logPaths += texts.length;
    // Trimmed by at least an eighth of the window at a time: cutting one entry off the front of a
    // 4,096-entry array on every commit moves the whole array each time.
    const tooMany = store.log.length > CONFLICT_WINDOW + CONFLICT_WINDOW / 8;
    if (!tooMany && store.logPaths <= CONFLICT_WINDOW_PATHS) return;
    const keep = tooMany ? CONFLICT_WINDOW : store.log.length;
    let drop = 0;
    while (store.log.length - drop > 1 && (store.log.length - drop > keep || store.logPaths > CONFLICT_WINDOW_PATHS)) {
      store.logPaths -= store.log[drop].paths.length;
      drop++;
    }
    store.log.splice(0, drop);
  }

  private warn(message: string): void {
    this.warnFn?.(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of Object.values(this.stores)) {
      // Let the commits already handed in finish before the backend goes.
      while (s.draining || s.waiting.length || s.inFlight) await new Promise((r) => setImmediate(r));
    }
    await this.listeners.settled();
    for (const s of Object.values(this.stores)) {
      await s.watch?.close();
      s.watch = undefined;
      await s.backend.close();
    }
  }

  /** A read-write transaction on one store. */
  /**
   * A read-write transaction on one store. `ephemeral`: what it writes belongs to this instance
   * and goes when the instance does (on a shared backend, under the instance's lease: a crashed
   * instance's entries vanish when its lease expires); no difference on a single instance.
   */
  transaction(store: StoreName, opts: { ephemeral?: boolean } = {}): Transaction {
    if (this.closed) throw new YangError({ tag: 'operation-failed', message: 'the datastore is closed' });
    const tx = new Transaction(this, this.stores[store]);
    if (opts.ephemeral) tx.ephemeral = true;
    return tx;
  }

  /** Cluster mode: the lease this instance's ephemeral writes go under (see transaction()). */
  useLease(lease: () => string | undefined): void {
    this.lease = lease;
  }

  private lease: () => string | undefined = () => undefined;

  /** Reads a node as JSON (lists as arrays) from the latest committed tree. */
  read<T>(store: StoreName, path: DataPath<T>): T | undefined;
  read(store: StoreName, path: string | InstancePath): unknown;
  read(store: StoreName, path: string | InstancePath | DataPath<unknown>): unknown {
    const p = instancePath(this.schema, path);
    const v = getAt(this.stores[store].head.root, p);
    return v === undefined ? undefined : toJsonValue(p[p.length - 1]?.schema, v);
  }

  /**
   * A list's entries as JSON, each converted only when the iteration reaches it (from the tree
   * committed at the call): walking a large list, as a plugin's start does on a full store, then
   * holds one entry's copy at a time instead of the whole list's.
   */
  readEntries<T>(store: StoreName, path: DataPath<T[]>): IterableIterator<T>;
  readEntries(store: StoreName, path: string): IterableIterator<unknown>;
  readEntries(store: StoreName, path: string | DataPath<unknown>): IterableIterator<unknown> {
    const p = instancePath(this.schema, path);
    const list = getAt(this.stores[store].head.root, p);
    const node = p[p.length - 1]?.schema;
    return (function* () {
      if (list instanceof Map) for (const entry of list.values()) yield toJsonValue(node, entry);
    })();
  }

  /** The latest committed tree of a store, in internal form. Never modify it. */
  snapshot(store: StoreName): Head {
    return this.stores[store].head;
  }

  revision(store: StoreName): number {
    return this.stores[store].head.revision;
  }

  /** `pattern`: an api-path where a list's keys may be `*`, or a DataPath built with ANY. */
  subscribe<T = unknown>(store: StoreName, pattern: string | DataPath<T, Mode>, handler: ChangeHandler<T>, opts?: SubscribeOptions): () => void {
    return this.listeners.subscribe(store, pattern, handler, opts);
  }

  /** The instances of a pattern that exist now, as `created` changes (see ListenerHub.present). */
  present(store: StoreName, pattern: string | DataPath<unknown, Mode>, opts?: { fields?: string }): Change[] {
    return this.listeners.present(store, pattern, opts);
  }

  /** Registers commit phase callbacks (see phases.ts); returns their removal. */
  registerPhases(spec: CommitPhases): () => void {
    return this.phases.register(spec);
  }

  /**
   * The two latest times (ms) a commit changed `path` of a store, something under it, or a node
   * above it that it sits in (HTTP Last-Modified). See ChangeClock.
   */
  lastChanged(store: StoreName, path: InstancePath): ChangeTimes {
    return this.changeClock.query(store, formatPath(path), this.stores[store].head.revision);
  }

  /** Per subscription, the commits its handler has not seen yet (see ListenerHub.lag). */
  listenerLag(): ListenerLag[] {
    return this.listeners.lag();
  }

  /** Resolves when every listener has handled every commit so far. */
  settled(): Promise<void> {
    return this.listeners.settled();
  }

  /** @internal used by Transaction.commit */
  async commitOn(store: Store, tx: Transaction): Promise<number> {
    return inSpan(tracer, `datastore.commit ${store.name}`, async (span) => {
      const start = performance.now();
      let rev: number;
      try {
        rev = await new Promise<number>((resolve, reject) => {
          store.waiting.push({ tx, resolve, reject });
          if (!store.draining) void this.drain(store);
        });
      } catch (e) {
        this.metrics?.commit(store.name, secondsSince(start), { conflict: isConflict(e), errorTag: e instanceof YangError ? e.tag : 'operation-failed' });
        throw e;
      }
      this.metrics?.commit(store.name, secondsSince(start));
      span.setAttribute('sextant.revision', rev);
      return rev;
    });
  }

  private async drain(store: Store): Promise<void> {
    store.draining = true;
    try {
      while (store.waiting.length) {
        const group = store.waiting.splice(0, MAX_GROUP);
        if (store.shared) {
          await this.commitGroup(store, group);
          continue;
        }
        // A local store pipelines: this group is prepared (checked, validated, serialized) on top
        // of the one the backend is writing, while it writes; the writes still go one after the
        // other, in order. On two cores the write's thread and this one then work at once.
        const basedOn = store.inFlight;
        const prepared = await this.prepareGroup(store, group, basedOn);
        if (!prepared) continue;
        if (basedOn && !(await basedOn.done)) {
          // The tree it was prepared on was never written.
          prepared.fail(conflict('an earlier commit failed to be written; retry the transaction'));
          continue;
        }
        const done = this.writeGroup(store, prepared);
        const inFlight: InFlight = { root: prepared.root, paths: prepared.paths, done };
        store.inFlight = inFlight;
        void done.then(() => {
          if (store.inFlight === inFlight) store.inFlight = undefined;
        });
      }
    } finally {
      store.draining = false;
    }
  }

  /**
   * Checks, validates and applies each transaction of a group in turn on top of the ones before
   * it, writes all accepted ones in one atomic batch, then publishes and notifies in order. A
   * transaction that fails its checks is refused alone; a failed write refuses the group.
   */
  private async commitGroup(store: Store, group: Waiting[]): Promise<void> {
    const prepared = await this.prepareGroup(store, group, undefined);
    if (prepared) await this.commitShared(store, prepared.base.root, prepared.root, [...prepared.ops.values()], prepared.accepted, prepared.fail);
  }

  /**
   * The checking half of a group commit: each transaction in turn on top of the ones before it
   * (and of `basedOn`, the group still being written, if any). Undefined when none is accepted.
   */
  private async prepareGroup(store: Store, group: Waiting[], basedOn: InFlight | undefined): Promise<PreparedGroup | undefined> {
    const base = store.head;
    let root = basedOn ? basedOn.root : base.root;
    const accepted: { w: Waiting; before: DataObject; after: DataObject; touched: InstancePath[]; texts: string[]; phased?: PhasedCommit }[] = [];
    const ops = new Map<string, BackendOp>();
    const groupPaths = new GroupPaths();
    const phases = this.phases.has(store.name);
    for (const w of group) {
      let phased: PhasedCommit | undefined;
      try {
        let touched = w.tx.touchedPaths();
        const own = touched;
        if (!touched.length) {
          w.resolve(base.revision);
          continue;
        }
        let texts = touched.map(formatPath);
        let after: DataObject;
        const onSnapshot = !basedOn && root === base.root && w.tx.snapshotRevision === base.revision;
        if (onSnapshot) {
          after = w.tx.workingRoot();
        } else {
          this.checkConflicts(store, w.tx, texts, groupPaths, false, basedOn?.paths);
          after = w.tx.replayOn(root);
        }
        if (phases) {
          const before = root;
          phased = await this.phases.run(store.name, before, after, touched, (r) => new Transaction(this, store, r, true));
          if (phased.touched !== touched) {
            // Derived writes are checked against the commits ahead of this one in the group too.
            const derived = phased.touched.slice(touched.length).map(formatPath);
            if (derived.length && accepted.length) this.checkConflicts(store, w.tx, derived, groupPaths, true);
            touched = phased.touched;
            texts = [...texts, ...derived];
          }
          after = phased.after;
        }
        // On its own snapshot the transaction knows (each edit looked); else look in `root`.
        const onlyCreations = onSnapshot && touched === own ? w.tx.onlyCreates() : touched.every((p) => getAt(root, p) === undefined);
        validateChanges(this.schema, after, touched, { configOnly: store.name === 'config' }, onlyCreations, root);
        const lease = w.tx.ephemeral && store.shared ? this.lease() : undefined;
        // A store that keeps nothing needs no stored form of the commit.
        if (!store.backend.volatile) for (const op of unitOps(this.schema, root, after, touched)) ops.set(op.key, lease && op.type === 'put' && !op.structural ? { ...op, lease } : op);
        accepted.push({ w, before: root, after, touched, texts, phased });
        groupPaths.add(texts);
        root = after;
      } catch (e) {
        // A failure in the phases has told its callbacks already; a later one (YANG validation) not.
        if (phased) this.phases.aborted(phased, root, asYangError(e));
        w.reject(e);
      }
    }
    if (!accepted.length) return undefined;
    const fail = (e: unknown) => {
      for (const a of accepted) {
        if (a.phased) this.phases.aborted(a.phased, a.before, asYangError(e));
        a.w.reject(e);
      }
    };
    return { base, root, accepted, ops, paths: groupPaths, fail };
  }

  /**
   * The writing half, for a local store: one atomic batch on top of the published head (the
   * group it was prepared on has been published by now), then publish and notify in order.
   * Resolves true when the group was written and published.
   */
  private async writeGroup(store: Store, g: PreparedGroup): Promise<boolean> {
    const from = store.head.revision;
    let result;
    try {
      result = await store.backend.write([...g.ops.values()], { expectRevision: from });
    } catch (e) {
      g.fail(e);
      return false;
    }
    if (!result.ok) {
      g.fail(conflict('the store was changed by another writer; retry the transaction'));
      return false;
    }
    const { root, accepted } = g;
    store.head = { root, revision: result.revision };
    this.changeClock.record(store.name, from, result.revision, accepted);
    for (const a of accepted) this.noteCommit(store, a.texts, result.revision);
    for (const a of accepted) if (a.phased) this.phases.applied(a.phased, a.before);
    for (const a of accepted) this.listeners.publish(store.name, a.before, a.after, a.touched);
    for (const a of accepted) a.w.resolve(result.revision);
    return true;
  }

  /**
   * A group's write to a shared backend: one transaction guarded per unit key (each key still has
   * the revision this replica last saw, or is still missing), so writers on disjoint data never
   * conflict and overlapping ones do; then the commit waits until the history brings its batch
   * back and the replica has applied it, in history order, before it is acknowledged.
   */
  private async commitShared(
    store: Store,
    base: DataObject,
    root: DataObject,
    ops: BackendOp[],
    accepted: { w: Waiting; before: DataObject; after: DataObject; touched: InstancePath[]; texts: string[]; phased?: PhasedCommit }[],
    fail: (e: unknown) => void,
  ): Promise<void> {
    const guards = ops.map((op) => ({ key: op.key, modRevision: store.modRevisions.get(op.key) ?? 0 }));
    // And nothing was created by another writer inside what each transaction touched since its
    // snapshot (a per-key guard cannot see a key it does not know of).
    // The node itself, what lies below it (`P/...`), and for a whole list its entries (`P=...`).
    const ranges = new Map<string, { key: string; prefix: boolean; notModifiedAfter: number }>();
    const guard = (key: string, prefix: boolean, at: number) => {
      const id = `${prefix ? 'P' : 'K'}${key}`;
      const old = ranges.get(id);
      ranges.set(id, { key, prefix, notModifiedAfter: Math.min(old?.notModifiedAfter ?? Infinity, at) });
    };
    for (const a of accepted) {
      a.touched.forEach((path, i) => {
        const text = a.texts[i];
        const at = a.w.tx.snapshotPosition;
        if (text === '/') return guard('/', true, at);
        guard(text, false, at);
        guard(`${text}/`, true, at);
        const last = path[path.length - 1];
        if (last?.schema.kind === 'list' && last.key === undefined) guard(`${text}=`, true, at);
      });
    }
    const rangeGuards = [...ranges.values()];
    const fences = new Map<string, { key: string; createRevision: string }>();
    for (const a of accepted) for (const f of a.w.tx.fences) fences.set(`${f.key}@${f.createRevision}`, f);
    let result;
    try {
      result = await store.backend.commit!(ops, { guards, rangeGuards, fences: [...fences.values()] });
    } catch (e) {
      fail(new YangError({ tag: 'operation-failed', appTag: 'datastore-unavailable', message: `the shared datastore refused or did not answer the commit: ${(e as Error).message}` }));
      return;
    }
    if (!result.ok) {
      fail(conflict('another instance changed the same data; retry the transaction'));
      return;
    }
    if (store.position < result.etcdRevision) {
      const arrived = new Promise<void>((resolve) => store.own.set(result.etcdRevision, { base, root, accepted, resolve }));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), OWN_BATCH_WAIT_MS)));
      const outcome = await Promise.race([arrived, late]);
      clearTimeout(timer);
      if (outcome === 'late') {
        store.own.delete(result.etcdRevision);
        // Written, but not yet seen here: the client is told, the data is not lost.
        fail(new YangError({ tag: 'operation-failed', appTag: 'datastore-unavailable', message: `committed at revision ${result.revision}, but this instance has not caught up with the shared datastore` }));
        return;
      }
    }
    for (const a of accepted) if (a.phased) this.phases.applied(a.phased, a.before);
    for (const a of accepted) a.w.resolve(result.revision);
  }

  /** Refuses a transaction when a commit it did not see touched an overlapping path. */
  private checkConflicts(store: Store, tx: Transaction, texts: string[], earlierInGroup: GroupPaths, groupOnly = false, inFlight?: GroupPaths): void {
    texts = tx.withGuards(texts);
    const oldest = store.log[0]?.revision ?? store.head.revision;
    if (tx.snapshotRevision < store.head.revision && tx.snapshotRevision < oldest - 1) {
      throw conflict('the transaction is too old to commit; retry it');
    }
    // Two paths overlap when one is the other or its ancestor. Rather than comparing every pair
    // (a bulk commit against bulk commits is millions of comparisons), index the other side's
    // paths and all their ancestors, and look up each of ours and its ancestors.
    const mine = new Set<string>();
    const mineAndAncestors = new Set<string>();
    for (const t of texts) {
      mine.add(t);
      for (const a of ancestorsOf(t)) mineAndAncestors.add(a);
    }
    const overlaps = (paths: string[], revision: string) => {
      for (const p of paths) {
        if (p === '/' || mine.has('/') || mineAndAncestors.has(p)) throw conflict(`a concurrent commit changed ${p} (${revision}); retry the transaction`, p);
        for (const a of ancestorsOf(p)) {
          if (mine.has(a)) throw conflict(`a concurrent commit changed ${p} (${revision}); retry the transaction`, a);
        }
      }
    };
    // The log is in revision order: walk back only over the commits newer than the snapshot.
    for (let i = store.log.length - 1; !groupOnly && i >= 0 && store.log[i].revision > tx.snapshotRevision; i--) {
      overlaps(store.log[i].paths, `revision ${store.log[i].revision}`);
    }
    // Commits ahead of it in this group are newer than any snapshot: looked up in the group's
    // index, so a group of n one-path commits costs O(n), not O(n²) comparisons.
    const hit = earlierInGroup.overlap(texts) ?? inFlight?.overlap(texts);
    if (hit !== undefined) throw conflict(`a concurrent commit changed ${hit} (committing now); retry the transaction`, hit);
  }
}

/** The paths the accepted transactions of a commit group wrote, indexed for overlap checks. */
class GroupPaths {
  private readonly written = new Set<string>();
  /** Every ancestor-or-self of a written path -> one written path at or below it. */
  private readonly below = new Map<string, string>();
  /** Added but not indexed yet: most groups hold one transaction and are never asked. */
  private pending: string[][] = [];

  add(texts: string[]): void {
    this.pending.push(texts);
  }

  private index(): void {
    for (const texts of this.pending) {
      for (const t of texts) {
        this.written.add(t);
        for (const a of ancestorsOf(t)) {
          // Its own ancestors were indexed with it.
          if (this.below.has(a)) break;
          this.below.set(a, t);
        }
      }
    }
    this.pending = [];
  }

  /** A written path that is, or is above or below, one of `texts` (undefined: none). */
  overlap(texts: string[]): string | undefined {
    if (this.pending.length) this.index();
    if (!this.written.size) return undefined;
    if (this.written.has('/')) return '/';
    for (const t of texts) {
      if (t === '/') return [...this.written][0];
      const under = this.below.get(t);
      if (under !== undefined) return under;
      for (const a of ancestorsOf(t)) if (this.written.has(a)) return a;
    }
    return undefined;
  }
}

/** A path in any of the forms the datastore takes, resolved against the schema and validated. */
function instancePath(schema: Schema, path: string | InstancePath | DataPath<unknown>): InstancePath {
  if (typeof path === 'string') return parsedText(schema, path);
  return path instanceof DataPath ? resolveDataPath(schema, path) : path;
}

/** Recently parsed string paths per schema: a caller writing the same paths again parses once. */
const PARSED_TEXTS = 4096;
const parsedTexts = new WeakMap<Schema, Map<string, InstancePath>>();

function parsedText(schema: Schema, text: string): InstancePath {
  let cache = parsedTexts.get(schema);
  if (!cache) parsedTexts.set(schema, (cache = new Map()));
  let p = cache.get(text);
  if (p) return p;
  // Frozen, as resolveDataPath's are: the same array goes to every caller of this text.
  p = Object.freeze(parsePath(schema, text)) as InstancePath;
  // Dropped whole when full: a bulk load of unique paths costs one insert each, no bookkeeping.
  if (cache.size >= PARSED_TEXTS) cache.clear();
  cache.set(text, p);
  return p;
}

/** A canonical api-path and every ancestor of it (`/a/b=1/c` -> itself, `/a/b=1`, `/a`). */
function* ancestorsOf(path: string): Generator<string> {
  yield path;
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) yield path.slice(0, i);
}

type Edit =
  | { op: 'put' | 'merge'; path: InstancePath; value: DataValue }
  | { op: 'delete'; path: InstancePath };

export class Transaction {
  readonly snapshotRevision: number;
  /** Shared backends: the history position of the snapshot (what the commit's range guards name). */
  readonly snapshotPosition: number;
  /** Written under this instance's lease (see Datastore.transaction). */
  ephemeral = false;
  /** Leader fences this commit must still hold (see fence()). */
  readonly fences: { key: string; createRevision: string }[] = [];
  /** The committed tree this transaction started from. */
  private readonly base: DataObject;
  private working: DataObject;
  /** Objects of `working` this transaction made and may change in place (see setAt). */
  private owned = new WeakSet<object>();
  private readonly edits: Edit[] = [];
  private done = false;
  /**
   * True while every edit wrote where nothing was (in the working tree at its time). Then nothing
   * existed at any touched path in the snapshot either: a node an earlier edit took away was
   * deleted (or replaced above it) by an edit that cleared this flag.
   */
  private creating = true;

  /**
   * @param base the tree to start from (default: the store's latest); a commit phase's writer
   *   starts from the tree the commit would leave.
   * @param derived true for a commit phase's writer: its edits are taken by the commit in
   *   progress, so it cannot commit itself.
   */
  constructor(
    private readonly ds: Datastore,
    private readonly store: Store,
    base?: DataObject,
    private readonly derived = false,
  ) {
    this.snapshotRevision = store.head.revision;
    this.snapshotPosition = store.head.position ?? 0;
    this.base = base ?? store.head.root;
    this.working = this.base;
  }

  get storeName(): StoreName {
    return this.store.name;
  }

  private resolve(path: string | InstancePath | DataPath<unknown>): InstancePath {
    return instancePath(this.ds.schema, path);
  }

  /** Reads a node (JSON form) as this transaction sees it: its snapshot plus its own edits. */
  read<T>(path: DataPath<T>): T | undefined;
  read(path: string | InstancePath): unknown;
  read(path: string | InstancePath | DataPath<unknown>): unknown {
    const p = this.resolve(path);
    const v = getAt(this.working, p);
    return v === undefined ? undefined : toJsonValue(p[p.length - 1]?.schema, v);
  }

  exists(path: string | InstancePath | DataPath<unknown>): boolean {
    return getAt(this.working, this.resolve(path)) !== undefined;
  }

  /** Creates or replaces the node at `path` with a JSON value (RFC 7951 form, lists as arrays). */
  put<T>(path: DataPath<T>, json: NoInfer<T>): this;
  put(path: string | InstancePath, json: unknown): this;
  put(path: string | InstancePath | DataPath<unknown>, json: unknown): this {
    const p = this.resolve(path);
    return this.edit('put', p, this.decode(p, json));
  }

  /** Merges a JSON value into the node at `path`. */
  merge<T>(path: DataPath<T>, json: NoInfer<DeepPartial<T>>): this;
  merge(path: string | InstancePath, json: unknown): this;
  merge(path: string | InstancePath | DataPath<unknown>, json: unknown): this {
    const p = this.resolve(path);
    return this.edit('merge', p, this.decode(p, json));
  }

  /** Creates the node; fails with data-exists if it is there. */
  create<T>(path: DataPath<T>, json: NoInfer<T>): this;
  create(path: string | InstancePath, json: unknown): this;
  create(path: string | InstancePath | DataPath<unknown>, json: unknown): this {
    const p = this.resolve(path);
    if (getAt(this.working, p) !== undefined) {
      throw new YangError({ tag: 'data-exists', message: `${formatPath(p)} already exists`, path: formatPath(p) });
    }
    return this.edit('put', p, this.decode(p, json));
  }

  /** Deletes the node; fails with data-missing if it is not there. */
  delete(path: string | InstancePath | DataPath<unknown>): this {
    const p = this.resolve(path);
    if (getAt(this.working, p) === undefined) {
      throw new YangError({ tag: 'data-missing', message: `${formatPath(p)} does not exist`, path: formatPath(p) });
    }
    return this.edit('delete', p);
  }

  /** Deletes the node if it is there. */
  remove(path: string | InstancePath | DataPath<unknown>): this {
    const p = this.resolve(path);
    if (getAt(this.working, p) === undefined) return this;
    return this.edit('delete', p);
  }

  /**
   * Puts an already decoded internal value (for the platform's own protocol edges, which decode
   * XML or JSON themselves). The value is still checked to be in canonical internal form: this
   * path skips no check a JSON `put` makes, only the conversion.
   */
  putDecoded(path: InstancePath, value: DataValue): this {
    return this.edit('put', path, this.checked(path, value));
  }

  mergeDecoded(path: InstancePath, value: DataValue): this {
    return this.edit('merge', path, this.checked(path, value));
  }

  private checked(p: InstancePath, value: DataValue): DataValue {
    if (!p.length) throw new YangError({ tag: 'invalid-value', message: 'write a node, not the whole datastore root' });
    const text = formatPath(p);
    const last = p[p.length - 1];
    checkDecoded(this.ds.schema, last.schema, value, text, { configOnly: this.store.name === 'config' });
    if (last.schema.kind === 'list' && last.key !== undefined) return checkEntryKeys(last, value as DataObject, text);
    if (last.schema.kind === 'leaf-list' && last.key !== undefined && leafString(value as LeafValue) !== last.key) {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `the value in the data differs from the one in the path (${last.key})`, path: text });
    }
    return value;
  }

  private decode(p: InstancePath, json: unknown): DataValue {
    const text = formatPath(p);
    if (!p.length) throw new YangError({ tag: 'invalid-value', message: 'write a node, not the whole datastore root' });
    const last = p[p.length - 1];
    const opts = { configOnly: this.store.name === 'config' };
    if (last.schema.kind === 'list' && last.key !== undefined) {
      const entry = decodeListEntry(this.ds.schema, last.schema, withPathKeys(last, json), text, opts);
      return checkEntryKeys(last, entry, text);
    }
    if (last.schema.kind === 'leaf-list' && last.key !== undefined) {
      const [v] = decodeValue(this.ds.schema, last.schema, [json], text, opts) as LeafValue[];
      if (leafString(v) !== last.key) {
        throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `the value in the data differs from the one in the path (${last.key})`, path: text });
      }
      return v;
    }
    return decodeValue(this.ds.schema, last.schema, json, text, opts);
  }

  private edit(op: 'put' | 'merge' | 'delete', path: InstancePath, value?: DataValue): this {
    if (this.done) throw new YangError({ tag: 'operation-failed', message: 'the transaction is already committed or cancelled' });
    for (const s of path) {
      if (s.schema.kind === 'list' && s !== path[path.length - 1] && s.key === undefined) {
        throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `list "${s.schema.name}" in the middle of a path needs its keys`, path: formatPath(path) });
      }
    }
    const e: Edit = op === 'delete' ? { op, path } : { op, path, value: value! };
    this.edits.push(e);
    const found: Found = { existed: true };
    this.working = apply(this.working, e, this.owned, found);
    if (op === 'delete' || found.existed) this.creating = false;
    return this;
  }

  /**
   * Makes the commit conditional on a leadership (cluster mode): it commits only while the
   * leader key still has the fence's create revision, so a leader that was replaced while paused
   * cannot write when it wakes. Nothing to check on a single instance (no fence there).
   */
  fence(f: { key: string; createRevision: string } | undefined): this {
    if (f) this.fences.push(f);
    return this;
  }

  /** How many edits this transaction holds; a point `rollbackTo` can return to. */
  savepoint(): number {
    return this.edits.length;
  }

  /**
   * Drops the edits made after `savepoint` (a protocol edge making one request's edits atomic
   * inside a longer-lived transaction, such as NETCONF's candidate).
   */
  rollbackTo(savepoint: number): void {
    if (savepoint >= this.edits.length) return;
    this.edits.length = savepoint;
    this.owned = new WeakSet();
    this.working = this.replayOn(this.base);
  }

  /** True once committed (successfully or not) or cancelled. */
  get finished(): boolean {
    return this.done;
  }

  /** True when the transaction holds no edit. */
  get empty(): boolean {
    return this.edits.length === 0;
  }

  /** True when the store has commits newer than this transaction's snapshot. */
  get stale(): boolean {
    return this.store.head.revision !== this.snapshotRevision;
  }

  /**
   * A new transaction on the latest committed tree holding the same edits (later writes win on
   * the paths they touch); this one is cancelled.
   */
  rebased(): Transaction {
    const next = new Transaction(this.ds, this.store);
    for (const e of this.edits) next.edit(e.op, e.path, e.op === 'delete' ? undefined : e.value);
    this.cancel();
    return next;
  }

  /**
   * Makes the commit fail with a retryable conflict, as if this transaction had written `path`,
   * when a commit it did not see changed `path`, anything under it, or a node above it: a
   * protocol edge that checked a precondition on `path` against this transaction's snapshot
   * (an HTTP If-Match) keeps that check true up to the commit. Writes nothing.
   */
  guard(path: InstancePath): this {
    (this.guards ??= []).push(formatPath(path));
    return this;
  }

  private guards?: string[];

  /** The committed tree this transaction started from, whatever its edits since. Never modify it. */
  get snapshotRoot(): DataObject {
    return this.base;
  }

  /** @internal the paths a commit is checked for conflicts on: those written, and the guarded. */
  withGuards(texts: string[]): string[] {
    return this.guards ? [...texts, ...this.guards] : texts;
  }

  /** @internal */
  touchedPaths(): InstancePath[] {
    const out: InstancePath[] = [];
    const seen = new Set<string>();
    for (const e of this.edits) {
      const t = formatPath(e.path);
      if (!seen.has(t)) {
        seen.add(t);
        out.push(e.path);
      }
    }
    return out;
  }

  /** @internal */
  workingRoot(): DataObject {
    return this.working;
  }

  /** @internal True when every edit created its node (as seen from the snapshot). */
  onlyCreates(): boolean {
    return this.creating;
  }

  /** @internal re-applies the edits to a newer tree (no conflicting commit came between). */
  replayOn(root: DataObject): DataObject {
    let r = root;
    const owned = new WeakSet<object>();
    for (const e of this.edits) r = apply(r, e, owned);
    return r;
  }

  async commit(): Promise<number> {
    if (this.derived) throw new YangError({ tag: 'operation-failed', message: 'a commit phase writes into the commit in progress; it does not commit' });
    if (this.done) throw new YangError({ tag: 'operation-failed', message: 'the transaction is already committed or cancelled' });
    this.done = true;
    // From here on the working tree may be published: nothing may change it in place any more.
    this.owned = new WeakSet();
    return this.ds.commitOn(this.store, this);
  }

  cancel(): void {
    this.done = true;
  }
}

function apply(root: DataObject, e: Edit, owned: WeakSet<object>, found?: Found): DataObject {
  if (e.op === 'delete') return setAt(root, e.path, undefined, owned, found);
  if (e.op === 'put') return setAt(root, e.path, e.value, owned, found);
  const existing = getAt(root, e.path);
  if (found) found.existed = existing !== undefined;
  const last = e.path[e.path.length - 1];
  return setAt(root, e.path, mergeValue(last?.schema, existing, e.value), owned);
}

/** Runs `fn` (which opens and commits its own transaction) again when it loses a conflict. */
export async function retryOnConflict<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof YangError) || !e.retryable || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, Math.min(50, 2 ** i) * Math.random()));
    }
  }
}

export type { Change, ChangeHandler } from './listeners.ts';

// ---------------------------------------------------------------------------------------------
// Change times, for HTTP Last-Modified and If-(Un)Modified-Since. Kept apart from the commit
// machinery above: commitGroup tells the clock what each published group touched, and a query
// first accounts for revisions the clock never saw (commits of another instance, or data loaded
// at open) by moving a floor to "now", which is never earlier than the truth. Bounded: past
// 2 x CLOCK_PATHS paths per map (trimmed back to CLOCK_PATHS), or a group of more than
// CLOCK_GROUP_PATHS paths, the floor moves up
// instead, so answers get coarser, never wrong.

/**
 * The latest time (ms since the epoch) something changed a path, and the latest before it
 * (0 if none known). HTTP dates have one-second resolution: two changes in the same second mean
 * a client holding that second's date may have seen either, so it must count as modified.
 */
export interface ChangeTimes {
  last: number;
  previous: number;
}

const CLOCK_PATHS = 8192;
const CLOCK_GROUP_PATHS = 1024;

const second = (ms: number) => Math.floor(ms / 1000);

class StoreClock {
  /** Changes not in the maps happened no later than this. */
  floor = 0;
  /** The floor may stand for two changes within its second. */
  floorAmbiguous = false;
  /** The head revision the clock has accounted for; -1 before the first look. */
  seen = -1;
  /** Path text -> the two latest changes at it or under it. */
  readonly subtree = new Map<string, ChangeTimes>();
  /** Path text -> the two latest writes of that node itself (a write may change all under it). */
  readonly exact = new Map<string, ChangeTimes>();
}

class ChangeClock {
  private latest = 0;
  private readonly stores: Record<StoreName, StoreClock> = { config: new StoreClock(), operational: new StoreClock() };

  /**
   * Strictly increasing across both stores, so one time names one published group; the step is a
   * microsecond, so thousands of groups in one millisecond do not run the clock ahead of the wall.
   */
  private tick(): number {
    this.latest = Math.max(Date.now(), this.latest + 0.001);
    return this.latest;
  }

  /** Commits up to `revision` were not seen: they happened before now, at times unknown. */
  private adopt(s: StoreClock, revision: number): void {
    const before = this.latest;
    const now = this.tick();
    // The first look at a freshly opened store served nothing before; later ones may have
    // served a date in this very second for data that has changed since.
    s.floorAmbiguous = s.seen !== -1 && second(before) === second(now);
    s.floor = now;
    s.subtree.clear();
    s.exact.clear();
    s.seen = revision;
  }

  record(store: StoreName, from: number, to: number, groups: { texts: string[] }[]): void {
    const s = this.stores[store];
    if (s.seen !== from) this.adopt(s, from);
    let count = 0;
    for (const g of groups) count += g.texts.length;
    if (count > CLOCK_GROUP_PATHS) {
      this.adopt(s, to);
      return;
    }
    const t = this.tick();
    for (const g of groups) {
      for (const text of g.texts) {
        this.bump(s.exact, text, t);
        // Up the ancestors until one this group has bumped already (its own ancestors were bumped
        // with it): a thousand entries of one list climb the list's ancestors once, not 1,000 times.
        for (let a = text; this.bump(s.subtree, a, t); ) {
          const i = a.lastIndexOf('/');
          if (i <= 0) break;
          a = a.slice(0, i);
        }
        if (text !== '/') this.bump(s.subtree, '/', t);
      }
    }
    this.evict(s, s.exact);
    this.evict(s, s.subtree);
    s.seen = to;
  }

  /** Records a change at `text` at time `t`; false if this time was recorded there already. */
  private bump(map: Map<string, ChangeTimes>, text: string, t: number): boolean {
    const old = map.get(text);
    if (old === undefined) {
      map.set(text, { last: t, previous: 0 });
      return true;
    }
    if (old.last === t) return false;
    // Updated in place: no re-insertion, so a path changed again and again costs one lookup.
    old.previous = old.last;
    old.last = t;
    return true;
  }

  /**
   * Keeps the map to CLOCK_PATHS entries: once it holds twice that, the oldest changes (by `last`)
   * are dropped into the floor in one pass, in the order they happened, so the floor is what
   * dropping them one by one would have left. Amortised, a recorded path costs a lookup and a
   * share of one sort, not a re-insertion and an eviction each.
   */
  private evict(s: StoreClock, map: Map<string, ChangeTimes>): void {
    if (map.size <= 2 * CLOCK_PATHS) return;
    const entries = [...map].sort((a, b) => a[1].last - b[1].last);
    for (const [key, dropped] of entries.slice(0, entries.length - CLOCK_PATHS)) {
      map.delete(key);
      if (dropped.last <= s.floor) continue;
      s.floorAmbiguous = (s.floorAmbiguous && second(s.floor) === second(dropped.last)) || second(dropped.previous) === second(dropped.last);
      s.floor = dropped.last;
    }
  }

  query(store: StoreName, text: string, headRevision: number): ChangeTimes {
    const s = this.stores[store];
    if (s.seen !== headRevision) this.adopt(s, headRevision);
    const out: ChangeTimes = { last: s.floor, previous: s.floorAmbiguous ? s.floor : 0 };
    const consider = (v: number | undefined) => {
      if (v === undefined) return;
      if (v > out.last) {
        out.previous = out.last;
        out.last = v;
      } else if (v > out.previous && v < out.last) out.previous = v;
    };
    const below = s.subtree.get(text);
    consider(below?.last);
    consider(below?.previous);
    const above = text === '/' ? [] : [...ancestorsOf(text)].slice(1);
    if (text !== '/') above.push('/');
    for (const a of above) {
      const w = s.exact.get(a);
      consider(w?.last);
      consider(w?.previous);
    }
    return out;
  }
}

/**
 * Listener lag as gauges, per store and pattern (subscriptions with the same pattern summed, the
 * oldest age taken): read from the backlogs on each scrape, nothing walked but the subscriptions.
 */
function registerListenerLag(metrics: Metrics, listeners: ListenerHub): void {
  const byPattern = () => {
    const out = new Map<string, { store: StoreName; pattern: string; queued: number; oldestMs: number }>();
    for (const l of listeners.lag()) {
      const key = `${l.store} ${l.pattern}`;
      const seen = out.get(key);
      if (seen) {
        seen.queued += l.queued;
        seen.oldestMs = Math.max(seen.oldestMs, l.oldestMs);
      } else out.set(key, { store: l.store, pattern: l.pattern, queued: l.queued, oldestMs: l.oldestMs });
    }
    return [...out.values()];
  };
  metrics.gauge({
    name: 'sextant_datastore_listener_backlog',
    help: 'Commits a listener has not handled yet (batches waiting), per store and subscribed pattern',
    labelNames: ['store', 'pattern'],
    collect: () => byPattern().map((l) => ({ labels: { store: l.store, pattern: l.pattern }, value: l.queued })),
  });
  metrics.gauge({
    name: 'sextant_datastore_listener_lag_seconds',
    help: 'Age of the oldest commit a listener has not handled yet (0 when it is up to date), per store and subscribed pattern',
    labelNames: ['store', 'pattern'],
    collect: () => byPattern().map((l) => ({ labels: { store: l.store, pattern: l.pattern }, value: l.oldestMs / 1000 })),
  });
}
