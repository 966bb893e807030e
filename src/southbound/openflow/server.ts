/**
 * The OpenFlow 1.3 southbound: listens on `--openflow-port` for switches whose controller is set
 * to us (`ovs-vsctl set-controller br-int tcp:<us>:<port>`), and for each connected switch
 *  - publishes it in the operational inventory (`nodes/node[id=openflow:<dpid decimal>]`, its
 *    ports as node-connectors, its flows read back every `--openflow-stats-interval`), and takes
 *    that node away when the connection ends;
 *  - keeps its flow table equal to config `nodes/node[openflow:<dpid>]/table/flow` (FlowSync).
 *
 * Cluster mode: a switch may connect to every instance. Only the owner of `openflow/<node-id>`
 * (ctx.cluster.owns) asks to be MASTER, writes the switch's operational node and programs it;
 * the others are SLAVE and only keep the connection alive, so a membership change moves the
 * work without the switch reconnecting.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Cluster } from '../../cluster/cluster.ts';
import type { Datastore } from '../../datastore/datastore.ts';
import { ANY } from '../../yang/binding.ts';
import type { Flow, NodeConnector, NodeTable } from '../../bindings/opendaylight-inventory.ts';
import { errorName, PORT, PORT_REASON, PORT_STATE, ROLE, type PortDesc } from './codec.ts';
import { SwitchConnection } from './connection.ts';
import { FlowSync, switchKey, type CookieMatch } from './flow-sync.ts';
import { INVENTORY_NODES, inventoryNodeId, inventoryNodePath } from './flows.ts';

export interface OpenflowServerOptions {
  data: Datastore;
  log: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Cookies of the flows this controller owns (see --openflow-cookie). */
  ours: CookieMatch;
  /** Milliseconds between flow reads into the operational inventory; 0: only after programming. */
  statsIntervalMs: number;
  probeMs?: number;
  requestTimeoutMs?: number;
  /** Most FLOW_MODs between two BARRIERs. */
  batchSize?: number;
  /** Output queued for a switch that does not read, past which it is disconnected. */
  maxOutputBytes?: number;
  /**
   * Ports one switch may report, past which it is disconnected: each becomes a node-connector in
   * the operational inventory, so an unbounded report would be unbounded memory and one huge commit.
   */
  maxPorts?: number;
  cluster?: Pick<Cluster, 'owns' | 'onMembership'>;
}

/** The entity a switch's OpenFlow work is owned as, in cluster mode. */
export const openflowEntity = (nodeId: string) => `openflow/${nodeId}`;

interface Switch {
  nodeId: string;
  dpn: bigint;
  conn: SwitchConnection;
  ports: Map<number, PortDesc>;
  sync?: FlowSync;
  master: boolean;
  /** The role last asked for (cluster mode), undefined before the first ROLE_REQUEST. */
  role?: number;
  statsTimer?: NodeJS.Timeout;
  packetIns: number;
  /** How many times this switch has connected to this instance (1 for the first connection). */
  connection: number;
  /** What the last flow read-back wrote (unchanged tables are not written again). */
  lastTables?: string;
  /** Serialises role changes: a membership change during a reconcile waits for it. */
  placing: Promise<void>;
  /** Serialises this switch's operational writes (ports, stats, removal) in the order they happen. */
  writes: Promise<void>;
}

export class OpenflowServer {
  private server: Server | undefined;
  /** Connected switches by node-id (the newest connection wins when a switch reconnects). */
  private readonly switches = new Map<string, Switch>();
  private readonly all = new Set<SwitchConnection>();
  /**
   * The config inventory's flows of the switches this instance programs: node-id -> `<table>/<flow
   * id>` -> stored flow JSON. Loaded when programming a switch starts and dropped when it ends:
   * kept for every node in the store, it was a second copy of every flow (+200 MB of heap at
   * bench:elections' 210,000 flows with no switch connected).
   */
  private readonly intents = new Map<string, Map<string, unknown>>();
  private unsubscribe: (() => void)[] = [];
  private stopping = false;
  private readonly connectWaiters = new Map<string, (() => void)[]>();
  private generation = BigInt(Date.now()) * 1000n;
  private readonly connections = new Map<string, number>();

  constructor(private readonly opts: OpenflowServerOptions) {}

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  private get maxPorts(): number {
    return this.opts.maxPorts ?? 10_000;
  }

