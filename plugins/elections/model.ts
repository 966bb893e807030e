/**
 * Where the elections plugin reads and writes (RFC 8040 api-paths) and how its work is keyed.
 * Inputs: Neutron (config), subnet routes (config), registered computes (config, written by the
 * cloudscaler plugin), transport zones (config), the OVSDB topology (operational: what OVS
 * reports; config: the tunnel ports). Outputs: designations (config, for stickiness), ODL's
 * napt-switches (config), flows (config inventory), designated-switches (operational).
 */
import { encodeKeyValue } from '../../src/yang/path.ts';

export const NEUTRON = '/neutron:neutron';
export const SUBNET_ROUTES = '/designated-switch:subnet-routes';
export const DESIGNATIONS = '/designated-switch:designations';
export const DESIGNATED_SWITCHES = '/designated-switch:designated-switches';
export const ELECTIONS_STATUS = '/designated-switch:elections-status';
export const NAPT_SWITCHES = '/odl-nat:napt-switches';
export const COMPUTE_NODES = '/cloudscaler-rpc:compute-nodes';
export const TRANSPORT_ZONES = '/itm:transport-zones';

export type ServiceType = 'nat' | 'subnet-route';

/**
 * A unit of work: a network (its L2 delivery flows) or a service (its election and flows).
 * Spelt `type|id`; the order of the strings is the order work is done in (deterministic).
 */
export type WorkKey = `net|${string}` | `nat|${string}` | `subnet-route|${string}`;

export const netKey = (id: string): WorkKey => `net|${id}`;
export const serviceKey = (type: ServiceType, id: string): WorkKey => `${type}|${id}`;

export function parseKey(k: WorkKey): { kind: 'net' | ServiceType; id: string } {
  const bar = k.indexOf('|');
  return { kind: k.slice(0, bar) as 'net' | ServiceType, id: k.slice(bar + 1) };
}

export const designationPath = (type: ServiceType, id: string) =>
  `${DESIGNATIONS}/designation=${encodeKeyValue(type)},${encodeKeyValue(id)}`;
export const designatedSwitchPath = (type: ServiceType, id: string) =>
  `${DESIGNATED_SWITCHES}/designated-switch=${encodeKeyValue(type)},${encodeKeyValue(id)}`;
export const computeNodePath = (name: string) => `${COMPUTE_NODES}/compute-node=${encodeKeyValue(name)}`;
export const naptSwitchPath = (router: string) => `${NAPT_SWITCHES}/router-to-napt-switch=${encodeKeyValue(router)}`;

/** Neutron's device-owner of a router's leg on a subnet. */
export const ROUTER_INTERFACE = 'network:router_interface';
