/**
 * The OVSDB manager: listens on the OVSDB port for switches whose manager is set to us
 * (`ovs-vsctl set-manager tcp:<us>:<port>`), and connects to the switches the config topology
 * names with `ovsdb:connection-info{remote-ip, remote-port}` (active mode, as OpenDaylight dials
 * a switch's `ptcp:` manager), reconnecting with bounded backoff. Several config nodes naming the
 * same address share one connection (OpenDaylight allows one per device): it is made for the node
 * whose id is `ovsdb://IP:port`, else the lowest node-id, and the others' QoS and queues apply to
 * it too. Each connection is an OvsdbSession; a switch that disconnects loses its operational
 * subtree (its computes become not connected), and gets it back, repaired, when it returns.
 *
 * The manager also keeps, for every session, which config nodes are bound to it (its own node,
 * the nodes naming its address, and the bridge nodes managed by any of them), so a session never
 * scans the whole config topology.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Datastore } from '../../datastore/datastore.ts';
import { OvsdbSession } from './session.ts';
import { ANY } from '../../yang/binding.ts';
import { nodeIdOfRef, ovsdbTopology, ovsNodeOf, refKeys, topologyNodePath } from './topology.ts';
import { isBridgeIntent } from './session.ts';
import { YangError } from '../../errors.ts';
import type { CommitPhases, PhaseView } from '../../datastore/phases.ts';
import type { Node } from '../../bindings/network-topology.ts';
import type { Cluster } from '../../cluster/cluster.ts';

export interface OvsdbManagerOptions {
  data: Datastore;
  log: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  probeMs?: number;
  maxMessageChars?: number;
  /** Most rows one switch may report (see SessionHooks.maxRows). */
  maxRows?: number;
  /** Backoff bounds for active connections. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long one connection attempt may take (an address that drops SYNs would hold it for minutes). */
  connectTimeoutMs?: number;
  /**
   * Cluster mode: which instance connects to a switch the config topology names. Every member
   * sees the same intent; only the owner of `ovsdb/<node-id>` connects, and membership changes
   * move connections (a switch that connects to us by itself is served wherever it connects).
   */
  cluster?: Pick<Cluster, 'owns' | 'onMembership' | 'entities'>;
}

/** The entity an active OVSDB connection is owned as, in cluster mode. */
export const ovsdbEntity = (nodeId: string) => `ovsdb/${nodeId}`;

interface Active {
  nodeId: string;
  host: string;
  port: number;
  session?: OvsdbSession;
  timer?: NodeJS.Timeout;
  backoff: number;
  stopped: boolean;
  /** Whether stale entries were cleared after a failed first attempt. */
  cleared?: boolean;
}

export class OvsdbManager {
  private server: Server | undefined;
  /** Sessions by the switch's node-id (the newest wins when a switch reconnects). */
  readonly sessions = new Map<string, OvsdbSession>();
  private readonly all = new Set<OvsdbSession>();
  private readonly active = new Map<string, Active>();
  private unsubscribe: (() => void)[] = [];
  private stopping = false;
  /** The config topology's nodes (the intent), kept from the listener so sessions never re-read it. */
  private readonly intents = new Map<string, unknown>();
  /** Config OVS nodes with connection-info (node-id -> where). */
  private readonly addressed = new Map<string, { host: string; port: number }>();
  /** Switches to connect to: one node-id per address (see the class comment). */
  private readonly targets = new Map<string, { host: string; port: number }>();
  /** Config nodes naming the address of another node's connection (alias -> that node-id). */
  private readonly aliasOf = new Map<string, string>();
  /** The node a config node is bound to: its own id for an OVS node, the managing node for a bridge. */
  private readonly ownerOfIntent = new Map<string, string>();
  private readonly boundTo = new Map<string, Set<string>>();
  /** Sessions closed because another member owns their switch now: it publishes for them. */
  private readonly handedOver = new WeakSet<OvsdbSession>();

