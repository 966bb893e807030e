/**
 * The plugin API (v2). A plugin is a folder under plugins/ whose index.ts default-exports a
 * Plugin: a table of what it serves (rpcs keyed by `module:rpc`, data listeners and commit phases
 * keyed by store and path) and optional start/stop. `start` returns the plugin's own state, which
 * the platform hands to every handler and to `stop`: nothing lives in module globals, so several
 * controllers can run in one process. Plugins never import each other; they meet in the
 * datastore and in RPCs, and say which other plugins' modules they read (`uses`) so the loader
 * starts those first.
 */
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Cluster } from '../cluster/cluster.ts';
import type { OptionSpec, OptionValue } from '../config.ts';
import type { Change, Datastore, StoreName } from '../datastore/datastore.ts';
import type { CommitPhases, PhaseView, PhaseWriter } from '../datastore/phases.ts';
import type { YangError } from '../errors.ts';
import type { NotificationHandler } from '../rpc/notifications.ts';
import type { DataPath, Mode } from '../yang/binding.ts';
import type { Schema } from '../yang/schema.ts';
import type { CounterHandle, CounterSpec, GaugeSpec, HistogramHandle, HistogramSpec, MetricLabels } from '../telemetry/metrics.ts';
import type { PluginHttp } from './http.ts';

/** What a plugin may do with the datastore: transactions, reads, change subscriptions, phases. */
export interface PluginData {
  /**
   * A transaction. `{ leaderOnly: true }` for the leader's synchronisation work: refused at once
   * on a member that does not lead, and fenced, so it commits only while this member still leads.
   */
  transaction(store: StoreName, opts?: { leaderOnly?: boolean }): ReturnType<Datastore['transaction']>;
  read: Datastore['read'];
  readEntries: Datastore['readEntries'];
  revision: Datastore['revision'];
  /** Post-commit listener; removed by the platform when the plugin stops. */
  subscribe: Datastore['subscribe'];
  /** Commit phases (validate / prepare / apply / abort) on a path; removed when the plugin stops. */
  phases(spec: Omit<CommitPhases, 'owner'>): () => void;
  /** Resolves when every listener has handled every commit so far. */
  settled: Datastore['settled'];
}

/**
 * The plugin's share of the controller's Prometheus metrics (`/metrics`). Names are the plugin's
 * to choose within the conventions (`sextant_` prefix, counters `_total`, base units); everything
 * registered is removed when the plugin stops.
 */
export interface PluginMetrics {
  /** A gauge read on each scrape: keep `collect` cheap (a small subtree, a count kept elsewhere). */
  gauge(spec: GaugeSpec): void;
  counter(spec: CounterSpec): CounterHandle;
  histogram(spec: HistogramSpec): HistogramHandle;
  /**
   * A gauge of how many entries of a list there are, per label set computed from each entry,
   * kept up to date by a listener on the list (its replay counts what exists at start), so a
   * scrape costs nothing however large the list.
   */
  countEntries<T>(spec: EntryCountSpec<T>): void;
}

export interface EntryCountSpec<T> {
  name: string;
  help: string;
  store: StoreName;
  /** A list entry pattern (ANY keys, or `*` in text). */
  path: string | DataPath<T, Mode>;
  labelNames: string[];
  /**
   * The labels an entry is counted under; undefined: not counted. `keys`: the values of the
   * pattern's `ANY` keys, in order (the parent's key of a nested list's entry, for instance).
   */
  labels(entry: T, keys: string[]): MetricLabels | undefined;
  /** Label sets reported even while no entry has them (at 0): each status a dashboard expects. */
  always?: MetricLabels[];
}

/** Timers the platform clears when the plugin stops; each firing runs in a span. */
export interface PluginTimers {
  setTimeout(fn: () => unknown, ms: number): NodeJS.Timeout;
  setInterval(fn: () => unknown, ms: number): NodeJS.Timeout;
  clear(timer: NodeJS.Timeout): void;
}

/** Values of the plugin's declared options, by the option's name as declared. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: O[K]['kind'] extends 'string' ? string : O[K]['kind'] extends 'boolean' ? boolean : number;
};

export interface PluginContext<O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  /** The plugin's name (as in logs, spans and errors). */
  name: string;
  data: PluginData;
  /** Invoke any rpc (another plugin's included), with input and output validated. */
  rpc: { invoke(name: string, input?: Record<string, unknown>): Promise<unknown> };
  notifications: {
    emit(name: string, body?: unknown): unknown;
    /** Notifications of one name (`module:notification`); removed when the plugin stops. */
    subscribe(name: string, fn: NotificationHandler): () => void;
  };
  schema: Schema;
  tracer: Tracer;
  log: Logger;
  cluster: Cluster;
  /** `--<plugin>-<option>` settings (flag, environment or config file), coerced to their kinds. */
  options: OptionValues<O>;
  timers: PluginTimers;
  /** Outbound HTTP: a traced fetch whose requests are aborted when the plugin stops. */
  fetch: typeof fetch;
  /** Routes on a named platform HTTP listener the plugin declared in `http`. */
  http(listener: string): PluginHttp;
  metrics: PluginMetrics;
}

