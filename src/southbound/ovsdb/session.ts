/**
 * One OVSDB connection to one Open vSwitch (RFC 7047), as OpenDaylight's OVSDB southbound uses it:
 * monitor the Open_vSwitch, Bridge, Port, Interface and Controller tables into a local replica,
 * publish the replica as the operational ovsdb:1 topology (incrementally: only what changed), and
 * push the config topology's intent for this switch (bridge external-ids, termination points) with
 * `transact`, repairing drift after every (re)connect and every change on either side. Rows the
 * controller creates carry `external_ids:opendaylight-iid`; rows and keys without it are an
 * operator's and are never changed.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Datastore } from '../../datastore/datastore.ts';
import { encodeKeyValue } from '../../yang/path.ts';
import { JsonRpcPeer } from './jsonrpc.ts';
import type { InterfaceTypeBase } from '../../bindings/network-topology.ts';
import { datapathIdOf, terminationPointPath, topologyNodePath, type TerminationPointJson } from './topology.ts';

const DB = 'Open_vSwitch';
export const OWNER_KEY = 'opendaylight-iid';

type Row = Record<string, unknown>;
type Table = Map<string, Row>;
type Json = Record<string, unknown>;

/** OVSDB's `["map", [[k, v], ...]]` as a plain object. */
function map(v: unknown): Record<string, string> {
  if (Array.isArray(v) && v[0] === 'map') return Object.fromEntries((v[1] as [string, unknown][]).map(([k, x]) => [k, String(x)]));
  return {};
}
/** OVSDB's set (or single atom) as an array. */
function set(v: unknown): unknown[] {
  if (Array.isArray(v) && v[0] === 'set') return v[1] as unknown[];
  return v === undefined ? [] : [v];
}
const uuidOf = (v: unknown) => (Array.isArray(v) && v[0] === 'uuid' ? String(v[1]) : undefined);
const ovsMap = (o: Record<string, string>) => ['map', Object.entries(o)];

/** What monitor asks for. */
const MONITOR = {
  Open_vSwitch: { columns: ['bridges', 'other_config', 'external_ids', 'ovs_version', 'manager_options'] },
  Bridge: { columns: ['name', 'datapath_id', 'other_config', 'external_ids', 'ports', 'controller', 'fail_mode'] },
  Port: { columns: ['name', 'interfaces', 'external_ids'] },
  Interface: { columns: ['name', 'type', 'options', 'external_ids', 'ofport', 'ofport_request'] },
  Controller: { columns: ['target', 'is_connected'] },
};

const KNOWN_INTERFACE_TYPES = new Set([
  'system', 'internal', 'tap', 'patch', 'vxlan', 'vxlan-gpe', 'geneve', 'gre', 'ipsec-gre', 'gre64', 'ipsec-gre64', 'lisp', 'stt', 'dpdk', 'dpdkr', 'dpdkvhost', 'dpdkvhostuser', 'dpdkvhostuserclient',
]);

/** Lists in the published nodes and their key leaves (for entry-level diffs). */
const LIST_KEYS: Record<string, string> = {
  'ovsdb:bridge-external-ids': 'bridge-external-id-key',
  'ovsdb:bridge-other-configs': 'bridge-other-config-key',
  'ovsdb:controller-entry': 'target',
  'ovsdb:openvswitch-other-configs': 'other-config-key',
  'ovsdb:openvswitch-external-ids': 'external-id-key',
  'termination-point': 'tp-id',
};

export interface SessionHooks {
  data: Datastore;
  log: Logger;
  /** The config topology node of that id (the intent), as the manager's listener last saw it. */
  intent(nodeId: string): unknown;
  /** The node-id to publish the switch under; undefined: `ovsdb://uuid/<Open_vSwitch uuid>`. */
  nodeId?: string;
  /** Called once the switch's node-id is known (after the first monitor reply). */
  onIdentified?(session: OvsdbSession): void;
  onClosed?(session: OvsdbSession, reason: string): void;
  probeMs?: number;
  maxMessageChars?: number;
}

