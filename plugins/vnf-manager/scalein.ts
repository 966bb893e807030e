/**
 * Cooperation with compute scale-in: a compute being scaled in (tombstoned by cloudscaler) must be
 * emptied before `scalein-computes-end` can be DONE. Each VNF's owner starts an automatic HEAL of
 * the VNF's VNFCs on tombstoned computes (the autoscaler places the new ones elsewhere, never on a
 * tombstoned compute), as soon as the VNF has no operation in flight; the VDU clusters are made
 * with replace-on-scale-in false, so the autoscaler does not move them a second time.
 *
 * The leader keeps `vnflcm-state/scale-in-blocker[compute]`: which VNFs and VNFCs are still on
 * each tombstoned compute, i.e. why its scale-in cannot end yet.
 */
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { requestHeal } from './lifecycle.ts';
import { COMPUTES, FINAL_STATES, VNFLCM, VNFLCM_STATE, type ComputeNode, type VnfInstance, type VnfLcmOpOcc } from './model.ts';

export class ScaleInMover {
  private readonly offs: (() => void)[] = [];
  private joined = false;
  private blockersTimer?: NodeJS.Timeout;

  constructor(private readonly ctx: PluginContext) {}

  start(): void {
    const { ctx } = this;
    this.offs.push(
      ctx.data.subscribe('config', COMPUTES.computeNode(ANY), (changes: Change<ComputeNode>[]) => {
        if (changes.some((c) => c.after?.tombstoned !== c.before?.tombstoned)) this.moveAll();
        this.blockersSoon();
      }, { replay: false }),
      // An instance freed by the end of an operation may now be moved.
      ctx.data.subscribe('config', VNFLCM.vnfLcmOpOcc(ANY), (changes: Change<VnfLcmOpOcc>[]) => {
        for (const c of changes) {
          const vnf = c.after?.['vnf-instance'];
          if (vnf && FINAL_STATES.has(c.after!['operation-state']!) && !FINAL_STATES.has(c.before?.['operation-state'] ?? 'STARTING')) this.moveLater(vnf);
        }
      }, { replay: false }),
      ctx.data.subscribe('config', VNFLCM.vnfInstance(ANY), () => this.blockersSoon(), { replay: false }),
      ctx.cluster.onMembership(() => this.moveAll()),
      ctx.cluster.onLeadership(() => this.blockersSoon()),
    );
    void ctx.cluster.joined().then(() => {
      this.joined = true;
      this.moveAll();
      this.blockersSoon();
    });
  }

  stop(): void {
    clearTimeout(this.blockersTimer);
    for (const off of this.offs.splice(0)) off();
  }

  private tombstoned(): Set<string> {
    return new Set((this.ctx.data.read('config', COMPUTES.computeNode()) ?? []).filter((c) => c.tombstoned === true).map((c) => c['compute-name']));
  }

  private moveAll(): void {
    if (!this.joined) return;
    const gone = this.tombstoned();
    if (!gone.size) return;
    for (const inst of this.ctx.data.read('config', VNFLCM.vnfInstance()) ?? []) void this.move(inst, gone);
  }

  /** After the commit that ended the operation has been seen by every listener. */
  private moveLater(vnf: string): void {
    setImmediate(() => {
      const inst = this.ctx.data.read('config', VNFLCM.vnfInstance(vnf));
      const gone = this.tombstoned();
      if (inst && gone.size) void this.move(inst, gone);
    });
  }

  private async move(inst: VnfInstance, gone: Set<string>): Promise<void> {
    if (!this.joined || !this.ctx.cluster.owns(inst.id) || inst['instantiation-state'] !== 'INSTANTIATED' || inst['current-operation']) return;
    const on = (inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []).filter((v) => v.compute && gone.has(v.compute));
    if (!on.length) return;
    const computes = [...new Set(on.map((v) => v.compute))].join(', ');
    try {
      await requestHeal(this.ctx, inst.id, { vnfcInstanceId: on.map((v) => v.id), cause: `compute ${computes} is being scaled in` }, true);
    } catch (err) {
      // Busy: the end of that operation brings us back here.
      this.ctx.log.info({ err, vnf: inst.id }, 'vnf: moving VNFCs off a compute being scaled in waits');
    }
  }

  private blockersSoon(): void {
    if (this.blockersTimer || !this.joined) return;
    this.blockersTimer = setTimeout(() => {
      this.blockersTimer = undefined;
      if (this.ctx.cluster.isLeader()) void this.writeBlockers().catch((err: unknown) => this.ctx.log.warn({ err }, 'vnf: recording scale-in blockers failed'));
    }, 100);
    this.blockersTimer.unref();
  }

  private async writeBlockers(): Promise<void> {
    const gone = this.tombstoned();
    const want = new Map<string, { vnfs: Set<string>; vnfcs: string[] }>();
    for (const inst of this.ctx.data.read('config', VNFLCM.vnfInstance()) ?? []) {
      for (const v of inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []) {
        if (!v.compute || !gone.has(v.compute)) continue;
        const b = want.get(v.compute) ?? { vnfs: new Set(), vnfcs: [] };
        b.vnfs.add(inst.id);
        b.vnfcs.push(v.id);
        want.set(v.compute, b);
      }
    }
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational', { leaderOnly: true });
      const have = tx.read(VNFLCM_STATE.scaleInBlocker()) ?? [];
      let changed = false;
      for (const h of have) {
        if (!want.has(h.compute)) {
          tx.remove(VNFLCM_STATE.scaleInBlocker(h.compute));
          changed = true;
        }
      }
      for (const [compute, b] of want) {
        const entry = { compute, 'vnf-instance': [...b.vnfs].sort(), vnfc: [...b.vnfcs].sort() };
        const prev = have.find((h) => h.compute === compute);
        if (prev && JSON.stringify({ ...prev, 'vnf-instance': [...(prev['vnf-instance'] ?? [])].sort(), vnfc: [...(prev.vnfc ?? [])].sort() }) === JSON.stringify(entry)) continue;
        tx.put(VNFLCM_STATE.scaleInBlocker(compute), entry);
        changed = true;
      }
      if (!changed) return tx.cancel();
      await tx.commit();
    });
  }
}
