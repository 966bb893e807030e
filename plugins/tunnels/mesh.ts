/**
 * The tunnel mesh (genius ITM, internal tunnels): every ordered pair of vteps of a VXLAN transport
 * zone gets a tunnel port on the source compute's bridge in the config topology, which the OVSDB
 * southbound creates in Open vSwitch, and ITM's own record of it in `itm-state` (config
 * `dpn-endpoints`, `tunnel-list`, `dpn-teps-state`; operational `tunnels_state`). The mesh is
 * recomputed from what the listeners learnt and diffed against what exists, so it repairs itself
 * whatever changed.
 */
import { createHash } from 'node:crypto';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import {
  ovsNodeOf,
  terminationPointPath,
  tpOption,
  VXLAN_INTERFACE_TYPE,
  type TerminationPointJson,
} from '../../src/southbound/ovsdb/topology.ts';
import { transportZones, type TunnelTypeBase } from '../../src/bindings/itm.ts';
import { dpnEndpoints, dpnTepsState, tunnelList, tunnelsState, type DPNTEPsInfo, type DpnsTeps, type InternalTunnel, type RemoteDpns } from '../../src/bindings/itm-state.ts';
import { itmConfig as itmConfigPath, type ItmConfig } from '../../src/bindings/itm-config.ts';
import { uint64 } from '../../src/yang/binding.ts';

export const DEFAULT_ZONE = 'default-transport-zone';
export const VXLAN_TUNNEL_TYPE: TunnelTypeBase = 'odl-interface:tunnel-type-vxlan';
const TUNNEL_STATE = tunnelsState();
export const zonePath = (zone: string) => transportZones().transportZone(zone);
const vtepPath = (zone: string, dpn: bigint) => zonePath(zone).vteps(dpn);
const statePath = (name: string) => TUNNEL_STATE.stateTunnelList(name);
const tepsInfoPath = (dpn: bigint) => dpnEndpoints().dPNTEPsInfo(dpn);
const internalTunnelPath = (src: bigint, dst: bigint) => tunnelList().internalTunnel(src, dst, VXLAN_TUNNEL_TYPE);
const dpnTepsPath = (src: bigint) => dpnTepsState().dpnsTeps(src);

/** What `itm-config:itm-config` asks of default-transport-zone. */
export interface DefaultZonePolicy {
  enabled: boolean;
  tunnelType: TunnelTypeBase | undefined;
}

/** genius' names for def-tz-tunnel-type (ItmUtils.TUNNEL_TYPE_MAP), upper-cased. */
const DEF_TZ_TUNNEL_TYPES: Record<string, TunnelTypeBase> = {
  VXLAN: 'odl-interface:tunnel-type-vxlan',
  GRE: 'odl-interface:tunnel-type-gre',
  MPLS_OVER_GRE: 'odl-interface:tunnel-type-mpls-over-gre',
};

/** The policy an `itm-config` entry states; its absent leaves take the YANG defaults (enabled, vxlan). */
export function defaultZonePolicy(config: ItmConfig | undefined): DefaultZonePolicy {
  return {
    enabled: config?.['def-tz-enabled'] ?? true,
    tunnelType: DEF_TZ_TUNNEL_TYPES[(config?.['def-tz-tunnel-type'] ?? 'vxlan').toUpperCase()],
  };
}

/**
 * Tunnel ports get OpenFlow port numbers from here up (asked for with ofport_request), so that
 * flows can name them before Open vSwitch reports anything, and so they never collide with the
 * low numbers OVS hands to VM ports.
 */
export const TUNNEL_OFPORT_BASE = 32768;
const OFPORT_MAX = 65279;

const names = new Map<string, string>();

/**
 * The interface name genius gives a DPN's tunnel endpoint (ItmUtils.getInterfaceName:
 * `<dpn>:<portname>:<vlan-id>`, with itm-config's portname and vlan-id unset: `<dpn>::0`).
 */
export function tepInterfaceName(dpn: bigint): string {
  return `${dpn}::0`;
}

/**
 * The tunnel interface name genius gives the tunnel from `localIp` on DPN `srcDpn` to `remoteIp`
 * (ItmUtils.getTrunkInterfaceName): `tun` + the first 11 hex digits of the name-based UUID (MD5)
 * of `<tep interface>:<local ip>:<remote ip>:VXLAN`, so a suite or operator sees the names
 * OpenDaylight would give. Stable, and different for each direction.
 */
