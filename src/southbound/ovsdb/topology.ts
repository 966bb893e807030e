/**
 * The OVSDB topology (`network-topology` topology `ovsdb:1` with the `ovsdb` augments), as
 * OpenDaylight's OVSDB southbound lays it out: where nodes and termination points live and how
 * to read what a bridge or port says about itself. The southbound writes the operational side;
 * applications write their intent (external-ids, tunnel ports) on the config side.
 */
import { networkTopology, type InterfaceTypeBase, type TerminationPoint } from '../../bindings/network-topology.ts';
import { parseXPath, type XPathExpr } from '../../yang/xpath/parser.ts';

/** The `ovsdb:1` topology (a generated path: `.node(id)`, `.node(ANY)`, `.text`). */
export const ovsdbTopology = networkTopology().topology('ovsdb:1');

export const topologyNodePath = (nodeId: string) => ovsdbTopology.node(nodeId);
export const terminationPointPath = (nodeId: string, tpId: string) => topologyNodePath(nodeId).terminationPoint(tpId);

/** The OVS (Open_vSwitch row) node a bridge node belongs to: `ovsdb://uuid/X/bridge/br-int` -> `ovsdb://uuid/X`. */
export function ovsNodeOf(bridgeNodeId: string): string {
  const at = bridgeNodeId.indexOf('/bridge/');
  return at < 0 ? bridgeNodeId : bridgeNodeId.slice(0, at);
}

/** 161n -> `00:00:00:00:00:00:00:a1` (OVSDB's datapath-id, colon form). */
export function datapathIdOf(dpn: bigint | number): string {
  return BigInt(dpn).toString(16).padStart(16, '0').replace(/(..)(?!$)/g, '$1:');
}

/** `00:00:00:00:00:00:00:a1` (OVSDB's datapath-id) -> 161n. */
export function dpnFromDatapathId(datapathId: string): bigint | undefined {
  const hex = datapathId.replace(/:/g, '');
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? BigInt(`0x${hex}`) : undefined;
}

/** A termination point as the ovsdb:1 topology holds it (generated from the YANG). */
export type TerminationPointJson = TerminationPoint;

export const VXLAN_INTERFACE_TYPE: InterfaceTypeBase = 'ovsdb:interface-type-vxlan';

export const tpOption = (tp: TerminationPointJson, key: string) => tp['ovsdb:options']?.find((o) => o.option === key)?.value;
export const tpExternalId = (tp: TerminationPointJson, key: string) =>
  tp['ovsdb:interface-external-ids']?.find((e) => e['external-id-key'] === key)?.['external-id-value'];

/** A tunnel port (VXLAN, GRE, ...), as opposed to a VM's port. */
export function isTunnelPort(tp: TerminationPointJson): boolean {
  return /tunnel|vxlan|gre|geneve/.test(tp['ovsdb:interface-type'] ?? '') || tpOption(tp, 'remote_ip') !== undefined;
}

/** The Neutron port a VM's interface carries (`external_ids:iface-id`), if it is one. */
export function vmPortOf(tp: TerminationPointJson): string | undefined {
  return isTunnelPort(tp) ? undefined : tpExternalId(tp, 'iface-id');
}

// ---- references (instance-identifiers) within the ovsdb:1 topology ----------------------------

/** An XPath string literal for a key value (single quotes unless the value holds one). */
const literal = (v: string) => (v.includes("'") ? `"${v}"` : `'${v}'`);

/** `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='X']`: what managed-by holds. */
export const nodeRef = (nodeId: string) => `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id=${literal(nodeId)}]`;

/** The instance-identifier of a queue of a node (what an operational queue-list's queue-ref holds). */
export const queueRef = (nodeId: string, queueId: string) => `${nodeRef(nodeId)}/ovsdb:queues[queue-id=${literal(queueId)}]`;

/**
 * The list keys an instance-identifier names, by list name (`node` -> node-id, `queues` ->
 * queue-id...), in either of the forms OpenDaylight writes (`/network-topology:network-topology/
 * topology[topology-id='ovsdb:1']/node[node-id='X']`, or every name prefixed), parsed by the one
 * XPath parser. Only single-key `[name='value']` predicates are read; undefined when the text is no
 * absolute path.
 */
export function refKeys(ref: string): Map<string, string> | undefined {
  let e: XPathExpr;
  try {
    e = parseXPath(ref, (prefix) => prefix, undefined);
  } catch {
    return undefined;
  }
  if (e.kind !== 'path' || !e.absolute) return undefined;
  const out = new Map<string, string>();
  for (const step of e.steps) {
    for (const p of step.predicates) {
      if (p.kind === 'cmp' && p.op === '=' && p.left.kind === 'path' && p.left.steps.length === 1 && p.right.kind === 'literal') out.set(step.name, p.right.value);
    }
  }
  return out;
}

/** The node-id a node reference (managed-by) names, if it names one of the ovsdb:1 topology. */
export function nodeIdOfRef(ref: string | undefined): string | undefined {
  const keys = ref ? refKeys(ref) : undefined;
  return keys?.get('topology') === 'ovsdb:1' ? keys.get('node') : undefined;
}
