/**
 * VDUs as clusters of the autoscaling plugin, through the datastore and its rpcs only (no import
 * of that plugin): a VDU of an instance is one cluster (min/max from the VNFD's vdu_profile, its
 * size from the scale levels), made from one profile whose network is the VDU's first virtual
 * link; a VNFC is one node of it, a VM port on a compute placed by the autoscaler (never on a
 * tombstoned compute). The cluster's id is derived from the instance and the VDU, so an operation
 * resumed by another member after a crash finds the clusters the first one made.
 *
 * Every step is "reconcile to a target": wait until the cluster runs no action, then ask for what
 * is missing, then wait for that action's end. Running a step twice does no harm, which is what
 * makes an operation safe to resume.
 */
import { createHash } from 'node:crypto';
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { ACTION_DONE, CLUSTERING, CLUSTERING_STATE, type Action, type Node, type VnfcResourceInfo } from './model.ts';
import type { Vnfd, VnfdVdu } from './vnfd.ts';

/** A uuid-shaped id derived from a name (clusters and profiles must be found again on resume). */
export function derivedId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const clusterIdOf = (vnfId: string, vduId: string) => derivedId(`sextant-vnf/${vnfId}/${vduId}/cluster`);
export const profileIdOf = (vnfId: string, vduId: string) => derivedId(`sextant-vnf/${vnfId}/${vduId}/profile`);

/** Thrown by a step that cannot reach its target; becomes the occurrence's ProblemDetails. */
export class StepFailed extends Error {
  constructor(
    message: string,
    readonly status = 500,
    readonly title = 'Operation failed',
  ) {
    super(message);
  }
}

/** An autoscaler action that ended because the member running it stopped. */
class Interrupted extends StepFailed {}

/** How often a step is run again after an interruption before the occurrence fails. */
const INTERRUPTIONS = 3;

const PENDING = (a: Action) => !ACTION_DONE.has(a.status ?? '');

/**
 * The network a VDU's ports go on: the Neutron network the instantiation request maps its first
 * virtual link to (extVirtualLinks / extManagedVirtualLinks resourceId), else one derived from the
 * instance and the link (the same on every member).
 */
export function networkOf(vnfId: string, vdu: VnfdVdu, params: Record<string, unknown>): string {
  const vl = vdu.virtualLinks[0] ?? vdu.id;
  const links = [...((params.extManagedVirtualLinks as unknown[]) ?? []), ...((params.extVirtualLinks as unknown[]) ?? [])] as Record<string, unknown>[];
  for (const l of links) {
    const cps = ((l.extCps as Record<string, unknown>[] | undefined) ?? []).map((c) => c.cpdId);
    if ((l.vnfVirtualLinkDescId === vl || cps.some((c) => vdu.cps.includes(String(c)))) && typeof l.resourceId === 'string' && /^[0-9a-f-]{36}$/i.test(l.resourceId)) return l.resourceId;
  }
  return derivedId(`sextant-vnf/${vnfId}/network/${vl}`);
}

export class Realiser {
  /**
   * The pending actions of each cluster, kept from the action changes (one subscription for all
   * the steps waiting here): a step's check looks at its own cluster's, never at every action.
   */
  private pending?: Map<string, Set<string>>;
  /** Target of each pending action, for its deletion (a deleted entry has no `after`). */
  private pendingTarget = new Map<string, string>();
  /** The latest CLUSTER_CREATE of each cluster (whether its creation ended, and how). */
  private readonly creations = new Map<string, Action>();
  /** The checks of the steps waiting now, run after every change of the clusters' state. */
  private readonly waiters = new Set<() => void>();
  private offs: (() => void)[] = [];

  constructor(
    private readonly ctx: PluginContext,
    private readonly timeoutMs: number,
  ) {}

  stop(): void {
    for (const off of this.offs.splice(0)) off();
    this.pending = undefined;
    this.pendingTarget.clear();
    this.creations.clear();
  }

  nodes(cluster: string): Node[] {
    return (this.ctx.data.read('operational', CLUSTERING_STATE.cluster(cluster))?.node ?? []).filter((n) => n.status !== 'DELETING');
  }

  /** The VNFCs the clusters hold now. */
  vnfcs(vnfId: string, vnfd: Vnfd): VnfcResourceInfo[] {
    return vnfd.vdus.flatMap((vdu) => this.nodes(clusterIdOf(vnfId, vdu.id)).map((n) => ({ id: n.id, 'vdu-id': vdu.id, ...(n.compute ? { compute: n.compute } : {}), ...(n.port ? { port: n.port } : {}) })));
  }

  private track(id: string, a: Action | undefined): void {
    // The latest CLUSTER_CREATE of each cluster, as it goes (an interrupted one is run again).
    if (a?.action === 'CLUSTER_CREATE' && a.target && (this.creations.get(a.target)?.['created-at'] ?? '') <= (a['created-at'] ?? '')) this.creations.set(a.target, a);
    const was = this.pendingTarget.get(id);
    const target = a && PENDING(a) ? a.target : undefined;
    if (was === target) return;
    if (was !== undefined) {
      const set = this.pending!.get(was);
      set?.delete(id);
      if (set && !set.size) this.pending!.delete(was);
      this.pendingTarget.delete(id);
    }
    if (target !== undefined) {
      let set = this.pending!.get(target);
      if (!set) this.pending!.set(target, (set = new Set()));
      set.add(id);
      this.pendingTarget.set(id, target);
    }
  }