export class OvsdbSession {
  readonly peer: JsonRpcPeer;
  private readonly replica = new Map<string, Table>(Object.keys(MONITOR).map((t) => [t, new Map()]));
  nodeId: string | undefined;
  /** What this session last published: node-id -> node JSON. */
  private published = new Map<string, Json>();
  /** Set when what was published may be gone from the store (see republish()). */
  private publishAll = false;
  /**
   * Termination points by Port uuid, with their JSON text, rebuilt only when the port or its
   * interface changed: a switch with hundreds of ports sends an update per port, and rebuilding
   * and comparing every port each time would be quadratic.
   */
  private readonly tpCache = new Map<string, { tp: Json; text: string }>();
  private readonly portOfInterface = new Map<string, string>();
  /**
   * Per row, what reconcile compares, computed once per row version: every compute that joins
   * adds a tunnel to every bridge, so each switch re-checks all its ports once per join.
   */
  private readonly interfaceSignatures = new Map<string, string>();
  private readonly portOwned = new Map<string, boolean>();

  private interfaceSignature(iuuid: string, iface: Row): string {
    let sig = this.interfaceSignatures.get(iuuid);
    if (sig === undefined) this.interfaceSignatures.set(iuuid, (sig = signature(iface)));
    return sig;
  }

  private owned(puuid: string, port: Row): boolean {
    let owned = this.portOwned.get(puuid);
    if (owned === undefined) this.portOwned.set(puuid, (owned = map(port.external_ids)[OWNER_KEY] !== undefined));
    return owned;
  }
  private dirty = false;
  private work: Promise<void> = Promise.resolve();
  private closedFlag = false;

