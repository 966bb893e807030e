/**
 * Where the scale-in data lives (RFC 8040 api-paths) and how a compute is described. The only
 * place that spells these paths; other plugins read the same paths through the datastore.
 */
import { computeNodes, type ComputeNode } from '../../src/bindings/cloudscaler-rpc.ts';
import { transportZones } from '../../src/bindings/itm.ts';
import { computeRegistry, scaleinHistory } from '../../src/bindings/scalein-api.ts';
import { inventoryNodePath } from '../../src/southbound/openflow/flows.ts';
import { dpnFromDatapathId as datapathIdToDpn, ovsdbTopology, topologyNodePath } from '../../src/southbound/ovsdb/topology.ts';

export { ovsdbTopology };

/** A datapath id: uint64, so never a JS number. */
export type Dpn = bigint & { readonly __dpn: unique symbol };

export function dpnOf(value: string | number | bigint): Dpn {
  return BigInt(value) as Dpn;
}

/** `00:00:00:00:00:00:00:a1` (OVSDB's datapath-id) -> 161n. */
export function dpnFromDatapathId(datapathId: string): Dpn | undefined {
  const dpn = datapathIdToDpn(datapathId);
  return dpn === undefined ? undefined : dpnOf(dpn);
}

export interface Compute {
  name: string;
  nodeId: string;
  dpn: Dpn;
  tombstoned: boolean;
}

/** The external-id OVS carries on a tombstoned compute's bridge (pushed by the OVSDB southbound). */
export const TOMBSTONE_KEY = 'tombstoned';

// The data this plugin is the source of (cloudscaler-rpc, scalein-api) and the paths of others'
// that scale-in edits, all through the generated builders.
export const HISTORY = scaleinHistory();
export const CONFLICTS = computeRegistry();

export const bridgeNode = topologyNodePath;
/**
 * The tombstone external-id entry of a bridge in the config topology. Written at its own path,
 * not merged into the bridge node: validation, storage and the termination-point listeners then
 * see one entry change instead of the whole bridge (a compute's bridge carries a tunnel port per
 * other member of its zones).
 */
export const bridgeTombstone = (nodeId: string) => topologyNodePath(nodeId).bridgeExternalIds(TOMBSTONE_KEY);
export const computeNode = (name: string) => computeNodes().computeNode(name);
export const inventoryNode = (dpn: Dpn) => inventoryNodePath(dpn);
export const vtep = (zone: string, dpn: Dpn) => transportZones().transportZone(zone).vteps(dpn);
export const removedCompute = (name: string) => HISTORY.removedCompute(name);
export const conflict = (nodeId: string) => CONFLICTS.conflict(nodeId);

/** JSON shape of a compute-node entry (generated from cloudscaler-rpc). */
export type ComputeNodeJson = ComputeNode;

export function computeFromJson(j: ComputeNodeJson): Compute | undefined {
  if (j.nodeid === undefined || j.dpnid === undefined) return undefined;
  return { name: j['compute-name'], nodeId: j.nodeid, dpn: dpnOf(j.dpnid), tombstoned: j.tombstoned === true };
}
