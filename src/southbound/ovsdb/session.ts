/**
 * One OVSDB connection to one Open vSwitch (RFC 7047), as OpenDaylight's OVSDB southbound uses it:
 * monitor the Open_vSwitch, Bridge, Port, Interface, Controller, QoS and Queue tables into a local
 * replica, publish the replica as the operational ovsdb:1 topology (incrementally: only what
 * changed), and push the config topology's intent for this switch with `transact`: bridges named
 * by `ovsdb:bridge-name` (made with their internal port, protocols, controllers, other-configs,
 * external-ids and termination points; deleted with their config node), the external-ids and
 * termination points of bridges someone else made, and the OVS node's QoS entries and queues. Each
 * bridge, QoS entry and queue is one transaction: the switch takes it whole or refuses it whole,
 * and a refusal is logged and holds back nothing else. Drift is repaired after every (re)connect
 * and every change on either side, except a bridge deleted in OVS while connected (see vanished).
 * Rows the controller creates carry `external_ids:opendaylight-iid`; rows and keys without it are
 * an operator's and are never changed. What the switch reports is checked before it reaches the
 * replica (updates.ts): a malformed or inconsistent update, or more than --ovsdb-max-rows rows,
 * closes the session and nothing of it is applied.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Datastore } from '../../datastore/datastore.ts';
import { decodeKeyValue, encodeKeyValue } from '../../yang/path.ts';
import { JsonRpcPeer } from './jsonrpc.ts';
import { checkTableUpdates, MONITOR, type Row } from './updates.ts';
import type { InterfaceTypeBase, Node, QosEntries, Queues } from '../../bindings/network-topology.ts';
import { datapathIdOf, nodeRef, ovsdbTopology, queueRef, refKeys, terminationPointPath, topologyNodePath, type TerminationPointJson } from './topology.ts';

const DB = 'Open_vSwitch';
export const OWNER_KEY = 'opendaylight-iid';

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

const QOS_TYPES = new Set(['linux-htb', 'linux-hfsc', 'linux-sfq', 'linux-codel', 'linux-fq_codel', 'egress-policer']);

/**
 * The key an opendaylight-iid names for a list: ours (`.../ovsdb:qos-entries=QOS-1`, an api-path)
 * or OpenDaylight's (`.../ovsdb:qos-entries[ovsdb:qos-id='QOS-1']`, an instance-identifier).
 */
function idFromIid(iid: string | undefined, list: 'qos-entries' | 'queues'): string | undefined {
  if (!iid) return undefined;
  const at = iid.lastIndexOf(`/ovsdb:${list}=`);
  if (at >= 0 && iid.startsWith(`${ovsdbTopology.text}/node=`)) return decodeKeyValue(iid.slice(at + `/ovsdb:${list}=`.length));
  return iid.startsWith('/') && iid.includes('[') ? refKeys(iid)?.get(list) : undefined;
}

const KNOWN_INTERFACE_TYPES = new Set([
  'system', 'internal', 'tap', 'patch', 'vxlan', 'vxlan-gpe', 'geneve', 'gre', 'ipsec-gre', 'gre64', 'ipsec-gre64', 'lisp', 'stt', 'dpdk', 'dpdkr', 'dpdkvhost', 'dpdkvhostuser', 'dpdkvhostuserclient',
]);

/** Lists in the published nodes and their key leaves (for entry-level diffs). */
const LIST_KEYS: Record<string, string> = {
  'ovsdb:bridge-external-ids': 'bridge-external-id-key',
  'ovsdb:bridge-other-configs': 'bridge-other-config-key',
  'ovsdb:controller-entry': 'target',
  'ovsdb:protocol-entry': 'protocol',
  'ovsdb:qos-entries': 'qos-id',
  'ovsdb:queues': 'queue-id',
  'ovsdb:openvswitch-other-configs': 'other-config-key',
  'ovsdb:openvswitch-external-ids': 'external-id-key',
  'termination-point': 'tp-id',
};

