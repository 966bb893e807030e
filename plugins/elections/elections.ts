/**
 * The elections and the flows that follow from them. Work arrives as keys (a network, a NAT
 * router, a subnet route); a batch recomputes each key from the inputs, diffs the result against
 * what it wrote before, and writes the difference in one config transaction: a designation that
 * moves takes its flows off the old DPN and puts them on the new one in that same transaction.
 * The operational view (designated-switches, elections-status) follows in a second transaction.
 */
import { isDeepStrictEqual } from 'node:util';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { flowJson, flowPath, INVENTORY_NODES, ofctlFlow } from '../../src/southbound/openflow/flows.ts';
import { uint64, type DataPath } from '../../src/yang/binding.ts';
import { computeNodes } from '../../src/bindings/cloudscaler-rpc.ts';
import type { DesignatedSwitch } from '../../src/bindings/designated-switch.ts';
import { Inputs } from './inputs.ts';
import {
  DESIGNATIONS,
  designatedSwitchPath,
  designationPath,
  ELECTIONS_STATUS,
  naptSwitchPath,
  parseKey,
  serviceKey,
  type ServiceType,
  type WorkKey,
} from './model.ts';
import { flowOwner, networkFlows, serviceFlows, type FlowsByDpn } from './pipeline.ts';

export interface Designation {
  dpn: bigint;
  electedAt: string;
  reason: string;
}

interface OwnedFlow {
  dpn: bigint;
  /** What the switch would be told (ovs-ofctl text): two flows with the same text are the same. */
  text: string;
}

/**
 * How owned flows are keyed: `<dpn>/<table>/<flow id>`, which names the flow as its path does. A
 * batch compares every flow a service wants with those it owns and writes only the few that
 * changed, so the path is built (by the generated builder) for those writes only; the key is
 * shorter than the path's text, and 200,000 of them are kept.
 */
const flowKey = (dpn: bigint, table: number, id: string) => `${dpn}/${table}/${id}`;
function flowAt(key: string): DataPath<unknown> {
  const a = key.indexOf('/');
  const b = key.indexOf('/', a + 1);
  return flowPath(BigInt(key.slice(0, a)), Number(key.slice(a + 1, b)), key.slice(b + 1));
}

function flowText(json: Parameters<typeof ofctlFlow>[0]): string {
  try {
    return ofctlFlow(json);
  } catch {
    return `unrenderable ${Math.random()}`; // not ours as written: rewrite it
  }
}

type Loads = Record<ServiceType, Map<bigint, number>>;

/** What one batch decided, applied to memory only once its transaction committed. */
interface Plan {
  flows: Map<WorkKey, Map<string, OwnedFlow>>;
  designations: Map<WorkKey, Designation | undefined>;
  serviceDpns: Map<WorkKey, Set<bigint>>;
  views: Map<WorkKey, DesignatedSwitch | undefined>;
  loads: Loads;
  revision: number;
  /** Whether a DPN is still there in this transaction's snapshot (see present()). */
  presence: Map<bigint, boolean>;
  /** Writes in the transaction so far, and the batch index after the last key planned. */
  writes: number;
  end: number;
  /** Flow writes per DPN, as the transaction holds them. */
  flowChanges: Map<bigint, FlowChanges>;
  /** DPNs planned as tombstoned beyond what the inputs say (a preview's what-if), if any. */
  assumeTombstoned?: ReadonlySet<bigint>;
  /** A preview: no log line for the moves it plans. */
  dryRun: boolean;
}

export interface FlowChanges {
  added: number;
  removed: number;
  modified: number;
}

/** A move the elections would make, as a preview reports it. */
export interface PlannedMove {
  type: ServiceType;
  id: string;
  from: bigint;
  /** 0: no eligible DPN. */
  to: bigint;
  candidates: bigint[];
  reason: string;
}

/** What tombstoning some DPNs would make the elections write, from the state of now. */
export interface TombstonePlan {
  revision: number;
  moves: PlannedMove[];
  flows: Map<bigint, FlowChanges>;
}

/** About how many writes one transaction takes before the rest of a batch goes in the next. */
const MAX_WRITES = 8192;

const now = () => new Date().toISOString();