  constructor(
    socket: Socket,
    private readonly hooks: SessionHooks,
  ) {
    this.peer = new JsonRpcPeer(socket, {
      probeMs: hooks.probeMs,
      maxMessageChars: hooks.maxMessageChars,
      onNotification: (method, params) => {
        if (method !== 'update') throw new Error(`unexpected notification ${method}`);
        this.applyUpdates((params as unknown[])[1] as Json);
        this.schedule();
      },
      onClose: (reason) => void this.onClose(reason),
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Asks for the database and starts monitoring it. Rejects (and closes) if the peer is no OVS. */
  async start(): Promise<void> {
    const dbs = (await this.peer.request('list_dbs', [])) as string[];
    if (!Array.isArray(dbs) || !dbs.includes(DB)) {
      this.peer.close(`the peer serves no ${DB} database`);
      throw new Error(`the peer serves no ${DB} database`);
    }
    const initial = (await this.peer.request('monitor', [DB, null, MONITOR])) as Json;
    this.applyUpdates(initial);
    const ovs = [...this.replica.get('Open_vSwitch')!.keys()][0];
    if (!ovs) {
      this.peer.close('the Open_vSwitch table is empty');
      throw new Error('the Open_vSwitch table is empty');
    }
    this.nodeId = this.hooks.nodeId ?? `ovsdb://uuid/${ovs}`;
    this.hooks.onIdentified?.(this);
    this.schedule();
  }

  /**
   * Writes the whole topology again on the next pass instead of what changed: in cluster mode
   * what this session published went under the instance's lease, and a lost lease took it away.
   */
  republish(): void {
    this.publishAll = true;
    this.schedule();
  }

  /** Publish and reconcile soon (coalesced; one pass at a time). */
  schedule(): void {
    if (this.dirty || this.closedFlag) return;
    this.dirty = true;
    this.work = this.work.then(async () => {
      await new Promise((r) => setImmediate(r));
      this.dirty = false;
      if (this.closedFlag || !this.nodeId) return;
      try {
        await this.publish();
        await this.reconcile();
      } catch (e) {
        this.hooks.log.warn({ err: e, node: this.nodeId }, `ovsdb ${this.nodeId}: ${(e as Error).message}`);
        if (!this.closedFlag) setTimeout(() => this.schedule(), 500).unref();
      }
    });
  }

  /** Resolves when no publish or reconcile is pending. */
  async idle(): Promise<void> {
    while (this.dirty) await this.work;
    await this.work;
  }

  private applyUpdates(updates: Json): void {
    for (const [table, rows] of Object.entries(updates ?? {})) {
      const t = this.replica.get(table);
      if (!t) continue;
      for (const [uuid, change] of Object.entries(rows as Record<string, { old?: Row; new?: Row }>)) {
        if (change.new) t.set(uuid, { ...(t.get(uuid) ?? {}), ...change.new });
        else t.delete(uuid);
        if (table === 'Port') {
          this.tpCache.delete(uuid);
          this.portOwned.delete(uuid);
        }
        if (table === 'Interface') {
          this.interfaceSignatures.delete(uuid);
          const port = this.portOfInterface.get(uuid);
          if (port) this.tpCache.delete(port);
        }
      }
    }
  }

  private async onClose(reason: string): Promise<void> {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.hooks.log.info({ node: this.nodeId, reason }, `ovsdb ${this.nodeId ?? 'peer'} disconnected: ${reason}`);
    await this.work.catch(() => undefined);
    this.hooks.onClosed?.(this, reason);
  }

  /** Removes what this session published (the switch is gone). */
  async unpublish(): Promise<void> {
    if (!this.published.size) return;
    const tx = this.hooks.data.transaction('operational', { ephemeral: true });
    for (const id of this.published.keys()) tx.remove(topologyNodePath(id));
    this.published = new Map();
    await tx.commit();
  }

  // ---- replica -> operational topology --------------------------------------------------------

  private bridgeNodeId(name: string): string {
    return `${this.nodeId}/bridge/${name}`;
  }

  private nodes(): Map<string, Json> {
    const out = new Map<string, Json>();
    const ovsId = this.nodeId!;
    const ovs = [...this.replica.get('Open_vSwitch')!.values()][0];
    if (!ovs) return out;
    const sock = this.peer.socket;
    const ovsNode: Json = {
      'node-id': ovsId,
      'ovsdb:connection-info': {
        ...(sock.remoteAddress ? { 'remote-ip': sock.remoteAddress.replace(/^::ffff:/, ''), 'remote-port': sock.remotePort } : {}),
        ...(sock.localAddress ? { 'local-ip': sock.localAddress.replace(/^::ffff:/, ''), 'local-port': sock.localPort } : {}),
      },
    };
    const version = set(ovs.ovs_version)[0];
    if (typeof version === 'string') ovsNode['ovsdb:ovs-version'] = version;
    const other = Object.entries(map(ovs.other_config));
    if (other.length) ovsNode['ovsdb:openvswitch-other-configs'] = other.map(([k, v]) => ({ 'other-config-key': k, 'other-config-value': v }));
    const ext = Object.entries(map(ovs.external_ids));
    if (ext.length) ovsNode['ovsdb:openvswitch-external-ids'] = ext.map(([k, v]) => ({ 'external-id-key': k, 'external-id-value': v }));
    out.set(ovsId, ovsNode);

    const bridges = this.replica.get('Bridge')!;
    const controllers = this.replica.get('Controller')!;
    for (const [buuid, b] of bridges) {
      const name = String(b.name);
      const id = this.bridgeNodeId(name);
      const node: Json = { 'node-id': id, 'ovsdb:bridge-name': name, 'ovsdb:bridge-uuid': buuid, 'ovsdb:managed-by': `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='${ovsId}']` };
      const other = map(b.other_config);
      const dpid = (set(b.datapath_id)[0] as string | undefined) || other['datapath-id'];
      if (dpid && /^[0-9a-fA-F]{16}$/.test(dpid)) node['ovsdb:datapath-id'] = datapathIdOf(BigInt(`0x${dpid}`));
      const bext = Object.entries(map(b.external_ids));
      if (bext.length) node['ovsdb:bridge-external-ids'] = bext.map(([k, v]) => ({ 'bridge-external-id-key': k, 'bridge-external-id-value': v }));
      const bother = Object.entries(other);
      if (bother.length) node['ovsdb:bridge-other-configs'] = bother.map(([k, v]) => ({ 'bridge-other-config-key': k, 'bridge-other-config-value': v }));
      const ctrls = set(b.controller).map((u) => controllers.get(uuidOf(u) ?? '')).filter((c): c is Row => !!c);
      if (ctrls.length) node['ovsdb:controller-entry'] = ctrls.map((c) => ({ target: String(c.target), 'is-connected': c.is_connected === true }));
      const tps: Json[] = [];
      for (const pref of set(b.ports)) {
        const puuid = uuidOf(pref);
        if (!puuid) continue;
        const cached = this.tpCache.get(puuid) ?? this.terminationPoint(puuid);
        if (cached) tps.push(cached.tp);
      }
      if (tps.length) node['termination-point'] = tps;
      out.set(id, node);
    }
    return out;
  }

  private terminationPoint(puuid: string): { tp: Json; text: string } | undefined {
    const port = this.replica.get('Port')!.get(puuid);
    if (!port) return undefined;
    const iuuid = uuidOf(set(port.interfaces)[0]);
    const iface = iuuid ? this.replica.get('Interface')!.get(iuuid) : undefined;
    const tp: TerminationPointJson & Json = { 'tp-id': String(port.name), 'ovsdb:name': String(port.name), 'ovsdb:port-uuid': puuid };
    if (iuuid) this.portOfInterface.set(iuuid, puuid); // so a later change of the interface refreshes this
    if (iface && iuuid) {
      tp['ovsdb:interface-uuid'] = iuuid;
      const type = String(iface.type || 'system');
      if (KNOWN_INTERFACE_TYPES.has(type)) tp['ovsdb:interface-type'] = `ovsdb:interface-type-${type}` as InterfaceTypeBase;
      const ofport = set(iface.ofport)[0];
      if (typeof ofport === 'number' && ofport > 0) tp['ovsdb:ofport'] = ofport;
      const req = set(iface.ofport_request)[0];
      if (typeof req === 'number' && req >= 1 && req <= 65279) tp['ovsdb:ofport_request'] = req;
      const opts = Object.entries(map(iface.options));
      if (opts.length) tp['ovsdb:options'] = opts.map(([option, value]) => ({ option, value }));
      const iext = Object.entries(map(iface.external_ids));
      if (iext.length) tp['ovsdb:interface-external-ids'] = iext.map(([k, v]) => ({ 'external-id-key': k, 'external-id-value': v }));
    }
    const entry = { tp, text: JSON.stringify(tp) };
    this.tpCache.set(puuid, entry);
    return entry;
  }

  /** Writes what changed since the last publish, member by member and list entry by entry. */
  private async publish(): Promise<void> {
    if (this.publishAll) {
      this.publishAll = false;
      this.published = new Map();
    }
    const next = this.nodes();
    const tx = this.hooks.data.transaction('operational', { ephemeral: true });
    let writes = 0;
    for (const id of this.published.keys()) {
      if (!next.has(id)) {
        tx.remove(topologyNodePath(id));
        writes++;
      }
    }
    for (const [id, node] of next) {
      const old = this.published.get(id);
      if (!old) {
        // The node is built from the replica as plain JSON; the schema checks it at commit.
        tx.put(topologyNodePath(id).text, node);
        writes++;
      } else writes += diffMembers(tx, topologyNodePath(id).text, old, node);
    }
    if (writes) await tx.commit();
    else tx.cancel();
    this.published = next;
  }

  // ---- config intent -> OVS ---------------------------------------------------------------------

  private async reconcile(): Promise<void> {
    const ops: unknown[] = [];
    const bridges = this.replica.get('Bridge')!;
    const ports = this.replica.get('Port')!;
    const ifaces = this.replica.get('Interface')!;
    let n = 0;
    for (const [buuid, b] of bridges) {
      const nodeId = this.bridgeNodeId(String(b.name));
      const intent = this.hooks.intent(nodeId) as
        | { 'ovsdb:bridge-external-ids'?: { 'bridge-external-id-key': string; 'bridge-external-id-value': string }[]; 'termination-point'?: TerminationPointJson[] }
        | undefined;
      const whereBridge = [['_uuid', '==', ['uuid', buuid]]];
      // External ids: set the keys the intent names; keys it does not name are left alone.
      const have = map(b.external_ids);
      const want = Object.fromEntries((intent?.['ovsdb:bridge-external-ids'] ?? []).map((e) => [e['bridge-external-id-key'], e['bridge-external-id-value']]));
      const changed = Object.entries(want).filter(([k, v]) => have[k] !== v);
      if (changed.length) {
        ops.push({ op: 'mutate', table: 'Bridge', where: whereBridge, mutations: [['external_ids', 'delete', ['set', changed.map(([k]) => k)]], ['external_ids', 'insert', ovsMap(Object.fromEntries(changed))]] });
      }
      // Termination points: create or fix ours, delete ours that the intent no longer has.
      const existing = new Map<string, { puuid: string; iuuid?: string; port: Row; iface?: Row }>();
      for (const pref of set(b.ports)) {
        const puuid = uuidOf(pref)!;
        const port = ports.get(puuid);
        if (!port) continue;
        const iuuid = uuidOf(set(port.interfaces)[0]);
        existing.set(String(port.name), { puuid, iuuid, port, iface: iuuid ? ifaces.get(iuuid) : undefined });
      }
      const wanted = new Map((intent?.['termination-point'] ?? []).map((tp) => [tp['ovsdb:name'] ?? tp['tp-id'], tp]));
      const removals: unknown[] = [];
      for (const [name, e] of existing) {
        if (wanted.has(name) || !this.owned(e.puuid, e.port)) continue;
        removals.push(['uuid', e.puuid]);
      }
      if (removals.length) ops.push({ op: 'mutate', table: 'Bridge', where: whereBridge, mutations: [['ports', 'delete', ['set', removals]]] });
      for (const [name, tp] of wanted) {
        const iid = terminationPointPath(nodeId, tp['tp-id']).text;
        const row = interfaceRow(name, tp, iid);
        const e = existing.get(name);
        if (!e) {
          const iname = `iface${n}`;
          const pname = `port${n++}`;
          ops.push({ op: 'insert', table: 'Interface', row, 'uuid-name': iname });
          ops.push({ op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', iname], external_ids: ovsMap({ [OWNER_KEY]: iid }) }, 'uuid-name': pname });
          ops.push({ op: 'mutate', table: 'Bridge', where: whereBridge, mutations: [['ports', 'insert', ['set', [['named-uuid', pname]]]]] });
          continue;
        }
        if (!this.owned(e.puuid, e.port)) continue; // an operator's port of that name: not ours to change
        if (e.iuuid && e.iface && this.interfaceSignature(e.iuuid, e.iface) !== signature(row)) {
          ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', e.iuuid]]], row: { type: row.type, options: row.options, ofport_request: row.ofport_request, external_ids: row.external_ids } });
        }
      }
    }
    if (!ops.length) return;
    const result = (await this.peer.request('transact', [DB, ...ops])) as ({ error?: string; details?: string } | null)[];
    const failed = result.find((r) => r && r.error);
    if (failed) throw new Error(`transact failed: ${failed.error}${failed.details ? ` (${failed.details})` : ''}`);
  }
}

function interfaceRow(name: string, tp: TerminationPointJson, iid: string): Row {
  const type = tp['ovsdb:interface-type']?.replace(/^.*interface-type-/, '');
  return {
    name,
    type: !type || type === 'system' ? '' : type,
    options: ovsMap(Object.fromEntries((tp['ovsdb:options'] ?? []).map((o) => [o.option, o.value ?? '']))),
    external_ids: ovsMap({ ...Object.fromEntries((tp['ovsdb:interface-external-ids'] ?? []).map((e) => [e['external-id-key'], e['external-id-value'] ?? ''])), [OWNER_KEY]: iid }),
    ofport_request: tp['ovsdb:ofport_request'] !== undefined ? tp['ovsdb:ofport_request'] : ['set', []],
  };
}

/** An Interface row's type, options, external ids and requested port, as one comparable string. */
function signature(row: Row): string {
  const sorted = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${String(row.type ?? '')}|${sorted(map(row.options))}|${sorted(map(row.external_ids))}|${JSON.stringify(set(row.ofport_request))}`;
}

/** Puts or removes the members of a node that differ (list entries one by one). Returns writes. */
function diffMembers(tx: { put(p: string, v: unknown): unknown; remove(p: string): unknown }, path: string, old: Json, next: Json): number {
  let writes = 0;
  const members = new Set([...Object.keys(old), ...Object.keys(next)]);
  for (const m of members) {
    if (m === 'node-id') continue;
    const a = old[m];
    const b = next[m];
    const key = LIST_KEYS[m];
    if (key) {
      const before = new Map(((a as Json[] | undefined) ?? []).map((e) => [String(e[key]), e]));
      const after = new Map(((b as Json[] | undefined) ?? []).map((e) => [String(e[key]), e]));
      for (const k of before.keys()) {
        if (!after.has(k)) {
          tx.remove(`${path}/${m}=${encodeKeyValue(k)}`);
          writes++;
        }
      }
      for (const [k, e] of after) {
        const was = before.get(k);
        // Cached termination points are the same object while unchanged.
        if (was === e || (was !== undefined && JSON.stringify(was) === JSON.stringify(e))) continue;
        tx.put(`${path}/${m}=${encodeKeyValue(k)}`, e);
        writes++;
      }
      continue;
    }
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (b === undefined) tx.remove(`${path}/${m}`);
    else tx.put(`${path}/${m}`, b);
    writes++;
  }
  return writes;
}
