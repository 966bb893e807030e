/**
 * The OVSDB manager: listens on the OVSDB port for switches whose manager is set to us
 * (`ovs-vsctl set-manager tcp:<us>:<port>`), and connects to the switches the config topology
 * names with `ovsdb:connection-info{remote-ip, remote-port}` (node-id `ovsdb://IP:port`),
 * reconnecting with backoff. Each connection is an OvsdbSession; a switch that disconnects loses
 * its operational subtree (its computes become not connected), and gets it back, repaired, when it
 * returns.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Datastore } from '../../datastore/datastore.ts';
import { OvsdbSession } from './session.ts';
import { ANY } from '../../yang/binding.ts';
import { ovsdbTopology, topologyNodePath } from './topology.ts';
import type { Cluster } from '../../cluster/cluster.ts';

export interface OvsdbManagerOptions {
  data: Datastore;
  log: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  probeMs?: number;
  maxMessageChars?: number;
  /** Backoff bounds for active connections. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
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
  /** Switches the config topology asks us to connect to (node-id -> where). */
  private readonly targets = new Map<string, { host: string; port: number }>();
  /** Sessions closed because another member owns their switch now: it publishes for them. */
  private readonly handedOver = new WeakSet<OvsdbSession>();

  constructor(private readonly opts: OvsdbManagerOptions) {}

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async start(): Promise<void> {
    this.server = createServer((socket) => this.accept(socket, undefined));
    this.server.maxConnections = 4096;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => resolve());
    });
    // Config changes: the intent for a connected switch, or a switch to connect to.
    this.unsubscribe.push(
      this.opts.data.subscribe('config', ovsdbTopology.node(ANY), (changes) => {
        for (const c of changes) {
          const nodeId = c.keys[0][0] as string;
          if (c.after) this.intents.set(nodeId, c.after);
          else this.intents.delete(nodeId);
          this.sessionFor(nodeId)?.schedule();
          const info = (c.after as { 'ovsdb:connection-info'?: { 'remote-ip'?: string; 'remote-port'?: number } } | undefined)?.['ovsdb:connection-info'];
          if (info?.['remote-ip'] && info['remote-port'] && !nodeId.includes('/bridge/')) this.targets.set(nodeId, { host: info['remote-ip'], port: info['remote-port'] });
          else if (!c.after) this.targets.delete(nodeId);
        }
        this.placeConnections();
      }),
    );
    if (this.opts.cluster) this.unsubscribe.push(this.opts.cluster.onMembership(() => this.placeConnections()));
  }

  /** Connects to the targets this instance owns and lets go of the others. */
  private placeConnections(): void {
    if (this.stopping) return;
    const cluster = this.opts.cluster;
    cluster?.entities.set('ovsdb-node', [...this.targets.keys()].map(ovsdbEntity));
    for (const nodeId of [...this.active.keys()]) {
      if (!this.targets.has(nodeId)) this.disconnectFrom(nodeId, 'removed from the config topology');
      else if (cluster && !cluster.owns(ovsdbEntity(nodeId))) this.disconnectFrom(nodeId, 'another instance owns this switch now', true);
    }
    for (const [nodeId, { host, port }] of this.targets) {
      if (!cluster || cluster.owns(ovsdbEntity(nodeId))) this.connectTo(nodeId, host, port);
    }
  }

  /** Every connected switch writes its whole topology again (the lease it was under was lost). */
  republish(): void {
    for (const s of this.sessions.values()) s.republish();
  }

  /** The session serving a node (an OVS node or one of its bridges). */
  private sessionFor(nodeId: string): OvsdbSession | undefined {
    const at = nodeId.indexOf('/bridge/');
    return this.sessions.get(at < 0 ? nodeId : nodeId.slice(0, at));
  }

  private accept(socket: Socket, nodeId: string | undefined, onClosed?: () => void): OvsdbSession {
    const session: OvsdbSession = new OvsdbSession(socket, {
      data: this.opts.data,
      log: this.opts.log,
      intent: (id) => this.intents.get(id),
      nodeId,
      probeMs: this.opts.probeMs,
      maxMessageChars: this.opts.maxMessageChars,
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
      socket.once('connect', () => {
        opened = true;
        a.backoff = this.opts.minBackoffMs ?? 1000;
        a.session = this.accept(socket, nodeId, () => retry());
      });
      socket.once('error', () => {
        if (opened) return;
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

  private disconnectFrom(nodeId: string, reason: string, handOver = false): void {
    const a = this.active.get(nodeId);
    if (!a) return;
    a.stopped = true;
    clearTimeout(a.timer);
    if (a.session) {
      if (handOver) this.handedOver.add(a.session);
      a.session.peer.close(reason);
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