export class Elections {
  readonly inputs = new Inputs();
  readonly designations = new Map<WorkKey, Designation>();
  /** The keys of `designations` whose DPN is 0 (none eligible), kept with it: see undesignated(). */
  private readonly unelected = new Set<WorkKey>();
  private loads: Loads = { nat: new Map(), 'subnet-route': new Map() };
  /** Flows written per owner (work key): flowKey -> flow. */
  private readonly owned = new Map<WorkKey, Map<string, OwnedFlow>>();
  private readonly serviceDpns = new Map<WorkKey, Set<bigint>>();
  private readonly views = new Map<WorkKey, DesignatedSwitch>();
  /** Keys of the batch being worked on: their designations may be about to change. */
  private readonly inFlight = new Set<WorkKey>();

  constructor(private readonly ctx: PluginContext) {}

  /**
   * Forgets what this instance believed it had written and reads it back from the store: a
   * member that becomes the leader takes over what the previous leader wrote (its designations
   * and flows), which this member's memory never saw. The inputs stay (listeners kept them).
   */
  reload(): void {
    this.designations.clear();
    this.unelected.clear();
    this.loads = { nat: new Map(), 'subnet-route': new Map() };
    this.owned.clear();
    this.serviceDpns.clear();
    this.views.clear();
    this.inputs.servicesByDpn.clear();
    this.load();
  }

  /** Reads back what earlier runs stored: designations (stickiness) and the flows they own. */
  load(): Set<bigint> {
    const held = new Set<bigint>();
    const list = this.ctx.data.read('config', DESIGNATIONS.designation()) ?? [];
    for (const d of list) {
      if (d['dpn-id'] === undefined) continue;
      const key = serviceKey(d['service-type'], d['service-id']);
      const dpn = BigInt(d['dpn-id']);
      this.designate(key, { dpn, electedAt: d['elected-at'] ?? now(), reason: 'kept from before the restart' });
      if (dpn !== 0n) {
        this.loads[d['service-type']].set(dpn, (this.loads[d['service-type']].get(dpn) ?? 0) + 1);
        this.serviceDpns.set(key, new Set([dpn]));
        addIndex(this.inputs.servicesByDpn, dpn, key);
        held.add(dpn);
      }
    }
    // Node by node: a full inventory (hundreds of thousands of flows) is never all JSON at once.
    for (const node of this.ctx.data.readEntries('config', INVENTORY_NODES.node())) {
      const m = /^openflow:(\d+)$/.exec(node.id);
      if (!m) continue;
      const dpn = BigInt(m[1]);
      for (const table of node['flow-node-inventory:table'] ?? []) {
        for (const flow of table.flow ?? []) {
          const owner = flowOwner(String(flow.id)) as WorkKey | undefined;
          if (!owner) continue;
          let byPath = this.owned.get(owner);
          if (!byPath) this.owned.set(owner, (byPath = new Map()));
          byPath.set(flowKey(dpn, table.id, String(flow.id)), { dpn, text: flowText(flow) });
          held.add(dpn);
        }
      }
    }
    return held;
  }

  /** Works on a batch of keys; on a conflict the whole batch is recomputed from fresh inputs. */
  /**
   * Works on a batch of keys. Keys go into one transaction until it holds about MAX_WRITES
   * writes (a key's writes are never split), so a large batch costs few commits without building
   * one huge transaction. On a conflict the chunk is recomputed from fresh inputs.
   */
  async process(batch: WorkKey[], remaining: () => number): Promise<void> {
    for (const k of batch) this.inFlight.add(k);
    try {
      await this.processChunks(batch, remaining);
    } finally {
      for (const k of batch) this.inFlight.delete(k);
    }
  }

  private async processChunks(batch: WorkKey[], remaining: () => number): Promise<void> {
    for (let from = 0; from < batch.length; ) {
      const plan = await retryOnConflict(async () => {
        const tx = this.ctx.data.transaction('config', { leaderOnly: true });
        const plan = this.plan(batch, from, tx);
        if (plan.writes) await tx.commit();
        else tx.cancel();
        return plan;
      });
      this.apply(plan);
      from = plan.end;
      await this.publish(plan, remaining() + batch.length - from);
    }
  }

