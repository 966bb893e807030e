/**
 * Aodh-like threshold alarms on pushed metrics.
 *
 * Samples (push-metrics, served by every instance) go into this instance's buckets: one per
 * series (meter, the node or cluster the sample is of, the period length of an alarm watching
 * the meter) and period, holding {count, sum, min, max}. They are flushed to
 * `clustering-state/metric-bucket[series][period-start][member]` every second, so no entry is
 * written by two members and a busy meter is no hot key.
 *
 * Evaluation is leader-only (ctx.cluster.onLeadership starts and stops it): every
 * `alarm-evaluation-interval` seconds the leader combines, per alarm, the buckets of the last
 * `evaluation-periods` complete periods over all members, compares the statistic with the
 * threshold (Aodh's rules: all periods outside -> alarm, all inside -> ok, mixed -> unchanged,
 * a period without samples -> insufficient data), triggers the alarm-actions receivers on entering
 * alarm (or on every evaluation in alarm with repeat-actions), and prunes buckets no alarm needs.
 * Its writes are leaderOnly transactions.
 */
import { LeaderJob } from '../../src/plugin/leader-job.ts';
import { YangError } from '../../src/errors.ts';
import type { Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import type { ClusteringAlarm, ClusteringStateAlarm, MetricBucket, Receiver, Sample } from '../../src/bindings/sextant-clustering.ts';
import { findCluster } from './engine.ts';
import { CLUSTERING, clusterPath, STATE } from './model.ts';
import { requestScale } from './requests.ts';

/** push-metrics takes at most this many samples per call. */
export const MAX_SAMPLES = 10_000;
/** How often this instance writes its buckets. */
const FLUSH_MS = 1000;
/** Most writes in one flush or prune commit: an etcd transaction is bounded (--max-txn-ops, 128 by default). */
const WRITES_PER_COMMIT = 100;

type AlarmState = NonNullable<ClusteringStateAlarm['state']>;
/** Aodh's names of the states, for reasons people read. */
const STATE_TEXT: Record<AlarmState, string> = { ok: 'ok', alarm: 'alarm', 'insufficient-data': 'insufficient data' };

interface Bucket {
  series: string;
  start: number;
  meter: string;
  cluster: string;
  node?: string;
  period: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  dirty: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();
const decimal = (v: number) => v.toFixed(6);
const seriesOf = (meter: string, scope: { cluster: string; node?: string }, period: number) => `${meter}|${scope.node !== undefined ? `node=${scope.node}` : `cluster=${scope.cluster}`}|${period}s`;
const bad = (message: string) => new YangError({ tag: 'invalid-value', message });

/** This instance's buckets: filled by push-metrics, written by flush. */
export class SampleBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private flushing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(private readonly ctx: PluginContext) {}

  start(): void {
    this.timer = this.ctx.timers.setInterval(() => this.flush(), FLUSH_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) this.ctx.timers.clear(this.timer);
    await this.flush().catch(() => undefined);
  }

  /**
   * push-metrics: every sample is checked before any is kept (a bad one refuses the call). A
   * sample is kept in one bucket per distinct period of the alarms of its cluster on its meter;
   * samples no alarm watches are accepted and not kept.
   */
  push(input: { sample?: Sample[] }): { accepted: number } {
    const samples = input.sample ?? [];
    if (samples.length > MAX_SAMPLES) throw bad(`at most ${MAX_SAMPLES} samples per call, got ${samples.length}`);
    const now = Date.now();
    const checked = samples.map((s, i) => {
      const at = `sample ${i + 1} (${s.meter})`;
      const value = Number(s.value);
      if (typeof s.value !== 'string' && typeof s.value !== 'number') throw bad(`${at}: no value`);
      if (!Number.isFinite(value)) throw bad(`${at}: value "${s.value}" is not a number`);
      const time = s.timestamp !== undefined ? Date.parse(s.timestamp) : now;
      if (!Number.isFinite(time)) throw bad(`${at}: timestamp "${s.timestamp}" is not a date-and-time`);
      if (s.cluster === undefined && s.node === undefined) throw bad(`${at}: says neither cluster nor node`);
      let cluster: string | undefined;
      if (s.cluster !== undefined) {
        cluster = findCluster(this.ctx, s.cluster)?.id;
        if (!cluster) throw bad(`${at}: no cluster '${s.cluster}'`);
      } else {
        cluster = (this.ctx.data.read('operational', STATE.cluster()) ?? []).find((c) => (c.node ?? []).some((n) => n.id === s.node))?.id;
        if (!cluster) throw bad(`${at}: node '${s.node}' is in no cluster (give its cluster)`);
      }
      return { meter: s.meter!, value, time, scope: { cluster, ...(s.node !== undefined ? { node: s.node } : {}) } };
    });
    const periods = periodsByMeter(this.ctx.data.read('config', CLUSTERING.alarm()) ?? []);
    for (const s of checked) {
      for (const period of periods.get(`${s.scope.cluster}|${s.meter}`) ?? []) this.add(s.meter, s.scope, period, s.time, s.value);
    }
    return { accepted: checked.length };
  }

  private add(meter: string, scope: { cluster: string; node?: string }, period: number, time: number, value: number): void {
    const periodMs = period * 1000;
    const start = Math.floor(time / periodMs) * periodMs;
    const series = seriesOf(meter, scope, period);
    const key = `${series}\u0000${start}`;
    let b = this.buckets.get(key);
    if (!b) {
      // A late sample of a period already flushed and forgotten here: go on from what this member stored.
      const stored = this.ctx.data.read('operational', STATE.metricBucket(series, iso(start), this.ctx.cluster.memberId));
      b = { series, start, meter, ...scope, period, count: 0, sum: 0, min: Infinity, max: -Infinity, dirty: true };
      if (stored?.count) Object.assign(b, { count: stored.count, sum: Number(stored.sum), min: Number(stored.min), max: Number(stored.max) });
      this.buckets.set(key, b);
    }
    b.count++;
    b.sum += value;
    b.min = Math.min(b.min, value);
    b.max = Math.max(b.max, value);
    b.dirty = true;
  }

  /** Writes the buckets changed since the last flush, under this member's id; one flush at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write()).catch((err: unknown) => this.ctx.log.warn({ err }, 'autoscaling: writing metric buckets failed; they are written next time'));
    return this.flushing;
  }

  private async write(): Promise<void> {
    const now = Date.now();
    const member = this.ctx.cluster.memberId;
    const dirty = [...this.buckets.entries()].filter(([, b]) => b.dirty);
    for (let i = 0; i < dirty.length; i += WRITES_PER_COMMIT) {
      const chunk = dirty.slice(i, i + WRITES_PER_COMMIT);
      const tx = this.ctx.data.transaction('operational');
      for (const [, b] of chunk) {
        b.dirty = false;
        tx.put(STATE.metricBucket(b.series, iso(b.start), member), {
          series: b.series,
          'period-start': iso(b.start),
          member,
          meter: b.meter,
          cluster: b.cluster,
          ...(b.node !== undefined ? { node: b.node } : {}),
          period: b.period,
          count: b.count,
          sum: decimal(b.sum),
          min: decimal(b.min),
          max: decimal(b.max),
        });
      }
      try {
        await tx.commit();
      } catch (err) {
        for (const [, b] of chunk) b.dirty = true;
        throw err;
      }
    }
    // Periods over for a while are stored; a late sample picks them up from the store again.
    for (const [key, b] of this.buckets) if (!b.dirty && b.start + 2 * b.period * 1000 < now) this.buckets.delete(key);
  }
}

/** The distinct periods of the alarms on each (cluster, meter). */
function periodsByMeter(alarms: ClusteringAlarm[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const a of alarms) {
    const key = `${a.cluster}|${a.meter}`;
    out.set(key, (out.get(key) ?? new Set()).add(a.period ?? 60));
  }
  return out;
}

/** What one evaluation of one alarm decided. */
interface Verdict {
  state: AlarmState;
  reason: string;
}

const COMPARE: Record<NonNullable<ClusteringAlarm['comparison-operator']>, (v: number, t: number) => boolean> = {
  gt: (v, t) => v > t,
  lt: (v, t) => v < t,
  ge: (v, t) => v >= t,
  le: (v, t) => v <= t,
  eq: (v, t) => v === t,
  ne: (v, t) => v !== t,
};

/** A period's buckets (all members, all resources of the scope) as the alarm's statistic. */
function statistic(kind: NonNullable<ClusteringAlarm['statistic']>, buckets: MetricBucket[]): number | undefined {
  const count = buckets.reduce((n, b) => n + (b.count ?? 0), 0);
  if (!count) return undefined;
  switch (kind) {
    case 'count':
      return count;
    case 'sum':
      return buckets.reduce((s, b) => s + Number(b.sum), 0);
    case 'min':
      return Math.min(...buckets.map((b) => Number(b.min)));
    case 'max':
      return Math.max(...buckets.map((b) => Number(b.max)));
    case 'avg':
      return buckets.reduce((s, b) => s + Number(b.sum), 0) / count;
  }
}

/**
 * Aodh's threshold evaluator on the last `evaluation-periods` complete periods: every period
 * outside the threshold -> alarm, every period inside -> ok, mixed -> the state stays (from
 * insufficient data it follows the most recent period), a period without samples -> insufficient data.
 */
export function evaluateAlarm(alarm: ClusteringAlarm, current: AlarmState | undefined, buckets: MetricBucket[], now: number): Verdict {
  const period = alarm.period ?? 60;
  const periods = alarm['evaluation-periods'] ?? 1;
  const periodMs = period * 1000;
  const lastStart = Math.floor(now / periodMs) * periodMs - periodMs;
  const byStart = new Map<number, MetricBucket[]>();
  for (const b of buckets) {
    if (b.meter !== alarm.meter || b.period !== period || b.cluster !== alarm.cluster) continue;
    const start = Date.parse(b['period-start']);
    byStart.set(start, [...(byStart.get(start) ?? []), b]);
  }
  const values: number[] = [];
  for (let k = periods - 1; k >= 0; k--) {
    const v = statistic(alarm.statistic ?? 'avg', byStart.get(lastStart - k * periodMs) ?? []);
    if (v !== undefined) values.push(v);
  }
  if (values.length < periods) {
    return { state: 'insufficient-data', reason: `${periods - values.length} datapoints are unknown: no ${alarm.meter} sample in ${periods - values.length} of the last ${periods} period(s) of ${period} s` };
  }
  const threshold = Number(alarm.threshold);
  const breached = values.map((v) => COMPARE[alarm['comparison-operator'] ?? 'eq'](v, threshold));
  const recent = values[values.length - 1];
  const said = (state: AlarmState, outside: boolean) =>
    `${current === state ? `Remaining as ${STATE_TEXT[state]}` : `Transition to ${STATE_TEXT[state]}`} due to ${values.length} samples ${outside ? 'outside' : 'inside'} threshold, most recent: ${recent}`;
  if (breached.every(Boolean)) return { state: 'alarm', reason: said('alarm', true) };
  if (!breached.some(Boolean)) return { state: 'ok', reason: said('ok', false) };
  const trending: AlarmState = breached[breached.length - 1] ? 'alarm' : 'ok';
  if (current === undefined || current === 'insufficient-data') return { state: trending, reason: said(trending, trending === 'alarm') };
  return { state: current, reason: `Remaining as ${STATE_TEXT[current]} due to mixed evidence over ${values.length} periods, most recent: ${recent}` };
}

/**
 * What triggering a receiver does: the receiver's action with its params, through the same 400s
 * and 409s as a scaling request. A 409 (cooldown, another action running) means the alarm fired
 * without scaling. Returns what happened, for the alarm's state-reason.
 */
export async function triggerReceiver(ctx: PluginContext, receiverId: string, cause: string): Promise<string> {
  const receiver: Receiver | undefined = ctx.data.read('config', CLUSTERING.receiver(receiverId));
  if (!receiver) return `receiver ${receiverId} is gone`;
  const action = receiver.action!;
  const cluster = receiver.cluster ? ctx.data.read('config', clusterPath(receiver.cluster)) : undefined;
  if (!cluster) return `receiver ${receiver.name}: the cluster ${receiver.cluster} could not be found`;
  const params = Object.fromEntries((receiver.param ?? []).map((p) => [p.name, p.value]));
  // The same request as a client's scaling (400s, then the 409s in the action's transaction).
  try {
    const id = await requestScale(ctx, action, cluster, params.count, cause);
    return `receiver ${receiver.name}: ${action} action ${id}`;
  } catch (e) {
    if (e instanceof YangError && e.tag === 'in-use') return `receiver ${receiver.name}: fired without scaling: ${e.message}`;
    if (e instanceof YangError && e.tag === 'invalid-value') return `receiver ${receiver.name}: ${action} refused: ${e.message}`;
    throw e;
  }
}

/** The leader's evaluation loop (see the file comment); idle on every other member. */
export class AlarmEvaluator {
  private readonly job: LeaderJob;

  constructor(
    private readonly ctx: PluginContext,
    private readonly buckets: SampleBuckets,
    intervalMs: number,
  ) {
    this.job = new LeaderJob(ctx, intervalMs, () => this.evaluate(), 'alarm evaluation');
  }

  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }

  async evaluate(): Promise<void> {
    // The leader's own samples count at once; other members' are at most a flush (1 s) behind.
    await this.buckets.flush();
    const now = Date.now();
    const alarms = this.ctx.data.read('config', CLUSTERING.alarm()) ?? [];
    const states = new Map((this.ctx.data.read('operational', STATE.alarm()) ?? []).map((s) => [s.id, s]));
    const buckets = this.ctx.data.read('operational', STATE.metricBucket()) ?? [];
    const writes: ClusteringStateAlarm[] = [];
    for (const alarm of alarms) {
      const before = states.get(alarm.id);
      const verdict = evaluateAlarm(alarm, before?.state, buckets, now);
      const entry: ClusteringStateAlarm = { id: alarm.id, state: verdict.state, 'state-reason': verdict.reason, 'state-timestamp': verdict.state === before?.state ? before['state-timestamp'] ?? iso(now) : iso(now), 'last-evaluated': iso(now) };
      if (before?.['last-fired']) entry['last-fired'] = before['last-fired'];
      const fires = verdict.state === 'alarm' && (before?.state !== 'alarm' || alarm['repeat-actions'] === true);
      if (fires) {
        const done: string[] = [];
        for (const receiver of alarm['alarm-actions'] ?? []) {
          done.push(await triggerReceiver(this.ctx, receiver, `alarm ${alarm.name}`).catch((e: unknown) => `receiver ${receiver}: ${(e as Error).message}`));
        }
        entry['last-fired'] = iso(now);
        if (done.length) entry['state-reason'] = `${verdict.reason}; ${done.join('; ')}`;
      }
      writes.push(entry); // last-evaluated moves on every evaluation: every alarm is written
    }
    const gone = [...states.keys()].filter((id) => !alarms.some((a) => a.id === id));
    await this.commitInChunks([...writes.map((w) => (tx: Transaction) => tx.merge(STATE.alarm(w.id), w)), ...gone.map((id) => (tx: Transaction) => tx.remove(STATE.alarm(id)))]);
    await this.prune(alarms, buckets, now);
  }

  /** Buckets older than the longest window an alarm of their cluster and meter needs, or no alarm's at all. */
  private async prune(alarms: ClusteringAlarm[], buckets: MetricBucket[], now: number): Promise<void> {
    const keep = new Map<string, number>();
    for (const a of alarms) {
      const key = `${a.cluster}|${a.meter}|${a.period ?? 60}`;
      // One period more than the window: the current, incomplete one.
      keep.set(key, Math.max(keep.get(key) ?? 0, ((a['evaluation-periods'] ?? 1) + 1) * (a.period ?? 60) * 1000));
    }
    const old = buckets.filter((b) => {
      const window = keep.get(`${b.cluster}|${b.meter}|${b.period}`);
      return window === undefined || Date.parse(b['period-start']) + (b.period ?? 0) * 1000 < now - window;
    });
    await this.commitInChunks(old.map((b) => (tx: Transaction) => tx.remove(STATE.metricBucket(b.series, b['period-start'], b.member))));
  }

  private async commitInChunks(edits: ((tx: Transaction) => void)[]): Promise<void> {
    for (let i = 0; i < edits.length; i += WRITES_PER_COMMIT) {
      const tx = this.ctx.data.transaction('operational', { leaderOnly: true });
      for (const edit of edits.slice(i, i + WRITES_PER_COMMIT)) edit(tx);
      await tx.commit();
    }
  }
}