export interface SessionHooks {
  data: Datastore;
  log: Logger;
  /**
   * The config topology nodes bound to this switch (node-id -> node), as the manager's listener
   * last saw them: its own node, nodes naming its address in connection-info, and the bridge
   * nodes managed by (or named under) either.
   */
  bound(session: OvsdbSession): Iterable<[string, unknown]>;
  /** The node-id to publish the switch under; undefined: `ovsdb://uuid/<Open_vSwitch uuid>`. */
  nodeId?: string;
  /** Called once the switch's node-id is known (after the first monitor reply). */
  onIdentified?(session: OvsdbSession): void;
  onClosed?(session: OvsdbSession, reason: string): void;
  probeMs?: number;
  maxMessageChars?: number;
  /** Most rows the monitored tables of one switch may hold; past it the session is closed. */
  maxRows?: number;
}

/**
 * Default of --ovsdb-max-rows: about 10,000 ports (a Port and an Interface row each), five times
 * what a compute in a 1,000-compute tunnel mesh has. Publishing a switch that size the first
 * time holds the event loop for seconds (BENCH.md), so the bound is also what one switch may cost.
 */
export const DEFAULT_MAX_ROWS = 20_000;

export class OvsdbSession {
  readonly peer: JsonRpcPeer;
  private readonly replica = new Map<string, Table>(Object.keys(MONITOR).map((t) => [t, new Map()]));
  /** Rows in the replica, all tables together (bounded by maxRows). */
  private rows = 0;
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
  /** The Open_vSwitch row's uuid (bridges are added to and removed from its bridges column). */
  private ovsUuid: string | undefined;
  /**
   * Bridges the config wants that were deleted in OVS by someone else while this session watched
   * (name -> the intent then, as JSON): not re-created until the intent changes or the switch
   * reconnects, as OpenDaylight reconciles bridges on reconnect only.
   */
  private readonly vanished = new Map<string, string>();
  /** Units the switch refused (key -> their ops as JSON): not sent again until something changes. */
  private readonly failed = new Map<string, string>();
  /** The last refusal logged per unit, so a repeated one is not logged again. */
  private readonly lastError = new Map<string, string>();
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
        // RFC 7047 4.1.6: params are [<json-value> (ours: null), <table-updates>].
        if (!Array.isArray(params) || params.length !== 2) throw new Error(`update params are not [json-value, table-updates]: ${(JSON.stringify(params) ?? '').slice(0, 60)}`);
        this.applyUpdates(params[1]);
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
    const initial = await this.peer.request('monitor', [DB, null, MONITOR]);
    this.applyUpdates(initial);
    const ovs = [...this.replica.get('Open_vSwitch')!.keys()][0];
    if (!ovs) {
      this.peer.close('the Open_vSwitch table is empty');
      throw new Error('the Open_vSwitch table is empty');
    }
    this.ovsUuid = ovs;
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