  async start(): Promise<void> {
    this.unsubscribe.push(
      this.opts.data.subscribe('config', INVENTORY_NODES.node(ANY).table(ANY).flow(ANY), (changes) => {
        const touched = new Map<string, Set<string>>();
        for (const c of changes) {
          const nodeId = String(c.keys[0][0]);
          const flows = this.intents.get(nodeId);
          if (!flows) continue;
          const flowKey = `${c.keys[1][0]}/${c.keys[2][0]}`;
          if (c.after !== undefined) flows.set(flowKey, c.after);
          else flows.delete(flowKey);
          let set = touched.get(nodeId);
          if (!set) touched.set(nodeId, (set = new Set()));
          set.add(flowKey);
        }
        for (const [nodeId, ids] of touched) this.switches.get(nodeId)?.sync?.mark(ids);
      }),
    );
    if (this.opts.cluster) this.unsubscribe.push(this.opts.cluster.onMembership(() => this.placeRoles()));
    // Switches are served once the intent is loaded: reconciling against an empty intent would
    // delete every flow of ours the switch holds.
    await this.opts.data.settled();
    this.server = createServer((socket) => this.accept(socket));
    this.server.maxConnections = 4096;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
  }

  /** The connected switches' node-ids. */
  connected(): string[] {
    return [...this.switches.keys()];
  }

  /** Per switch: which connection this is, flows rejected (config flow id -> why), PACKET_INs counted, FLOW_MODs and BARRIERs sent. */
  status(dpn: bigint): { connection: number; master: boolean; rejected: Map<string, string>; packetIns: number; flowMods: number; barriers: number } | undefined {
    const sw = this.switches.get(inventoryNodeId(dpn));
    if (!sw) return undefined;
    return { connection: sw.connection, master: sw.master, rejected: new Map(sw.sync?.rejected ?? []), packetIns: sw.packetIns, flowMods: sw.sync?.counts.flowMods ?? 0, barriers: sw.sync?.counts.barriers ?? 0 };
  }

  /**
   * The readiness signal: resolves once every config flow committed before the call is present
   * in switch `dpn` (confirmed by a BARRIER) or reported rejected; without `dpn`, in every
   * connected switch this instance programs. Waits for `dpn` to connect if it has not.
   */
  async synced(dpn?: bigint): Promise<void> {
    await this.opts.data.settled();
    if (dpn === undefined) {
      await Promise.all([...this.switches.values()].map((sw) => sw.sync?.idle()));
      return;
    }
    const nodeId = inventoryNodeId(dpn);
    for (;;) {
      const sw = this.switches.get(nodeId);
      if (sw?.sync) {
        await sw.sync.idle();
        if (this.switches.get(nodeId) === sw && !sw.conn.closed) return;
      } else {
        await new Promise<void>((resolve) => {
          const list = this.connectWaiters.get(nodeId) ?? [];
          list.push(resolve);
          this.connectWaiters.set(nodeId, list);
        });
      }
    }
  }

  private accept(socket: Socket): void {
    let sw: Switch | undefined;
    const conn: SwitchConnection = new SwitchConnection(socket, {
      log: this.opts.log,
      probeMs: this.opts.probeMs ?? 5000,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 30_000,
      maxOutputBytes: this.opts.maxOutputBytes ?? 16 * 1024 * 1024,
      onPortStatus: (reason, port) => sw && this.portStatus(sw, reason, port),
      onPacketIn: () => {
        // Punted packets are counted, not acted on: no application asks for them yet.
        if (sw) sw.packetIns++;
      },
      onError: (xid, errType, code) => sw?.sync?.onSwitchError(xid, errorName(errType, code)),
    });
    this.all.add(conn);
    conn.onClosed((reason) => {
      this.all.delete(conn);
      this.opts.log.info({ node: sw?.nodeId, remote: conn.remote, reason }, `openflow ${sw?.nodeId ?? conn.remote} disconnected: ${reason}`);
      if (sw) this.closed(sw);
    });
    void (async () => {
      const dpn = await conn.handshake();
      const nodeId = inventoryNodeId(dpn);
      const connection = (this.connections.get(nodeId) ?? 0) + 1;
      this.connections.set(nodeId, connection);
      sw = { nodeId, dpn, conn, ports: new Map(), master: false, packetIns: 0, connection, writes: Promise.resolve(), placing: Promise.resolve() };
      const previous = this.switches.get(nodeId);
      this.switches.set(nodeId, sw);
      if (previous) previous.conn.close('replaced by a new connection from the same switch');
      this.opts.log.info({ node: nodeId, remote: conn.remote }, `openflow ${nodeId} connected from ${conn.remote}`);
      const ports = await conn.portDesc();
      if (ports.length > this.maxPorts) throw new Error(`it reports ${ports.length} ports, more than ${this.maxPorts} (--openflow-max-ports)`);
      for (const port of ports) sw.ports.set(port.portNo, port);
      await this.placeInTurn(sw);
      for (const w of this.connectWaiters.get(nodeId)?.splice(0) ?? []) w();
    })().catch((e) => {
      if (!conn.closed) this.opts.log.warn({ err: e, remote: conn.remote }, `openflow ${sw?.nodeId ?? conn.remote}: ${(e as Error).message}`);
      conn.close((e as Error).message);
    });
  }

