/**
 * The tunnel mesh (genius ITM, internal tunnels): every ordered pair of vteps of a VXLAN transport
 * zone gets a tunnel port on the source compute's bridge in the config topology, which the OVSDB
 * southbound creates in Open vSwitch. The mesh is recomputed from what the listeners learnt and
 * diffed against the tunnel ports that exist, so it repairs itself whatever changed.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import {
  ovsNodeOf,
  terminationPointPath,
  tpOption,
  VXLAN_INTERFACE_TYPE,
  type TerminationPointJson,
} from '../../src/southbound/ovsdb/topology.ts';
import { encodeKeyValue } from '../../src/yang/path.ts';

export const TRANSPORT_ZONES = '/itm:transport-zones';
export const DEFAULT_ZONE = 'default-transport-zone';
export const VXLAN_TUNNEL_TYPE = 'odl-interface:tunnel-type-vxlan';
const TUNNEL_STATE = '/itm-state:tunnels_state';
const zonePath = (zone: string) => `${TRANSPORT_ZONES}/transport-zone=${encodeKeyValue(zone)}`;
const vtepPath = (zone: string, dpn: bigint) => `${zonePath(zone)}/vteps=${dpn}`;
const statePath = (name: string) => `${TUNNEL_STATE}/state-tunnel-list=${encodeKeyValue(name)}`;

/**
 * Tunnel ports get OpenFlow port numbers from here up (asked for with ofport_request), so that
 * flows can name them before Open vSwitch reports anything, and so they never collide with the
 * low numbers OVS hands to VM ports.
 */
export const TUNNEL_OFPORT_BASE = 32768;
const OFPORT_MAX = 65279;

/** `tun` + 11 hex characters: stable for a (local, remote) pair, different for each direction. */
export function tunnelName(localIp: string, remoteIp: string): string {
  return `tun${createHash('sha256').update(`vxlan:${localIp}->${remoteIp}`).digest('hex').slice(0, 11)}`;
}

const TUNNEL_NAME = /^tun[0-9a-f]{11}$/;

interface Tunnel {
  name: string;
  nodeId: string;
  srcDpn: bigint;
  dstDpn: bigint;
  localIp: string;
  remoteIp: string;
}

interface ZoneState {
  vxlan: boolean;
  vteps: Map<bigint, string>;
}

interface ComputeState {
  nodeId: string;
  tombstoned: boolean;
}

export class Mesh {
  readonly zones = new Map<string, ZoneState>();
  readonly computes = new Map<bigint, ComputeState>();
  /** Operational bridges: node-id -> dpn (fallback when a vtep's DPN is no registered compute). */
  readonly bridges = new Map<string, bigint>();
  /** Operational `local_ip` of each OVS node. */
  readonly localIps = new Map<string, string>();
  /** Tunnel ports Open vSwitch reports, `nodeId\0name`. */
  readonly reported = new Set<string>();
  /** Tunnel ports in the config topology (ours by name): nodeId -> name -> port. */
  readonly ports = new Map<string, Map<string, TerminationPointJson>>();
  private states = new Map<string, Record<string, unknown>>();

  constructor(private readonly ctx: PluginContext) {}

  nodeOf(dpn: bigint): string | undefined {
    const c = this.computes.get(dpn)?.nodeId;
    if (c) return c;
    for (const [node, d] of this.bridges) if (d === dpn && node.includes('/bridge/')) return node;
    return undefined;
  }

  /** Registered, untombstoned computes whose OVS reports a local_ip but which are in no zone. */
  private joiners(): { dpn: bigint; ip: string }[] {
    const inZone = new Set<bigint>();
    for (const z of this.zones.values()) for (const d of z.vteps.keys()) inZone.add(d);
    const out: { dpn: bigint; ip: string }[] = [];
    for (const [dpn, c] of this.computes) {
      if (c.tombstoned || inZone.has(dpn)) continue;
      const ip = this.localIps.get(ovsNodeOf(c.nodeId));
      if (ip) out.push({ dpn, ip });
    }
    return out;
  }

  desired(): Map<string, Tunnel> {
    const out = new Map<string, Tunnel>();
    for (const z of this.zones.values()) {
      if (!z.vxlan) continue;
      for (const [src, localIp] of z.vteps) {
        const nodeId = this.nodeOf(src);
        if (!nodeId) continue;
        for (const [dst, remoteIp] of z.vteps) {
          if (dst === src || remoteIp === localIp) continue;
          const name = tunnelName(localIp, remoteIp);
          out.set(`${nodeId}\u0000${name}`, { name, nodeId, srcDpn: src, dstDpn: dst, localIp, remoteIp });
        }
      }
    }
    return out;
  }

