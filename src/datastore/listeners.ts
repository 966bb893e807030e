/**
 * Data-tree change listeners. A subscription names a store and an api-path pattern in which a
 * list key may be `*` (for example topology=* then node=* under network-topology). After each commit
 * it receives, once, the list of instances of its pattern that the commit created, updated or
 * deleted, with their before and after values (JSON, lists as arrays). Each subscription has its
 * own bounded backlog, so a slow handler delays only itself (never a commit), and it always sees
 * commits in order (merged when it falls BACKLOG_BATCHES behind).
 */
import { trace } from '@opentelemetry/api';
import { inSpan } from '../telemetry/tracing.ts';
import { YangError } from '../errors.ts';
import { toJsonValue } from '../yang/json.ts';
import { formatPath, parseApiPath, resolvePath, type InstancePath, type InstanceStep } from '../yang/path.ts';
import type { DataPath, Mode } from '../yang/binding.ts';
import type { DataObject, DataValue, LeafValue, Schema, SchemaNode } from '../yang/schema.ts';
import { leafString } from '../yang/cursor.ts';
import { compileFields, parseFields, selectTree } from '../yang/select.ts';
import { getAt, isObj, sameValue } from './tree.ts';
import type { StoreName } from './datastore.ts';

/** `T`: the JSON type of the pattern's node (a DataPath pattern gives it). */
export interface Change<T = unknown> {
  type: 'created' | 'updated' | 'deleted';
  /** Canonical api-path of the instance. */
  path: string;
  /** List key values of the pattern's `*` steps, in order (canonical JSON values). */
  keys: LeafValue[][];
  before?: T;
  after?: T;
}

function lazyJson(change: Change, member: 'before' | 'after', schema: SchemaNode | undefined, value: DataValue | undefined): void {
  if (value === undefined) {
    change[member] = undefined;
    return;
  }
  let json: unknown;
  let done = false;
  Object.defineProperty(change, member, {
    enumerable: true,
    configurable: true,
    get() {
      if (!done) {
        json = toJsonValue(schema, value);
        done = true;
      }
      return json;
    },
  });
}

export type ChangeHandler<T = unknown> = (changes: Change<T>[]) => void | Promise<void>;

export interface SubscribeOptions {
  /** Deliver the instances that exist now as `created` first (default true). */
  replay?: boolean;
  /** Told when a handler throws; the subscription goes on. */
  onError?: (e: unknown) => void;
  /**
   * RFC 8040 `fields` (`a;b(c;d)`) applied to each instance before it is handed over: a watcher
   * that shows a few leaves of big entries (a bridge with hundreds of ports) receives only those,
   * and an update that changed nothing it selected is not reported at all.
   */
  fields?: string;
}

/** A pattern's instances' part a subscription selected (see SubscribeOptions.fields). */
type Projection = (value: DataValue) => DataValue;

export interface PatternStep {
  step: InstanceStep;
  wildcard: boolean;
}

interface Subscription {
  store: StoreName;
  pattern: PatternStep[];
  handler: ChangeHandler;
  /** The pattern as given (for lag reports). */
  text: string;
  /** Batches published and not yet handed to the handler, oldest first, with when (performance.now()). */
  backlog: { changes: Change[]; at: number }[];
  /** The handler is running (or about to run) a batch. */
  running: boolean;
  /** Batches merged into others because the backlog was full (see BACKLOG_BATCHES). */
  coalesced: number;
  onError?: (e: unknown) => void;
  project?: Projection;
  active: boolean;
}

/**
 * How many published batches a subscription may hold before they are merged into one. A slow
 * handler never delays a commit (publishing only queues), and this keeps what it has not seen
 * bounded by the instances that changed, not by the number of commits: merged batches carry, per
 * instance, the state before the first change and after the last (a node created then deleted
 * meanwhile is not reported at all), which is what a handler reconciling to the data needs.
 */
export const BACKLOG_BATCHES = 64;

