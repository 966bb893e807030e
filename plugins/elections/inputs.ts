/**
 * What the elections and the pipeline depend on, indexed in memory from datastore changes
 * (listeners replay the current state at start, so a restart rebuilds it). Each `apply*` method
 * takes one change and returns the work keys it affects, before and after the change, so a
 * service whose candidates changed is recomputed whichever way they changed.
 */
import type { ComputeNode } from '../../src/bindings/cloudscaler-rpc.ts';
import type { SubnetRoute } from '../../src/bindings/designated-switch.ts';
import type { TransportZone } from '../../src/bindings/itm.ts';
import type * as neutron from '../../src/bindings/neutron.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import { dpnFromDatapathId, tpOption, vmPortOf, type TerminationPointJson } from '../../src/southbound/ovsdb/topology.ts';
import { netKey, ROUTER_INTERFACE, serviceKey, type WorkKey } from './model.ts';

export interface Port {
  id: string;
  networkId?: string;
  mac?: string;
  subnets: string[];
  /** The router, when the port is a router interface. */
  routerOf?: string;
}

export interface Subnet {
  networkId?: string;
  cidr?: string;
}

export interface Router {
  /** Has an external gateway with SNAT enabled. */
  snat: boolean;
  externalIps: string[];
}

export interface Compute {
  name: string;
  nodeId: string;
  tombstoned: boolean;
}

interface Location {
  nodeId: string;
  ofport?: number;
}

/** Adds to a Set-valued map. */
function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (!s.size) m.delete(k);
}

export class Inputs {
  readonly networks = new Map<string, { vni?: bigint }>();
  readonly subnets = new Map<string, Subnet>();
  readonly ports = new Map<string, Port>();
  readonly routers = new Map<string, Router>();
  readonly subnetRoutes = new Set<string>();
  readonly computes = new Map<bigint, Compute>();
  private readonly computeByNode = new Map<string, bigint>();
  /** dpn -> zone -> TEP address. */
  readonly vteps = new Map<bigint, Map<string, string>>();
  /** Operational bridges: node-id -> dpn. */
  readonly bridges = new Map<string, bigint>();
  /** Operational bridges of each DPN (normally one). */
  private readonly nodesOfDpn = new Map<bigint, Set<string>>();
  /** Where OVS reports each Neutron port (by iface-id). */
  readonly locations = new Map<string, Location>();
  private readonly portsAtNode = new Map<string, Set<string>>();
  /** Tunnel ports of the config topology: node-id -> remote TEP address -> OpenFlow port. */
  readonly tunnels = new Map<string, Map<string, number>>();

  readonly portsBySubnet = new Map<string, Set<string>>();
  readonly portsByNetwork = new Map<string, Set<string>>();
  readonly routerInterfaces = new Map<string, Set<string>>();
  readonly subnetsByNetwork = new Map<string, Set<string>>();

  /** Kept up to date by the reconciler: services whose candidates or designation include a DPN. */
  readonly servicesByDpn = new Map<bigint, Set<WorkKey>>();

  // ---- queries ------------------------------------------------------------------------------

  connected(dpn: bigint): boolean {
    return this.nodesOfDpn.has(dpn);
  }

  hasTep(dpn: bigint): boolean {
    return (this.vteps.get(dpn)?.size ?? 0) > 0;
  }

  tepIp(dpn: bigint): string | undefined {
    const zones = this.vteps.get(dpn);
    return zones ? [...zones.values()][0] : undefined;
  }

  nodeDpn(nodeId: string): bigint | undefined {
    return this.bridges.get(nodeId) ?? this.computeByNode.get(nodeId);
  }

  /** The bridge node of a DPN (registered compute first, then what OVS reports). */
  dpnNode(dpn: bigint): string | undefined {
    const c = this.computes.get(dpn)?.nodeId;
    if (c) return c;
    const nodes = this.nodesOfDpn.get(dpn);
    return nodes ? [...nodes][0] : undefined;
  }

  /** The OpenFlow port of the tunnel from one DPN to another, if it exists. */
  tunnelPort(from: bigint, to: bigint): number | undefined {
    const node = this.dpnNode(from);
    const ip = this.tepIp(to);
    return node && ip ? this.tunnels.get(node)?.get(ip) : undefined;
  }

  /** The DPN and OpenFlow port of a Neutron port that OVS reports on a connected bridge. */
  placement(portId: string): { dpn: bigint; ofport?: number } | undefined {
    const loc = this.locations.get(portId);
    if (!loc) return undefined;
    const dpn = this.bridges.get(loc.nodeId);
    return dpn === undefined ? undefined : { dpn, ofport: loc.ofport };
  }

  /** Routers with an interface on a subnet. */
  routersOfSubnet(subnetId: string): string[] {
    const out: string[] = [];
    for (const p of this.portsBySubnet.get(subnetId) ?? []) {
      const r = this.ports.get(p)?.routerOf;
      if (r) out.push(r);
    }
    return out;
  }

  /** Subnets a router has interfaces on. */
  subnetsOfRouter(routerId: string): string[] {
    const out = new Set<string>();
    for (const p of this.routerInterfaces.get(routerId) ?? []) for (const s of this.ports.get(p)?.subnets ?? []) out.add(s);
    return [...out].sort();
  }

