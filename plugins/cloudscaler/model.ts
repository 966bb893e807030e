/**
 * Where the scale-in data lives (RFC 8040 api-paths) and how a compute is described. The only
 * place that spells these paths; other plugins read the same paths through the datastore.
 */
import { inventoryNodePath } from '../../src/southbound/openflow/flows.ts';
import { dpnFromDatapathId as datapathIdToDpn, OVSDB_TOPOLOGY, topologyNodePath } from '../../src/southbound/ovsdb/topology.ts';
import { encodeKeyValue } from '../../src/yang/path.ts';

export { OVSDB_TOPOLOGY };

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

export const COMPUTE_NODES = '/cloudscaler-rpc:compute-nodes';
export const TRANSPORT_ZONES = '/itm:transport-zones';
export const HISTORY = '/scalein-api:scalein-history';
export const CONFLICTS = '/scalein-api:compute-registry';

export const bridgeNode = topologyNodePath;
export const computeNode = (name: string) => `${COMPUTE_NODES}/compute-node=${encodeKeyValue(name)}`;
export const inventoryNode = (dpn: Dpn) => inventoryNodePath(dpn);
export const vtep = (zone: string, dpn: Dpn) => `${TRANSPORT_ZONES}/transport-zone=${encodeKeyValue(zone)}/vteps=${dpn}`;
export const removedCompute = (name: string) => `${HISTORY}/removed-compute=${encodeKeyValue(name)}`;
export const conflict = (nodeId: string) => `${CONFLICTS}/conflict=${encodeKeyValue(nodeId)}`;

/** The external-id OVS carries on a tombstoned compute's bridge (pushed by the OVSDB southbound). */
export const TOMBSTONE_KEY = 'tombstoned';

/** JSON shape of a compute-node entry. */
export interface ComputeNodeJson {
  'compute-name': string;
  nodeid?: string;
  dpnid?: string | number;
  tombstoned?: boolean;
}

export function computeFromJson(j: ComputeNodeJson): Compute | undefined {
  if (j.nodeid === undefined || j.dpnid === undefined) return undefined;
  return { name: j['compute-name'], nodeId: j.nodeid, dpn: dpnOf(j.dpnid), tombstoned: j.tombstoned === true };
}