export function tunnelName(srcDpn: bigint, localIp: string, remoteIp: string): string {
  const key = `${tepInterfaceName(srcDpn)}:${localIp}:${remoteIp}:VXLAN`;
  let name = names.get(key);
  if (!name) {
    // The UUID's first 12 characters are 8 digits, a dash and 3 digits: its version and variant
    // bits come later, so they are the MD5 digest's first 11 hex digits.
    name = `tun${createHash('md5').update(key).digest('hex').slice(0, 11)}`;
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

/** What the config itm-state of one DPN said when last written, as comparable texts. */
interface ItmRecord {
  /** DPN-TEPs-info. */
  info: string;
  /** dpns-teps without its remote-dpns ('' when there is none). */
  teps: string;
  /** internal-tunnel per destination: its tunnel interface names. */
  internal: Map<bigint, string>;
  /** remote-dpns per destination: the tunnel name. */
  remotes: Map<bigint, string>;
}

/**
 * Work: `join` (default-transport-zone and scale-out), the bridge node-id whose tunnels to
 * recompute, or a DPN whose `itm-state` entries to recompute (it may have no bridge any more).
 */
export type MeshKey = 'join' | `node:${string}` | `dpn:${string}`;
export const nodeKey = (nodeId: string): MeshKey => `node:${nodeId}`;
export const dpnKey = (dpn: bigint): MeshKey => `dpn:${dpn}`;

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
  /** Config `itm-state` last written, per source DPN. */
  private itmStates = new Map<bigint, ItmRecord>();
  /**
   * Config `tunnel-list/internal-tunnel` as the store holds it (a listener keeps it): source DPN ->
   * destination DPNs. Where to look for entries to remove, whoever wrote them (a restart, another
   * leader); the transaction's snapshot decides.
   */
  readonly internalTunnels = new Map<bigint, Set<bigint>>();
  /** What `itm-config` asks; `policyDue` when it is to be applied (start, leadership, a change). */
  policy: DefaultZonePolicy = defaultZonePolicy(undefined);
  policyDue = true;
  /** OVS nodes whose `local_ip` went away (node -> the address): their vtep leaves the default zone. */
  readonly localIpsGone = new Map<string, string>();

  constructor(private readonly ctx: PluginContext) {}

  /** A member taking over as leader republishes every tunnel state (another member wrote them). */
  forgetPublished(): void {
    this.states = new Map();
    this.itmStates = new Map();
  }

  /** Records an internal-tunnel entry of the store (present or not). */
  noteInternalTunnel(src: bigint, dst: bigint, present: boolean): void {
    let dsts = this.internalTunnels.get(src);
    if (present) {
      if (!dsts) this.internalTunnels.set(src, (dsts = new Set()));
      dsts.add(dst);
    } else if (dsts) {
      dsts.delete(dst);
      if (!dsts.size) this.internalTunnels.delete(src);
    }
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
    if (!this.policy.enabled) return [];
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
        const name = tunnelName(src, localIp, remoteIp);
        out.set(name, { name, nodeId, srcDpn: src, dstDpn: dst, localIp, remoteIp });
      }
    }
    return out;
  }

  /**
   * One batch: default-transport-zone and scale-out, then the tunnel ports of the given bridges
   * and the config `itm-state` of their DPNs (one transaction: the tunnel list never names a port
   * that is not configured), then their operational state.
   */
  async reconcile(batch: MeshKey[]): Promise<void> {
    if (batch.includes('join')) await this.join();
    const nodes: string[] = [];
    const dpns = new Set<bigint>();
    for (const k of batch) {
      if (k.startsWith('node:')) nodes.push(k.slice(5));
      else if (k.startsWith('dpn:')) dpns.add(BigInt(k.slice(4)));
    }
    if (!nodes.length && !dpns.size) return;
    const want = new Map(nodes.map((n) => [n, this.desiredAt(n)]));
    for (const n of nodes) {
      const d = this.dpnOfNode(n);
      if (d !== undefined) dpns.add(d);
    }
    // A DPN's bridge is recomputed with it (its key may have come in another batch), so its
    // tunnel list and its ports are written together.
    for (const d of dpns) {
      const n = this.nodeOf(d);
      if (n !== undefined && !want.has(n)) want.set(n, this.desiredAt(n));
    }
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config', { leaderOnly: true });
      const wrote: [string, string, TerminationPointJson | undefined][] = [];
      // Whether a DPN is still a vtep in the snapshot: scale-in end removes its vteps and its
      // topology node in one transaction, and nothing is recreated for a compute that left.
      const meshed = new Map<bigint, boolean>();
      const stillMeshed = (dpn: bigint) => {
        let m = meshed.get(dpn);
        if (m === undefined) meshed.set(dpn, (m = tx.exists(zonePathOfVtep(this, dpn))));
        return m;
      };
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
          if (!stillMeshed(t.srcDpn) || !stillMeshed(t.dstDpn)) continue;
          tx.put(terminationPointPath(node, t.name), body);
          wrote.push([node, t.name, body]);
        }
      }
      const itm = this.writeItmState(tx, dpns, want, stillMeshed);
      if (!wrote.length && !itm.length) return tx.cancel();
      await tx.commit();
      for (const [node, name, body] of wrote) this.notePort(node, name, body);
      for (const [dpn, record] of itm) {
        if (record) this.itmStates.set(dpn, record);
        else this.itmStates.delete(dpn);
      }
    });
    await this.publishState(want);
  }

  /** The tunnels that start at a DPN (from its bridge, which `want` holds; none without one). */
  private tunnelsFrom(dpn: bigint, want: Map<string, Map<string, Tunnel>>): Tunnel[] {
    const node = this.nodeOf(dpn);
    if (node === undefined) return [];
    return [...(want.get(node)?.values() ?? [])].filter((t) => t.srcDpn === dpn);
  }

  /**
   * Config `itm-state` for these DPNs, as genius' ITM writes it: `dpn-endpoints/DPN-TEPs-info`
   * (the DPN's tunnel endpoints: one per address, with the VXLAN zones it is in), and, from the
   * tunnels that start at it, `tunnel-list/internal-tunnel` (per destination, the tunnel
   * interface names) and `dpn-teps-state/dpns-teps` (per destination, the tunnel name). Only
   * what changed since the last write is written (a mesh of n DPNs changes O(n) entries when
   * one joins, not O(n^2)); a DPN with no record (start, new leader) is written whole. Returns
   * the records to keep once the transaction commits (undefined: nothing left).
   */
  private writeItmState(tx: Transaction, dpns: Set<bigint>, want: Map<string, Map<string, Tunnel>>, stillMeshed: (d: bigint) => boolean): [bigint, ItmRecord | undefined][] {
    const out: [bigint, ItmRecord | undefined][] = [];
    for (const dpn of dpns) {
      const zonesByIp = new Map<string, string[]>();
      if (stillMeshed(dpn)) {
        for (const [zone, z] of this.zones) {
          const ip = z.vteps.get(dpn);
          if (!z.vxlan || ip === undefined || !tx.exists(vtepPath(zone, dpn))) continue;
          const names = zonesByIp.get(ip);
          if (names) names.push(zone);
          else zonesByIp.set(ip, [zone]);
        }
      }
      const last = this.itmStates.get(dpn);
      if (!zonesByIp.size) {
        // Not a vtep (any more): nothing of it stays. Without a record, the snapshot says what is there.
        if (!last && !this.internalTunnels.has(dpn) && !tx.exists(tepsInfoPath(dpn)) && !tx.exists(dpnTepsPath(dpn))) continue;
        if (tx.exists(tepsInfoPath(dpn))) tx.remove(tepsInfoPath(dpn));
        if (tx.exists(dpnTepsPath(dpn))) tx.remove(dpnTepsPath(dpn));
        for (const dst of new Set([...(this.internalTunnels.get(dpn) ?? []), ...(last?.internal.keys() ?? [])])) {
          if (tx.exists(internalTunnelPath(dpn, dst))) tx.remove(internalTunnelPath(dpn, dst));
        }
        out.push([dpn, undefined]);
        continue;
      }
      const next: ItmRecord = { info: '', teps: '', internal: new Map(), remotes: new Map() };
      let changed = false;
      const info: DPNTEPsInfo = {
        'DPN-ID': uint64(dpn),
        'tunnel-end-points': [...zonesByIp].map(([ip, zones]) => ({
          'ip-address': ip,
          'tunnel-type': VXLAN_TUNNEL_TYPE,
          'tz-membership': zones.map((z) => ({ 'zone-name': z })),
          'interface-name': tepInterfaceName(dpn),
          'option-of-tunnel': false,
        })),
      };
      next.info = JSON.stringify(info);
      if (next.info !== last?.info) {
        tx.put(tepsInfoPath(dpn), info);
        changed = true;
      }
      const byDst = new Map<bigint, Tunnel[]>();
      for (const t of this.tunnelsFrom(dpn, want)) {
        if (!stillMeshed(t.dstDpn)) continue;
        const list = byDst.get(t.dstDpn);
        if (list) list.push(t);
        else byDst.set(t.dstDpn, [t]);
      }
      for (const [dst, ts] of byDst) {
        const names = ts.map((t) => t.name);
        const text = names.join(' ');
        next.internal.set(dst, text);
        if (last?.internal.get(dst) === text) continue;
        tx.put(internalTunnelPath(dpn, dst), { 'source-DPN': uint64(dpn), 'destination-DPN': uint64(dst), 'transport-type': VXLAN_TUNNEL_TYPE, 'tunnel-interface-names': names } satisfies InternalTunnel);
        changed = true;
      }
      for (const dst of new Set([...(this.internalTunnels.get(dpn) ?? []), ...(last?.internal.keys() ?? [])])) {
        if (byDst.has(dst) || !tx.exists(internalTunnelPath(dpn, dst))) continue;
        tx.remove(internalTunnelPath(dpn, dst));
        changed = true;
      }
      if (!byDst.size) {
        if (last?.teps || (!last && tx.exists(dpnTepsPath(dpn)))) {
          tx.remove(dpnTepsPath(dpn));
          changed = true;
        }
      } else {
        const first = byDst.values().next().value![0];
        const head = { 'source-dpn-id': uint64(dpn), 'ip-address': first.localIp, 'tunnel-type': VXLAN_TUNNEL_TYPE };
        const remote = (dst: bigint, ts: Tunnel[]): RemoteDpns => ({ 'destination-dpn-id': uint64(dst), 'tunnel-name': ts[0].name, 'monitoring-enabled': false, internal: true });
        next.teps = JSON.stringify(head);
        for (const [dst, ts] of byDst) next.remotes.set(dst, ts[0].name);
        if (!last?.teps) {
          // Written whole: whatever remote-dpns another writer left are replaced.
          tx.put(dpnTepsPath(dpn), { ...head, 'remote-dpns': [...byDst].map(([dst, ts]) => remote(dst, ts)) } satisfies DpnsTeps);
          changed = true;
        } else {
          if (next.teps !== last.teps) {
            tx.merge(dpnTepsPath(dpn), head);
            changed = true;
          }
          for (const [dst, ts] of byDst) {
            if (last.remotes.get(dst) === ts[0].name) continue;
            tx.put(dpnTepsPath(dpn).remoteDpns(dst), remote(dst, ts));
            changed = true;
          }
          for (const dst of last.remotes.keys()) {
            if (byDst.has(dst)) continue;
            tx.remove(dpnTepsPath(dpn).remoteDpns(dst));
            changed = true;
          }
        }
      }
      if (changed || !last) out.push([dpn, next]);
    }
    return out;
  }

  /**
   * default-transport-zone as `itm-config` asks (genius creates it, or sets its tunnel type, when
   * it becomes ITM's owner, and deletes it when def-tz-enabled is false), then scale-out: computes
   * that report `local_ip` join it, and a compute whose `local_ip` went away leaves it.
   * Leader-only, and every decision is checked against the transaction's snapshot, so in a
   * cluster the zone is written once whoever else writes it meanwhile (a conflict retries).
   */
  private async join(): Promise<void> {
    const known = this.policy;
    const applyPolicy = this.policyDue;
    const joiners = this.joiners();
    const leavers = this.leavers();
    if (!applyPolicy && !joiners.length && !leavers.length && (!known.enabled || this.zones.has(DEFAULT_ZONE))) return;
    let joined: typeof joiners = [];
    let left: typeof leavers = [];
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config', { leaderOnly: true });
      // The snapshot's itm-config, not the listener's copy: after a restart this may run before
      // the stored itm-config is replayed.
      const policy = defaultZonePolicy(tx.read(itmConfigPath()));
      const zone = tx.read(zonePath(DEFAULT_ZONE));
      joined = [];
      left = [];
      if (!policy.enabled) {
        if (applyPolicy && zone) tx.remove(zonePath(DEFAULT_ZONE));
      } else if (!policy.tunnelType) {
        this.ctx.log.warn('itm-config: def-tz-tunnel-type names no tunnel type; default-transport-zone is left as it is');
      } else {
        if (!zone || (applyPolicy && zone['tunnel-type'] !== policy.tunnelType)) {
          tx.merge(zonePath(DEFAULT_ZONE), { 'zone-name': DEFAULT_ZONE, 'tunnel-type': policy.tunnelType });
        }
        joined = joiners;
        for (const j of joiners) tx.merge(vtepPath(DEFAULT_ZONE, j.dpn), { 'dpn-id': uint64(j.dpn), 'ip-address': j.ip });
        left = leavers.filter((l) => tx.read(vtepPath(DEFAULT_ZONE, l.dpn))?.['ip-address'] === l.ip);
        for (const l of left) tx.remove(vtepPath(DEFAULT_ZONE, l.dpn));
      }
      await tx.commit();
    });
    if (applyPolicy && this.policy === known) this.policyDue = false;
    for (const l of leavers) this.localIpsGone.delete(l.node);
    for (const j of joined) this.ctx.log.info({ dpn: j.dpn.toString(), ip: j.ip }, `compute dpn ${j.dpn} joined ${DEFAULT_ZONE} (scale-out)`);
    for (const l of left) this.ctx.log.info({ dpn: l.dpn.toString(), ip: l.ip }, `compute dpn ${l.dpn} left ${DEFAULT_ZONE}: its Open vSwitch no longer reports local_ip`);
  }

  /**
   * Creates default-transport-zone if `itm-config` (read in the transaction) wants it and it is
   * missing: what a single instance does before its northbound opens, so a client never finds
   * it absent. Leader-only and decided on the snapshot, like join, which may run meanwhile.
   */
  async ensureDefaultZone(): Promise<void> {
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config', { leaderOnly: true });
      const policy = defaultZonePolicy(tx.read(itmConfigPath()));
      if (!policy.enabled || !policy.tunnelType || tx.exists(zonePath(DEFAULT_ZONE))) return tx.cancel();
      tx.merge(zonePath(DEFAULT_ZONE), { 'zone-name': DEFAULT_ZONE, 'tunnel-type': policy.tunnelType });
      await tx.commit();
    });
  }

  /** Registered computes whose OVS stopped reporting the local_ip their default-zone vtep has. */
  private leavers(): { node: string; dpn: bigint; ip: string }[] {
    if (!this.localIpsGone.size) return [];
    const out: { node: string; dpn: bigint; ip: string }[] = [];
    const vteps = this.zones.get(DEFAULT_ZONE)?.vteps;
    for (const [dpn, c] of this.computes) {
      const node = ovsNodeOf(c.nodeId);
      const ip = this.localIpsGone.get(node);
      if (ip !== undefined && vteps?.get(dpn) === ip) out.push({ node, dpn, ip });
    }
    // Nodes that are no compute's, or whose vtep is not theirs: nothing to do for them.
    const kept = new Set(out.map((l) => l.node));
    for (const node of [...this.localIpsGone.keys()]) if (!kept.has(node)) this.localIpsGone.delete(node);
    return out;
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
          'src-info': { 'tep-device-type': 'itm-state:tep-type-internal', 'tep-device-id': uint64(t.srcDpn), 'tep-ip': t.localIp },
          'dst-info': { 'tep-device-type': 'itm-state:tep-type-internal', 'tep-device-id': uint64(t.dstDpn), 'tep-ip': t.remoteIp },
          'transport-type': VXLAN_TUNNEL_TYPE,
          'oper-state': up ? 'up' : 'down',
          // genius' port-number is the OpenFlow port, as text.
          ...(ofport !== undefined ? { 'port-number': String(ofport) } : {}),
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
