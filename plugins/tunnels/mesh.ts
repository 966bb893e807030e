/**
 * The tunnel mesh (genius ITM, internal tunnels): every ordered pair of vteps of a VXLAN transport
 * zone gets a tunnel port on the source compute's bridge in the config topology, which the OVSDB
 * southbound creates in Open vSwitch. The mesh is recomputed from what the listeners learnt and
 * diffed against the tunnel ports that exist, so it repairs itself whatever changed.
 */
import { createHash } from 'node:crypto';
import { retryOnConflict } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import {
  ovsNodeOf,
  terminationPointPath,
  tpOption,
  VXLAN_INTERFACE_TYPE,
  type TerminationPointJson,
} from '../../src/southbound/ovsdb/topology.ts';
import { transportZones, type TunnelTypeBase } from '../../src/bindings/itm.ts';
import { tunnelsState } from '../../src/bindings/itm-state.ts';
import { uint64 } from '../../src/yang/binding.ts';

export const DEFAULT_ZONE = 'default-transport-zone';
export const VXLAN_TUNNEL_TYPE: TunnelTypeBase = 'odl-interface:tunnel-type-vxlan';
const TUNNEL_STATE = tunnelsState();
const zonePath = (zone: string) => transportZones().transportZone(zone);
const vtepPath = (zone: string, dpn: bigint) => zonePath(zone).vteps(dpn);
const statePath = (name: string) => TUNNEL_STATE.stateTunnelList(name);

/**
 * Tunnel ports get OpenFlow port numbers from here up (asked for with ofport_request), so that
 * flows can name them before Open vSwitch reports anything, and so they never collide with the
 * low numbers OVS hands to VM ports.
 */
export const TUNNEL_OFPORT_BASE = 32768;
const OFPORT_MAX = 65279;

const names = new Map<string, string>();