  /** Ownership of every connected switch checked again (the members changed). */
  private placeRoles(): void {
    for (const sw of this.switches.values()) {
      void this.placeInTurn(sw).catch((e) => {
        if (!sw.conn.closed) this.opts.log.warn({ err: e, node: sw.nodeId }, `openflow ${sw.nodeId}: role change failed: ${(e as Error).message}`);
      });
    }
  }

  private placeInTurn(sw: Switch): Promise<void> {
    const next = sw.placing.catch(() => undefined).then(() => (sw.conn.closed ? undefined : this.place(sw)));
    sw.placing = next;
    return next;
  }

  private async place(sw: Switch): Promise<void> {
    const owner = !this.opts.cluster || this.opts.cluster.owns(openflowEntity(sw.nodeId));
    const role = owner ? ROLE.MASTER : ROLE.SLAVE;
    if (owner === sw.master && (sw.sync || !owner) && (!this.opts.cluster || sw.role === role)) return;
    if (this.opts.cluster && sw.role !== role) {
      sw.role = role;
      // A MASTER request with an older generation is refused as stale (§6.3.6): time-based ids
      // keep a newer owner's ahead of an older one's.
      this.generation = BigInt(Math.max(Number(this.generation / 1000n), Date.now())) * 1000n + ((this.generation % 1000n) + 1n) % 1000n;
      await sw.conn.role(role, this.generation);
    }
    sw.master = owner;
    if (!owner) {
      sw.sync?.stop();
      sw.sync = undefined;
      this.intents.delete(sw.nodeId);
      clearTimeout(sw.statsTimer);
      return;
    }
    this.publishNode(sw);
    // The intent read once every change so far has reached the subscription above, and from then
    // on kept by it (no await between the two: nothing is missed).
    await this.opts.data.settled();
    if (sw.conn.closed || this.switches.get(sw.nodeId) !== sw) return;
    this.intents.set(sw.nodeId, this.storedFlows(sw.nodeId));
    const sync = new FlowSync(sw.conn, () => this.intents.get(sw.nodeId) ?? new Map(), { log: this.opts.log, batchSize: this.opts.batchSize ?? 2000, ours: this.opts.ours, node: sw.nodeId });
    sw.sync = sync;
    await sync.reconcile();
    await sync.idle();
    await this.readFlows(sw);
  }

  private closed(sw: Switch): void {
    sw.sync?.stop();
    clearTimeout(sw.statsTimer);
    if (this.switches.get(sw.nodeId) !== sw) return;
    this.switches.delete(sw.nodeId);
    this.intents.delete(sw.nodeId);
    if (!sw.master || this.stopping) return;
    this.write(sw, (tx) => tx.remove(inventoryNodePath(sw.dpn)), 'removing the switch from the operational inventory');
  }

  /** A node's config flows as the subscription keys them (`<table>/<flow id>`). */
  private storedFlows(nodeId: string): Map<string, unknown> {
    const flows = new Map<string, unknown>();
    const node = this.opts.data.read('config', INVENTORY_NODES.node(nodeId));
    for (const table of node?.['flow-node-inventory:table'] ?? []) for (const flow of table.flow ?? []) flows.set(`${table.id}/${flow.id}`, flow);
    return flows;
  }

  /** One operational write for a switch, after the ones before it (never two at once for one switch). */
  private write(sw: Switch, edit: (tx: ReturnType<Datastore['transaction']>) => void, what: string): void {
    sw.writes = sw.writes
      .then(async () => {
        const tx = this.opts.data.transaction('operational', { ephemeral: true });
        edit(tx);
        await tx.commit();
      })
      .catch((e) => this.opts.log.warn({ err: e, node: sw.nodeId }, `openflow ${sw.nodeId}: ${what} failed: ${(e as Error).message}`));
  }

