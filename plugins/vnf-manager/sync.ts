/**
 * Leader-only synchronisation (the seed's second change to Tacker, where every conductor syncs
 * every instance every 300 s): every `--vnf-sync-interval` seconds the elected leader alone
 * compares every INSTANTIATED VNF's recorded VNFCs with what Open vSwitch reports (the VNFC's port
 * as an interface with that iface-id on its compute's bridge) and records the drift (operational
 * `vnf-drift`, a `vnf-drift-detected` notification for each new one). A VNF with an operation in
 * flight is skipped: its VNFCs are changing on purpose. With auto-heal set on the instance, its
 * drifted VNFCs are healed (an automatic HEAL occurrence, run by the VNF's owner).
 *
 * Every write is a leaderOnly transaction: refused on a follower, fenced on the leader. Each
 * cycle is counted under the member that ran it (`vnflcm-state/sync[member]`), which is how a
 * test sees that N instances ran it once per interval, not N times.
 */
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import { LeaderJob } from '../../src/plugin/leader-job.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { requestHeal } from './lifecycle.ts';
import { COMPUTES, DRIFT_NOTIFICATION, now, ovsdbTopology, reportedPorts, VNFLCM, VNFLCM_STATE, type VnfInstance } from './model.ts';

interface Drift {
  vnf: string;
  vnfc: string;
  vdu: string;
  compute: string;
  reason: string;
}

export class VnfSync {
  private readonly job: LeaderJob;

  constructor(
    private readonly ctx: PluginContext,
    intervalMs: number,
  ) {
    this.job = new LeaderJob(ctx, intervalMs, () => this.cycle(), 'a synchronisation cycle');
  }

  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
  }

  /** Compares, records, notifies, heals. Exposed for the benchmark, which times one cycle. */
  async cycle(): Promise<{ checked: number; skipped: number; drift: number; ms: number }> {
    const started = Date.now();
    if (!this.ctx.cluster.isLeader()) return { checked: 0, skipped: 0, drift: 0, ms: 0 };
    const instances = (this.ctx.data.read('config', VNFLCM.vnfInstance()) ?? []).filter((i) => i['instantiation-state'] === 'INSTANTIATED');
    const bridges = new Map((this.ctx.data.read('config', COMPUTES.computeNode()) ?? []).map((c) => [c['compute-name'], c.nodeid]));
    const reported = new Map<string, Set<string> | undefined>();
    const portsOn = (compute: string) => {
      if (!reported.has(compute)) {
        const bridge = bridges.get(compute);
        reported.set(compute, bridge ? reportedPorts(this.ctx.data.read('operational', ovsdbTopology.node(bridge))) : undefined);
      }
      return reported.get(compute);
    };
    const found: Drift[] = [];
    const skipped = new Set<string>();
    let checked = 0;
    for (const inst of instances) {
      if (inst['current-operation']) {
        skipped.add(inst.id);
        continue;
      }
      checked++;
      for (const v of inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []) {
        const compute = v.compute ?? '';
        const ports = portsOn(compute);
        const reason = !bridges.has(compute) ? `its compute ${compute} is no longer registered` : !ports ? `its compute ${compute} is not connected` : !v.port || !ports.has(v.port) ? `its port ${v.port} is gone from ${compute}'s Open vSwitch` : undefined;
        if (reason) found.push({ vnf: inst.id, vnfc: v.id, vdu: v['vdu-id'] ?? '', compute, reason });
      }
    }
    const fresh = await this.record(found, { checked, skipped, started });
    for (const d of fresh) this.ctx.notifications.emit(DRIFT_NOTIFICATION, { 'vnf-instance': d.vnf, vnfc: d.vnfc, reason: d.reason });
    await this.autoHeal(instances, found);
    return { checked, skipped: skipped.size, drift: found.length, ms: Date.now() - started };
  }

  /** The drift list made what this cycle found, and the cycle counted; resolves to the new drifts. */
  private async record(found: Drift[], stats: { checked: number; skipped: ReadonlySet<string>; started: number }): Promise<Drift[]> {
    let fresh: Drift[] = [];
    const key = (vnf: string, vnfc: string) => `${vnf}\u0000${vnfc}`;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational', { leaderOnly: true });
      const known = new Map((tx.read(VNFLCM_STATE.vnfDrift()) ?? []).map((d) => [key(d['vnf-instance'], d.vnfc), d]));
      const seen = new Set(found.map((d) => key(d.vnf, d.vnfc)));
      fresh = found.filter((d) => !known.has(key(d.vnf, d.vnfc)));
      for (const d of fresh) tx.put(VNFLCM_STATE.vnfDrift(d.vnf, d.vnfc), { 'vnf-instance': d.vnf, vnfc: d.vnfc, 'vdu-id': d.vdu, compute: d.compute, reason: d.reason, 'detected-at': now() });
      // Resolved drift goes; an instance skipped this cycle keeps what was found before.
      for (const [k, d] of known) if (!seen.has(k) && !stats.skipped.has(d['vnf-instance'])) tx.remove(VNFLCM_STATE.vnfDrift(d['vnf-instance'], d.vnfc));
      const me = this.ctx.cluster.memberId;
      const prev = tx.read(VNFLCM_STATE.sync(me));
      tx.put(VNFLCM_STATE.sync(me), {
        member: me,
        runs: `${BigInt(prev?.runs ?? 0) + 1n}`,
        'last-run': now(),
        'last-duration-ms': Date.now() - stats.started,
        'vnfs-checked': stats.checked,
        skipped: stats.skipped.size,
        drift: found.length,
      });
      await tx.commit();
    });
    return fresh;
  }

  private async autoHeal(instances: VnfInstance[], found: Drift[]): Promise<void> {
    for (const inst of instances) {
      if (inst['auto-heal'] !== true || inst['current-operation']) continue;
      const vnfcs = found.filter((d) => d.vnf === inst.id).map((d) => d.vnfc);
      if (!vnfcs.length) continue;
      try {
        await requestHeal(this.ctx, inst.id, { vnfcInstanceId: vnfcs, cause: 'drift found by the synchronisation' }, true);
      } catch (err) {
        // Busy (an operation started since the read) or gone: the next cycle looks again.
        this.ctx.log.info({ err, vnf: inst.id }, 'vnf: an automatic heal was not started');
      }
    }
  }
}
