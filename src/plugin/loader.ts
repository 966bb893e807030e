/**
 * Finds plugins under plugins/<name>/index.ts, checks what they declare against the schema,
 * orders them so that the providers of the modules a plugin `uses` start before it, gives each
 * a context of its own (options, timers, fetch, HTTP routes, subscriptions, all released at stop)
 * and starts it. A plugin that fails (bad declaration, missing module, throwing start) is
 * reported by name and taken out; the others go on.
 */
import { context, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { Cluster } from '../cluster/cluster.ts';
import { YangError } from '../errors.ts';
import type { OptionSpec, OptionValue } from '../config.ts';
import type { Datastore } from '../datastore/datastore.ts';
import type { NotificationBus } from '../rpc/notifications.ts';
import type { RpcRegistry } from '../rpc/registry.ts';
import type { Schema } from '../yang/schema.ts';
import type { Plugin, PluginContext, PluginData } from './api.ts';
import type { HttpListeners } from './http.ts';
import { pluginMetrics } from './metrics.ts';
import { Metrics } from '../telemetry/metrics.ts';

export interface LoadedPlugin {
  name: string;
  plugin: Plugin;
  ctx: PluginContext;
  /** What the plugin's start returned. */
  state: unknown;
}

export interface PluginFailure {
  name: string;
  error: string;
}

export interface PluginSet {
  /** In start order. */
  loaded: LoadedPlugin[];
  failed: PluginFailure[];
  /** The state of a started plugin (tests and benchmarks wait on a plugin's work queue). */
  state<S>(name: string): S | undefined;
  stop(): Promise<void>;
}

export interface Candidate {
  folder: string;
  plugin?: Plugin;
  error?: string;
}

/** What the platform lends every plugin. */
export interface PlatformServices {
  data: Datastore;
  rpc: RpcRegistry;
  notifications: NotificationBus;
  schema: Schema;
  tracer: Tracer;
  log: Logger;
  cluster: Cluster;
  http: HttpListeners;
  /** The controller's metrics (plugins register theirs in it); absent: a private registry nobody scrapes. */
  metrics?: Metrics;
}

/** Imports every plugin folder (sorted by name) and returns the module objects. */
export async function discoverPlugins(dir: string): Promise<Candidate[]> {
  if (!existsSync(dir)) return [];
  const folders = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const out: Candidate[] = [];
  for (const folder of folders) {
    const entry = join(resolve(dir), folder, 'index.ts');
    if (!existsSync(entry)) continue;
    try {
      const mod = (await import(pathToFileURL(entry).href)) as { default?: Plugin };
      if (!mod.default || typeof mod.default !== 'object' || typeof mod.default.name !== 'string') {
        out.push({ folder, error: 'index.ts does not default-export a plugin object with a name' });
      } else out.push({ folder, plugin: mod.default });
    } catch (e) {
      out.push({ folder, error: `cannot be imported: ${(e as Error).message}` });
    }
  }
  return out;
}

/**
 * The options the plugins declare, by their full names: `<plugin>-<option>`, and
 * `<listener>-port` for each named HTTP listener (plugins sharing a listener share its option).
 */
export function declaredOptions(candidates: Candidate[]): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const { plugin } of candidates) {
    if (!plugin) continue;
    for (const [opt, spec] of Object.entries(plugin.options ?? {})) out[`${plugin.name}-${opt}`] = spec;
    for (const [listener, spec] of Object.entries(plugin.http ?? {})) {
      out[`${listener}-port`] ??= { kind: 'port', default: spec.port, help: spec.help };
    }
  }
  return out;
}

/**
 * Start order: a plugin after the plugins that provide the modules it uses, otherwise by folder
 * name. A cycle is an error for the plugins in it.
 */
export function startOrder(plugins: Plugin[]): { order: Plugin[]; cyclic: Plugin[] } {
  const provider = new Map<string, Plugin>();
  for (const p of plugins) for (const m of p.provides ?? []) provider.set(m, p);
  const order: Plugin[] = [];
  const state = new Map<Plugin, 'visiting' | 'done'>();
  const cyclic = new Set<Plugin>();
  const visit = (p: Plugin, trail: Plugin[]) => {
    if (state.get(p) === 'done') return;
    if (state.get(p) === 'visiting') {
      for (const q of trail.slice(trail.indexOf(p))) cyclic.add(q);
      return;
    }
    state.set(p, 'visiting');
    for (const m of p.uses ?? []) {
      const dep = provider.get(m);
      if (dep && dep !== p) visit(dep, [...trail, p]);
    }
    state.set(p, 'done');
    if (!cyclic.has(p)) order.push(p);
  };
  for (const p of plugins) visit(p, []);
  return { order: order.filter((p) => !cyclic.has(p)), cyclic: [...cyclic] };
}

