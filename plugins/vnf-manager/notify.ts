/**
 * SOL003 lifecycle change notifications (LCCN) to the subscribers of `vnflcm/subscription`.
 *
 * The datastore is the source of truth: every change of an occurrence's `operation-state` (its
 * creation in STARTING included) is one VnfLcmOperationOccurrenceNotification, and the creation
 * or deletion of a `vnflcm/vnf-instance` entry a VnfIdentifierCreationNotification or
 * VnfIdentifierDeletionNotification. Whoever wrote the change (an API call, the executor, another
 * member), the notification follows from the commit, so no writer has to remember to notify.
 *
 * In a cluster every member sees every commit; only the owner of the VNF instance
 * (`ctx.cluster.owns`) emits the YANG notification and delivers, so each change is told once.
 *
 * Delivery: one in-memory queue per subscription, POSTed one at a time and in order, each
 * notification retried with exponential backoff and dropped (and counted) after the last retry.
 * The queues are in memory only: a crash or a stop loses what is queued, so delivery is
 * at-least-once while the member lives, and not promised across a crash.
 */
import { randomUUID } from 'node:crypto';
import { retryOnConflict, type Change } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { ANY, type Uint64 } from '../../src/yang/binding.ts';
import { instancePath, isObject, LCM_NOTIFICATION, now, VNFLCM, VNFLCM_STATE, type OperationState, type Subscription, type VnfInstance, type VnfLcmOpOcc } from './model.ts';

export interface LccnOptions {
  /** Retries after a failed first attempt (so 1 + retries attempts in all). */
  retries: number;
  /** Wait before the first retry; doubled for each next one, capped at MAX_BACKOFF_MS. */
  backoffMs: number;
  /** Longest one POST may take before it counts as failed. */
  timeoutMs: number;
  /** Tacker's listener URL, for the `_links` (known only once it listens: asked each time). */
  baseUrl: () => string;
}

type NotificationType = 'VnfLcmOperationOccurrenceNotification' | 'VnfIdentifierCreationNotification' | 'VnfIdentifierDeletionNotification';

/** A notification body as POSTed (SOL003 v2.6.1 7.5.2.5-7.5.2.7, v3 5.5.2.17-5.5.2.19). */
export interface LccnNotification {
  id: string;
  notificationType: NotificationType;
  subscriptionId: string;
  timeStamp: string;
  vnfInstanceId: string;
  [field: string]: unknown;
}

/** SOL003 LifecycleChangeNotificationsFilter, the part this manager matches on. */
interface LccnFilter {
  notificationTypes?: string[];
  operationTypes?: string[];
  operationStates?: string[];
  vnfInstanceSubscriptionFilter?: { vnfdIds?: string[]; vnfInstanceIds?: string[]; vnfInstanceNames?: string[] };
}

/** What one change means to the filters: its type, the instance, and for an occurrence its operation and state. */
interface Event {
  type: NotificationType;
  instance: { id: string; vnfdId?: string; name?: string };
  operation?: string;
  state?: string;
  /** The body without id, subscriptionId and the subscription's link. */
  body: (subscriptionId: string) => LccnNotification;
}

/** The counters of one subscription not yet written. */
interface Delta {
  delivered: number;
  failed: number;
  dropped: number;
  lastError?: string;
}

interface Queue {
  items: LccnNotification[];
  /** True while a pump delivers this queue (cleared in the same step that finds it empty). */
  active: boolean;
  /** That pump, for stop() to wait on. */
  running?: Promise<void>;
  /** Aborted when the subscription is deleted or the notifier stops: ends the POST and the backoff in progress. */
  abort: AbortController;
}