  constructor(private readonly opts: OvsdbManagerOptions) {}

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async start(): Promise<void> {
    await this.ensureTopology();
    for (const spec of queueReferenceChecks()) this.unsubscribe.push(this.opts.data.registerPhases(spec));
    // Config changes: the intent for a connected switch, or a switch to connect to.
    this.unsubscribe.push(
      this.opts.data.subscribe('config', ovsdbTopology.node(ANY), (changes) => {
        const touched = new Set<string>();
        for (const c of changes) {
          const nodeId = c.keys[0][0] as string;
          const before = this.ownerOfIntent.get(nodeId);
          if (before !== undefined) {
            touched.add(before);
            this.boundTo.get(before)?.delete(nodeId);
          }
          if (c.after) {
            this.intents.set(nodeId, c.after);
            const owner = isBridgeIntent(nodeId, c.after) ? (nodeIdOfRef((c.after as { 'ovsdb:managed-by'?: string })['ovsdb:managed-by']) ?? ovsNodeOf(nodeId)) : nodeId;
            this.ownerOfIntent.set(nodeId, owner);
            let set = this.boundTo.get(owner);
            if (!set) this.boundTo.set(owner, (set = new Set()));
            set.add(nodeId);
            touched.add(owner);
          } else {
            this.intents.delete(nodeId);
            this.ownerOfIntent.delete(nodeId);
          }
          const info = (c.after as { 'ovsdb:connection-info'?: { 'remote-ip'?: string; 'remote-port'?: number } } | undefined)?.['ovsdb:connection-info'];
          if (info?.['remote-ip'] && info['remote-port'] && !isBridgeIntent(nodeId, c.after)) this.addressed.set(nodeId, { host: info['remote-ip'], port: info['remote-port'] });
          else this.addressed.delete(nodeId);
        }
        this.placeConnections();
        for (const owner of touched) this.sessionOf(owner)?.schedule();
      }),
    );
    if (this.opts.cluster) this.unsubscribe.push(this.opts.cluster.onMembership(() => this.placeConnections()));
    // Switches are served once the intent is loaded: a session reconciling against an empty
    // intent would take away the bridges, ports and QoS rows the controller made.
    await this.opts.data.settled();
    this.server = createServer((socket) => this.accept(socket, undefined));
    this.server.maxConnections = 4096;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
  }