/** What a plugin holds that the platform releases when it stops. */
class Resources {
  readonly unsubscribe: (() => void)[] = [];
  readonly timers = new Set<NodeJS.Timeout>();
  readonly requests = new Set<AbortController>();

  release(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of this.requests) a.abort(new Error('the plugin is stopping'));
    this.requests.clear();
  }
}

function pluginContext(name: string, plugin: Plugin, svc: PlatformServices, options: Record<string, OptionValue>, res: Resources): PluginContext {
  const log = svc.log.child({ plugin: name });
  const tracer = trace.getTracer(`sextant.plugin.${name}`);
  const onError = (what: string) => (e: unknown) => log.error({ err: e }, `${name}: ${what} failed`);
  const traced = (what: string, fn: () => unknown) => () =>
    tracer.startActiveSpan(what, (span) => {
      try {
        const r = fn();
        if (r instanceof Promise) void r.catch(onError(what)).finally(() => span.end());
        else span.end();
      } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        onError(what)(e);
      }
    });
  const data: PluginData = {
    transaction: (store, opts) => {
      if (!opts?.leaderOnly) return svc.data.transaction(store);
      if (!svc.cluster.isLeader()) throw new YangError({ tag: 'operation-failed', appTag: 'not-leader', message: `plugin ${name}: leader-only work on ${svc.cluster.memberId}, which does not lead` });
      return svc.data.transaction(store).fence(svc.cluster.fence());
    },
    read: ((store: 'config' | 'operational', path: Parameters<Datastore['read']>[1]) => svc.data.read(store, path)) as Datastore['read'],
    readEntries: ((store: 'config' | 'operational', path: string) => svc.data.readEntries(store, path)) as Datastore['readEntries'],
    revision: (store) => svc.data.revision(store),
    subscribe: ((store, pattern, handler, opts) => {
      const u = svc.data.subscribe(store, pattern, handler, { onError: onError(`listener on ${store} ${String(pattern)}`), ...opts });
      res.unsubscribe.push(u);
      return u;
    }) as Datastore['subscribe'],
    phases: (spec) => {
      const u = svc.data.registerPhases({ ...spec, owner: name });
      res.unsubscribe.push(u);
      return u;
    },
    settled: () => svc.data.settled(),
  };
  const declared = plugin.http ?? {};
  return {
    name,
    data,
    rpc: { invoke: (rpc, input) => svc.rpc.invoke(rpc, input ?? {}) },
    notifications: {
      emit: (n, body) => svc.notifications.emit(n, body),
      subscribe: (n, fn) => {
        if (!svc.schema.notifications.has(n)) throw new YangError({ tag: 'unknown-element', message: `plugin ${name} subscribes to "${n}", which no loaded YANG module defines` });
        const u = svc.notifications.subscribe((ev) => (ev.name === n ? fn(ev) : undefined));
        res.unsubscribe.push(u);
        return u;
      },
    },
    schema: svc.schema,
    tracer,
    log,
    cluster: svc.cluster,
    options: Object.fromEntries(Object.keys(plugin.options ?? {}).map((o) => [o, options[`${name}-${o}`]])) as PluginContext['options'],
    timers: {
      setTimeout(fn, ms) {
        const t = setTimeout(() => {
          res.timers.delete(t);
          traced('timer', fn)();
        }, ms);
        res.timers.add(t);
        return t;
      },
      setInterval(fn, ms) {
        const t = setInterval(traced('interval', fn), ms);
        res.timers.add(t);
        return t;
      },
      clear(t) {
        clearTimeout(t);
        res.timers.delete(t);
      },
    },
    fetch: async (input, init) => {
      const abort = new AbortController();
      res.requests.add(abort);
      const signal = init?.signal ? AbortSignal.any([init.signal, abort.signal]) : abort.signal;
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const span = tracer.startSpan(`fetch ${init?.method ?? 'GET'}`, { attributes: { 'url.full': url } }, context.active());
      try {
        const r = await fetch(input, { ...init, signal });
        span.setAttribute('http.response.status_code', r.status);
        return r;
      } catch (e) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
        throw e;
      } finally {
        span.end();
        res.requests.delete(abort);
      }
    },
    metrics: pluginMetrics(svc.metrics ?? new Metrics(), data.subscribe, (fn) => res.unsubscribe.push(fn)),
    http: (listener) => {
      if (!(listener in declared)) throw new Error(`plugin ${name} uses HTTP listener "${listener}" without declaring it in its http table`);
      return svc.http.forPlugin(name, listener, Number(options[`${listener}-port`]));
    },
  };
}