/** `tun` + 11 hex characters: stable for a (local, remote) pair, different for each direction. */
export function tunnelName(localIp: string, remoteIp: string): string {
  const key = `vxlan:${localIp}->${remoteIp}`;
  let name = names.get(key);
  if (!name) {
    name = `tun${createHash('sha256').update(key).digest('hex').slice(0, 11)}`;
    if (names.size > 1_000_000) names.clear(); // a memo, not a registry
    names.set(key, name);
  }
  return name;
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

/** Work: `join` (scale-out check) or the bridge node-id whose tunnels to recompute. */
export type MeshKey = 'join' | `node:${string}`;
export const nodeKey = (nodeId: string): MeshKey => `node:${nodeId}`;

export class Mesh {
  readonly zones = new Map<string, ZoneState>();
  readonly computes = new Map<bigint, ComputeState>();
  private readonly computeByNode = new Map<string, bigint>();
  /** Operational bridges: node-id -> dpn (fallback when a vtep's DPN is no registered compute); written through setBridge. */
  private readonly bridgeDpns = new Map<string, bigint>();
  /**
   * The same by DPN, bridge nodes only: a compute that scale-in removed is found through it, so
   * each of its bridges is not a scan of every bridge.
   */
  private readonly bridgesByDpn = new Map<bigint, Set<string>>();
  /** Operational `local_ip` of each OVS node. */
  readonly localIps = new Map<string, string>();
  /** Tunnel ports Open vSwitch reports, `nodeId\0name`. */
  readonly reported = new Set<string>();
  /** Tunnel ports in the config topology (ours by name): nodeId -> name -> port. */
  readonly ports = new Map<string, Map<string, TerminationPointJson>>();
  /** Tunnel states last published, per node: name -> a text of what the entry says. */
  private states = new Map<string, Map<string, string>>();

  constructor(private readonly ctx: PluginContext) {}

  /** A member taking over as leader republishes every tunnel state (another member wrote them). */
  forgetPublished(): void {
    this.states = new Map();
  }

  setCompute(dpn: bigint, c: ComputeState | undefined): void {
    const old = this.computes.get(dpn);
    if (old) this.computeByNode.delete(old.nodeId);
    if (c) {
      this.computes.set(dpn, c);
      this.computeByNode.set(c.nodeId, dpn);
    } else this.computes.delete(dpn);
  }

  get bridges(): ReadonlyMap<string, bigint> {
    return this.bridgeDpns;
  }

  /** Records what OVS reports of a bridge node (undefined: no datapath-id, or gone). */
  setBridge(nodeId: string, dpn: bigint | undefined): void {
    const old = this.bridgeDpns.get(nodeId);
    if (old !== undefined) {
      const nodes = this.bridgesByDpn.get(old);
      nodes?.delete(nodeId);
      if (!nodes?.size) this.bridgesByDpn.delete(old);
    }
    if (dpn === undefined) {
      this.bridgeDpns.delete(nodeId);
      return;
    }
    this.bridgeDpns.set(nodeId, dpn);
    if (!nodeId.includes('/bridge/')) return;
    let nodes = this.bridgesByDpn.get(dpn);
    if (!nodes) this.bridgesByDpn.set(dpn, (nodes = new Set()));
    nodes.add(nodeId);
  }

  nodeOf(dpn: bigint): string | undefined {
    const c = this.computes.get(dpn)?.nodeId;
    if (c) return c;
    for (const node of this.bridgesByDpn.get(dpn) ?? []) return node;
    return undefined;
  }

  dpnOfNode(nodeId: string): bigint | undefined {
    return this.computeByNode.get(nodeId) ?? this.bridges.get(nodeId);
  }

  /** Work keys for the bridges of these DPNs. */
  nodesOf(dpns: Iterable<bigint>): MeshKey[] {
    const out: MeshKey[] = [];
    for (const d of dpns) {
      const n = this.nodeOf(d);
      if (n) out.push(nodeKey(n));
    }
    return out;
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

  /** The tunnels that should start at a bridge: one per other vtep of each VXLAN zone it is in. */
  desiredAt(nodeId: string): Map<string, Tunnel> {
    const out = new Map<string, Tunnel>();
    const src = this.dpnOfNode(nodeId);
    if (src === undefined || this.nodeOf(src) !== nodeId) return out;
    for (const z of this.zones.values()) {
      const localIp = z.vteps.get(src);
      if (!z.vxlan || localIp === undefined) continue;
      for (const [dst, remoteIp] of z.vteps) {
        if (dst === src || remoteIp === localIp) continue;
        const name = tunnelName(localIp, remoteIp);
        out.set(name, { name, nodeId, srcDpn: src, dstDpn: dst, localIp, remoteIp });
      }
    }
    return out;
  }

  /** One batch: scale-out joins, then the tunnel ports of the given bridges, then their state. */
  async reconcile(batch: MeshKey[]): Promise<void> {
    if (batch.includes('join')) await this.join();
    const nodes = batch.filter((k): k is `node:${string}` => k !== 'join').map((k) => k.slice(5));
    if (!nodes.length) return;
    const want = new Map(nodes.map((n) => [n, this.desiredAt(n)]));
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config', { leaderOnly: true });
      const wrote: [string, string, TerminationPointJson | undefined][] = [];
      for (const [node, tunnels] of want) {
        const have = this.ports.get(node) ?? new Map<string, TerminationPointJson>();
        for (const name of have.keys()) {
          if (tunnels.has(name)) continue;
          tx.remove(terminationPointPath(node, name));
          wrote.push([node, name, undefined]);
        }
        const used = new Set([...have.values()].map((p) => p['ovsdb:ofport_request'] ?? 0));
        for (const t of tunnels.values()) {
          // The listener may not have delivered our previous commit yet: the snapshot is the
          // truth for a port the index does not know, so a port number is never handed out twice.
          const had = have.get(t.name) ?? tx.read(terminationPointPath(node, t.name));
          const ofport = had?.['ovsdb:ofport_request'] ?? allocate(used);
          if (ofport === undefined) {
            this.ctx.log.error({ node }, `no OpenFlow port number left for tunnel ${t.name} on ${node}`);
            continue;
          }
          const body = tunnelPort(t, ofport);
          if (had && portShape(had) === portShape(body)) continue;
          // Never recreate a port on a compute that left meanwhile (scale-in end removes its
          // vteps and its topology node in one transaction).
          if (!tx.exists(zonePathOfVtep(this, t.srcDpn)) || !tx.exists(zonePathOfVtep(this, t.dstDpn))) continue;
          tx.put(terminationPointPath(node, t.name), body);
          wrote.push([node, t.name, body]);
        }
      }
      if (!wrote.length) return tx.cancel();
      await tx.commit();
      for (const [node, name, body] of wrote) this.notePort(node, name, body);
    });
    await this.publishState(want);
  }

  private async join(): Promise<void> {
    const joiners = this.joiners();
    if (!joiners.length) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config', { leaderOnly: true });
      if (!tx.exists(zonePath(DEFAULT_ZONE))) tx.merge(zonePath(DEFAULT_ZONE), { 'zone-name': DEFAULT_ZONE, 'tunnel-type': VXLAN_TUNNEL_TYPE });
      for (const j of joiners) tx.merge(vtepPath(DEFAULT_ZONE, j.dpn), { 'dpn-id': uint64(j.dpn), 'ip-address': j.ip });
      await tx.commit();
    });
    for (const j of joiners) this.ctx.log.info({ dpn: j.dpn.toString(), ip: j.ip }, `compute dpn ${j.dpn} joined ${DEFAULT_ZONE} (scale-out)`);
  }

  /** Records a tunnel port of the config topology (undefined: gone); false if already known so. */
  notePort(nodeId: string, name: string, tp: TerminationPointJson | undefined): boolean {
    let byName = this.ports.get(nodeId);
    const had = byName?.get(name);
    if (had === undefined ? tp === undefined : tp !== undefined && portShape(had) === portShape(tp)) return false;
    if (tp) {
      if (!byName) this.ports.set(nodeId, (byName = new Map()));
      byName.set(name, tp);
    } else if (byName) {
      byName.delete(name);
      if (!byName.size) this.ports.delete(nodeId);
    }
    return true;
  }

  private async publishState(want: Map<string, Map<string, Tunnel>>): Promise<void> {
    const tx = this.ctx.data.transaction('operational', { leaderOnly: true });
    const updates: [string, Map<string, string>][] = [];
    let writes = 0;
    for (const [node, tunnels] of want) {
      // Compared as a short text per tunnel; the entry is built only for what changed.
      const next = new Map<string, string>();
      const prev = this.states.get(node) ?? new Map<string, string>();
      for (const t of tunnels.values()) {
        const ofport = this.ports.get(node)?.get(t.name)?.['ovsdb:ofport_request'];
        const up = this.reported.has(`${node}\u0000${t.name}`);
        const text = `${t.srcDpn}|${t.localIp}|${t.dstDpn}|${t.remoteIp}|${up}|${ofport}`;
        next.set(t.name, text);
        if (prev.get(t.name) === text) continue;
        tx.put(statePath(t.name), {
          'tunnel-interface-name': t.name,
          'src-info': { 'tep-device-id': uint64(t.srcDpn), 'tep-ip': t.localIp },
          'dst-info': { 'tep-device-id': uint64(t.dstDpn), 'tep-ip': t.remoteIp },
          'transport-type': VXLAN_TUNNEL_TYPE,
          'oper-state': up ? 'up' : 'down',
          ...(ofport !== undefined ? { ofport } : {}),
        });
        writes++;
      }
      for (const name of prev.keys()) {
        if (next.has(name)) continue;
        tx.remove(statePath(name));
        writes++;
      }
      updates.push([node, next]);
    }
    if (writes) await tx.commit();
    else tx.cancel();
    for (const [node, next] of updates) {
      if (next.size) this.states.set(node, next);
      else this.states.delete(node);
    }
  }
}

function zonePathOfVtep(mesh: Mesh, dpn: bigint) {
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

/** What of a tunnel port we own, as comparable text (the order of options is not significant). */
function portShape(tp: TerminationPointJson): string {
  return `${tp['ovsdb:name']}|${tp['ovsdb:interface-type']}|${tpOption(tp, 'key')}|${tpOption(tp, 'local_ip')}|${tpOption(tp, 'remote_ip')}|${tp['ovsdb:options']?.length}|${tp['ovsdb:ofport_request']}`;
}