  /**
   * The ovsdb:1 topology exists from the start in both stores, as OpenDaylight's southbound
   * creates it (`{"topology-id":"ovsdb:1"}` on a fresh controller). A merge of the key alone:
   * idempotent, and it never drops nodes another instance wrote meanwhile (a conflict with one
   * doing the same is retried once it has landed).
   */
  private async ensureTopology(): Promise<void> {
    for (const store of ['config', 'operational'] as const) {
      for (let attempt = 1; ; attempt++) {
        if (this.opts.data.read(store, ovsdbTopology) !== undefined) break;
        try {
          const tx = this.opts.data.transaction(store);
          tx.merge(ovsdbTopology, { 'topology-id': 'ovsdb:1' });
          await tx.commit();
          break;
        } catch (e) {
          if (attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, 50 * attempt));
        }
      }
    }
  }

  /** Connects to the targets this instance owns and lets go of the others. */
  private placeConnections(): void {
    if (this.stopping) return;
    this.chooseTargets();
    const cluster = this.opts.cluster;
    cluster?.entities.set('ovsdb-node', [...this.targets.keys()].map(ovsdbEntity));
    for (const nodeId of [...this.active.keys()]) {
      if (!this.targets.has(nodeId)) this.disconnectFrom(nodeId, 'removed from the config topology', false, true);
      else if (cluster && !cluster.owns(ovsdbEntity(nodeId))) this.disconnectFrom(nodeId, 'another instance owns this switch now', true);
    }
    for (const [nodeId, { host, port }] of this.targets) {
      if (!cluster || cluster.owns(ovsdbEntity(nodeId))) this.connectTo(nodeId, host, port);
    }
  }

  /** Switch connections open now (accepted and dialled), identified or not yet. */
  get connectionCount(): number {
    return this.all.size;
  }

  /** Every connected switch writes its whole topology again (the lease it was under was lost). */
  republish(): void {
    for (const s of this.sessions.values()) s.republish();
  }

  /** One connection per address: the targets, and which config nodes are aliases of another's. */
  private chooseTargets(): void {
    const byAddress = new Map<string, string[]>();
    for (const [nodeId, { host, port }] of this.addressed) {
      const key = `${host}|${port}`;
      const ids = byAddress.get(key);
      if (ids) ids.push(nodeId);
      else byAddress.set(key, [nodeId]);
    }
    this.targets.clear();
    this.aliasOf.clear();
    for (const ids of byAddress.values()) {
      const where = this.addressed.get(ids[0])!;
      const canonical = `ovsdb://${where.host}:${where.port}`;
      const primary = ids.includes(canonical) ? canonical : ids.reduce((a, b) => (b < a ? b : a));
      this.targets.set(primary, where);
      for (const id of ids) if (id !== primary) this.aliasOf.set(id, primary);
    }
  }

  /** The session a config node's owner is served by (its own, or the one its address is shared with). */
  private sessionOf(owner: string): OvsdbSession | undefined {
    return this.sessions.get(owner) ?? this.sessions.get(this.aliasOf.get(owner) ?? '');
  }

  /** The config nodes bound to a session: those owned by its node or by an alias of it. */
  private *bound(session: OvsdbSession): Iterable<[string, unknown]> {
    const id = session.nodeId;
    if (!id) return;
    const owners = [id, ...[...this.aliasOf].filter(([, primary]) => primary === id).map(([alias]) => alias)];
    for (const owner of owners) {
      for (const nodeId of this.boundTo.get(owner) ?? []) {
        const node = this.intents.get(nodeId);
        if (node !== undefined) yield [nodeId, node];
      }
    }
  }

  private accept(socket: Socket, nodeId: string | undefined, onClosed?: () => void): OvsdbSession {
    const session: OvsdbSession = new OvsdbSession(socket, {
      data: this.opts.data,
      log: this.opts.log,
      bound: (s) => this.bound(s),
      nodeId,
      probeMs: this.opts.probeMs,
      maxMessageChars: this.opts.maxMessageChars,
      maxRows: this.opts.maxRows,
      onIdentified: (s) => {
        const previous = this.sessions.get(s.nodeId!);
        this.sessions.set(s.nodeId!, s);
        if (previous && previous !== s) previous.peer.close('replaced by a new connection from the same switch');
        this.opts.log.info({ node: s.nodeId, remote: `${socket.remoteAddress}:${socket.remotePort}` }, `ovsdb ${s.nodeId} connected`);
      },
      onClosed: (s) => {
        this.all.delete(s);
        if (s.nodeId && this.sessions.get(s.nodeId) === s) {
          this.sessions.delete(s.nodeId);
          // Handed over: the new owner's session rewrites the same entries (a removal from here
          // could land after its writes). Until then they stay, under this instance's lease.
          if (!this.stopping && !this.handedOver.has(s)) void s.unpublish().catch((e) => this.opts.log.warn({ err: e }, 'ovsdb: removing a switch from the topology failed'));
        }
        onClosed?.();
      },
    });
    this.all.add(session);
    session.start().catch((e) => {
      this.opts.log.warn({ err: e }, `ovsdb peer ${socket.remoteAddress}:${socket.remotePort}: ${(e as Error).message}`);
      session.peer.close((e as Error).message);
    });
    return session;
  }

  private connectTo(nodeId: string, host: string, port: number): void {
    const known = this.active.get(nodeId);
    if (known && known.host === host && known.port === port) return;
    if (known) this.disconnectFrom(nodeId, 'its address changed in the config topology');
    const a: Active = { nodeId, host, port, backoff: this.opts.minBackoffMs ?? 1000, stopped: false };
    this.active.set(nodeId, a);
    const attempt = () => {
      if (a.stopped || this.stopping) return;
      const socket = connect({ host, port });
      let opened = false;
      // Bounded: an address that never answers fails the attempt instead of holding it for minutes.
      socket.setTimeout(this.opts.connectTimeoutMs ?? 10_000, () => socket.destroy(new Error('connection timed out')));
      socket.once('connect', () => {
        opened = true;
        socket.setTimeout(0);
        a.backoff = this.opts.minBackoffMs ?? 1000;
        a.session = this.accept(socket, nodeId, () => retry());
      });
      socket.once('error', (e) => {
        if (opened) return;
        this.opts.log.warn({ node: nodeId, remote: `${host}:${port}`, err: e.message }, `ovsdb: cannot connect to ${nodeId} at ${host}:${port} (${e.message}); next attempt in ${a.backoff} ms`);
        // The switch is ours and unreachable: what another member published for it is stale.
        if (this.opts.cluster && !a.cleared) {
          a.cleared = true;
          void this.clearStale(nodeId).catch((e) => this.opts.log.warn({ err: e }, `ovsdb: clearing the stale topology of ${nodeId} failed`));
        }
        retry();
      });
      const retry = () => {
        a.session = undefined;
        if (a.stopped || this.stopping) return;
        a.timer = setTimeout(attempt, a.backoff);
        a.timer.unref();
        a.backoff = Math.min(a.backoff * 2, this.opts.maxBackoffMs ?? 30_000);
      };
    };
    attempt();
  }

  /**
   * Stops (re)connecting to a switch and closes its session. `settle`: its config node was deleted,
   * so one last pass first takes away what the controller made for that node (its QoS entries and
   * queues; bridges have config nodes of their own), bounded in time.
   */
  private disconnectFrom(nodeId: string, reason: string, handOver = false, settle = false): void {
    const a = this.active.get(nodeId);
    if (!a) return;
    a.stopped = true;
    clearTimeout(a.timer);
    const session = a.session;
    if (session) {
      if (handOver) this.handedOver.add(session);
      if (settle && !session.closed) {
        session.schedule();
        const bound = new Promise((r) => setTimeout(r, 2_000).unref());
        void Promise.race([session.idle(), bound]).finally(() => session.peer.close(reason));
      } else session.peer.close(reason);
    }
    this.active.delete(nodeId);
  }

  /** Removes the operational entries of a switch (and its bridges) nobody here is connected to. */
  private async clearStale(nodeId: string): Promise<void> {
    if (this.sessions.has(nodeId)) return;
    const nodes = (this.opts.data.read('operational', ovsdbTopology.node()) ?? []).filter((n) => n['node-id'] === nodeId || n['node-id'].startsWith(`${nodeId}/bridge/`));
    if (!nodes.length) return;
    const tx = this.opts.data.transaction('operational', { ephemeral: true });
    for (const n of nodes) tx.remove(topologyNodePath(n['node-id']));
    await tx.commit();
  }

  /** Resolves when every connected switch has published and reconciled what it knows. */
  async idle(): Promise<void> {
    await Promise.all([...this.all].map((s) => s.idle()));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const u of this.unsubscribe) u();
    for (const a of this.active.values()) {
      a.stopped = true;
      clearTimeout(a.timer);
    }
    for (const s of this.all) s.peer.close('the controller is stopping');
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * In the config topology, a QoS entry's queue-list may only name (queue-ref) a queue of its own
 * node, and such a queue cannot be deleted while a QoS entry names it: OVS's QoS.queues holds
 * strong references, so the switch would refuse the QoS (or the deletion) anyway, after the
 * client was told yes. Refused in the commit, as YANG's require-instance is: data-missing,
 * instance-required; nothing is written.
 */