/** Most notifications queued for one subscriber; beyond it the oldest is dropped (and counted). */
const QUEUE_LIMIT = 1000;
const MAX_BACKOFF_MS = 30_000;
/** Counters are written at most this often (a busy subscriber must not mean a write per POST). */
const FLUSH_MS = 1000;

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The Authorization header a SubscriptionAuthentication asks for (BASIC only), if any. */
export function basicAuthHeader(authentication: unknown): string | undefined {
  const auth = typeof authentication === 'string' ? parseJson(authentication) : authentication;
  if (!isObject(auth) || !Array.isArray(auth.authType) || !auth.authType.includes('BASIC') || !isObject(auth.paramsBasic)) return undefined;
  const { userName, password } = auth.paramsBasic;
  if (typeof userName !== 'string') return undefined;
  return `Basic ${Buffer.from(`${userName}:${typeof password === 'string' ? password : ''}`).toString('base64')}`;
}

/** Why a request failed, in a few words (fetch hides the socket's error in `cause`). */
function failureOf(e: unknown, timeoutMs: number): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

/**
 * SOL003 5.4.18.3.1 (and Tacker): before a subscription is created, the VNFM sends a GET to its
 * callbackUri and expects 204 No Content. Undefined if it answered so; else a sentence saying
 * why not, for the caller's 400 ProblemDetails.
 */
export async function testCallback(ctx: PluginContext, callbackUri: string, authentication?: unknown, timeoutMs = 5000): Promise<string | undefined> {
  const auth = basicAuthHeader(authentication);
  try {
    const r = await ctx.fetch(callbackUri, { method: 'GET', headers: auth ? { authorization: auth } : {}, signal: AbortSignal.timeout(timeoutMs) });
    await r.body?.cancel();
    if (r.status === 204) return undefined;
    return `The callbackUri ${callbackUri} answered the test GET with ${r.status}, not 204 No Content.`;
  } catch (e) {
    return `The callbackUri ${callbackUri} could not be reached with a test GET: ${failureOf(e, timeoutMs)}.`;
  }
}

/** Whether a subscription's filter selects an event (an absent attribute matches all). */
function matches(filter: LccnFilter, ev: Event): boolean {
  const within = (list: unknown, v: string | undefined) => !Array.isArray(list) || (v !== undefined && list.includes(v));
  if (!within(filter.notificationTypes, ev.type)) return false;
  // SOL003: operationTypes and operationStates only concern VnfLcmOperationOccurrenceNotification.
  if (ev.type === 'VnfLcmOperationOccurrenceNotification') {
    if (!within(filter.operationTypes, ev.operation)) return false;
    if (!within(filter.operationStates, ev.state)) return false;
  }
  const inst = filter.vnfInstanceSubscriptionFilter;
  if (isObject(inst)) {
    if (!within(inst.vnfInstanceIds, ev.instance.id)) return false;
    if (!within(inst.vnfdIds, ev.instance.vnfdId)) return false;
    if (!within(inst.vnfInstanceNames, ev.instance.name)) return false;
  }
  return true;
}

export class LccnNotifier {
  private readonly queues = new Map<string, Queue>();
  private readonly deltas = new Map<string, Delta>();
  private flushTimer?: NodeJS.Timeout;
  private stopped = false;
  /**
   * Changes are handled one after the other, in commit order, across the two subscriptions
   * (instances and occurrences): the listeners only append to this chain, synchronously, so an
   * instance's creation notification is queued before its INSTANTIATE's START. It starts once the
   * member has joined, so owns() answers for the cluster and not for this member alone.
   */
  private chain: Promise<void>;

  constructor(
    private readonly ctx: PluginContext,
    private readonly opts: LccnOptions,
  ) {
    this.chain = ctx.cluster.joined().catch((e: unknown) => ctx.log.error({ err: e }, 'LCCN: joining the cluster failed; notifying as this member alone'));
  }

  start(): void {
    const { ctx } = this;
    ctx.data.subscribe('config', VNFLCM.vnfLcmOpOcc(ANY), (changes: Change<VnfLcmOpOcc>[]) => this.then(() => this.onOccurrences(changes)), { replay: false });
    ctx.data.subscribe('config', VNFLCM.vnfInstance(ANY), (changes: Change<VnfInstance>[]) => this.then(() => this.onInstances(changes)), { replay: false });
    ctx.data.subscribe('config', VNFLCM.subscription(ANY), (changes: Change<Subscription>[]) => this.then(() => this.onSubscriptions(changes)), { replay: false });
  }

