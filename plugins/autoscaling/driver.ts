/**
 * The `ovs-port` node driver and placement. A node is a VM port: a Neutron port on the profile's
 * network, bound (`binding:host-id`) to the compute placement chose, and an OVS interface with
 * `external_ids:iface-id` = that port on the compute's bridge in the config topology (the OVSDB
 * southbound creates it in the compute's real ovsdb-server). So elections, tunnels and flows
 * react to a cluster's scaling exactly as to VMs coming and going.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { COMPUTES, NODE_DEVICE_OWNER, neutronPort, ovsdbTopology, vmPortTp, type ComputeNode, type Node } from './model.ts';

export interface Placed {
  compute: string;
  /** The compute's bridge node in the ovsdb:1 topology. */
  bridge: string;
}

/** OVS interface name of a node's port (Linux allows 15 characters). */
export const tapName = (port: string) => `tap${port.replace(/-/g, '').slice(0, 11)}`;

/** A stable, locally administered MAC for a port (fa:16:3e is what Neutron hands out). */
export function macOf(port: string): string {
  const h = createHash('sha256').update(port).digest();
  return ['fa', '16', '3e', ...[0, 1, 2].map((i) => h[i].toString(16).padStart(2, '0'))].join(':');
}

/** Computes a node may go to: registered, with a bridge, not tombstoned (scale-in in progress). */
export function eligibleComputes(ctx: PluginContext): ComputeNode[] {
  return (ctx.data.read('config', COMPUTES.computeNode()) ?? []).filter((c) => c.nodeid && c.tombstoned !== true);
}

/**
 * Where the next `count` nodes of a cluster go: spread over the eligible computes, the one with
 * the fewest nodes of this cluster first (ties: fewest nodes of any cluster, then by name), so
 * nodes are never stacked while another compute is emptier, and never on a tombstoned compute.
 */
export function place(ctx: PluginContext, count: number, clusterNodes: Node[], allNodes: Node[]): Placed[] | string {
  const computes = eligibleComputes(ctx);
  if (!computes.length) return 'no compute is eligible (none registered, or all of them are being scaled in)';
  const mine = new Map<string, number>();
  const any = new Map<string, number>();
  for (const n of clusterNodes) if (n.compute) mine.set(n.compute, (mine.get(n.compute) ?? 0) + 1);
  for (const n of allNodes) if (n.compute) any.set(n.compute, (any.get(n.compute) ?? 0) + 1);
  const out: Placed[] = [];
  for (let i = 0; i < count; i++) {
    const best = [...computes].sort(
      (a, b) => (mine.get(a['compute-name']) ?? 0) - (mine.get(b['compute-name']) ?? 0) || (any.get(a['compute-name']) ?? 0) - (any.get(b['compute-name']) ?? 0) || (a['compute-name'] < b['compute-name'] ? -1 : 1),
    )[0];
    const name = best['compute-name'];
    mine.set(name, (mine.get(name) ?? 0) + 1);
    any.set(name, (any.get(name) ?? 0) + 1);
    out.push({ compute: name, bridge: best.nodeid! });
  }
  return out;
}

/**
 * The OVS interface's external-ids that say which cluster and node it realises: config, so they
 * outlive a restart that loses the operational node states (see recoverNodes).
 */
export const CLUSTER_EXTERNAL_ID = 'sextant-cluster';
export const NODE_INDEX_EXTERNAL_ID = 'sextant-node-index';

/** Writes a node's port and its OVS interface (in the caller's config transaction). */
export function createPort(tx: Transaction, node: { id: string; port: string; cluster: string; index: number }, network: string, at: Placed): void {
  const tap = tapName(node.port);
  tx.put(neutronPort(node.port), {
    uuid: node.port,
    'network-id': network,
    'mac-address': macOf(node.port),
    'device-owner': NODE_DEVICE_OWNER,
    'device-id': node.id,
    'neutron-binding:host-id': at.compute,
  });
  tx.put(vmPortTp(at.bridge, tap), {
    'tp-id': tap,
    'ovsdb:name': tap,
    'ovsdb:interface-type': 'ovsdb:interface-type-internal',
    'ovsdb:interface-external-ids': [
      { 'external-id-key': 'iface-id', 'external-id-value': node.port },
      { 'external-id-key': 'attached-mac', 'external-id-value': macOf(node.port) },
      { 'external-id-key': 'vm-uuid', 'external-id-value': node.id },
      { 'external-id-key': CLUSTER_EXTERNAL_ID, 'external-id-value': node.cluster },
      { 'external-id-key': NODE_INDEX_EXTERNAL_ID, 'external-id-value': String(node.index) },
    ],
  });
}

/** Removes a node's port and its OVS interface (in the caller's config transaction). */
export function deletePort(ctx: PluginContext, tx: Transaction, node: Node): void {
  if (!node.port) return;
  if (tx.read(neutronPort(node.port))) tx.remove(neutronPort(node.port));
  const tap = tapName(node.port);
  for (const b of ctx.data.read('config', ovsdbTopology.node()) ?? []) {
    if (b['termination-point']?.some((tp) => tp['tp-id'] === tap)) tx.remove(vmPortTp(b['node-id'], tap));
  }
}

/** Whether the compute's OVS reports the node's interface (the southbound created it). */
export function portReported(ctx: PluginContext, node: Node, bridge: string): boolean {
  if (!node.port) return false;
  return (ctx.data.read('operational', ovsdbTopology.node(bridge))?.['termination-point'] ?? []).some((tp) => tp['tp-id'] === tapName(node.port!));
}

/**
 * The nodes of each cluster as the config topology records them (an interface with the cluster's
 * external-id on a compute's bridge), by cluster id: what a controller that lost its operational
 * store (a restart on one instance) knows its clusters by, instead of making new nodes.
 */
export function recordedNodes(ctx: PluginContext): Map<string, Node[]> {
  const computeOf = new Map((ctx.data.read('config', COMPUTES.computeNode()) ?? []).map((c) => [c.nodeid, c['compute-name']]));
  const out = new Map<string, Node[]>();
  for (const bridge of ctx.data.read('config', ovsdbTopology.node()) ?? []) {
    for (const tp of bridge['termination-point'] ?? []) {
      const ids = new Map((tp['ovsdb:interface-external-ids'] ?? []).map((e) => [e['external-id-key'], e['external-id-value']]));
      const cluster = ids.get(CLUSTER_EXTERNAL_ID);
      const id = ids.get('vm-uuid');
      const port = ids.get('iface-id');
      if (!cluster || !id || !port) continue;
      const compute = computeOf.get(bridge['node-id']);
      const node: Node = { id, name: `node-${id.slice(0, 8)}`, index: Number(ids.get(NODE_INDEX_EXTERNAL_ID) ?? 0), port, status: 'ERROR', 'status-reason': 'recovered after a restart; not yet seen in Open vSwitch', ...(compute ? { compute } : {}) };
      out.set(cluster, [...(out.get(cluster) ?? []), node]);
    }
  }
  return out;
}