/** What a subscription has not handled yet (for the listener lag a metrics surface reports). */
export interface ListenerLag {
  store: StoreName;
  pattern: string;
  /** Batches waiting (the one being handled not counted). */
  queued: number;
  /** Age of the oldest waiting batch, ms (0 when none waits). */
  oldestMs: number;
  /** Batches merged so far because the backlog was full. */
  coalesced: number;
}


const tracer = trace.getTracer('sextant.datastore');

export class ListenerHub {
  private readonly subs = new Set<Subscription>();
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly schema: Schema,
    private readonly current: (store: StoreName) => DataObject,
  ) {}

  subscribe<T = unknown>(store: StoreName, pattern: string | DataPath<T, Mode>, handler: ChangeHandler<T>, opts: SubscribeOptions = {}): () => void {
    const steps = this.compile(pattern);
    const project = opts.fields === undefined ? undefined : this.projection(steps, opts.fields);
    const sub: Subscription = { store, pattern: steps, handler: handler as ChangeHandler, text: typeof pattern === 'string' ? pattern : pattern.text, backlog: [], running: false, coalesced: 0, onError: opts.onError, project, active: true };
    this.subs.add(sub);
    if (opts.replay !== false) {
      const changes = this.presentOf(steps, this.current(store), project);
      if (changes.length) this.enqueue(sub, changes);
    }
    return () => {
      sub.active = false;
      this.subs.delete(sub);
    };
  }

  /**
   * The instances of a pattern that exist now, as `created` changes (what a subscription's replay
   * delivers), read synchronously: a caller that subscribes without replay and reads this in the
   * same turn has the state and then every change after it, nothing missed or seen twice.
   */
  present(store: StoreName, pattern: string | DataPath<unknown, Mode>, opts: { fields?: string } = {}): Change[] {
    const steps = this.compile(pattern);
    return this.presentOf(steps, this.current(store), opts.fields === undefined ? undefined : this.projection(steps, opts.fields));
  }

  private presentOf(steps: PatternStep[], root: DataObject, project?: Projection): Change[] {
    return this.instances(steps, root, [], 0)
      .map((inst) => this.change(inst, undefined, inst.value, project))
      .filter((c): c is Change => c !== undefined);
  }

  /** `fields` against the pattern's node, through the one tree selection (select.ts). */
  private projection(steps: PatternStep[], fields: string): Projection {
    const node = steps[steps.length - 1]?.step.schema;
    if (!node) throw new YangError({ tag: 'invalid-value', message: 'fields need a pattern below the datastore root' });
    const tree = compileFields(node, parseFields(fields));
    return (value) => selectTree(node, value, tree, 'keep') ?? value;
  }

  /** Compiles an api-path pattern (`*` keys on list steps) against the schema. */
  compile(path: string | DataPath<unknown, Mode>): PatternStep[] {
    const pattern = typeof path === 'string' ? path : path.text;
    const raw = typeof path === 'string' ? parseApiPath(path) : path.steps;
    const wild = raw.map((s) => s.keys?.length === 1 && s.keys[0] === '*');
    const resolved = resolvePath(this.schema, raw.map((s, i) => (wild[i] ? { ...s, keys: undefined } : s)), pattern);
    return resolved.map((step, i) => {
      if (wild[i] && step.schema.kind !== 'list') {
        throw new YangError({ tag: 'invalid-value', message: `"*" is only allowed on a list step (pattern ${pattern})` });
      }
      return { step, wildcard: wild[i] };
    });
  }

  /** Called by the datastore after a commit is published. */
  publish(store: StoreName, before: DataObject, after: DataObject, touched: InstancePath[]): void {
    for (const sub of this.subs) {
      if (sub.store !== store) continue;
      const changes = this.changesFor(sub.pattern, before, after, touched, sub.project);
      if (changes.length) this.enqueue(sub, changes);
    }
  }

  /**
   * The instances of a compiled pattern that a change from `before` to `after` (touching
   * `touched`) created, updated or deleted. Listeners and commit phases see changes through this
   * one function, so both agree on what changed.
   */
  changesFor(pattern: PatternStep[], before: DataObject, after: DataObject, touched: InstancePath[], project?: Projection): Change[] {
    const seen = new Set<string>();
    const changes: Change[] = [];
    for (const t of touched) {
      for (const inst of this.affected(pattern, t, before, after)) {
        const text = formatPath(inst.path);
        if (seen.has(text)) continue;
        seen.add(text);
        const c = this.change(inst, getAt(before, inst.path), getAt(after, inst.path), project);
        if (c) changes.push(c);
      }
    }
    return changes;
  }

  /** Instances of the pattern that lie on, above or below a touched path. */
  private affected(pattern: PatternStep[], touched: InstancePath, before: DataObject, after: DataObject): Inst[] {
    const n = Math.min(pattern.length, touched.length);
    const keys: LeafValue[][] = [];
    for (let i = 0; i < n; i++) {
      const p = pattern[i];
      const t = touched[i];
      if (p.step.schema !== t.schema) return [];
      if (!p.wildcard && p.step.key !== undefined && t.key !== undefined && p.step.key !== t.key) return [];
      if (!p.wildcard && p.step.key !== undefined && t.key === undefined) {
        // The touched path is the whole list; the pattern names one entry of it.
        return this.dedupe([...this.instances(pattern, before, touched.slice(0, i), i), ...this.instances(pattern, after, touched.slice(0, i), i)]);
      }
      if (p.wildcard) {
        if (t.key === undefined) {
          return this.dedupe([...this.instances(pattern, before, touched.slice(0, i), i, keys), ...this.instances(pattern, after, touched.slice(0, i), i, keys)]);
        }
        keys.push(t.keyValues ?? []);
      }
    }
    if (touched.length >= pattern.length) {
      const path = touched.slice(0, pattern.length).map((s, i) => (pattern[i].wildcard || pattern[i].step.key === undefined ? s : pattern[i].step));
      return [{ path, keys }];
    }
    // The touched node is above the pattern: every instance below it.
    return this.dedupe([...this.instances(pattern, before, touched, touched.length, keys), ...this.instances(pattern, after, touched, touched.length, keys)]);
  }

  private dedupe(list: Inst[]): Inst[] {
    const seen = new Set<string>();
    return list.filter((i) => {
      const t = formatPath(i.path);
      if (seen.has(t)) return false;
      seen.add(t);
      return true;
    });
  }

  /** Instances of the pattern in a tree, starting from a fixed prefix of `from` steps. */
  private instances(pattern: PatternStep[], root: DataObject, prefix: InstancePath, from: number, keys: LeafValue[][] = []): Inst[] {
    // Each instance carries its node down, so no level is looked up again from the root.
    let level: Inst[] = [{ path: prefix, keys, value: getAt(root, prefix) }];
    for (let i = from; i < pattern.length; i++) {
      const p = pattern[i];
      const next: Inst[] = [];
      for (const inst of level) {
        const parent = inst.value;
        if (!isObj(parent)) continue;
        const v = parent[p.step.member];
        if (v === undefined) continue;
        if (p.wildcard) {
          if (!(v instanceof Map)) continue;
          for (const [k, e] of v) {
            const keyValues = p.step.schema.keys.map((kn) => e[kn] as LeafValue);
            next.push({ path: [...inst.path, { ...p.step, key: k, keyValues }], keys: [...inst.keys, keyValues], value: e });
          }
        } else if (p.step.key !== undefined) {
          const key = p.step.key;
          const e = v instanceof Map ? v.get(key) : Array.isArray(v) ? (v as LeafValue[]).find((x) => leafString(x) === key) : undefined;
          if (e !== undefined) next.push({ path: [...inst.path, p.step], keys: inst.keys, value: e });
        } else {
          next.push({ path: [...inst.path, p.step], keys: inst.keys, value: v });
        }
      }
      level = next;
    }
    return level;
  }

  private change(inst: Inst, before: DataValue | undefined, after: DataValue | undefined, project?: Projection): Change | undefined {
    if (before === undefined && after === undefined) return undefined;
    if (project) {
      if (before !== undefined) before = project(before);
      if (after !== undefined) after = project(after);
    }
    if (sameValue(before, after)) return undefined;
    const schema = inst.path[inst.path.length - 1]?.schema;
    const change = {
      type: before === undefined ? 'created' : after === undefined ? 'deleted' : 'updated',
      path: formatPath(inst.path),
      keys: inst.keys,
    } as Change;
    // before/after become JSON only when a handler reads them: many handlers look at the keys
    // and skip most changes, and a bridge node with hundreds of ports is costly to convert. The
    // values are immutable snapshot subtrees, so converting later gives the same JSON.
    lazyJson(change, 'before', schema, before);
    lazyJson(change, 'after', schema, after);
    return change;
  }

  private enqueue(sub: Subscription, changes: Change[]): void {
    sub.backlog.push({ changes, at: performance.now() });
    if (sub.backlog.length > BACKLOG_BATCHES) {
      sub.coalesced += sub.backlog.length - 1;
      const merged = this.merged(sub.backlog.map((b) => b.changes));
      sub.backlog = merged.length ? [{ changes: merged, at: sub.backlog[0].at }] : [];
    }
    if (sub.running) return;
    sub.running = true;
    const run = this.drain(sub);
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  /** Hands the backlog to the handler one batch at a time, in order, until it is empty. */
  private async drain(sub: Subscription): Promise<void> {
    // Never inside publish: the handler runs after the commit that published has returned.
    await undefined;
    try {
      while (sub.active && sub.backlog.length) {
        const { changes } = sub.backlog.shift()!;
        try {
          await inSpan(tracer, 'datastore.listener', async () => sub.handler(changes));
        } catch (e) {
          sub.onError?.(e);
        }
      }
    } finally {
      sub.running = false;
      if (!sub.active) sub.backlog = [];
    }
  }

  /** Batches merged into one: per instance, its state before the first and after the last. */
  private merged(batches: Change[][]): Change[] {
    const byPath = new Map<string, { first: Change; last: Change }>();
    for (const batch of batches) {
      for (const c of batch) {
        const seen = byPath.get(c.path);
        if (seen) {
          // Re-inserted: the instance takes the position of its latest change.
          byPath.delete(c.path);
          byPath.set(c.path, { first: seen.first, last: c });
        } else byPath.set(c.path, { first: c, last: c });
      }
    }
    const out: Change[] = [];
    for (const { first, last } of byPath.values()) {
      if (first === last) {
        out.push(first);
        continue;
      }
      // Only a backlog that overflowed gets here: the JSON each side is compared by is made now.
      const created = first.type === 'created';
      const deleted = last.type === 'deleted';
      if (created && deleted) continue;
      if (!created && !deleted && JSON.stringify(first.before) === JSON.stringify(last.after)) continue;
      const change = { type: created ? 'created' : deleted ? 'deleted' : 'updated', path: last.path, keys: last.keys } as Change;
      Object.defineProperty(change, 'before', { enumerable: true, configurable: true, get: () => first.before });
      Object.defineProperty(change, 'after', { enumerable: true, configurable: true, get: () => last.after });
      out.push(change);
    }
    return out;
  }

  /** Per subscription, what it has not handled yet. */
  lag(): ListenerLag[] {
    const now = performance.now();
    return [...this.subs].map((s) => ({
      store: s.store,
      pattern: s.text,
      queued: s.backlog.length,
      oldestMs: s.backlog.length ? now - s.backlog[0].at : 0,
      coalesced: s.coalesced,
    }));
  }

  /** Resolves when every queued change, including those queued meanwhile, has been handled. */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }
}

interface Inst {
  path: InstancePath;
  keys: LeafValue[][];
  /** The instance's node in the tree it was found in (instances() sets it). */
  value?: DataValue;
}