  /** DPNs hosting a VM port in any of the subnets. */
  dpnsWithPortsIn(subnetIds: string[]): Set<bigint> {
    const out = new Set<bigint>();
    for (const s of subnetIds) {
      for (const p of this.portsBySubnet.get(s) ?? []) {
        if (this.ports.get(p)?.routerOf) continue;
        const at = this.placement(p);
        if (at) out.add(at.dpn);
      }
    }
    return out;
  }

  // ---- what a change affects ---------------------------------------------------------------

  private subnetWork(subnetId: string, out: Set<WorkKey>): void {
    out.add(serviceKey('subnet-route', subnetId));
    for (const r of this.routersOfSubnet(subnetId)) out.add(serviceKey('nat', r));
  }

  private portWork(portId: string, out: Set<WorkKey>): void {
    const p = this.ports.get(portId);
    if (!p) return;
    if (p.networkId) out.add(netKey(p.networkId));
    for (const s of p.subnets) this.subnetWork(s, out);
    if (p.routerOf) out.add(serviceKey('nat', p.routerOf));
  }

  private dpnWork(dpn: bigint, out: Set<WorkKey>): void {
    for (const k of this.servicesByDpn.get(dpn) ?? []) out.add(k);
    for (const node of this.nodesOfDpn.get(dpn) ?? []) {
      for (const p of this.portsAtNode.get(node) ?? []) this.portWork(p, out);
    }
  }

  // ---- applying changes ----------------------------------------------------------------------

  applyNetwork(c: Change<neutron.Network>): Set<WorkKey> {
    const id = c.keys[0][0] as string;
    const after = c.after;
    if (!after) this.networks.delete(id);
    else {
      const seg = after['neutron-provider-ext:segmentation-id'];
      const type = after['neutron-provider-ext:network-type'];
      const vxlan = type === undefined || /vxlan/.test(type);
      this.networks.set(id, { vni: vxlan && seg !== undefined && /^\d+$/.test(seg) ? BigInt(seg) : undefined });
    }
    const out = new Set<WorkKey>([netKey(id)]);
    for (const s of this.subnetsByNetwork.get(id) ?? []) this.subnetWork(s, out);
    return out;
  }

  applySubnet(c: Change<neutron.Subnet>): Set<WorkKey> {
    const id = c.keys[0][0] as string;
    const before = this.subnets.get(id);
    if (before?.networkId) removeFrom(this.subnetsByNetwork, before.networkId, id);
    const after = c.after;
    if (!after) this.subnets.delete(id);
    else {
      this.subnets.set(id, { networkId: after['network-id'], cidr: after.cidr });
      if (after['network-id']) addTo(this.subnetsByNetwork, after['network-id'], id);
    }
    const out = new Set<WorkKey>();
    this.subnetWork(id, out);
    return out;
  }

  applyPort(c: Change<neutron.Port>): Set<WorkKey> {
    const id = c.keys[0][0] as string;
    const out = new Set<WorkKey>();
    const before = this.ports.get(id);
    if (before) {
      this.portWork(id, out);
      for (const s of before.subnets) removeFrom(this.portsBySubnet, s, id);
      if (before.networkId) removeFrom(this.portsByNetwork, before.networkId, id);
      if (before.routerOf) removeFrom(this.routerInterfaces, before.routerOf, id);
      this.ports.delete(id);
    }
    const j = c.after;
    if (j) {
      const port: Port = {
        id,
        networkId: j['network-id'],
        mac: j['mac-address'],
        subnets: [...new Set((j['fixed-ips'] ?? []).map((f) => f['subnet-id']))],
        routerOf: j['device-owner'] === ROUTER_INTERFACE && j['device-id'] ? j['device-id'] : undefined,
      };
      this.ports.set(id, port);
      for (const s of port.subnets) addTo(this.portsBySubnet, s, id);
      if (port.networkId) addTo(this.portsByNetwork, port.networkId, id);
      if (port.routerOf) addTo(this.routerInterfaces, port.routerOf, id);
      this.portWork(id, out);
    }
    return out;
  }

  applyRouter(c: Change<neutron.Router>): Set<WorkKey> {
    const id = c.keys[0][0] as string;
    const j = c.after;
    if (!j) this.routers.delete(id);
    else {
      const gw = j.external_gateway_info;
      this.routers.set(id, {
        snat: gw?.['external-network-id'] !== undefined && gw['enable-snat'] !== false,
        externalIps: (gw?.['external-fixed-ips'] ?? []).map((f) => f['ip-address']).filter((ip) => !ip.includes(':')),
      });
    }
    return new Set([serviceKey('nat', id)]);
  }

  applySubnetRoute(c: Change<SubnetRoute>): Set<WorkKey> {
    const id = c.keys[0][0] as string;
    if (c.after) this.subnetRoutes.add(id);
    else this.subnetRoutes.delete(id);
    return new Set([serviceKey('subnet-route', id)]);
  }