export async function startPlugins(candidates: Candidate[], svc: PlatformServices, options: Record<string, OptionValue>): Promise<PluginSet> {
  const loaded: (LoadedPlugin & { res: Resources })[] = [];
  const failed: PluginFailure[] = [];
  const fail = (name: string, error: string, err?: unknown) => {
    failed.push({ name, error });
    svc.log.error({ plugin: name, err }, `plugin ${name} failed${err ? ' to start' : ''}: ${error}`);
  };
  const plugins: Plugin[] = [];
  for (const c of candidates) {
    if (c.plugin) plugins.push(c.plugin);
    else fail(c.folder, c.error!);
  }
  const { order, cyclic } = startOrder(plugins);
  for (const p of cyclic) fail(p.name, `its "uses" form a cycle with ${cyclic.filter((q) => q !== p).map((q) => q.name).join(', ')}`);
  const provided = new Set(plugins.flatMap((p) => p.provides ?? []));
  for (const plugin of order) {
    const name = plugin.name;
    const res = new Resources();
    const ctx = pluginContext(name, plugin, svc, options, res);
    const absent = plugin.optional ? plugin.yang?.find((m) => !svc.schema.modules.has(m)) : undefined;
    if (absent) {
      ctx.log.info(`plugin ${name} not started: it serves module ${absent}, which is not loaded`);
      continue;
    }
    try {
      for (const m of [...(plugin.yang ?? []), ...(plugin.provides ?? []), ...(plugin.uses ?? [])]) {
        if (!svc.schema.modules.has(m)) throw new Error(`needs YANG module "${m}", which is not in yang/`);
      }
      for (const m of plugin.uses ?? []) {
        if (!provided.has(m)) ctx.log.info(`plugin ${name} uses ${m}, which no loaded plugin provides`);
      }
      const state = await plugin.start?.(ctx);
      // Handlers are wired once start has returned the state they are handed; listeners replay
      // what exists, so nothing written meanwhile is missed.
      for (const [rpc, fn] of Object.entries(plugin.rpcs ?? {})) svc.rpc.register(rpc, (input) => fn(input, ctx, state), name);
      for (const l of plugin.listeners ?? []) ctx.data.subscribe(l.store, l.path, (changes) => l.handler(changes, ctx, state));
      for (const ph of plugin.phases ?? []) {
        ctx.data.phases({
          store: ph.store,
          path: ph.path,
          priority: ph.priority,
          prepare: ph.prepare && ((changes, tx) => ph.prepare!(changes, tx, ctx, state)),
          validate: ph.validate && ((changes, view) => ph.validate!(changes, view, ctx, state)),
          apply: ph.apply && ((changes) => ph.apply!(changes, ctx, state)),
          abort: ph.abort && ((changes, e) => ph.abort!(changes, e, ctx, state)),
        });
      }
      loaded.push({ name, plugin, ctx, state, res });
      ctx.log.info(`plugin ${name} started`);
    } catch (e) {
      svc.rpc.unregisterOwner(name);
      res.release();
      fail(name, (e as Error).message, e);
    }
  }
  return {
    loaded,
    failed,
    state: <S>(name: string) => loaded.find((l) => l.name === name)?.state as S | undefined,
    async stop() {
      for (const lp of [...loaded].reverse()) {
        lp.res.release();
        try {
          await lp.plugin.stop?.(lp.ctx, lp.state);
        } catch (e) {
          svc.log.error({ err: e, plugin: lp.name }, `plugin ${lp.name} failed to stop`);
        }
        svc.rpc.unregisterOwner(lp.name);
      }
    },
  };
}