  private apply(plan: Plan): void {
    for (const [k, flows] of plan.flows) {
      if (flows.size) this.owned.set(k, flows);
      else this.owned.delete(k);
    }
    for (const [k, d] of plan.designations) this.designate(k, d);
    for (const [k, dpns] of plan.serviceDpns) {
      for (const d of this.serviceDpns.get(k) ?? []) removeIndex(this.inputs.servicesByDpn, d, k);
      for (const d of dpns) addIndex(this.inputs.servicesByDpn, d, k);
      if (dpns.size) this.serviceDpns.set(k, dpns);
      else this.serviceDpns.delete(k);
    }
    this.loads = plan.loads;
  }

  private designate(key: WorkKey, d: Designation | undefined): void {
    if (d) this.designations.set(key, d);
    else this.designations.delete(key);
    if (d?.dpn === 0n) this.unelected.add(key);
    else this.unelected.delete(key);
  }

  /**
   * Of the services a DPN just tombstoned is a candidate of, those the tombstone can change: the
   * ones designated on it (they move), the ones with no designated DPN (the reason they give
   * names each candidate's state), and any being worked on now (they may be landing on it). A
   * designation elsewhere is sticky and no flow depends on a tombstone, so recomputing it writes
   * nothing: with 4 candidates per service, that was three services in four.
   */
  changedByTombstone(dpn: bigint, keys: Iterable<WorkKey>): Set<WorkKey> {
    const out = new Set<WorkKey>();
    for (const k of keys) {
      const d = this.designations.get(k)?.dpn;
      if (d === undefined || d === 0n || d === dpn || this.inFlight.has(k)) out.add(k);
    }
    return out;
  }

  /**
   * Services with no designated DPN (elected again when a compute recovers). Asked once per
   * compute that appears, so for every stored compute at a start: a kept set, not a scan of
   * every designation each time.
   */
  undesignated(): WorkKey[] {
    return [...this.unelected];
  }

  /**
   * What tombstoning `dpns` now would make the elections write: the same keys the compute
   * listener would mark for the tombstone commit (changedByTombstone), planned in the order the
   * work queue would take them by the same plan() a batch runs, with those DPNs counted as
   * tombstoned, in a transaction that is cancelled. Meant for a converged queue (the caller
   * waits for it): keys already pending would be worked on too after a real start.
   */
  planTombstones(dpns: Iterable<bigint>, compare: (a: WorkKey, b: WorkKey) => number): TombstonePlan {
    const assume = new Set<bigint>();
    const keys = new Set<WorkKey>();
    for (const dpn of dpns) {
      const c = this.inputs.computes.get(dpn);
      // Only a registered compute whose tombstone the commit would set fires the listener.
      if (!c || c.tombstoned || assume.has(dpn)) continue;
      assume.add(dpn);
      for (const k of this.changedByTombstone(dpn, this.inputs.servicesByDpn.get(dpn) ?? [])) keys.add(k);
    }
    const batch = [...keys].sort(compare);
    const tx = this.ctx.data.transaction('config');
    try {
      const plan = this.plan(batch, 0, tx, { assumeTombstoned: assume, maxWrites: Infinity, dryRun: true });
      const moves: PlannedMove[] = [];
      for (const [key, next] of plan.designations) {
        const from = this.designations.get(key)?.dpn ?? 0n;
        const to = next?.dpn ?? 0n;
        if (from === to) continue;
        const { kind, id } = parseKey(key);
        const view = plan.views.get(key);
        moves.push({ type: kind as ServiceType, id, from, to, candidates: (view?.candidates ?? []).map((d) => BigInt(d)), reason: next?.reason ?? 'the service is gone' });
      }
      return { revision: plan.revision, moves, flows: plan.flowChanges };
    } finally {
      tx.cancel();
    }
  }

  private plan(batch: WorkKey[], from: number, tx: Transaction, opts: { assumeTombstoned?: ReadonlySet<bigint>; maxWrites?: number; dryRun?: boolean } = {}): Plan {
    const maxWrites = opts.maxWrites ?? MAX_WRITES;
    const plan: Plan = {
      flowChanges: new Map(),
      assumeTombstoned: opts.assumeTombstoned,
      dryRun: opts.dryRun === true,
      writes: 0,
      end: from,
      flows: new Map(),
      designations: new Map(),
      serviceDpns: new Map(),
      views: new Map(),
      loads: { nat: new Map(this.loads.nat), 'subnet-route': new Map(this.loads['subnet-route']) },
      revision: tx.snapshotRevision,
      presence: new Map(),
    };
    while (plan.end < batch.length && plan.writes < maxWrites) {
      const key = batch[plan.end++];
      const { kind, id } = parseKey(key);
      const wanted = kind === 'net' ? networkFlows(this.inputs, id) : this.elect(kind, id, key, plan, tx);
      this.writeFlows(key, wanted, plan, tx);
    }
    return plan;
  }