  /**
   * Also reports whether a compute became eligible again (recovered or registered), or the DPN
   * a tombstone was just set on (`tombstoned`).
   */
  applyCompute(c: Change<ComputeNode>): { work: Set<WorkKey>; recovered: boolean; tombstoned?: bigint } {
    const { before, after } = c;
    const out = new Set<WorkKey>();
    if (before?.dpnid !== undefined && before.dpnid === after?.dpnid && before.nodeid === after?.nodeid) {
      // A tombstone set or cleared: eligibility changes, the flows of the compute's own VMs do not.
      const d = BigInt(after.dpnid);
      this.computes.set(d, { name: after['compute-name'], nodeId: after.nodeid!, tombstoned: after.tombstoned === true });
      for (const k of this.servicesByDpn.get(d) ?? []) out.add(k);
      const set = before.tombstoned !== true && after.tombstoned === true;
      return { work: out, recovered: before.tombstoned === true && after.tombstoned !== true, ...(set ? { tombstoned: d } : {}) };
    }
    if (before?.dpnid !== undefined) {
      const d = BigInt(before.dpnid);
      this.computes.delete(d);
      if (before.nodeid) this.computeByNode.delete(before.nodeid);
      this.dpnWork(d, out);
    }
    if (after?.dpnid !== undefined && after.nodeid) {
      const d = BigInt(after.dpnid);
      this.computes.set(d, { name: after['compute-name'], nodeId: after.nodeid, tombstoned: after.tombstoned === true });
      this.computeByNode.set(after.nodeid, d);
      this.dpnWork(d, out);
    }
    const recovered = after !== undefined && after.tombstoned !== true && (before === undefined || before.tombstoned === true);
    return { work: out, recovered };
  }

  applyZone(c: Change<TransportZone>): Set<WorkKey> {
    const zone = c.keys[0][0] as string;
    const touched = new Set<bigint>();
    for (const [dpn, zones] of this.vteps) {
      if (zones.delete(zone)) touched.add(dpn);
      if (!zones.size) this.vteps.delete(dpn);
    }
    for (const v of c.after?.vteps ?? []) {
      if (!v['ip-address']) continue;
      const d = BigInt(v['dpn-id']);
      let zones = this.vteps.get(d);
      if (!zones) this.vteps.set(d, (zones = new Map()));
      zones.set(zone, v['ip-address']);
      touched.add(d);
    }
    const out = new Set<WorkKey>();
    for (const d of touched) this.dpnWork(d, out);
    return out;
  }

  applyDatapathId(c: Change<string>): Set<WorkKey> {
    const node = c.keys[0][0] as string;
    const out = new Set<WorkKey>();
    const before = this.bridges.get(node);
    if (before !== undefined) {
      this.bridges.delete(node);
      removeFrom(this.nodesOfDpn, before, node);
      this.dpnWork(before, out);
      for (const p of this.portsAtNode.get(node) ?? []) this.portWork(p, out);
    }
    const dpn = typeof c.after === 'string' ? dpnFromDatapathId(c.after) : undefined;
    if (dpn !== undefined) {
      this.bridges.set(node, dpn);
      addTo(this.nodesOfDpn, dpn, node);
      this.dpnWork(dpn, out);
    }
    return out;
  }

  /** A termination point Open vSwitch reports (operational). */
  applyReportedPort(c: Change<TerminationPointJson>): Set<WorkKey> {
    const node = c.keys[0][0] as string;
    const out = new Set<WorkKey>();
    const before = c.before ? vmPortOf(c.before) : undefined;
    if (before && this.locations.get(before)?.nodeId === node) {
      this.portWork(before, out);
      this.locations.delete(before);
      removeFrom(this.portsAtNode, node, before);
    }
    const tp = c.after;
    const after = tp ? vmPortOf(tp) : undefined;
    if (tp && after) {
      this.locations.set(after, { nodeId: node, ofport: tp['ovsdb:ofport'] ?? tp['ovsdb:ofport_request'] });
      addTo(this.portsAtNode, node, after);
      this.portWork(after, out);
    }
    return out;
  }

  /** A tunnel port of the config topology (the tunnels plugin's). */
  applyTunnelPort(c: Change<TerminationPointJson>): Set<WorkKey> {
    const node = c.keys[0][0] as string;
    const { before, after } = c;
    const remoteBefore = before ? tpOption(before, 'remote_ip') : undefined;
    const remoteAfter = after ? tpOption(after, 'remote_ip') : undefined;
    if (remoteBefore === undefined && remoteAfter === undefined) return new Set();
    let byIp = this.tunnels.get(node);
    if (remoteBefore !== undefined) byIp?.delete(remoteBefore);
    const ofport = after?.['ovsdb:ofport_request'] ?? after?.['ovsdb:ofport'];
    if (remoteAfter !== undefined && ofport !== undefined) {
      if (!byIp) this.tunnels.set(node, (byIp = new Map()));
      byIp.set(remoteAfter, ofport);
    }
    if (byIp && !byIp.size) this.tunnels.delete(node);
    const out = new Set<WorkKey>();
    const dpn = this.nodeDpn(node);
    if (dpn !== undefined) this.dpnWork(dpn, out);
    return out;
  }
}
