/**
 * Runs operation occurrences, on the member that owns their VNF instance (ctx.cluster.owns). No
 * lock: claiming an occurrence is a compare-and-set on its `owner` leaf, and every write that ends
 * it checks, in its own transaction, that this member still holds the claim (so a member that was
 * presumed dead and comes back cannot overwrite what the new owner did).
 *
 * When a member dies, the members that now own its VNFs take over exactly the occurrences it held
 * (STARTING, PROCESSING or ROLLING_BACK with that owner) and resume them: every step is a
 * reconcile to a target (realise.ts), so running it again is safe. Occurrences held by live
 * members are never touched, whoever restarts: unlike Tacker's conductor, which marks every
 * in-flight operation failed when any conductor starts.
 */
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { readInstance, snapshotOf, vnfdOfInstance, type InstanceSnapshot } from './lifecycle.ts';
import { ACTIVE_STATES, FINAL_STATES, instancePath, now, opOccPath, scaleLevels, VIM_STATES, VNFLCM, type VnfcResourceInfo, type VnfInstance, type VnfLcmOpOcc } from './model.ts';
import { clusterIdOf, networkOf, profileIdOf, Realiser, StepFailed } from './realise.ts';
import { instancesAt, type Vnfd } from './vnfd.ts';

/** What an ended run writes into the instance. */
type InstanceUpdate = Partial<VnfInstance> & { clearInfo?: boolean };

export class Executor {
  /** Occurrences this process is running now: only so that one process does not run one twice. */
  private readonly running = new Set<string>();
  private readonly offs: (() => void)[] = [];
  private joined = false;
  private stopped = false;
  readonly realiser: Realiser;
  /** Runs started here, by operation (for the tests' "no operation ran twice"). */
  readonly runs = new Map<string, number>();

  constructor(
    private readonly ctx: PluginContext,
    timeoutMs: number,
    /** Ended occurrences kept; the oldest go first. */
    private readonly kept: number,
  ) {
    this.realiser = new Realiser(ctx, timeoutMs);
  }

  start(): void {
    const { ctx } = this;
    this.offs.push(
      ctx.data.subscribe('config', VNFLCM.vnfLcmOpOcc(ANY), (changes: Change<VnfLcmOpOcc>[]) => {
        for (const c of changes) if (c.after && this.claimable(c.after)) void this.kick(c.after.id);
      }, { replay: false }),
      ctx.cluster.onMembership(() => this.sweep()),
    );
    void ctx.cluster.joined().then(() => {
      if (this.stopped) return;
      this.joined = true;
      this.sweep();
    });
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    this.realiser.stop();
  }

  /** After start and on every membership change: the occurrences this member should run now. */
  sweep(): void {
    if (!this.joined || this.stopped) return;
    for (const occ of this.ctx.data.read('config', VNFLCM.vnfLcmOpOcc()) ?? []) if (this.claimable(occ)) void this.kick(occ.id);
  }

  /**
   * Whether this member should run it: active, holding its instance (`currentOperation`, read by
   * the caller from the store or from its transaction), its VNF owned here, and nobody live
   * holding it (no owner yet, a dead owner, or this member's own claim from before a restart).
   */
  private mayRun(occ: VnfLcmOpOcc, currentOperation: string | undefined): boolean {
    if (!ACTIVE_STATES.has(occ['operation-state']!) || currentOperation !== occ.id || !this.ctx.cluster.owns(occ['vnf-instance']!)) return false;
    if (!occ.owner || occ.owner === this.ctx.cluster.memberId) return true;
    return !this.ctx.cluster.members().some((m) => m.id === occ.owner);
  }

  /** mayRun, as this member sees the store now, and not already running here. */
  private claimable(occ: VnfLcmOpOcc): boolean {
    if (!this.joined || this.stopped || this.running.has(occ.id)) return false;
    return this.mayRun(occ, this.ctx.data.read('config', instancePath(occ['vnf-instance']!))?.['current-operation']);
  }

  private async kick(id: string): Promise<void> {
    if (this.running.has(id)) return;
    this.running.add(id);
    try {
      const occ = await this.claim(id);
      if (occ) await this.run(occ);
    } catch (err) {
      this.ctx.log.error({ err, occurrence: id }, 'vnf: running an operation occurrence failed');
    } finally {
      this.running.delete(id);
    }
  }