  /** Subscribes once (on the first wait): the index of pending actions, then the waiters' checks. */
  private watch(): void {
    if (this.pending) return;
    this.pending = new Map();
    const poke = () => {
      for (const w of [...this.waiters]) w();
    };
    this.offs.push(
      this.ctx.data.subscribe('operational', CLUSTERING_STATE.action(ANY), (changes) => {
        for (const c of changes) this.track(String(c.keys[0][0]), c.type === 'deleted' ? undefined : (c.after as Action | undefined));
        poke();
      }, { replay: false }),
      this.ctx.data.subscribe('operational', CLUSTERING_STATE.cluster(ANY), () => poke(), { replay: false }),
    );
    for (const a of this.ctx.data.read('operational', CLUSTERING_STATE.action()) ?? []) this.track(a.id, a);
  }

  private hasPending(cluster: string): boolean {
    this.watch();
    return (this.pending!.get(cluster)?.size ?? 0) > 0;
  }

  /** Resolves when `check` holds, re-checked on every change of the clusters' state; fails after the timeout. */
  private waitUntil(what: string, check: () => boolean): Promise<void> {
    this.watch();
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new StepFailed(`Timed out after ${this.timeoutMs / 1000} s waiting for ${what}.`)), this.timeoutMs);
      timer.unref();
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(poke);
        if (err) reject(err);
        else resolve();
      };
      const poke = () => {
        try {
          if (check()) finish();
        } catch (e) {
          finish(e as Error);
        }
      };
      this.waiters.add(poke);
    });
  }

  /** Until the cluster exists in the autoscaler's state and runs no action. */
  private settled(cluster: string): Promise<void> {
    return this.waitUntil(`cluster ${cluster} to settle`, () => {
      const s = this.ctx.data.read('operational', CLUSTERING_STATE.cluster(cluster));
      // Its creation started (created-at) or ended (even interrupted before it wrote anything),
      // and no action of it pending.
      const create = this.creations.get(cluster);
      const created = !!s?.['created-at'] || (!!create && ACTION_DONE.has(create.status ?? ''));
      return created && !this.hasPending(cluster);
    });
  }

  /**
   * Waits for an action to end; a FAILED one fails the step with the autoscaler's reason, as an
   * `Interrupted` when the member running it stopped (the step is then worth running again).
   */
  private async ended(action: string, what: string): Promise<void> {
    let last: Action | undefined;
    await this.waitUntil(`${what} (action ${action})`, () => {
      const a = this.ctx.data.read('operational', CLUSTERING_STATE.action(action));
      if (a) last = a;
      // An ended action may be pruned once ended (the autoscaler keeps a bounded number).
      return !a || ACTION_DONE.has(a.status ?? '');
    });
    if (last && last.status !== 'SUCCEEDED' && ACTION_DONE.has(last.status ?? '')) {
      const message = `${what} failed: ${last['status-reason'] ?? last.status}`;
      throw last.interrupted ? new Interrupted(message) : new StepFailed(message);
    }
  }

  private async rpcAction(name: string, input: Record<string, unknown>): Promise<string> {
    const out = (await this.ctx.rpc.invoke(`sextant-clustering:${name}`, input)) as { action?: string } | undefined;
    if (!out?.action) throw new StepFailed(`sextant-clustering:${name} started no action.`);
    return out.action;
  }

  /**
   * A VDU's cluster with `desired` healthy nodes: made if it does not exist, resized if its size
   * differs, its ERROR nodes recreated (when `recover`, or when it was there before); then checked.
   */
  async realise(vnfId: string, vdu: VnfdVdu, desired: number, network: string, recover: boolean): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        return await this.realiseOnce(vnfId, vdu, desired, network, recover || i > 1);
      } catch (e) {
        // A cluster member restarted under the step: the step is a reconcile, so run it again.
        if (!(e instanceof Interrupted) || i >= INTERRUPTIONS) throw e;
        this.ctx.log.info({ vnf: vnfId, vdu: vdu.id, err: e }, 'vnf: a step was interrupted; running it again');
      }
    }
  }

  private async realiseOnce(vnfId: string, vdu: VnfdVdu, desired: number, network: string, recover: boolean): Promise<void> {
    const cluster = clusterIdOf(vnfId, vdu.id);
    const profile = profileIdOf(vnfId, vdu.id);
    const what = `VDU ${vdu.id}`;
    const existed = !!this.ctx.data.read('config', CLUSTERING.cluster(cluster));
    if (!existed) {
      await retryOnConflict(async () => {
        const tx = this.ctx.data.transaction('config');
        if (tx.read(CLUSTERING.cluster(cluster))) return tx.cancel();
        tx.put(CLUSTERING.profile(profile), { id: profile, name: `vnf-${vnfId}-${vdu.id}`.slice(0, 255), type: 'sextant.ovs.port-1.0', network, ...(vdu.flavor ? { flavor: vdu.flavor } : {}), ...(vdu.image ? { image: vdu.image } : {}) });
        tx.put(CLUSTERING.cluster(cluster), {
          id: cluster,
          name: `vnf-${vnfId}-${vdu.id}`.slice(0, 255),
          profile,
          'min-size': vdu.min,
          'max-size': vdu.max,
          'desired-capacity': desired,
          // Its VNFCs are moved off a compute being scaled in by this manager's HEAL, not by the autoscaler.
          'replace-on-scale-in': false,
          metadata: JSON.stringify({ 'vnf-instance': vnfId, vdu: vdu.id }),
        });
        await tx.commit();
      });
    }
    await this.settled(cluster);
    if (!existed) {
      // The autoscaler made it on the cluster's owner: an interrupted creation is worth another go.
      const create = this.creations.get(cluster);
      if (create?.interrupted) throw new Interrupted(`creating ${what}: ${create['status-reason'] ?? 'interrupted'}`);
    }
    if (this.nodes(cluster).length !== desired) {
      await this.ended(await this.rpcAction('cluster-resize', { cluster, 'adjustment-type': 'EXACT_CAPACITY', number: desired, strict: true }), `resizing ${what} to ${desired}`);
    }
    // A cluster made by this very run reports what failed (FAILED_TEMP: the client chooses retry
    // or rollback); a retry, a run resumed by another member, or a new operation finding what an
    // earlier failed one left, recreates the VNFCs that are ERROR.
    if ((recover || existed) && this.nodes(cluster).some((n) => n.status === 'ERROR')) {
      await this.ended(await this.rpcAction('cluster-recover', { cluster }), `recovering ${what}`);
    }
    this.check(cluster, what, desired);
  }

  private check(cluster: string, what: string, desired: number): void {
    const nodes = this.nodes(cluster);
    const bad = nodes.filter((n) => n.status !== 'ACTIVE');
    if (nodes.length !== desired) throw new StepFailed(`${what} has ${nodes.length} VNFC(s), not ${desired}.`);
    if (bad.length) throw new StepFailed(`${what}: VNFC ${bad[0].id} is ${bad[0].status}: ${bad[0]['status-reason'] ?? ''}`.trim());
  }

  /** New VNFCs for the named ones of one VDU (placed again), then the old ones go. */
  async replace(vnfId: string, vdu: VnfdVdu, vnfcs: string[]): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        return await this.replaceOnce(vnfId, vdu, vnfcs);
      } catch (e) {
        if (!(e instanceof Interrupted) || i >= INTERRUPTIONS) throw e;
        this.ctx.log.info({ vnf: vnfId, vdu: vdu.id, err: e }, 'vnf: a heal was interrupted; running it again');
      }
    }
  }

  private async replaceOnce(vnfId: string, vdu: VnfdVdu, vnfcs: string[]): Promise<void> {
    const cluster = clusterIdOf(vnfId, vdu.id);
    await this.settled(cluster);
    const members = new Set(this.nodes(cluster).map((n) => n.id));
    // A VNFC already gone was replaced by an earlier run of this step (a resumed occurrence).
    const still = vnfcs.filter((v) => members.has(v));
    // The autoscaler's action succeeds only once every replacement is ACTIVE; the other VNFCs
    // of the VDU are not this heal's business.
    if (still.length) await this.ended(await this.rpcAction('cluster-replace-nodes', { cluster, node: still }), `healing VNFC(s) ${still.join(', ')} of VDU ${vdu.id}`);
    const left = this.nodes(cluster).filter((n) => still.includes(n.id));
    if (left.length) throw new StepFailed(`VDU ${vdu.id}: VNFC ${left[0].id} was not replaced.`);
  }

  /** Every VDU's cluster and profile gone, and the autoscaler done deleting their nodes. */
  async remove(vnfId: string, vnfd: Vnfd): Promise<void> {
    const clusters = vnfd.vdus.map((v) => ({ cluster: clusterIdOf(vnfId, v.id), profile: profileIdOf(vnfId, v.id) }));
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      let any = false;
      for (const { cluster, profile } of clusters) {
        if (tx.read(CLUSTERING.cluster(cluster))) {
          tx.remove(CLUSTERING.cluster(cluster));
          any = true;
        }
        if (tx.read(CLUSTERING.profile(profile))) {
          tx.remove(CLUSTERING.profile(profile));
          any = true;
        }
      }
      if (!any) return tx.cancel();
      await tx.commit();
    });
    await this.waitUntil(`the clusters of VNF instance ${vnfId} to be deleted`, () => clusters.every(({ cluster }) => !this.ctx.data.read('operational', CLUSTERING_STATE.cluster(cluster))));
    for (const { cluster } of clusters) this.creations.delete(cluster);
  }
}
