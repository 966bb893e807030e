/**
 * A plugin's `ctx.metrics`: its gauges, counters and histograms in the controller's registry,
 * removed when it stops, and `countEntries`, the cheap way to count a list by state: a listener
 * keeps the counts (created +1, deleted -1, updated moves an entry between label sets), so a scrape
 * reads a small map instead of walking the list.
 */
import type { Change, Datastore } from '../datastore/datastore.ts';
import type { MetricLabels, Metrics } from '../telemetry/metrics.ts';
import type { EntryCountSpec, PluginMetrics } from './api.ts';

export function pluginMetrics(metrics: Metrics, subscribe: Datastore['subscribe'], release: (fn: () => void) => void): PluginMetrics {
  return {
    gauge(spec) {
      release(metrics.gauge(spec));
    },
    counter(spec) {
      const c = metrics.counter(spec);
      release(c.remove);
      return c;
    },
    histogram(spec) {
      const h = metrics.histogram(spec);
      release(h.remove);
      return h;
    },
    countEntries<T>(spec: EntryCountSpec<T>) {
      const counts = new EntryCounts(spec.always ?? []);
      release(
        metrics.gauge({
          name: spec.name,
          help: spec.help,
          labelNames: spec.labelNames,
          collect: () => counts.samples(),
        }),
      );
      const labelsOf = (entry: T | undefined, keys: Change<T>['keys']) => (entry === undefined ? undefined : spec.labels(entry, keys.flat().map(String)));
      subscribe<T>(spec.store, spec.path, (changes: Change<T>[]) => {
        for (const c of changes) {
          const before = c.type === 'created' ? undefined : labelsOf(c.before, c.keys);
          const after = c.type === 'deleted' ? undefined : labelsOf(c.after, c.keys);
          counts.move(before, after);
        }
      });
    },
  };
}

/**
 * Entries per label set. A set back at 0 goes (a deleted cluster's series must not stay for
 * ever), except the `always` ones, which stay at 0 (a status a dashboard expects).
 */
class EntryCounts {
  private readonly byKey = new Map<string, { labels: MetricLabels; value: number }>();
  private readonly kept = new Set<string>();

  constructor(always: MetricLabels[]) {
    for (const labels of always) {
      this.byKey.set(keyOf(labels), { labels, value: 0 });
      this.kept.add(keyOf(labels));
    }
  }

  move(from: MetricLabels | undefined, to: MetricLabels | undefined): void {
    if (from && to && keyOf(from) === keyOf(to)) return;
    if (from) this.add(from, -1);
    if (to) this.add(to, 1);
  }

  samples(): { labels: MetricLabels; value: number }[] {
    return [...this.byKey.values()];
  }

  private add(labels: MetricLabels, by: number): void {
    const key = keyOf(labels);
    const seen = this.byKey.get(key);
    if (!seen) this.byKey.set(key, { labels, value: by });
    else if ((seen.value += by) === 0 && !this.kept.has(key)) this.byKey.delete(key);
  }
}

function keyOf(labels: MetricLabels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}
