/**
 * Prometheus metrics of one controller. Each controller has its own `Metrics` (its own
 * prom-client Registry, never prom-client's module-level default one), so two controllers in one
 * process report separately. The platform's instruments are defined here, in one place, and the
 * components record into them through small methods (`commit`, `rpcCall`, `httpRequest`); gauges
 * whose value is read when scraped (sessions, connections, cluster, listener lag, and whatever a
 * plugin or southbound registers) are `gauge({ collect })`. Names follow Prometheus' conventions:
 * `sextant_` prefix, counters end in `_total`, durations are `_seconds`.
 *
 * Collection is meant to be cheap: a collect callback reads a small value or a count kept up to
 * date elsewhere (see `countEntries` in the plugin API), never scans a large subtree.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';

export type MetricLabels = Record<string, string | number>;

/** One sample of a gauge read when scraped. */
export interface Sample {
  labels?: MetricLabels;
  value: number;
}

export interface GaugeSpec {
  name: string;
  help: string;
  labelNames?: string[];
  /** Called on every scrape: a number (no labels) or the samples, each with its labels. */
  collect(): number | Iterable<Sample> | Promise<number | Iterable<Sample>>;
}

export interface CounterSpec {
  name: string;
  help: string;
  labelNames?: string[];
}

export interface HistogramSpec extends CounterSpec {
  /** Upper bounds, in the metric's base unit (default: DURATION_BUCKETS). */
  buckets?: number[];
}

export interface CounterHandle {
  inc(labels?: MetricLabels, by?: number): void;
}

export interface HistogramHandle {
  observe(labels: MetricLabels, value: number): void;
}

/** Seconds, from a fast in-memory commit to a slow etcd one or a long rpc. */
export const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const NAME = /^sextant_[a-z][a-z0-9_]*$/;
const LABEL = /^[a-z_][a-z0-9_]*$/;

/** A metric definition that breaks the conventions: a programming error, refused at registration. */
export class MetricDefinitionError extends Error {
  override name = 'MetricDefinitionError';
}

function checkName(kind: 'counter' | 'gauge' | 'histogram', name: string, labelNames: string[] = []): void {
  if (!NAME.test(name)) throw new MetricDefinitionError(`metric "${name}": names are sextant_ followed by lower-case letters, digits and _`);
  if (kind === 'counter' && !name.endsWith('_total')) throw new MetricDefinitionError(`counter "${name}" must end in _total`);
  if (kind !== 'counter' && /_(total|count|sum|bucket)$/.test(name)) throw new MetricDefinitionError(`${kind} "${name}" must not end in _total, _count, _sum or _bucket (those are counters' and histograms' series)`);
  for (const l of labelNames) {
    if (!LABEL.test(l) || l.startsWith('__') || l === 'le') throw new MetricDefinitionError(`metric "${name}": label "${l}" is not a valid label name`);
  }
}

export class Metrics {
  /** The controller's own registry; `/metrics` renders it. */
  readonly registry = new Registry();
  private readonly commits: Counter;
  private readonly conflicts: Counter;
  private readonly commitErrors: Counter;
  private readonly commitSeconds: Histogram;
  private readonly rpcCalls: Counter;
  private readonly rpcErrors: Counter;
  private readonly rpcSeconds: Histogram;
  private readonly httpRequests: Counter;
  private readonly httpSeconds: Histogram;
  /** A collect callback that failed is logged once per metric until it succeeds again. */
  private readonly failing = new Set<string>();

