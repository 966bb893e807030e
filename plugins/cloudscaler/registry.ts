/**
 * The compute registry: learns computes from the operational ovsdb:1 topology (a bridge whose
 * other-configs carry `dp-desc` is a compute of that name) into `compute-nodes` in the config
 * store, where tombstones persist. A second bridge claiming a registered name is refused and
 * reported, never allowed to overwrite.
 */
import { retryOnConflict, type Change, type Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { YangError } from '../../src/errors.ts';
import type { Node as TopologyNode } from '../../src/bindings/network-topology.ts';
import { uint64 } from '../../src/yang/binding.ts';
import { computeNodes } from '../../src/bindings/cloudscaler-rpc.ts';
import { ovsdbTopology } from '../../src/southbound/ovsdb/topology.ts';
import {
  computeFromJson,
  computeNode,
  conflict,
  dpnFromDatapathId,
  removedCompute,
  type Compute,
  type ComputeNodeJson,
} from './model.ts';

/** What a bridge node says about itself, if it is a compute. */
export function computeClaim(node: TopologyNode): { name: string; nodeId: string; dpn: Compute['dpn'] } | undefined {
  const name = node['ovsdb:bridge-other-configs']?.find((c) => c['bridge-other-config-key'] === 'dp-desc')?.['bridge-other-config-value'];
  const dpn = node['ovsdb:datapath-id'] ? dpnFromDatapathId(node['ovsdb:datapath-id']) : undefined;
  if (!name || dpn === undefined) return undefined;
  return { name, nodeId: node['node-id'], dpn };
}

export async function learnComputes(changes: Change<TopologyNode>[], ctx: PluginContext): Promise<void> {
  for (const c of changes) {
    if (c.type === 'deleted') {
      // A bridge that goes away takes its refused claim with it; a registered compute stays
      // (only scalein-computes-end removes it).
      const nodeId = c.before!['node-id'];
      await retryOnConflict(() => ctx.data.transaction('operational', { leaderOnly: true }).remove(conflict(nodeId)).commit());
      continue;
    }
    const claim = computeClaim(c.after!);
    if (!claim) continue;
    await retryOnConflict(async () => {
      const tx = ctx.data.transaction('config', { leaderOnly: true });
      const existing = tx.read(computeNode(claim.name));
      const held = existing ? computeFromJson(existing) : undefined;
      if (held && (held.nodeId !== claim.nodeId || held.dpn !== claim.dpn)) {
        tx.cancel();
        ctx.log.error(
          { compute: claim.name, node: claim.nodeId, dpn: claim.dpn.toString(), registeredNode: held.nodeId, registeredDpn: held.dpn.toString() },
          `bridge ${claim.nodeId} claims compute name ${claim.name}, which ${held.nodeId} (dpn ${held.dpn}) holds: refused`,
        );
        await ctx.data
          .transaction('operational', { leaderOnly: true })
          .put(conflict(claim.nodeId), {
            'node-id': claim.nodeId,
            'compute-name': claim.name,
            'claimed-dpn-id': uint64(claim.dpn),
            'registered-node-id': held.nodeId,
            'registered-dpn-id': uint64(held.dpn),
            'detected-at': new Date().toISOString(),
          })
          .commit();
        return;
      }
      if (held) return tx.cancel();
      // A compute scaled in while its switch stays connected must not come back by itself: the
      // same bridge node (same OVS database) is the same compute. A re-provisioned host comes
      // back with a new OVS database, hence a new node-id, and registers.
      const removed = tx.read(removedCompute(claim.name));
      if (removed?.['node-id'] === claim.nodeId) return tx.cancel();
      tx.put(computeNode(claim.name), {
        'compute-name': claim.name,
        nodeid: claim.nodeId,
        dpnid: uint64(claim.dpn),
        tombstoned: false,
      });
      await tx.commit();
      ctx.log.info({ compute: claim.name, node: claim.nodeId, dpn: claim.dpn.toString() }, `compute ${claim.name} registered`);
    });
  }
}

/** Learns from every bridge node the operational topology holds now (as if each were created). */
export async function relearn(ctx: PluginContext): Promise<void> {
  const nodes = ctx.data.read('operational', ovsdbTopology.node()) ?? [];
  await learnComputes(nodes.map((n) => ({ type: 'created' as const, path: ovsdbTopology.node(n['node-id']).text, keys: [[n['node-id']]], after: n })), ctx);
}

/** Every registered compute, as the given transaction sees them. */
export function readComputes(tx: Pick<Transaction, 'read'>): Compute[] {
  const list = tx.read(computeNodes().computeNode()) ?? [];
  return list.map(computeFromJson).filter((c): c is Compute => c !== undefined);
}

/** Registered computes indexed by every name an operator may use for them. */
export interface ComputeIndex {
  all: Compute[];
  byName: Map<string, Compute>;
  byNode: Map<string, Compute>;
  byDpn: Map<bigint, Compute[]>;
}

export function indexComputes(all: Compute[]): ComputeIndex {
  const byDpn = new Map<bigint, Compute[]>();
  for (const c of all) byDpn.set(c.dpn, [...(byDpn.get(c.dpn) ?? []), c]);
  return { all, byName: new Map(all.map((c) => [c.name, c])), byNode: new Map(all.map((c) => [c.nodeId, c])), byDpn };
}

const cache = new WeakMap<object, { revision: number; index: ComputeIndex }>();

/**
 * The index for a transaction's snapshot of one datastore. Built once per config revision: a
 * call naming 100 of 1,000 computes should not convert and scan all 1,000 for each name.
 */
export function computeIndex(store: object, tx: Pick<Transaction, 'read' | 'snapshotRevision'>): ComputeIndex {
  let entry = cache.get(store);
  if (entry?.revision !== tx.snapshotRevision) {
    entry = { revision: tx.snapshotRevision, index: indexComputes(readComputes(tx)) };
    cache.set(store, entry);
  }
  return entry.index;
}

/**
 * Resolves what an operator typed to registered computes. Each entry may be a compute name, a
 * DPN id (`123` or `openflow:123`) or a bridge node-id; one that names no compute, or two, fails
 * the whole call. Entries that name a compute already removed (`gone`) are reported apart, for
 * the callers that accept them; `gone` is asked for only when an entry names no registered
 * compute (the history of removed computes only grows).
 */
export function resolveComputes(entries: string[] | undefined, computes: ComputeIndex, gone: () => Compute[] = () => []): { found: Compute[]; removed: Compute[] } {
  const list = [...new Set((entries ?? []).map((e) => e.trim()))];
  if (!list.length) throw new YangError({ tag: 'invalid-value', message: 'name at least one compute' });
  let goneIndex: ComputeIndex | undefined;
  const found = new Map<string, Compute>();
  const removed = new Map<string, Compute>();
  for (const entry of list) {
    const matches = matching(entry, computes);
    if (matches.length > 1) {
      throw new YangError({ tag: 'invalid-value', message: `"${entry}" is ambiguous: it names ${matches.map((c) => c.name).join(' and ')}` });
    }
    if (matches.length === 1) {
      found.set(matches[0].name, matches[0]);
      continue;
    }
    const past = matching(entry, (goneIndex ??= indexComputes(gone())));
    if (past.length === 1) removed.set(past[0].name, past[0]);
    else throw new YangError({ tag: 'invalid-value', message: `"${entry}" names no known compute (by compute name, DPN id or bridge node-id)` });
  }
  return { found: [...found.values()], removed: [...removed.values()] };
}

function matching(entry: string, index: ComputeIndex): Compute[] {
  const dpnText = /^openflow:(\d+)$/.exec(entry)?.[1] ?? (/^\d+$/.test(entry) ? entry : undefined);
  const out = new Set<Compute>();
  const byName = index.byName.get(entry);
  if (byName) out.add(byName);
  const byNode = index.byNode.get(entry);
  if (byNode) out.add(byNode);
  if (dpnText !== undefined) for (const c of index.byDpn.get(BigInt(dpnText)) ?? []) out.add(c);
  return [...out];
}