  /**
   * Whether a DPN still exists as this batch's transaction sees it. The inputs come from
   * listeners and may lag a commit; scale-in end removes a compute's entry and its inventory in
   * one transaction, so checking the entry here keeps a lagging batch from writing flows onto,
   * or electing, a compute that has just been removed.
   */
  private present(dpn: bigint, plan: Plan, tx: Transaction): boolean {
    let p = plan.presence.get(dpn);
    if (p === undefined) {
      const c = this.inputs.computes.get(dpn);
      p = c ? tx.exists(computeNodes().computeNode(c.name)) : this.inputs.connected(dpn);
      plan.presence.set(dpn, p);
    }
    return p;
  }

  /** Why a DPN cannot serve a service (empty: it can). */
  private ineligible(dpn: bigint, candidates: Set<bigint>, plan: Plan, tx: Transaction): string[] {
    const why: string[] = [];
    if (!this.present(dpn, plan, tx)) return ['was removed'];
    if (!candidates.has(dpn)) why.push('hosts no port of the service');
    if (!this.inputs.connected(dpn)) why.push('is disconnected');
    if (!this.inputs.hasTep(dpn)) why.push('has no tunnel endpoint');
    if (this.inputs.computes.get(dpn)?.tombstoned || plan.assumeTombstoned?.has(dpn)) why.push('is tombstoned');
    return why;
  }