function queueReferenceChecks(): CommitPhases[] {
  const instanceRequired = (message: string, path: string) => new YangError({ tag: 'data-missing', appTag: 'instance-required', message, path });
  const checkEntry = (nodeId: string, entry: NonNullable<Node['ovsdb:qos-entries']>[number], path: string, view: PhaseView) => {
    for (const q of entry['queue-list'] ?? []) {
      const ref = q['queue-ref'];
      if (ref === undefined) continue;
      const keys = refKeys(ref);
      const queueId = keys?.get('queues');
      const refNode = keys?.get('node') ?? nodeId;
      if (!queueId) throw instanceRequired(`queue-ref "${ref}" of queue ${q['queue-number']} names no queue (ovsdb:queues[queue-id=...])`, `${path}/queue-list=${q['queue-number']}/queue-ref`);
      if (refNode !== nodeId) throw instanceRequired(`queue-ref of queue ${q['queue-number']} names a queue of node ${refNode}; a QoS entry links queues of its own node (${nodeId})`, `${path}/queue-list=${q['queue-number']}/queue-ref`);
      if (!view.exists(topologyNodePath(nodeId).queues(queueId))) {
        throw instanceRequired(`queue-ref of queue ${q['queue-number']} names queue "${queueId}", which node ${nodeId} does not have`, `${path}/queue-list=${q['queue-number']}/queue-ref`);
      }
    }
  };
  return [
    {
      owner: 'ovsdb',
      store: 'config',
      path: ovsdbTopology.node(ANY).qosEntries(ANY),
      validate(changes, view) {
        for (const c of changes) if (c.after) checkEntry(c.keys[0][0] as string, c.after as NonNullable<Node['ovsdb:qos-entries']>[number], c.path, view);
      },
    },
    {
      owner: 'ovsdb',
      store: 'config',
      path: ovsdbTopology.node(ANY).queues(ANY),
      validate(changes, view) {
        for (const c of changes) {
          if (c.after) continue;
          const nodeId = c.keys[0][0] as string;
          const entries = (view.read(topologyNodePath(nodeId).qosEntries()) ?? []) as NonNullable<Node['ovsdb:qos-entries']>;
          for (const e of entries) checkEntry(nodeId, e, topologyNodePath(nodeId).qosEntries(e['qos-id']).text, view);
        }
      },
    },
  ];
}