  /** Applies a <table-updates>, whole once checked (updates.ts); throws UpdateError, applying nothing, when it is malformed. */
  private applyUpdates(updates: unknown): void {
    const changes = checkTableUpdates(updates, this.replica, this.rows, this.hooks.maxRows ?? DEFAULT_MAX_ROWS);
    // Whatever OVS changed may be what made a refused unit fail: each may be tried once more.
    this.failed.clear();
    for (const { table, uuid, row } of changes) {
      const t = this.replica.get(table)!;
      if (row) {
        if (!t.has(uuid)) this.rows++;
        t.set(uuid, row);
      } else {
        if (table === 'Bridge' && this.nodeId) this.noteVanished(String(t.get(uuid)?.name));
        t.delete(uuid);
        this.rows--;
      }
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

  /** A bridge gone from OVS that the config still wants: someone deleted it (not us: we never delete a wanted one). */
  private noteVanished(name: string): void {
    const w = this.wanted().bridges.get(name);
    if (!w || w.node['ovsdb:bridge-name'] === undefined) return;
    this.vanished.set(name, JSON.stringify(w.node));
    this.hooks.log.info({ node: this.nodeId, bridge: name }, `ovsdb ${this.nodeId}: bridge ${name} was deleted in OVS; it is created again when its config node changes or the switch reconnects`);
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
    this.publishQos(ovsNode, ovsId);
    out.set(ovsId, ovsNode);

    const bridges = this.replica.get('Bridge')!;
    const controllers = this.replica.get('Controller')!;
    for (const [buuid, b] of bridges) {
      const name = String(b.name);
      const id = this.bridgeNodeId(name);
      const node: Json = { 'node-id': id, 'ovsdb:bridge-name': name, 'ovsdb:bridge-uuid': buuid, 'ovsdb:managed-by': nodeRef(ovsId) };
      const protocols = set(b.protocols).filter((p): p is string => typeof p === 'string' && /^OpenFlow1[0-5]$/.test(p));
      if (protocols.length) node['ovsdb:protocol-entry'] = protocols.map((p) => ({ protocol: `ovsdb:ovsdb-bridge-protocol-openflow-${p.slice('OpenFlow'.length)}` }));
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

  /**
   * The switch's QoS and Queue rows on its OVS node, keyed as OpenDaylight keys them: the id in
   * the row's opendaylight-iid (the config entry it was made for), else its opendaylight-qos-id /
   * opendaylight-queue-id, else `qos://<uuid>` / `queue://<uuid>`.
   */
  private publishQos(ovsNode: Json, ovsId: string): void {
    const queueIds = new Map<string, string>();
    const queues: Json[] = [];
    for (const [uuid, row] of this.replica.get('Queue')!) {
      const ext = map(row.external_ids);
      const id = idFromIid(ext[OWNER_KEY], 'queues') ?? ext['opendaylight-queue-id'] ?? `queue://${uuid}`;
      if ([...queueIds.values()].includes(id)) continue;
      queueIds.set(uuid, id);
      const q: Json = { 'queue-id': id, 'queue-uuid': uuid };
      const dscp = set(row.dscp)[0];
      if (typeof dscp === 'number') q.dscp = dscp;
      const other = Object.entries(map(row.other_config));
      if (other.length) q['queues-other-config'] = other.map(([k, v]) => ({ 'queue-other-config-key': k, 'queue-other-config-value': v }));
      const exts = Object.entries(ext);
      if (exts.length) q['queues-external-ids'] = exts.map(([k, v]) => ({ 'queues-external-id-key': k, 'queues-external-id-value': v }));
      queues.push(q);
    }
    const qosIds = new Set<string>();
    const entries: Json[] = [];
    for (const [uuid, row] of this.replica.get('QoS')!) {
      const ext = map(row.external_ids);
      const id = idFromIid(ext[OWNER_KEY], 'qos-entries') ?? ext['opendaylight-qos-id'] ?? `qos://${uuid}`;
      if (qosIds.has(id)) continue;
      qosIds.add(id);
      const e: Json = { 'qos-id': id, 'qos-uuid': uuid };
      const type = set(row.type)[0];
      if (typeof type === 'string' && QOS_TYPES.has(type)) e['qos-type'] = `ovsdb:qos-type-${type === 'linux-fq_codel' ? 'linux-fq-codel' : type}`;
      const list = (Array.isArray(row.queues) && row.queues[0] === 'map' ? (row.queues[1] as [number, unknown][]) : [])
        .map(([n, ref]) => ({ n, qid: queueIds.get(uuidOf(ref) ?? '') }))
        .filter((x): x is { n: number; qid: string } => x.qid !== undefined)
        .map(({ n, qid }) => ({ 'queue-number': n, 'queue-ref': queueRef(ovsId, qid) }));
      if (list.length) e['queue-list'] = list;
      const other = Object.entries(map(row.other_config));
      if (other.length) e['qos-other-config'] = other.map(([k, v]) => ({ 'other-config-key': k, 'other-config-value': v }));
      const exts = Object.entries(ext);
      if (exts.length) e['qos-external-ids'] = exts.map(([k, v]) => ({ 'qos-external-id-key': k, 'qos-external-id-value': v }));
      entries.push(e);
    }
    if (entries.length) ovsNode['ovsdb:qos-entries'] = entries;
    if (queues.length) ovsNode['ovsdb:queues'] = queues;
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

  /**
   * The config topology's wish for this switch, from the nodes bound to it (its own node, nodes
   * naming its address in connection-info, and bridge nodes managed by either): bridges by name,
   * and QoS entries and queues by the iid they are marked with in OVS.
   */
  private wanted(): Wanted {
    const bridges = new Map<string, { nodeId: string; node: BridgeIntent }>();
    const qos = new Map<string, { nodeId: string; entry: QosEntries }>();
    const queues = new Map<string, { nodeId: string; entry: Queues }>();
    const bound = [...this.hooks.bound(this)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [id, node] of bound) {
      const n = node as BridgeIntent & OvsIntent;
      if (isBridgeIntent(id, n)) {
        const name = n['ovsdb:bridge-name'] ?? id.slice(id.indexOf('/bridge/') + '/bridge/'.length);
        const other = bridges.get(name);
        if (other) {
          this.warnOnce(`dup-bridge:${name}`, `config nodes ${other.nodeId} and ${id} both name bridge ${name}: ${other.nodeId} is used`);
          continue;
        }
        bridges.set(name, { nodeId: id, node: n });
        continue;
      }
      for (const e of n['ovsdb:qos-entries'] ?? []) qos.set(topologyNodePath(id).qosEntries(e['qos-id']).text, { nodeId: id, entry: e });
      for (const e of n['ovsdb:queues'] ?? []) queues.set(topologyNodePath(id).queues(e['queue-id']).text, { nodeId: id, entry: e });
    }
    return { bridges, qos, queues };
  }

  private reconcile(): Promise<void> {
    const wanted = this.wanted();
    const units: Unit[] = [];
    const bridgesByName = new Map<string, string>();
    for (const [buuid, b] of this.replica.get('Bridge')!) bridgesByName.set(String(b.name), buuid);
    for (const [name, buuid] of bridgesByName) {
      const u = this.existingBridgeUnit(name, buuid, wanted.bridges.get(name));
      if (u) units.push(u);
    }
    for (const [name, w] of wanted.bridges) {
      if (bridgesByName.has(name) || w.node['ovsdb:bridge-name'] === undefined) continue; // a node without bridge-name only annotates a bridge OVS has
      if (this.vanished.get(name) === JSON.stringify(w.node)) continue; // deleted in OVS by someone else while we watched
      units.push(this.newBridgeUnit(name, w.nodeId, w.node));
    }
    units.push(...this.qosUnits(wanted));
    const todo = units.filter((u) => {
      if (!u.ops.length) return false;
      const refused = this.failed.get(u.key);
      return refused === undefined || refused !== JSON.stringify(u.ops);
    });
    return Promise.all(todo.map((u) => this.transactUnit(u))).then(() => undefined);
  }

  /**
   * Sends one unit (a bridge, a QoS entry, a queue) as its own OVSDB transaction: the switch
   * applies it whole or not at all, and one it refuses does not hold back the others. A refused
   * unit is logged and not sent again until OVS or the intent changes (no retry loop).
   */
  private async transactUnit(u: Unit): Promise<void> {
    const result = (await this.peer.request('transact', [DB, ...u.ops])) as ({ error?: string; details?: string } | null)[];
    const failed = Array.isArray(result) ? result.find((r) => r && r.error) : { error: 'no result' };
    if (!failed) {
      this.failed.delete(u.key);
      this.lastError.delete(u.key);
      return;
    }
    const why = `${failed.error}${failed.details ? ` (${failed.details})` : ''}`;
    this.failed.set(u.key, JSON.stringify(u.ops));
    // Details name row uuids that differ from try to try: the same error of the same ops is the same refusal.
    const refusal = `${failed.error}|${JSON.stringify(u.ops)}`;
    if (this.lastError.get(u.key) === refusal) {
      this.hooks.log.debug({ node: this.nodeId, what: u.what }, `ovsdb ${this.nodeId}: the switch refused ${u.what} again: ${why}`);
      return;
    }
    this.lastError.set(u.key, refusal);
    this.hooks.log.warn({ node: this.nodeId, what: u.what, error: failed.error, details: failed.details }, `ovsdb ${this.nodeId}: the switch refused ${u.what}: ${why}`);
  }

  private warnOnce(key: string, message: string): void {
    if (this.lastError.get(key) === message) return;
    this.lastError.set(key, message);
    this.hooks.log.warn({ node: this.nodeId }, `ovsdb ${this.nodeId}: ${message}`);
  }

  /** A bridge OVS has: ours follows its config node whole (or goes with it); anyone else's only gets the external-ids and ports the config names. */
  private existingBridgeUnit(name: string, buuid: string, w: { nodeId: string; node: BridgeIntent } | undefined): Unit | undefined {
    const b = this.replica.get('Bridge')!.get(buuid)!;
    const ours = isOwnIid(map(b.external_ids)[OWNER_KEY]);
    const key = `bridge:${name}`;
    const what = `bridge ${name}${w ? ` (config node ${w.nodeId})` : ''}`;
    const whereBridge = [['_uuid', '==', ['uuid', buuid]]];
    if (!w && ours) {
      // Ours and no longer wanted: the bridge goes, with its ports (Bridge is not a root table).
      return { key, what, ops: [{ op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', this.ovsUuid]]], mutations: [['bridges', 'delete', ['set', [['uuid', buuid]]]]] }] };
    }
    // Someone else's bridge no config node names: only the ports we made on it go.
    if (!w) return { key, what, ops: this.portOps(b, whereBridge, this.bridgeNodeId(name), {}, name) };
    const intent = w.node;
    const ops: unknown[] = [];
    if (ours && intent['ovsdb:bridge-name'] !== undefined) {
      // Our bridge follows its config node: columns replaced whole where they differ.
      const row = bridgeColumns(intent, topologyNodePath(w.nodeId).text);
      const changed: Row = {};
      for (const c of ['other_config', 'external_ids', 'protocols', 'fail_mode', 'datapath_type', 'stp_enable'] as const) {
        if (row[c] !== undefined && canonical(row[c]) !== canonical(b[c] ?? emptyOf(c))) changed[c] = row[c];
      }
      const controllers = this.replica.get('Controller')!;
      const have = set(b.controller).map((u) => String(controllers.get(uuidOf(u) ?? '')?.target ?? '')).sort();
      const targets = controllerTargets(intent);
      if (JSON.stringify(have) !== JSON.stringify(targets)) {
        targets.forEach((target, i) => ops.push({ op: 'insert', table: 'Controller', row: { target }, 'uuid-name': `ctrl${i}` }));
        changed.controller = ['set', targets.map((_, i) => ['named-uuid', `ctrl${i}`])];
      }
      if (Object.keys(changed).length) ops.push({ op: 'update', table: 'Bridge', where: whereBridge, row: changed });
    } else {
      // External ids: set the keys the intent names; keys it does not name are left alone.
      const have = map(b.external_ids);
      const want = Object.fromEntries((intent['ovsdb:bridge-external-ids'] ?? []).map((e) => [e['bridge-external-id-key'], e['bridge-external-id-value'] ?? '']));
      const changed = Object.entries(want).filter(([k, v]) => have[k] !== v);
      if (changed.length) {
        ops.push({ op: 'mutate', table: 'Bridge', where: whereBridge, mutations: [['external_ids', 'delete', ['set', changed.map(([k]) => k)]], ['external_ids', 'insert', ovsMap(Object.fromEntries(changed))]] });
      }
    }
    ops.push(...this.portOps(b, whereBridge, w.nodeId, intent, name));
    return { key, what, ops };
  }

  /** Termination points of an existing bridge: create or fix ours, delete ours that the intent no longer has. */
  private portOps(b: Row, whereBridge: unknown[], nodeId: string, intent: BridgeIntent, bridgeName: string): unknown[] {
    const ops: unknown[] = [];
    const ports = this.replica.get('Port')!;
    const ifaces = this.replica.get('Interface')!;
    const existing = new Map<string, { puuid: string; iuuid?: string; port: Row; iface?: Row }>();
    for (const pref of set(b.ports)) {
      const puuid = uuidOf(pref)!;
      const port = ports.get(puuid);
      if (!port) continue;
      const iuuid = uuidOf(set(port.interfaces)[0]);
      existing.set(String(port.name), { puuid, iuuid, port, iface: iuuid ? ifaces.get(iuuid) : undefined });
    }
    const wanted = wantedPorts(intent, bridgeName);
    const removals: unknown[] = [];
    for (const [name, e] of existing) {
      if (wanted.has(name) || name === bridgeName || !this.owned(e.puuid, e.port)) continue;
      removals.push(['uuid', e.puuid]);
    }
    if (removals.length) ops.push({ op: 'mutate', table: 'Bridge', where: whereBridge, mutations: [['ports', 'delete', ['set', removals]]] });
    let n = 0;
    for (const [name, tp] of wanted) {
      const iid = terminationPointPath(nodeId, tp['tp-id']).text;
      const row = interfaceRow(name, tp, iid);
      const e = existing.get(name);
      if (!e) {
        const pname = `port${n}`;
        ops.push(...portInsert(name, row, iid, n++));
        ops.push({ op: 'mutate', table: 'Bridge', where: whereBridge, mutations: [['ports', 'insert', ['set', [['named-uuid', pname]]]]] });
        continue;
      }
      if (!this.owned(e.puuid, e.port)) continue; // an operator's port of that name: not ours to change
      if (e.iuuid && e.iface && this.interfaceSignature(e.iuuid, e.iface) !== signature(row)) {
        ops.push({ op: 'update', table: 'Interface', where: [['_uuid', '==', ['uuid', e.iuuid]]], row: { type: row.type, options: row.options, ofport_request: row.ofport_request, external_ids: row.external_ids } });
      }
    }
    return ops;
  }

  /**
   * A bridge the config topology asks for and OVS lacks, as `ovs-vsctl add-br` makes one (with its
   * internal port of the same name) and with its termination points, in one transaction: the
   * switch creates all of it or, refusing any part (a name already taken by a port...), nothing.
   */
  private newBridgeUnit(name: string, nodeId: string, intent: BridgeIntent): Unit {
    const iid = topologyNodePath(nodeId).text;
    const ops: unknown[] = [
      { op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': 'brif' },
      { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', 'brif'] }, 'uuid-name': 'brport' },
    ];
    const ports: unknown[] = [['named-uuid', 'brport']];
    let n = 0;
    for (const [pname, tp] of wantedPorts(intent, name)) {
      const tpIid = terminationPointPath(nodeId, tp['tp-id']).text;
      ops.push(...portInsert(pname, interfaceRow(pname, tp, tpIid), tpIid, n));
      ports.push(['named-uuid', `port${n++}`]);
    }
    const targets = controllerTargets(intent);
    targets.forEach((target, i) => ops.push({ op: 'insert', table: 'Controller', row: { target }, 'uuid-name': `ctrl${i}` }));
    const row: Row = { name, ports: ['set', ports], ...bridgeColumns(intent, iid) };
    if (targets.length) row.controller = ['set', targets.map((_, i) => ['named-uuid', `ctrl${i}`])];
    ops.push({ op: 'insert', table: 'Bridge', row, 'uuid-name': 'bridge' });
    ops.push({ op: 'mutate', table: 'Open_vSwitch', where: [['_uuid', '==', ['uuid', this.ovsUuid]]], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'bridge']]]]] });
    return { key: `bridge:${name}`, what: `bridge ${name} (config node ${nodeId})`, ops };
  }

  /**
   * QoS entries and queues: each wanted one created or brought in line, each of ours no longer
   * wanted deleted. QoS rows come first (a QoS that drops a queue must do so before the queue
   * goes: QoS.queues holds strong references); a QoS whose queue OVS does not have yet waits for
   * the next pass, once the queue's insert has come back in the monitor.
   */
  private qosUnits(wanted: Wanted): Unit[] {
    const qosUnits: Unit[] = [];
    const queueUnits: Unit[] = [];
    const ownQueues = new Map<string, string>();
    for (const [uuid, row] of this.replica.get('Queue')!) {
      const iid = map(row.external_ids)[OWNER_KEY];
      if (isOwnIid(iid)) ownQueues.set(iid, uuid);
    }
    for (const [uuid, row] of this.replica.get('QoS')!) {
      const iid = map(row.external_ids)[OWNER_KEY];
      if (!isOwnIid(iid) || wanted.qos.has(iid)) continue;
      qosUnits.push({ key: `qos:${iid}`, what: `QoS ${uuid}`, ops: [{ op: 'delete', table: 'QoS', where: [['_uuid', '==', ['uuid', uuid]]] }] });
    }
    const ownQos = new Map<string, [string, Row]>();
    for (const [uuid, row] of this.replica.get('QoS')!) {
      const iid = map(row.external_ids)[OWNER_KEY];
      if (isOwnIid(iid)) ownQos.set(iid, [uuid, row]);
    }
    for (const [iid, { nodeId, entry }] of wanted.qos) {
      const queues: [number, unknown][] = [];
      let waiting = false;
      for (const q of entry['queue-list'] ?? []) {
        if (!q['queue-ref']) continue; // OpenDaylight's bodies list queue numbers without a queue: nothing to link
        const keys = refKeys(q['queue-ref']);
        const queueIid = topologyNodePath(keys?.get('node') ?? nodeId).queues(keys?.get('queues') ?? '').text;
        const quuid = ownQueues.get(queueIid);
        if (!quuid) waiting = true;
        else queues.push([Number(q['queue-number']), ['uuid', quuid]]);
      }
      if (waiting) continue;
      const row: Row = {
        type: qosTypeOf(entry['qos-type']),
        queues: ['map', queues.sort(([a], [b]) => a - b)],
        other_config: ovsMap(Object.fromEntries((entry['qos-other-config'] ?? []).map((o) => [o['other-config-key'], o['other-config-value'] ?? '']))),
        external_ids: ovsMap({ ...Object.fromEntries((entry['qos-external-ids'] ?? []).map((e) => [e['qos-external-id-key'], e['qos-external-id-value'] ?? ''])), [OWNER_KEY]: iid }),
      };
      const what = `QoS ${entry['qos-id']} (config node ${nodeId})`;
      const have = ownQos.get(iid);
      if (!have) qosUnits.push({ key: `qos:${iid}`, what, ops: [{ op: 'insert', table: 'QoS', row }] });
      else if (differs(row, have[1])) qosUnits.push({ key: `qos:${iid}`, what, ops: [{ op: 'update', table: 'QoS', where: [['_uuid', '==', ['uuid', have[0]]]], row }] });
    }
    const queueRows = this.replica.get('Queue')!;
    for (const [iid, { nodeId, entry }] of wanted.queues) {
      const row: Row = {
        dscp: entry.dscp !== undefined ? entry.dscp : ['set', []],
        other_config: ovsMap(Object.fromEntries((entry['queues-other-config'] ?? []).map((o) => [o['queue-other-config-key'], o['queue-other-config-value'] ?? '']))),
        external_ids: ovsMap({ ...Object.fromEntries((entry['queues-external-ids'] ?? []).map((e) => [e['queues-external-id-key'], e['queues-external-id-value'] ?? ''])), [OWNER_KEY]: iid }),
      };
      const what = `queue ${entry['queue-id']} (config node ${nodeId})`;
      const uuid = ownQueues.get(iid);
      if (!uuid) queueUnits.push({ key: `queue:${iid}`, what, ops: [{ op: 'insert', table: 'Queue', row }] });
      else if (differs(row, queueRows.get(uuid)!)) queueUnits.push({ key: `queue:${iid}`, what, ops: [{ op: 'update', table: 'Queue', where: [['_uuid', '==', ['uuid', uuid]]], row }] });
    }
    for (const [iid, uuid] of ownQueues) {
      if (!wanted.queues.has(iid)) queueUnits.push({ key: `queue:${iid}`, what: `queue ${uuid}`, ops: [{ op: 'delete', table: 'Queue', where: [['_uuid', '==', ['uuid', uuid]]] }] });
    }
    return [...qosUnits, ...queueUnits];
  }
}

/** A config bridge node, as far as the southbound reads it. */
type BridgeIntent = Pick<
  Node,
  'ovsdb:bridge-name' | 'ovsdb:bridge-external-ids' | 'ovsdb:bridge-other-configs' | 'ovsdb:protocol-entry' | 'ovsdb:controller-entry' | 'ovsdb:fail-mode' | 'ovsdb:datapath-type' | 'ovsdb:stp_enable' | 'termination-point'
>;
type OvsIntent = Pick<Node, 'ovsdb:qos-entries' | 'ovsdb:queues'>;

interface Wanted {
  bridges: Map<string, { nodeId: string; node: BridgeIntent }>;
  qos: Map<string, { nodeId: string; entry: QosEntries }>;
  queues: Map<string, { nodeId: string; entry: Queues }>;
}

/** One OVSDB transaction's worth of intent. */
interface Unit {
  key: string;
  /** For the log: what the switch refused. */
  what: string;
  ops: unknown[];
}

/** A bridge node: it names a bridge (bridge-name), or its node-id is `<ovs node>/bridge/<name>`. */
export function isBridgeIntent(nodeId: string, node: unknown): boolean {
  return (node as BridgeIntent | undefined)?.['ovsdb:bridge-name'] !== undefined || nodeId.includes('/bridge/');
}

/** An opendaylight-iid this controller writes: the api-path of a node (or under one) of the ovsdb:1 topology. */
function isOwnIid(v: string | undefined): v is string {
  return v !== undefined && v.startsWith(`${ovsdbTopology.text}/node=`);
}

/** The ports a bridge node asks for, by name (the internal port named after the bridge is OVS's own). */
function wantedPorts(intent: BridgeIntent, bridgeName: string): Map<string, TerminationPointJson> {
  const out = new Map<string, TerminationPointJson>();
  for (const tp of intent['termination-point'] ?? []) {
    const name = tp['ovsdb:name'] ?? tp['tp-id'];
    if (name !== bridgeName) out.set(name, tp);
  }
  return out;
}

function portInsert(name: string, row: Row, iid: string, n: number): unknown[] {
  return [
    { op: 'insert', table: 'Interface', row, 'uuid-name': `iface${n}` },
    { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', `iface${n}`], external_ids: ovsMap({ [OWNER_KEY]: iid }) }, 'uuid-name': `port${n}` },
  ];
}

/** `ovsdb:ovsdb-bridge-protocol-openflow-13` -> `OpenFlow13`. */
const protocolOf = (identity: string) => identity.replace(/^.*ovsdb-bridge-protocol-openflow-/, 'OpenFlow');
const localIdentity = (identity: string) => identity.slice(identity.indexOf(':') + 1);

/** The Bridge columns a config bridge node sets (OpenDaylight's mapping), controllers apart. */
function bridgeColumns(intent: BridgeIntent, iid: string): Row {
  const row: Row = {
    other_config: ovsMap(Object.fromEntries((intent['ovsdb:bridge-other-configs'] ?? []).map((o) => [o['bridge-other-config-key'], o['bridge-other-config-value'] ?? '']))),
    external_ids: ovsMap({ ...Object.fromEntries((intent['ovsdb:bridge-external-ids'] ?? []).map((e) => [e['bridge-external-id-key'], e['bridge-external-id-value'] ?? ''])), [OWNER_KEY]: iid }),
    protocols: ['set', (intent['ovsdb:protocol-entry'] ?? []).map((p) => protocolOf(p.protocol)).sort()],
  };
  const fail = intent['ovsdb:fail-mode'];
  if (fail) row.fail_mode = localIdentity(fail).replace(/^ovsdb-fail-mode-/, '');
  const dp = intent['ovsdb:datapath-type'];
  if (dp) row.datapath_type = localIdentity(dp).replace(/^datapath-type-/, '');
  if (intent['ovsdb:stp_enable'] !== undefined) row.stp_enable = intent['ovsdb:stp_enable'];
  return row;
}

const controllerTargets = (intent: BridgeIntent) => (intent['ovsdb:controller-entry'] ?? []).map((c) => c.target).sort();

/** `ovsdb:qos-type-linux-fq-codel` -> `linux-fq_codel` (the QoS type names OVS knows). */
function qosTypeOf(identity: string | undefined): string {
  if (!identity) return '';
  const t = localIdentity(identity).replace(/^qos-type-/, '');
  return t === 'linux-fq-codel' ? 'linux-fq_codel' : t;
}

/** What a column holds when OVS sends nothing for it. */
function emptyOf(column: string): unknown {
  return column === 'other_config' || column === 'external_ids' ? ['map', []] : ['set', []];
}

/** A column value in one comparable form: maps and sets sorted, single atoms as one-element sets. */
function canonical(v: unknown): string {
  if (Array.isArray(v) && v[0] === 'map') return JSON.stringify(['map', [...(v[1] as [unknown, unknown][])].map(([k, x]) => [k, Array.isArray(x) ? x : String(x)]).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))]);
  if (Array.isArray(v) && v[0] === 'set') return JSON.stringify(['set', [...(v[1] as unknown[])].map((x) => JSON.stringify(x)).sort()]);
  return JSON.stringify(['set', [JSON.stringify(v)]]);
}

/** Whether OVS's row differs from the wanted one in any column the wanted row names. */
function differs(wanted: Row, have: Row): boolean {
  return Object.keys(wanted).some((c) => canonical(wanted[c]) !== canonical(have[c] ?? emptyOf(c)));
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