  private connectorJson(sw: Switch, p: PortDesc): NodeConnector {
    const local = p.portNo === PORT.LOCAL;
    return {
      id: `${sw.nodeId}:${local ? 'LOCAL' : p.portNo}`,
      'flow-node-inventory:port-number': local ? 'LOCAL' : p.portNo,
      'flow-node-inventory:name': p.name,
      'flow-node-inventory:hardware-address': p.hwAddr,
      'flow-node-inventory:state': { 'link-down': (p.state & PORT_STATE.LINK_DOWN) !== 0, blocked: (p.state & PORT_STATE.BLOCKED) !== 0, live: (p.state & PORT_STATE.LIVE) !== 0 },
      'flow-node-inventory:current-speed': p.currSpeed,
      'flow-node-inventory:maximum-speed': p.maxSpeed,
    };
  }

  private publishNode(sw: Switch): void {
    const [ip, port] = [sw.conn.remote.slice(0, sw.conn.remote.lastIndexOf(':')), Number(sw.conn.remote.slice(sw.conn.remote.lastIndexOf(':') + 1))];
    const node = {
      id: sw.nodeId,
      'node-connector': [...sw.ports.values()].map((p) => this.connectorJson(sw, p)),
      'flow-node-inventory:switch-features': { max_tables: sw.conn.nTables },
      'flow-node-inventory:ip-address': ip.replace(/^::ffff:/, ''),
      'flow-node-inventory:port-number': port,
    };
    this.write(sw, (tx) => tx.put(inventoryNodePath(sw.dpn), node), 'publishing the switch');
  }

  private portStatus(sw: Switch, reason: number, port: PortDesc): void {
    if (reason === PORT_REASON.DELETE) sw.ports.delete(port.portNo);
    else if (!sw.ports.has(port.portNo) && sw.ports.size >= this.maxPorts) {
      sw.conn.close(`it reports more than ${this.maxPorts} ports (--openflow-max-ports)`);
      return;
    } else sw.ports.set(port.portNo, port);
    if (!sw.master) return;
    const connector = this.connectorJson(sw, port);
    const path = inventoryNodePath(sw.dpn).nodeConnector(String(connector.id));
    this.write(sw, (tx) => (reason === PORT_REASON.DELETE ? tx.remove(path) : tx.put(path, connector)), `port ${port.name} status`);
  }

  /**
   * The switch's flows as the operational inventory's tables: a flow the controller programmed
   * under the config flow's id (so "in the operational inventory" means "present in the switch"),
   * any other as `#UF$TABLE*<table>-<n>` as OpenDaylight names flows it did not write.
   */
  private async readFlows(sw: Switch): Promise<void> {
    clearTimeout(sw.statsTimer);
    if (!sw.master || sw.conn.closed) return;
    try {
      const flows = await sw.conn.flowStats({ tableId: 0xff, outPort: PORT.ANY, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: [] });
      const ids = sw.sync?.keyIndex() ?? new Map<string, string>();
      const tables = new Map<number, Flow[]>();
      const unknown = new Map<number, number>();
      for (const f of flows) {
        const key = switchKey(f);
        let id = ids.get(key);
        if (!id) {
          const n = (unknown.get(f.tableId) ?? 0) + 1;
          unknown.set(f.tableId, n);
          id = `#UF$TABLE*${f.tableId}-${n}`;
        } else id = id.slice(id.indexOf('/') + 1);
        let list = tables.get(f.tableId);
        if (!list) tables.set(f.tableId, (list = []));
        list.push({ id, table_id: f.tableId, priority: f.priority, cookie: `${f.cookie}`, 'idle-timeout': f.idleTimeout, 'hard-timeout': f.hardTimeout });
      }
      const json: NodeTable[] = [...tables].sort(([a], [b]) => a - b).map(([id, flow]) => ({ id, flow }));
      // Rewritten only when it changed: a steady table costs one dump per interval, no commit.
      const digest = JSON.stringify(json);
      if (sw.master && !sw.conn.closed && digest !== sw.lastTables) {
        sw.lastTables = digest;
        this.write(sw, (tx) => tx.put(inventoryNodePath(sw.dpn).table(), json), 'reading flows back');
      }
    } catch (e) {
      if (!sw.conn.closed) this.opts.log.warn({ err: e, node: sw.nodeId }, `openflow ${sw.nodeId}: reading flows failed: ${(e as Error).message}`);
    }
    if (this.opts.statsIntervalMs > 0 && !sw.conn.closed && sw.master) {
      sw.statsTimer = setTimeout(() => void this.readFlows(sw), this.opts.statsIntervalMs);
      sw.statsTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const u of this.unsubscribe) u();
    for (const conn of this.all) conn.close('the controller is stopping');
    for (const list of this.connectWaiters.values()) for (const w of list.splice(0)) w();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await Promise.all([...this.switches.values()].map((sw) => sw.writes));
  }
}