  private elect(type: ServiceType, id: string, key: WorkKey, plan: Plan, tx: Transaction): FlowsByDpn {
    const inputs = this.inputs;
    const exists = type === 'nat' ? inputs.routers.get(id)?.snat === true : inputs.subnetRoutes.has(id) && inputs.subnets.has(id);
    const current = this.designations.get(key);
    const loads = plan.loads[type];
    const release = (dpn: bigint) => {
      if (dpn !== 0n) loads.set(dpn, (loads.get(dpn) ?? 1) - 1);
    };
    if (!exists) {
      if (current) {
        release(current.dpn);
        plan.designations.set(key, undefined);
        tx.remove(designationPath(type, id));
        if (type === 'nat') tx.remove(naptSwitchPath(id));
        plan.writes += 2;
      }
      plan.views.set(key, undefined);
      plan.serviceDpns.set(key, new Set());
      return new Map();
    }
    const subnets = type === 'nat' ? inputs.subnetsOfRouter(id) : [id];
    const candidates = inputs.dpnsWithPortsIn(subnets);
    let next: Designation;
    const why = current && current.dpn !== 0n ? this.ineligible(current.dpn, candidates, plan, tx) : [];
    if (current && current.dpn !== 0n && why.length === 0) {
      next = current; // sticky
    } else {
      const eligible = [...candidates].filter((d) => this.ineligible(d, candidates, plan, tx).length === 0);
      eligible.sort((a, b) => (loads.get(a) ?? 0) - (loads.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
      const pick = eligible[0];
      const was = current && current.dpn !== 0n ? `DPN ${current.dpn} ${why.join(' and ')}; ` : '';
      if (pick !== undefined) {
        next = {
          dpn: pick,
          electedAt: now(),
          reason: `${was}elected the least loaded eligible DPN (${loads.get(pick) ?? 0} ${type} designation(s)${eligible.length > 1 ? ', lowest DPN id among the least loaded' : ''})`,
        };
      } else {
        const detail = [...candidates]
          .sort((a, b) => (a < b ? -1 : 1))
          .map((d) => `DPN ${d} ${this.ineligible(d, candidates, plan, tx).join(' and ')}`)
          .join('; ');
        next = {
          dpn: 0n,
          electedAt: current?.dpn === 0n ? current.electedAt : now(),
          reason: `${was}no eligible DPN: ${candidates.size ? detail : 'no port of the service is on a connected DPN'}`,
        };
      }
      if (current) release(current.dpn);
      if (next.dpn !== 0n) loads.set(next.dpn, (loads.get(next.dpn) ?? 0) + 1);
    }
    if (!current || current.dpn !== next.dpn) {
      tx.put(designationPath(type, id), { 'service-type': type, 'service-id': id, 'dpn-id': uint64(next.dpn), 'elected-at': next.electedAt });
      if (type === 'nat') tx.put(naptSwitchPath(id), { 'router-name': id, 'primary-switch-id': uint64(next.dpn) });
      plan.writes += 2;
      if (current && !plan.dryRun) this.ctx.log.info({ service: key, from: current.dpn.toString(), to: next.dpn.toString() }, `${type} ${id}: ${next.reason}`);
    }
    plan.designations.set(key, next);
    const dpns = new Set(candidates);
    if (next.dpn !== 0n) dpns.add(next.dpn);
    plan.serviceDpns.set(key, dpns);
    plan.views.set(key, {
      'service-type': type,
      'service-id': id,
      'dpn-id': uint64(next.dpn),
      ...(inputs.computes.get(next.dpn) ? { 'compute-name': inputs.computes.get(next.dpn)!.name } : {}),
      candidates: [...candidates].sort((a, b) => (a < b ? -1 : 1)).map(uint64),
      'elected-at': next.electedAt,
      reason: next.reason,
    });
    return serviceFlows(inputs, type, id, next.dpn, subnets);
  }

  /** Writes the difference between the flows a key wants and those it owns. */
  private writeFlows(key: WorkKey, wanted: FlowsByDpn, plan: Plan, tx: Transaction): void {
    const have = this.owned.get(key) ?? new Map<string, OwnedFlow>();
    const next = new Map<string, OwnedFlow>();
    const bodies = new Map<string, Record<string, unknown>>();
    for (const [dpn, flows] of wanted) {
      if (!this.present(dpn, plan, tx)) continue;
      for (const f of flows) {
        const json = flowJson(dpn, f);
        const k = flowKey(dpn, f.table, f.id);
        next.set(k, { dpn, text: flowText(json) });
        bodies.set(k, json);
      }
    }
    let changed = false;
    const count = (dpn: bigint, what: keyof FlowChanges) => {
      let c = plan.flowChanges.get(dpn);
      if (!c) plan.flowChanges.set(dpn, (c = { added: 0, removed: 0, modified: 0 }));
      c[what]++;
    };
    for (const [k, f] of have) {
      if (next.has(k)) continue;
      tx.remove(flowAt(k));
      count(f.dpn, 'removed');
      plan.writes++;
      changed = true;
    }
    for (const [k, f] of next) {
      const old = have.get(k);
      if (old && old.text === f.text) continue;
      tx.put(flowAt(k), bodies.get(k));
      count(f.dpn, old ? 'modified' : 'added');
      plan.writes++;
      changed = true;
    }
    if (changed || have.size !== next.size) plan.flows.set(key, next);
  }

  private async publish(plan: Plan, pending: number): Promise<void> {
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational', { leaderOnly: true });
      for (const [key, view] of plan.views) {
        const { kind, id } = parseKey(key);
        if (isDeepStrictEqual(this.views.get(key), view)) continue;
        if (view) tx.put(designatedSwitchPath(kind as ServiceType, id), view);
        else tx.remove(designatedSwitchPath(kind as ServiceType, id));
      }
      tx.put(ELECTIONS_STATUS, {
        'pending-services': pending,
        ...(pending === 0 ? { 'converged-at': now() } : {}),
        'config-revision': uint64(plan.revision),
      });
      await tx.commit();
    });
    for (const [key, view] of plan.views) {
      if (view) this.views.set(key, view);
      else this.views.delete(key);
    }
  }
}

function addIndex(m: Map<bigint, Set<WorkKey>>, dpn: bigint, key: WorkKey): void {
  let s = m.get(dpn);
  if (!s) m.set(dpn, (s = new Set()));
  s.add(key);
}

function removeIndex(m: Map<bigint, Set<WorkKey>>, dpn: bigint, key: WorkKey): void {
  const s = m.get(dpn);
  if (!s) return;
  s.delete(key);
  if (!s.size) m.delete(dpn);
}