  /** The compare-and-set: this member becomes the occurrence's owner, or nothing happens. */
  private async claim(id: string): Promise<VnfLcmOpOcc | undefined> {
    return retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      const occ = tx.read(opOccPath(id));
      if (!occ || !this.mayRun(occ, tx.read(instancePath(occ['vnf-instance']!))?.['current-operation'])) {
        tx.cancel();
        return undefined;
      }
      const starting = occ['operation-state'] === 'STARTING';
      const claimed: VnfLcmOpOcc = { ...occ, owner: this.ctx.cluster.memberId, attempt: (occ.attempt ?? 0) + 1, ...(starting ? { 'operation-state': 'PROCESSING', 'state-entered-time': now() } : {}) };
      tx.merge(opOccPath(id), { owner: claimed.owner, attempt: claimed.attempt, ...(starting ? { 'operation-state': 'PROCESSING', 'state-entered-time': claimed['state-entered-time'] } : {}) });
      await tx.commit();
      return claimed;
    });
  }

  private async run(occ: VnfLcmOpOcc): Promise<void> {
    const op = `${occ.operation}${occ['operation-state'] === 'ROLLING_BACK' ? ':rollback' : ''}`;
    this.runs.set(op, (this.runs.get(op) ?? 0) + 1);
    const inst = readInstance(this.ctx, occ['vnf-instance']!);
    const before = snapshotOf(inst);
    const vnfcsBefore = inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? [];
    try {
      const update = occ['operation-state'] === 'ROLLING_BACK' ? await this.rollback(occ) : await this.execute(occ);
      await this.finish(occ, occ['operation-state'] === 'ROLLING_BACK' ? 'ROLLED_BACK' : 'COMPLETED', update, vnfcsBefore);
    } catch (err) {
      const e = err as Error;
      const problem = err instanceof StepFailed ? { status: err.status, title: err.title, detail: err.message } : { status: 500, title: 'Operation failed', detail: e?.message ?? String(err) };
      // What the clusters hold now is what the instance shows, even after a failure.
      const vnfd = this.vnfdOrUndefined(occ);
      const vnfcs = vnfd ? this.realiser.vnfcs(occ['vnf-instance']!, vnfd) : undefined;
      await this.finish(occ, 'FAILED_TEMP', vnfcs && before.state === 'INSTANTIATED' ? { 'instantiated-vnf-info': { 'vnfc-resource-info': vnfcs } } : {}, vnfcsBefore, problem);
    }
  }

  private vnfdOrUndefined(occ: VnfLcmOpOcc): Vnfd | undefined {
    try {
      return vnfdOfInstance(this.ctx, readInstance(this.ctx, occ['vnf-instance']!));
    } catch {
      return undefined;
    }
  }

  /**
   * Ends a run: the occurrence's new state and the instance's new shape in one commit, only if this
   * member still holds the claim. A final state frees the instance for the next operation.
   */
  private async finish(occ: VnfLcmOpOcc, state: 'COMPLETED' | 'FAILED_TEMP' | 'ROLLED_BACK', update: InstanceUpdate, vnfcsBefore: VnfcResourceInfo[], error?: { status: number; title: string; detail: string }): Promise<void> {
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      const cur = tx.read(opOccPath(occ.id));
      if (!cur || cur.owner !== this.ctx.cluster.memberId || !ACTIVE_STATES.has(cur['operation-state']!)) {
        this.ctx.log.warn({ occurrence: occ.id, owner: cur?.owner }, 'vnf: an occurrence ended here is no longer held by this member; its result is dropped');
        return tx.cancel();
      }
      const vnfId = occ['vnf-instance']!;
      const inst = tx.read(instancePath(vnfId));
      const { clearInfo, ...fields } = update;
      if (inst) {
        if (clearInfo) {
          if (inst['instantiated-vnf-info']) tx.remove(instancePath(vnfId).instantiatedVnfInfo());
        }
        const info = fields['instantiated-vnf-info'];
        delete fields['instantiated-vnf-info'];
        if (Object.keys(fields).length) tx.merge(instancePath(vnfId), fields);
        if (info) {
          // Lists replaced whole: the VNFCs are what the clusters hold, not a merge with the past.
          const at = instancePath(vnfId).instantiatedVnfInfo();
          if (info['vnfc-resource-info']) {
            for (const v of inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []) tx.remove(at.vnfcResourceInfo(v.id));
          }
          if (info['scale-status']) {
            for (const s of inst['instantiated-vnf-info']?.['scale-status'] ?? []) tx.remove(at.scaleStatus(s['aspect-id']));
          }
          tx.merge(at, info);
        }
        if (state !== 'FAILED_TEMP' && inst['current-operation'] === occ.id) tx.remove(instancePath(vnfId).currentOperation());
      }
      const at = now();
      const after = clearInfo ? [] : update['instantiated-vnf-info']?.['vnfc-resource-info'] ?? vnfcsBefore;
      tx.merge(opOccPath(occ.id), { 'operation-state': state, 'state-entered-time': at, 'resource-changes': JSON.stringify(resourceChanges(vnfcsBefore, after)) });
      if (state !== 'FAILED_TEMP') this.pruneEnded(tx, occ.id);
      if (error) tx.merge(opOccPath(occ.id).error(), error);
      else if (cur.error) tx.remove(opOccPath(occ.id).error());
      await tx.commit();
    });
  }

  /**
   * Ended occurrences are kept to a bound (`--vnf-op-occs-kept`): past it by a tenth, the oldest
   * go in the commit that ends one, so the list stops growing without a prune on every commit.
   */
  private pruneEnded(tx: Transaction, ending: string): void {
    const ended = (tx.read(VNFLCM.vnfLcmOpOcc()) ?? []).filter((o) => o.id !== ending && FINAL_STATES.has(o['operation-state']!));
    if (ended.length + 1 <= this.kept + Math.ceil(this.kept / 10)) return;
    ended.sort((x, y) => ((x['state-entered-time'] ?? '') < (y['state-entered-time'] ?? '') ? -1 : 1));
    for (const o of ended.slice(0, ended.length + 1 - this.kept)) tx.remove(opOccPath(o.id));
  }

  // ----- the operations ------------------------------------------------------------------------

  private async execute(occ: VnfLcmOpOcc): Promise<InstanceUpdate> {
    const vnfId = occ['vnf-instance']!;
    const inst = readInstance(this.ctx, vnfId);
    const params = JSON.parse(occ['operation-params'] ?? '{}') as Record<string, unknown>;
    if (occ.operation === 'MODIFY_INFO') return {}; // its changes were committed with the occurrence
    const vnfd = vnfdOfInstance(this.ctx, inst);
    switch (occ.operation) {
      case 'INSTANTIATE': {
        this.requireVimReachable(inst);
        const levels = Object.fromEntries(vnfd.aspects.map((a) => [a.id, 0]));
        await this.realiseAll(occ, vnfd, levels, params);
        return this.instantiated(vnfId, vnfd, levels);
      }
      case 'SCALE': {
        const before = JSON.parse(occ.before ?? '{}') as InstanceSnapshot;
        const levels = { ...before.levels };
        const steps = Number(params.numberOfSteps ?? 1);
        const aspect = String(params.aspectId);
        levels[aspect] = (levels[aspect] ?? 0) + (params.type === 'SCALE_OUT' ? steps : -steps);
        await this.realiseAll(occ, vnfd, levels, {}, (vdu) => vnfd.aspects.some((a) => a.id === aspect && a.deltas[vdu] !== undefined));
        return this.instantiated(vnfId, vnfd, levels);
      }
      case 'HEAL': {
        const vnfcs = inst['instantiated-vnf-info']?.['vnfc-resource-info'] ?? [];
        const wanted = (params.vnfcInstanceId as string[] | undefined) ?? vnfcs.map((v) => v.id);
        for (const vdu of vnfd.vdus) {
          const mine = vnfcs.filter((v) => v['vdu-id'] === vdu.id && wanted.includes(v.id)).map((v) => v.id);
          if (mine.length) await this.realiser.replace(vnfId, vdu, mine);
        }
        return this.instantiated(vnfId, vnfd, scaleLevels(inst));
      }
      case 'TERMINATE':
        await this.realiser.remove(vnfId, vnfd);
        return { 'instantiation-state': 'NOT_INSTANTIATED', clearInfo: true };
      default:
        throw new StepFailed(`${occ.operation} is not supported by this VNF manager.`, 501, 'Not Implemented');
    }
  }

  private async rollback(occ: VnfLcmOpOcc): Promise<InstanceUpdate> {
    const vnfId = occ['vnf-instance']!;
    const inst = readInstance(this.ctx, vnfId);
    const before = JSON.parse(occ.before ?? '{}') as InstanceSnapshot;
    if (occ.operation === 'MODIFY_INFO') return {};
    const vnfd = vnfdOfInstance(this.ctx, inst);
    if (occ.operation === 'INSTANTIATE') {
      await this.realiser.remove(vnfId, vnfd);
      return { 'instantiation-state': 'NOT_INSTANTIATED', clearInfo: true };
    }
    if (occ.operation === 'SCALE') {
      await this.realiseAll(occ, vnfd, before.levels, {});
      return this.instantiated(vnfId, vnfd, before.levels);
    }
    throw new StepFailed(`A ${occ.operation} cannot be rolled back.`, 409, 'Conflict');
  }

  private async realiseAll(occ: VnfLcmOpOcc, vnfd: Vnfd, levels: Record<string, number>, params: Record<string, unknown>, only: (vdu: string) => boolean = () => true): Promise<void> {
    const vnfId = occ['vnf-instance']!;
    const recover = (occ.attempt ?? 1) > 1 || occ['operation-state'] === 'ROLLING_BACK';
    // One VDU after the other: placement then sees the VNFCs already placed, so the VNF is spread
    // over the computes instead of two VDUs racing for the same emptiest one.
    for (const vdu of vnfd.vdus.filter((v) => only(v.id))) await this.realiser.realise(vnfId, vdu, instancesAt(vnfd, vdu.id, levels), networkOf(vnfId, vdu, params), recover);
  }

  private instantiated(vnfId: string, vnfd: Vnfd, levels: Record<string, number>): InstanceUpdate {
    return {
      'instantiation-state': 'INSTANTIATED',
      'instantiated-vnf-info': {
        'scale-status': vnfd.aspects.map((a) => ({ 'aspect-id': a.id, 'scale-level': levels[a.id] ?? 0 })),
        'vdu-cluster': vnfd.vdus.map((v) => ({ 'vdu-id': v.id, cluster: clusterIdOf(vnfId, v.id), profile: profileIdOf(vnfId, v.id) })),
        'vnfc-resource-info': this.realiser.vnfcs(vnfId, vnfd),
      },
    };
  }

  /** Instantiation on a VIM the VIM monitor reports UNREACHABLE fails (FAILED_TEMP), saying so. */
  private requireVimReachable(inst: VnfInstance): void {
    const vim = inst['vim-id'];
    if (!vim) return;
    const state = this.ctx.data.read('operational', VIM_STATES.vimState(vim));
    if (state?.status === 'UNREACHABLE') {
      throw new StepFailed(`VIM ${vim} is UNREACHABLE (VIM monitor${state['last-error'] ? `: ${state['last-error']}` : ''}); the instantiation can be retried once it is reachable.`, 503, 'VIM unreachable');
    }
  }
}

/** SOL003 ResourceChanges.affectedVnfcs between two sets of VNFCs. */
export function resourceChanges(before: VnfcResourceInfo[], after: VnfcResourceInfo[]): { affectedVnfcs: { id: string; vduId: string; changeType: 'ADDED' | 'REMOVED'; computeResource: { resourceId: string } }[] } {
  const was = new Map(before.map((v) => [v.id, v]));
  const is = new Map(after.map((v) => [v.id, v]));
  const entry = (v: VnfcResourceInfo, changeType: 'ADDED' | 'REMOVED') => ({ id: v.id, vduId: v['vdu-id'] ?? '', changeType, computeResource: { resourceId: v.port ?? '' } });
  return { affectedVnfcs: [...after.filter((v) => !was.has(v.id)).map((v) => entry(v, 'ADDED')), ...before.filter((v) => !is.has(v.id)).map((v) => entry(v, 'REMOVED'))] };
}