export type PluginRpc<S = unknown> = (input: Record<string, unknown>, ctx: PluginContext, state: S) => unknown | Promise<unknown>;

export interface PluginListener<S = unknown> {
  store: StoreName;
  /** api-path pattern (a generated path with ANY keys, or text where `*` stands for any key). */
  path: string | DataPath<unknown, Mode>;
  handler: (changes: Change[], ctx: PluginContext, state: S) => void | Promise<void>;
}

/** A typed listener entry for a plugin's table: the changes carry the path's JSON type. */
export function listener<T, S = unknown>(
  store: StoreName,
  path: DataPath<T, Mode>,
  handler: (changes: Change<T>[], ctx: PluginContext, state: S) => void | Promise<void>,
): PluginListener<S> {
  return { store, path, handler: handler as PluginListener<S>['handler'] };
}

/** A commit phase declared in the plugin's table; the callbacks also get the context and state. */
export interface PluginPhases<S = unknown, T = unknown> {
  store: StoreName;
  path: string | DataPath<T, Mode>;
  /** Lower runs first (default 0). */
  priority?: number;
  prepare?: (changes: Change<T>[], tx: PhaseWriter, ctx: PluginContext, state: S) => void | Promise<void>;
  validate?: (changes: Change<T>[], view: PhaseView, ctx: PluginContext, state: S) => void | Promise<void>;
  apply?: (changes: Change<T>[], ctx: PluginContext, state: S) => void;
  abort?: (changes: Change<T>[], error: YangError, ctx: PluginContext, state: S) => void;
}

/** A typed phase entry for a plugin's table: the changes carry the path's JSON type. */
export function phase<T, S = unknown>(store: StoreName, path: DataPath<T, Mode>, callbacks: Omit<PluginPhases<S, T>, 'store' | 'path'>): PluginPhases<S> {
  return { store, path, ...callbacks } as unknown as PluginPhases<S>;
}

/** A named HTTP listener the plugin serves routes on; its port is the option `--<name>-port`. */
export interface HttpListenerSpec {
  port: number;
  help: string;
}

export interface Plugin<S = unknown, O extends Record<string, OptionSpec> = Record<string, OptionSpec>> {
  name: string;
  /** YANG modules (by name) the plugin needs; each must be in yang/. */
  yang?: string[];
  /**
   * The plugin serves modules that are loaded only when asked for (OpenDaylight's test models,
   * `--with-test-models`): when one of its `yang` modules is missing it is not started, and an
   * info line says so, instead of failing.
   */
  optional?: boolean;
  /** Modules whose data or rpcs this plugin is the source of (others may `use` them). */
  provides?: string[];
  /**
   * Modules provided by other plugins that this one reads or calls. Their providers start
   * first; a provider that is not loaded is logged, not fatal (the data may come from elsewhere).
   */
  uses?: string[];
  /** Settings, given as `--<plugin>-<option>` / `SEXTANT_<PLUGIN>_<OPTION>` / config file key. */
  options?: O;
  /** Named HTTP listeners this plugin serves routes on (several plugins may share one). */
  http?: Record<string, HttpListenerSpec>;
  /**
   * A folder (absolute path) of browser ES modules for the web console (`/console`): its
   * `view.js` exports `mount(ui)`, which adds the plugin's panels and the data they watch. The
   * page reads only the published YANG data and rpcs, so a view depends on no plugin's code.
   */
  console?: string;
  rpcs?: Record<string, PluginRpc<S>>;
  listeners?: PluginListener<S>[];
  phases?: PluginPhases<S>[];
  start?(ctx: PluginContext<O>): S | Promise<S>;
  stop?(ctx: PluginContext<O>, state: S): void | Promise<void>;
}

/** Identity, for type inference: the state type comes from what `start` returns. */
export function definePlugin<S = undefined, O extends Record<string, OptionSpec> = Record<string, never>>(plugin: Plugin<S, O>): Plugin<S, O> {
  return plugin;
}

export type { OptionSpec, OptionValue };