  constructor(private readonly log?: Logger) {
    this.commits = this.newCounter({ name: 'sextant_datastore_commits_total', help: 'Transactions committed, per store', labelNames: ['store'] });
    this.conflicts = this.newCounter({ name: 'sextant_datastore_conflicts_total', help: 'Commits refused with a retryable conflict (another commit changed the same data), per store', labelNames: ['store'] });
    this.commitErrors = this.newCounter({ name: 'sextant_datastore_commit_errors_total', help: 'Commits refused for another reason (validation, a plugin veto, the backend), per store and YANG error-tag', labelNames: ['store', 'error_tag'] });
    this.commitSeconds = this.newHistogram({ name: 'sextant_datastore_commit_duration_seconds', help: 'Time from commit() to its outcome (queueing, checks, validation, the write), per store', labelNames: ['store'] });
    this.rpcCalls = this.newCounter({ name: 'sextant_rpc_calls_total', help: 'RPC invocations, per rpc (module:rpc), from any northbound or plugin', labelNames: ['rpc'] });
    this.rpcErrors = this.newCounter({ name: 'sextant_rpc_errors_total', help: 'RPC invocations that ended in an error, per rpc and YANG error-tag', labelNames: ['rpc', 'error_tag'] });
    this.rpcSeconds = this.newHistogram({ name: 'sextant_rpc_duration_seconds', help: 'RPC latency (input validation, handler, output validation), per rpc', labelNames: ['rpc'] });
    this.httpRequests = this.newCounter({ name: 'sextant_http_requests_total', help: 'HTTP requests answered, per listener (restconf, tacker...), method, route pattern and status code', labelNames: ['listener', 'method', 'route', 'status'] });
    this.httpSeconds = this.newHistogram({ name: 'sextant_http_request_duration_seconds', help: 'HTTP request latency, per listener, method and route pattern', labelNames: ['listener', 'method', 'route'] });
  }

  /** A datastore commit ended: `errorTag` undefined when it committed. */
  commit(store: string, seconds: number, outcome: { conflict?: boolean; errorTag?: string } = {}): void {
    this.commitSeconds.observe({ store }, seconds);
    if (outcome.conflict) this.conflicts.inc({ store });
    else if (outcome.errorTag) this.commitErrors.inc({ store, error_tag: outcome.errorTag });
    else this.commits.inc({ store });
  }

  rpcCall(rpc: string, seconds: number, errorTag?: string): void {
    this.rpcCalls.inc({ rpc });
    this.rpcSeconds.observe({ rpc }, seconds);
    if (errorTag) this.rpcErrors.inc({ rpc, error_tag: errorTag });
  }

  /** `route`: the route's pattern (`/rests/data/*`), never the URL itself, so the labels stay few. */
  httpRequest(listener: string, method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ listener, method, route, status });
    this.httpSeconds.observe({ listener, method, route }, seconds);
  }

  /**
   * A gauge read on every scrape. Returns its removal. A collect that throws leaves the gauge
   * without samples (NaN when it has no labels) for that scrape, logged; the rest is served.
   */
  gauge(spec: GaugeSpec): () => void {
    checkName('gauge', spec.name, spec.labelNames);
    const failing = this.failing;
    const log = this.log;
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames ?? [],
      registers: [this.registry],
      async collect() {
        this.reset();
        let value: number | Iterable<Sample>;
        try {
          value = await spec.collect();
          failing.delete(spec.name);
        } catch (e) {
          if (!failing.has(spec.name)) log?.warn({ err: e, metric: spec.name }, `metric ${spec.name}: collecting it failed; served without samples`);
          failing.add(spec.name);
          // Unknown, not 0: a label-less gauge always has its one sample.
          if (!spec.labelNames?.length) this.set(NaN);
          return;
        }
        if (typeof value === 'number') this.set(value);
        else for (const s of value) this.set(s.labels ?? {}, s.value);
      },
    });
    return () => this.remove(spec.name);
  }

  /** A counter incremented where the event happens. */
  counter(spec: CounterSpec): CounterHandle & { remove(): void } {
    const c = this.newCounter(spec);
    return { inc: (labels = {}, by = 1) => c.inc(labels, by), remove: () => this.remove(spec.name) };
  }

  /** A histogram (base units: seconds, bytes...). */
  histogram(spec: HistogramSpec): HistogramHandle & { remove(): void } {
    const h = this.newHistogram(spec);
    return { observe: (labels, value) => h.observe(labels, value), remove: () => this.remove(spec.name) };
  }

  /** The Prometheus text exposition (format 0.0.4). */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private remove(name: string): void {
    this.registry.removeSingleMetric(name);
    this.failing.delete(name);
  }

  private newCounter(spec: CounterSpec): Counter {
    checkName('counter', spec.name, spec.labelNames);
    return new Counter({ name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers: [this.registry] });
  }

  private newHistogram(spec: HistogramSpec): Histogram {
    checkName('histogram', spec.name, spec.labelNames);
    return new Histogram({ name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], buckets: spec.buckets ?? DURATION_BUCKETS, registers: [this.registry] });
  }
}

/** Seconds since `start` (a `performance.now()` value). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
