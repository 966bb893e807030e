/**
 * The scale-in operations (NetVirt spec "Support for compute node scale in and scale out"):
 * start tombstones, recover un-tombstones, end removes a tombstoned compute once no port is bound
 * to it, tep-delete removes only its tunnel endpoints. Each runs in one transaction, retried on a
 * conflict, and an unknown or ambiguous compute fails the whole call before anything changes.
 */
import { retryOnConflict, type Change, type Transaction } from '../../src/datastore/datastore.ts';
import type { PhaseWriter } from '../../src/datastore/phases.ts';
import { YangError } from '../../src/errors.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { vmPortOf } from '../../src/southbound/ovsdb/topology.ts';
import { uint64 } from '../../src/yang/binding.ts';
import { transportZones } from '../../src/bindings/itm.ts';
import {
  bridgeNode,
  bridgeTombstone,
  computeNode,
  HISTORY,
  inventoryNode,
  removedCompute,
  TOMBSTONE_KEY,
  vtep,
  type Compute,
  dpnOf,
  type ComputeNodeJson,
  type Dpn,
} from './model.ts';
import { computeIndex, resolveComputes } from './registry.ts';

export interface ComputeOutcome {
  compute: Compute;
  changed: boolean;
}

function computeJson(c: Compute) {
  return { 'compute-name': c.name, 'dpn-id': uint64(c.dpn), 'node-id': c.nodeId };
}

/** Sets or clears the tombstone of the named computes (start / recover). */
export async function setTombstones(ctx: PluginContext, entries: string[] | undefined, tombstoned: boolean): Promise<ComputeOutcome[]> {
  const outcome = await retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    const { found } = resolveComputes(entries, computeIndex(ctx.data, tx));
    const result = found.map((compute) => ({ compute, changed: compute.tombstoned !== tombstoned }));
    // The bridge's external-id follows in the same commit (tombstoneBridges, a prepare phase).
    for (const { compute, changed } of result) if (changed) tx.merge(computeNode(compute.name), { tombstoned });
    await tx.commit();
    return result;
  });
  for (const { compute, changed } of outcome) {
    if (changed) ctx.notifications.emit(tombstoned ? 'scalein-api:compute-tombstoned' : 'scalein-api:compute-recovered', computeJson(compute));
  }
  return outcome;
}

/**
 * Prepare phase on compute-node entries: whoever changes a compute's `tombstoned` (the scale-in
 * rpcs, or a client writing the entry over RESTCONF or NETCONF), the same commit carries the
 * intent for Open vSwitch, the `tombstoned` external-id on its bridge in the config topology
 * (pushed by the OVSDB southbound). So the registry and the bridge can never disagree, not even
 * across a crash. A compute registered untombstoned adds nothing.
 */
export function tombstoneBridges(changes: Change<ComputeNodeJson>[], tx: PhaseWriter): void {
  for (const c of changes) {
    const { before, after } = c;
    if (!after?.nodeid || (before?.tombstoned === true) === (after.tombstoned === true)) continue;
    // A bridge the config topology does not hold yet is created with it (its key from the path).
    tx.put(bridgeTombstone(after.nodeid), { 'bridge-external-id-key': TOMBSTONE_KEY, 'bridge-external-id-value': String(after.tombstoned === true) });
  }
}

export function outcomeJson(outcome: ComputeOutcome[]) {
  return { computes: outcome.map(({ compute, changed }) => ({ ...computeJson(compute), changed })) };
}

/** Ports of VMs still plugged into a compute's bridge (tunnel ports excluded). */
export function boundPorts(ctx: PluginContext, compute: Compute): string[] {
  const node = ctx.data.read('operational', bridgeNode(compute.nodeId));
  const ports: string[] = [];
  for (const tp of node?.['termination-point'] ?? []) {
    if (vmPortOf(tp) !== undefined) ports.push(tp['ovsdb:name'] ?? tp['tp-id']);
  }
  return ports;
}

/**
 * Removes the computes' vteps from every transport zone. The zones are read once for the whole
 * call: a zone holds a vtep per member, so reading them per compute would be computes x vteps.
 */
function removeVteps(tx: Transaction, computes: Compute[]): void {
  const dpns = new Set(computes.map((c) => c.dpn));
  for (const z of tx.read(transportZones().transportZone()) ?? []) {
    for (const v of z.vteps ?? []) {
      const dpn = dpnOf(v['dpn-id']);
      if (dpns.has(dpn)) tx.remove(vtep(z['zone-name'], dpn));
    }
  }
}

export interface EndResult {
  status: 'DONE' | 'INPROGRESS';
  pending: { compute: Compute; ports: string[] }[];
  removed: string[];
}

export async function endScaleIn(ctx: PluginContext, entries: string[] | undefined): Promise<EndResult> {
  return retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    const history = () =>
      (tx.read(HISTORY.removedCompute()) ?? []).flatMap((h) =>
        h['dpn-id'] !== undefined && h['node-id'] !== undefined ? [{ name: h['compute-name'], dpn: dpnOf(h['dpn-id']), nodeId: h['node-id'], tombstoned: true }] : [],
      );
    const { found, removed } = resolveComputes(entries, computeIndex(ctx.data, tx), history);
    const notTombstoned = found.filter((c) => !c.tombstoned);
    if (notTombstoned.length) {
      throw new YangError({
        tag: 'in-use',
        message: `${notTombstoned.map((c) => c.name).join(', ')} ${notTombstoned.length > 1 ? 'are' : 'is'} not tombstoned: call scalein-computes-start first`,
      });
    }
    const pending = found.map((compute) => ({ compute, ports: boundPorts(ctx, compute) })).filter((p) => p.ports.length);
    if (pending.length) {
      tx.cancel();
      return { status: 'INPROGRESS' as const, pending, removed: removed.map((c) => c.name) };
    }
    const now = new Date().toISOString();
    removeVteps(tx, found);
    for (const c of found) {
      tx.remove(inventoryNode(c.dpn));
      tx.remove(bridgeNode(c.nodeId));
      tx.remove(computeNode(c.name));
      tx.put(removedCompute(c.name), { ...computeJson(c), 'removed-at': now });
    }
    await tx.commit();
    for (const c of found) ctx.log.info({ compute: c.name, dpn: c.dpn.toString() }, `compute ${c.name} scaled in`);
    return { status: 'DONE' as const, pending: [], removed: [...found, ...removed].map((c) => c.name) };
  });
}

export async function deleteTeps(ctx: PluginContext, entries: string[] | undefined): Promise<void> {
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    const { found } = resolveComputes(entries, computeIndex(ctx.data, tx));
    removeVteps(tx, found);
    await tx.commit();
  });
}

export function endJson(r: EndResult) {
  return {
    status: r.status,
    ...(r.pending.length
      ? { pending: r.pending.map((p) => ({ 'compute-name': p.compute.name, ports: p.ports, reason: `${p.ports.length} port(s) still bound to the compute` })) }
      : {}),
    ...(r.removed.length ? { removed: r.removed } : {}),
  };
}
