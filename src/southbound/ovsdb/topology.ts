/**
 * The OVSDB topology (`network-topology` topology `ovsdb:1` with the `ovsdb` augments), as
 * OpenDaylight's OVSDB southbound lays it out: where nodes and termination points live and how
 * to read what a bridge or port says about itself. The southbound writes the operational side;
 * applications write their intent (external-ids, tunnel ports) on the config side.
 */
import { encodeKeyValue } from '../../yang/path.ts';

export const OVSDB_TOPOLOGY = '/network-topology:network-topology/topology=ovsdb%3A1';

export const topologyNodePath = (nodeId: string) => `${OVSDB_TOPOLOGY}/node=${encodeKeyValue(nodeId)}`;
export const terminationPointPath = (nodeId: string, tpId: string) => `${topologyNodePath(nodeId)}/termination-point=${encodeKeyValue(tpId)}`;

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

export interface TerminationPointJson {
  'tp-id': string;
  'ovsdb:name'?: string;
  'ovsdb:interface-type'?: string;
  'ovsdb:options'?: { option: string; value?: string }[];
  'ovsdb:interface-external-ids'?: { 'external-id-key': string; 'external-id-value'?: string }[];
  'ovsdb:ofport'?: number;
  'ovsdb:ofport_request'?: number;
}

export const VXLAN_INTERFACE_TYPE = 'ovsdb:interface-type-vxlan';

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