  /** Ends the deliveries in progress (the queued are lost, see the file comment) and writes the counters. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const q of this.queues.values()) q.abort.abort();
    await Promise.allSettled([...this.queues.values()].map((q) => q.running));
    this.queues.clear();
    if (this.flushTimer) this.ctx.timers.clear(this.flushTimer);
    this.flushTimer = undefined;
    await this.flush().catch((e: unknown) => this.ctx.log.warn({ err: e }, 'LCCN: the last delivery counters could not be written'));
  }

  private then(fn: () => void): void {
    this.chain = this.chain.then(() => {
      if (this.stopped) return;
      try {
        fn();
      } catch (e) {
        this.ctx.log.error({ err: e }, 'LCCN: a change could not be turned into notifications');
      }
    });
  }

  // ----- changes to notifications --------------------------------------------------------------

  private onOccurrences(changes: Change<VnfLcmOpOcc>[]): void {
    for (const c of changes) {
      const occ = c.after;
      const state = occ?.['operation-state'];
      // Deleting an occurrence tells nothing; a change that leaves the state as it was neither.
      if (!occ || !state || c.before?.['operation-state'] === state) continue;
      const vnfId = occ['vnf-instance']!;
      if (!this.ctx.cluster.owns(vnfId)) continue;
      // SOL003 says START at the start and RESULT for an intermediate or final result; like
      // Tacker v2 (and the YANG notification), START is sent for STARTING only and RESULT for
      // every other state, PROCESSING and ROLLING_BACK included.
      const status = state === 'STARTING' ? 'START' : 'RESULT';
      this.ctx.notifications.emit(LCM_NOTIFICATION, { 'vnf-instance': vnfId, 'vnf-lcm-op-occ': occ.id, operation: occ.operation, 'operation-state': state, 'notification-status': status });
      const inst = this.ctx.data.read('config', instancePath(vnfId));
      this.fanOut({
        type: 'VnfLcmOperationOccurrenceNotification',
        instance: { id: vnfId, vnfdId: inst?.['vnfd-id'], name: inst?.name },
        operation: occ.operation,
        state,
        body: (sub) => this.occurrenceNotification(sub, occ, state, status),
      });
    }
  }

  private occurrenceNotification(sub: string, occ: VnfLcmOpOcc, state: OperationState, status: 'START' | 'RESULT'): LccnNotification {
    const vnfId = occ['vnf-instance']!;
    const changes = parseJson(occ['resource-changes']);
    const affected = isObject(changes) && Array.isArray(changes.affectedVnfcs) ? changes.affectedVnfcs : undefined;
    return {
      id: randomUUID(),
      notificationType: 'VnfLcmOperationOccurrenceNotification',
      subscriptionId: sub,
      timeStamp: now(),
      notificationStatus: status,
      operationState: state,
      vnfInstanceId: vnfId,
      operation: occ.operation,
      isAutomaticInvocation: occ['is-automatic-invocation'] === true,
      vnfLcmOpOccId: occ.id,
      ...(affected ? { affectedVnfcs: affected } : {}),
      ...(occ.error ? { error: { ...occ.error } } : {}),
      _links: { ...this.links(sub, vnfId), vnfLcmOpOcc: { href: `${this.base()}/vnflcm/v2/vnf_lcm_op_occs/${occ.id}` } },
    };
  }

  private onInstances(changes: Change<VnfInstance>[]): void {
    for (const c of changes) {
      if (c.type === 'updated') continue;
      const inst = (c.after ?? c.before)!;
      if (!this.ctx.cluster.owns(inst.id)) continue;
      const type = c.type === 'created' ? 'VnfIdentifierCreationNotification' : 'VnfIdentifierDeletionNotification';
      this.fanOut({
        type,
        instance: { id: inst.id, vnfdId: inst['vnfd-id'], name: inst.name },
        body: (sub) => ({ id: randomUUID(), notificationType: type, subscriptionId: sub, timeStamp: now(), vnfInstanceId: inst.id, _links: this.links(sub, inst.id) }),
      });
    }
  }

  private onSubscriptions(changes: Change<Subscription>[]): void {
    for (const c of changes) {
      if (c.after) continue;
      const id = String(c.keys[0][0]);
      // Its queue goes: nobody is listening any more (the POST in progress is aborted).
      const q = this.queues.get(id);
      q?.abort.abort();
      this.queues.delete(id);
      this.deltas.delete(id);
      // Its counters go with it; one member removes them (flush never writes a deleted subscription's).
      if (this.ctx.cluster.isLeader()) {
        void retryOnConflict(async () => {
          const tx = this.ctx.data.transaction('operational');
          tx.remove(VNFLCM_STATE.delivery(id));
          await tx.commit();
        }).catch((e: unknown) => this.ctx.log.warn({ err: e, subscription: id }, 'LCCN: the delivery counters of a deleted subscription could not be removed'));
      }
    }
  }

  private base(): string {
    try {
      return this.opts.baseUrl();
    } catch {
      return '';
    }
  }

  private links(sub: string, vnfId: string): Record<string, { href: string }> {
    const base = this.base();
    return { vnfInstance: { href: `${base}/vnflcm/v2/vnf_instances/${vnfId}` }, subscription: { href: `${base}/vnflcm/v2/subscriptions/${sub}` } };
  }

  /** Queues the event for every subscription whose filter selects it. */
  private fanOut(ev: Event): void {
    for (const sub of this.ctx.data.read('config', VNFLCM.subscription()) ?? []) {
      if (!sub['callback-uri']) continue;
      let filter: LccnFilter = {};
      if (sub.filter !== undefined) {
        const parsed = parseJson(sub.filter);
        if (!isObject(parsed)) {
          this.ctx.log.warn({ subscription: sub.id }, 'LCCN: a subscription whose filter is not a JSON object gets nothing');
          continue;
        }
        filter = parsed as LccnFilter;
      }
      if (matches(filter, ev)) this.enqueue(sub.id, ev.body(sub.id));
    }
  }