  /** One pass: scale-out joins, then the tunnel ports, then their operational state. */
  async reconcile(): Promise<void> {
    const joiners = this.joiners();
    if (joiners.length) {
      await retryOnConflict(async () => {
        const tx = this.ctx.data.transaction('config');
        if (!tx.exists(zonePath(DEFAULT_ZONE))) tx.merge(zonePath(DEFAULT_ZONE), { 'zone-name': DEFAULT_ZONE, 'tunnel-type': VXLAN_TUNNEL_TYPE });
        for (const j of joiners) tx.merge(vtepPath(DEFAULT_ZONE, j.dpn), { 'dpn-id': j.dpn.toString(), 'ip-address': j.ip });
        await tx.commit();
      });
      for (const j of joiners) this.ctx.log.info({ dpn: j.dpn.toString(), ip: j.ip }, `compute dpn ${j.dpn} joined ${DEFAULT_ZONE} (scale-out)`);
      return; // the zone change comes back through the listener and triggers the mesh
    }
    const want = this.desired();
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      let writes = 0;
      const wrote: [string, string, TerminationPointJson | undefined][] = [];
      const used = new Map<string, Set<number>>();
      const usedOn = (node: string) => {
        let s = used.get(node);
        if (!s) {
          s = new Set([...(this.ports.get(node)?.values() ?? [])].map((p) => p['ovsdb:ofport_request'] ?? 0));
          used.set(node, s);
        }
        return s;
      };
      for (const [node, byName] of this.ports) {
        for (const name of byName.keys()) {
          if (want.has(`${node}\u0000${name}`)) continue;
          tx.remove(terminationPointPath(node, name));
          wrote.push([node, name, undefined]);
          writes++;
        }
      }
      for (const t of want.values()) {
        // The listener may not have delivered our previous commit yet: the snapshot is the truth
        // for a port the index does not know, so its port number is never handed out twice.
        const have = this.ports.get(t.nodeId)?.get(t.name) ?? (tx.read(terminationPointPath(t.nodeId, t.name)) as TerminationPointJson | undefined);
        const ofport = have?.['ovsdb:ofport_request'] ?? allocate(usedOn(t.nodeId));
        if (ofport === undefined) {
          this.ctx.log.error({ node: t.nodeId }, `no OpenFlow port number left for tunnel ${t.name} on ${t.nodeId}`);
          continue;
        }
        const body = tunnelPort(t, ofport);
        if (have && isDeepStrictEqual(portShape(have), portShape(body))) continue;
        // Never recreate a port on a compute that left meanwhile (scale-in end removes its
        // vteps and its topology node in one transaction).
        if (!tx.exists(zonePathOfVtep(this, t.srcDpn)) || !tx.exists(zonePathOfVtep(this, t.dstDpn))) continue;
        tx.put(terminationPointPath(t.nodeId, t.name), body);
        wrote.push([t.nodeId, t.name, body]);
        writes++;
      }
      if (!writes) return tx.cancel();
      await tx.commit();
      for (const [node, name, body] of wrote) this.notePort(node, name, body);
    });
    await this.publishState(want);
  }

  /** Records a tunnel port of the config topology (undefined: gone). */
  notePort(nodeId: string, name: string, tp: TerminationPointJson | undefined): void {
    let byName = this.ports.get(nodeId);
    if (tp) {
      if (!byName) this.ports.set(nodeId, (byName = new Map()));
      byName.set(name, tp);
    } else if (byName) {
      byName.delete(name);
      if (!byName.size) this.ports.delete(nodeId);
    }
  }

  private async publishState(want: Map<string, Tunnel>): Promise<void> {
    const next = new Map<string, Record<string, unknown>>();
    for (const t of want.values()) {
      const ofport = this.ports.get(t.nodeId)?.get(t.name)?.['ovsdb:ofport_request'];
      next.set(t.name + '\u0000' + t.nodeId, {
        'tunnel-interface-name': t.name,
        'src-info': { 'tep-device-id': t.srcDpn.toString(), 'tep-ip': t.localIp },
        'dst-info': { 'tep-device-id': t.dstDpn.toString(), 'tep-ip': t.remoteIp },
        'transport-type': VXLAN_TUNNEL_TYPE,
        'oper-state': this.reported.has(`${t.nodeId}\u0000${t.name}`) ? 'up' : 'down',
        ...(ofport !== undefined ? { ofport } : {}),
      });
    }
    const tx = this.ctx.data.transaction('operational');
    let writes = 0;
    for (const [k, v] of this.states) {
      if (!next.has(k)) {
        tx.remove(statePath(v['tunnel-interface-name'] as string));
        writes++;
      }
    }
    for (const [k, v] of next) {
      if (isDeepStrictEqual(this.states.get(k), v)) continue;
      tx.put(statePath(v['tunnel-interface-name'] as string), v);
      writes++;
    }
    if (!writes) return tx.cancel();
    await tx.commit();
    this.states = next;
  }
}

function zonePathOfVtep(mesh: Mesh, dpn: bigint): string {
  for (const [zone, z] of mesh.zones) if (z.vteps.has(dpn)) return vtepPath(zone, dpn);
  return vtepPath(DEFAULT_ZONE, dpn);
}

function allocate(used: Set<number>): number | undefined {
  for (let p = TUNNEL_OFPORT_BASE; p <= OFPORT_MAX; p++) {
    if (!used.has(p)) {
      used.add(p);
      return p;
    }
  }
  return undefined;
}

export function isTunnelName(name: string): boolean {
  return TUNNEL_NAME.test(name);
}

function tunnelPort(t: Tunnel, ofport: number): TerminationPointJson {
  return {
    'tp-id': t.name,
    'ovsdb:name': t.name,
    'ovsdb:interface-type': VXLAN_INTERFACE_TYPE,
    'ovsdb:options': [
      { option: 'key', value: 'flow' },
      { option: 'local_ip', value: t.localIp },
      { option: 'remote_ip', value: t.remoteIp },
    ],
    'ovsdb:ofport_request': ofport,
  };
}

/** What of a tunnel port we own (the order of options is not significant). */
function portShape(tp: TerminationPointJson) {
  return {
    name: tp['ovsdb:name'],
    type: tp['ovsdb:interface-type'],
    key: tpOption(tp, 'key'),
    local: tpOption(tp, 'local_ip'),
    remote: tpOption(tp, 'remote_ip'),
    count: tp['ovsdb:options']?.length,
    ofport: tp['ovsdb:ofport_request'],
  };
}
