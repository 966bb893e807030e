/**
 * Where the elections plugin reads and writes (RFC 8040 api-paths) and how its work is keyed.
 * Inputs: Neutron (config), subnet routes (config), registered computes (config, written by the
 * cloudscaler plugin), transport zones (config), the OVSDB topology (operational: what OVS
 * reports; config: the tunnel ports). Outputs: designations (config, for stickiness), ODL's
 * napt-switches (config), flows (config inventory), designated-switches (operational).
 */
import { designatedSwitches, designations, electionsStatus, subnetRoutes, type ServiceType } from '../../src/bindings/designated-switch.ts';
import { neutron } from '../../src/bindings/neutron.ts';
import { naptSwitches } from '../../src/bindings/odl-nat.ts';

export const NEUTRON = neutron();
export const SUBNET_ROUTES = subnetRoutes();
export const DESIGNATIONS = designations();
export const DESIGNATED_SWITCHES = designatedSwitches();
export const ELECTIONS_STATUS = electionsStatus();
export const NAPT_SWITCHES = naptSwitches();

export type { ServiceType };

/**
 * A unit of work: a network (its L2 delivery flows) or a service (its election and flows).
 * Spelt `type|id`; the order of the strings is the order work is done in (deterministic).
 */
export type WorkKey = `net|${string}` | `nat|${string}` | `subnet-route|${string}`;

/** The order the work queue takes keys in (and a preview plans them in). */
export const compareWorkKeys = (a: WorkKey, b: WorkKey): number => (a < b ? -1 : a > b ? 1 : 0);

export const netKey = (id: string): WorkKey => `net|${id}`;
export const serviceKey = (type: ServiceType, id: string): WorkKey => `${type}|${id}`;

export function parseKey(k: WorkKey): { kind: 'net' | ServiceType; id: string } {
  const bar = k.indexOf('|');
  return { kind: k.slice(0, bar) as 'net' | ServiceType, id: k.slice(bar + 1) };
}

export const designationPath = (type: ServiceType, id: string) => DESIGNATIONS.designation(type, id);
export const designatedSwitchPath = (type: ServiceType, id: string) => DESIGNATED_SWITCHES.designatedSwitch(type, id);
export const naptSwitchPath = (router: string) => NAPT_SWITCHES.routerToNaptSwitch(router);

/** Neutron's device-owner of a router's leg on a subnet. */
export const ROUTER_INTERFACE = 'network:router_interface';