  // ----- delivery ------------------------------------------------------------------------------

  private enqueue(sub: string, n: LccnNotification): void {
    let q = this.queues.get(sub);
    if (!q) {
      q = { items: [], active: false, abort: new AbortController() };
      this.queues.set(sub, q);
    }
    q.items.push(n);
    if (q.items.length > QUEUE_LIMIT) {
      q.items.shift();
      this.count(sub, { dropped: 1, lastError: `queue full (${QUEUE_LIMIT}): the oldest notification was dropped` });
    }
    if (!q.active) {
      q.active = true;
      q.running = this.pump(sub, q);
    }
  }

  /**
   * Delivers a queue's notifications one at a time, in order, until it is empty. `active` is
   * cleared in the step that finds the queue empty (no await between), so a notification queued
   * just then always finds a pump or starts one.
   */
  private async pump(sub: string, q: Queue): Promise<void> {
    try {
      while (q.items.length && !q.abort.signal.aborted) {
        const n = q.items.shift()!;
        await this.deliver(sub, q, n);
      }
    } finally {
      q.active = false;
    }
  }

  private async deliver(sub: string, q: Queue, n: LccnNotification): Promise<void> {
    const { retries, backoffMs } = this.opts;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await this.sleep(Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS), q.abort.signal);
      // The subscription was deleted or the notifier stopped: neither a failure nor a drop.
      if (q.abort.signal.aborted) return;
      const error = await this.post(sub, q, n);
      if (q.abort.signal.aborted) return;
      if (error === undefined) {
        this.count(sub, { delivered: 1 });
        return;
      }
      this.count(sub, { failed: 1, lastError: error });
    }
    this.count(sub, { dropped: 1 });
    this.ctx.log.warn({ subscription: sub, notification: n.id, type: n.notificationType }, `LCCN: notification dropped after ${retries + 1} failed attempts`);
  }

  /** One POST: undefined if the subscriber took it (a 2xx), else why not. */
  private async post(sub: string, q: Queue, n: LccnNotification): Promise<string | undefined> {
    // The subscription as it is now: its callbackUri or authentication may have changed.
    const s = this.ctx.data.read('config', VNFLCM.subscription(sub));
    if (!s?.['callback-uri']) return 'the subscription has no callbackUri';
    const auth = basicAuthHeader(s.authentication);
    try {
      const r = await this.ctx.fetch(s['callback-uri'], {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify(n),
        signal: AbortSignal.any([q.abort.signal, AbortSignal.timeout(this.opts.timeoutMs)]),
      });
      await r.body?.cancel();
      return r.status >= 200 && r.status < 300 ? undefined : `${s['callback-uri']} answered ${r.status}`;
    } catch (e) {
      return `${s['callback-uri']}: ${failureOf(e, this.opts.timeoutMs)}`;
    }
  }

  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = () => {
        this.ctx.timers.clear(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.ctx.timers.setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  // ----- counters ------------------------------------------------------------------------------

  private count(sub: string, d: Partial<Delta>): void {
    const cur = this.deltas.get(sub) ?? { delivered: 0, failed: 0, dropped: 0 };
    cur.delivered += d.delivered ?? 0;
    cur.failed += d.failed ?? 0;
    cur.dropped += d.dropped ?? 0;
    if (d.lastError !== undefined) cur.lastError = d.lastError;
    this.deltas.set(sub, cur);
    this.flushSoon();
  }

  /** One write for all the counters that changed within FLUSH_MS; on failure, again later. */
  private flushSoon(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = this.ctx.timers.setTimeout(async () => {
      this.flushTimer = undefined;
      try {
        await this.flush();
      } catch (e) {
        this.ctx.log.warn({ err: e }, 'LCCN: delivery counters not written; trying again');
        this.flushSoon();
      }
    }, FLUSH_MS);
  }

  /**
   * Adds the pending deltas to `vnflcm-state/delivery`. A read-modify-write under compare-and-set:
   * two members owning different VNFs may deliver to one subscription, and a blind write would
   * lose the other's counts. Deltas that could not be written are kept for the next flush.
   */
  private async flush(): Promise<void> {
    if (!this.deltas.size) return;
    const batch = new Map(this.deltas);
    this.deltas.clear();
    try {
      await retryOnConflict(async () => {
        const tx = this.ctx.data.transaction('operational');
        for (const [sub, d] of batch) {
          // A deleted subscription's counters are not written back (its removal would be undone).
          if (!this.ctx.data.read('config', VNFLCM.subscription(sub))) continue;
          const path = VNFLCM_STATE.delivery(sub);
          const cur = tx.read(path);
          const add = (v: Uint64 | number | undefined, by: number) => String(BigInt(v ?? 0) + BigInt(by)) as Uint64;
          tx.put(path, {
            subscription: sub,
            delivered: add(cur?.delivered, d.delivered),
            'failed-attempts': add(cur?.['failed-attempts'], d.failed),
            dropped: add(cur?.dropped, d.dropped),
            ...(d.lastError !== undefined ? { 'last-error': d.lastError } : cur?.['last-error'] !== undefined ? { 'last-error': cur['last-error'] } : {}),
          });
        }
        if (tx.empty) return tx.cancel();
        await tx.commit();
      });
    } catch (e) {
      for (const [sub, d] of batch) {
        const later = this.deltas.get(sub);
        this.deltas.set(sub, later ? { delivered: d.delivered + later.delivered, failed: d.failed + later.failed, dropped: d.dropped + later.dropped, lastError: later.lastError ?? d.lastError } : d);
      }
      throw e;
    }
  }
}
