/**
 * NETCONF northbound: an SSH server (ssh2) whose `netconf` subsystem carries NETCONF sessions
 * (session.ts). It owns what sessions share: the candidate datastore (one, shared, as RFC 6241
 * defines it: running plus the edits not yet committed), the per-datastore locks, the session
 * table published as ietf-netconf-monitoring state, and the SSH concerns: password and public-key
 * login with the RESTCONF credentials, a host key kept in the data dir, slowed failed logins,
 * max sessions and an idle timeout, and what a hostile client may hold: connections not logged in
 * (bounded, shared fairly between sources, each with a login grace time) and channels per
 * connection (bounded); anything but the netconf subsystem (exec, shell, port forwarding, ...) is
 * refused.
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import type { Logger } from 'pino';
import type { Datastore, Transaction } from '../../datastore/datastore.ts';
import { retryOnConflict } from '../../datastore/datastore.ts';
import { YangError } from '../../errors.ts';
import type { NotificationBus } from '../../rpc/notifications.ts';
import type { RpcRegistry } from '../../rpc/registry.ts';
import { decodeValue } from '../../yang/json.ts';
import type { DataObject, Schema } from '../../yang/schema.ts';
import { MONITORING, netconfState, type LockInfo, type ServerCounters } from './monitoring.ts';
import { NetconfSession, type Channel, type DatastoreName, type SessionHost } from './session.ts';

export interface NetconfDeps {
  schema: Schema;
  data: Datastore;
  rpc: RpcRegistry;
  notifications: NotificationBus;
  log: Logger;
}

export interface NetconfOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  /** OpenSSH authorized_keys file whose keys may log in as `username` ('' for none). */
  authorizedKeys: string;
  /** Where the host key is kept; undefined: a fresh key per start (in-memory datastores). */
  hostKeyFile?: string;
  maxSessions: number;
  idleTimeoutMs: number;
  maxMessage: number;
  /** SSH connections not yet logged in, at once (OpenSSH's MaxStartups). */
  maxUnauthenticated: number;
  /** How long a connection may take to log in, from the TCP accept (OpenSSH's LoginGraceTime). */
  loginGraceMs: number;
  /** SSH channels one connection may hold open (OpenSSH's MaxSessions). */
  maxChannels: number;
  /**
   * Write netconf-state to the operational store (default true). Off in cluster mode: the store
   * is shared, and each instance's sessions and locks would overwrite the others'; `get` over
   * NETCONF still answers this instance's live state.
   */
  publishState?: boolean;
}

const STATE_PATH = `/${MONITORING}:netconf-state`;
const STREAMS_MODULE = 'nc-notifications';
/** Failed logins on one connection before it is dropped. */
const MAX_FAILED_LOGINS = 5;
/** RFC 4254 5.1 reason codes of SSH_MSG_CHANNEL_OPEN_FAILURE. */
const ADMINISTRATIVELY_PROHIBITED = 1;
const RESOURCE_SHORTAGE = 4;
/** How often a flood of refused connections is logged (once per this long, with a count). */
const FLOOD_LOG_MS = 10_000;

/** A TCP connection that has not logged in yet: counted against maxUnauthenticated. */
interface Unauthenticated {
  socket: Socket;
  source: string;
  grace: NodeJS.Timeout;
}
/** How long a failed login counts towards its source's back-off. */
const FAILED_WINDOW_MS = 10 * 60_000;

export class NetconfServer implements SessionHost {
  readonly schema: Schema;
  readonly data: Datastore;
  readonly rpc: RpcRegistry;
  readonly log: Logger;
  private readonly notifications: NotificationBus;
  private readonly sessions = new Map<number, NetconfSession>();
  private readonly locks = new Map<DatastoreName, LockInfo>();
  private candidateTx?: Transaction;
  private nextSession = 1;
  private server?: ssh2.Server;
  private tcp?: TcpServer;
  private readonly clients = new Set<ssh2.Connection>();
  /** Connections not logged in, by "address|port" (oldest first), and per source address. */
  private readonly unauthenticated = new Map<string, Unauthenticated>();
  private readonly unauthenticatedBySource = new Map<string, Set<Unauthenticated>>();
  /** Connections refused or dropped for the unauthenticated limit since it was last logged. */
  private floodDropped = 0;
  private floodLoggedAt = 0;
  /** Source address -> times of its recent failed logins (in insertion order, oldest first). */
  private readonly failedLogins = new Map<string, number[]>();
  private publishing: Promise<void> = Promise.resolve();
  private readonly counters: ServerCounters = {
    startTime: new Date(),
    inBadHellos: 0,
    inSessions: 0,
    droppedSessions: 0,
    inRpcs: 0,
    inBadRpcs: 0,
    outRpcErrors: 0,
    outNotifications: 0,
  };
  private readonly allowedKeys: ssh2.ParsedKey[];
  port = 0;

  constructor(
    deps: NetconfDeps,
    private readonly opts: NetconfOptions,
  ) {
    this.schema = deps.schema;
    this.data = deps.data;
    this.rpc = deps.rpc;
    this.notifications = deps.notifications;
    this.log = deps.log;
    this.allowedKeys = opts.authorizedKeys ? readAuthorizedKeys(opts.authorizedKeys) : [];
  }

  async start(): Promise<void> {
    this.server = new ssh2.Server({ hostKeys: [this.hostKey()], ident: 'Sextant' }, (client, info) => this.connection(client, info));
    // Our own listener hands sockets to ssh2: a connection counts (and its grace time runs) from
    // the TCP accept, before it has sent a byte, and one refused costs no key exchange.
    const tcp = createServer((socket) => this.admit(socket));
    this.tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.opts.port, this.opts.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    this.port = (tcp.address() as AddressInfo).port;
    await this.publish();
  }

  async stop(): Promise<void> {
    for (const s of [...this.sessions.values()]) s.end(false);
    for (const c of this.clients) c.end();
    for (const u of [...this.unauthenticated.values()]) u.socket.destroy();
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()));
    await this.publishing;
  }

  /** How many connections have not logged in yet (for tests and monitoring). */
  get unauthenticatedCount(): number {
    return this.unauthenticated.size;
  }

  private hostKey(): string {
    const file = this.opts.hostKeyFile;
    if (file && existsSync(file)) {
      const kept = readFileSync(file, 'utf8');
      if (!(ssh2.utils.parseKey(kept) instanceof Error)) return kept;
      this.log.warn({ file }, 'the kept NETCONF host key cannot be read: generating a new one');
    }
    // ssh2's generator now and then writes an ed25519 key it cannot read back (a public key
    // one byte short): only a key that parses is used and kept.
    let key: string;
    do key = ssh2.utils.generateKeyPairSync('ed25519').private;
    while (ssh2.utils.parseKey(key) instanceof Error);
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, key, { mode: 0o600 });
    }
    return key;
  }

  // ----- SSH -----

  /** A new TCP connection: admitted within the unauthenticated limit, given its grace time, handed to ssh2. */
  private admit(socket: Socket): void {
    socket.on('error', () => undefined); // a reset before ssh2 listens must not crash the process
    const source = socket.remoteAddress ?? '';
    if (!this.makeRoomFor(source)) {
      socket.destroy();
      return;
    }
    const key = `${source}|${socket.remotePort}`;
    const u: Unauthenticated = {
      socket,
      source,
      grace: setTimeout(() => {
        this.log.info({ from: source }, `NETCONF connection dropped: not logged in within ${this.opts.loginGraceMs / 1000} s`);
        socket.destroy();
      }, this.opts.loginGraceMs),
    };
    u.grace.unref();
    this.unauthenticated.set(key, u);
    let mine = this.unauthenticatedBySource.get(source);
    if (!mine) this.unauthenticatedBySource.set(source, (mine = new Set()));
    mine.add(u);
    socket.once('close', () => this.loggedInOrGone(key));
    this.server!.injectSocket(socket);
  }

  /**
   * Whether a connection from `source` may join those not logged in. Below the limit, yes. At it,
   * the source holding the most such connections gives one up: its oldest is dropped, unless the
   * newcomer's own source is (one of) the heaviest, and then the newcomer is refused. So one
   * address flooding the port holds at most the slots nobody else asks for, and a client from
   * anywhere else still gets in and logs in.
   */
  private makeRoomFor(source: string): boolean {
    if (this.unauthenticated.size < Math.max(1, this.opts.maxUnauthenticated)) return true;
    let heaviest: Set<Unauthenticated> | undefined;
    for (const held of this.unauthenticatedBySource.values()) if (!heaviest || held.size > heaviest.size) heaviest = held;
    const mine = this.unauthenticatedBySource.get(source)?.size ?? 0;
    this.noteFlood(heaviest ? [...heaviest][0].source : source);
    if (!heaviest || mine >= heaviest.size) return false;
    const oldest = heaviest.values().next().value!;
    oldest.socket.destroy();
    this.loggedInOrGone(`${oldest.source}|${oldest.socket.remotePort}`);
    return true;
  }

  private noteFlood(heaviestSource: string): void {
    this.floodDropped++;
    const now = Date.now();
    if (now - this.floodLoggedAt < FLOOD_LOG_MS) return;
    this.log.warn(
      { refusedOrDropped: this.floodDropped, limit: this.opts.maxUnauthenticated, heaviestSource },
      `NETCONF: ${this.floodDropped} connection(s) refused or dropped: ${this.opts.maxUnauthenticated} are not logged in yet (--netconf-max-unauthenticated)`,
    );
    this.floodDropped = 0;
    this.floodLoggedAt = now;
  }

  /** The connection logged in or closed: it no longer counts against the unauthenticated limit. */
  private loggedInOrGone(key: string): void {
    const u = this.unauthenticated.get(key);
    if (!u) return;
    clearTimeout(u.grace);
    this.unauthenticated.delete(key);
    const mine = this.unauthenticatedBySource.get(u.source);
    mine?.delete(u);
    if (mine && !mine.size) this.unauthenticatedBySource.delete(u.source);
  }

  private connection(client: ssh2.Connection, info: ssh2.ClientInfo): void {
    const ip = info.ip;
    this.clients.add(client);
    // Replies are single writes a client waits for: Nagle's delay (against the client's delayed
    // ACK) would add tens of milliseconds to every request.
    // (ssh2's server connections have setNoDelay; its typings only declare it for the client.)
    (client as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
    let failures = 0;
    let user = '';
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === this.opts.username && same(ctx.password, this.opts.password)) {
        user = ctx.username;
        return ctx.accept();
      }
      if (ctx.method === 'publickey' && ctx.username === this.opts.username && this.keyAllowed(ctx)) {
        // Without a signature the client only asks whether the key would do.
        if (!ctx.signature) return ctx.accept();
        user = ctx.username;
        return ctx.accept();
      }
      const methods: ('password' | 'publickey')[] = this.allowedKeys.length ? ['publickey', 'password'] : ['password'];
      if (ctx.method === 'none' || (ctx.method === 'publickey' && !ctx.signature)) return ctx.reject(methods);
      failures++;
      const recent = this.failedFrom(ip);
      this.log.warn({ user: ctx.username, from: ip, method: ctx.method, failures, recentFromSource: recent }, 'NETCONF login failed');
      // Each recent failure from the same source waits longer (0.5 s, 1 s, 2 s, ... 4 s), whether
      // it comes on one connection or on new ones, so guessing is slow.
      const delay = Math.min(4000, 500 * 2 ** (Math.min(recent, 4) - 1));
      setTimeout(() => {
        if (failures >= MAX_FAILED_LOGINS) client.end();
        else ctx.reject(methods);
      }, delay).unref();
    });
    client.on('ready', () => {
      this.loggedInOrGone(`${ip}|${info.port}`);
      let channels = 0;
      client.on('session', (accept, reject) => {
        if (channels >= this.opts.maxChannels) {
          this.log.warn({ user, from: ip, max: this.opts.maxChannels }, 'NETCONF: channel refused: too many channels on one connection');
          return refuseChannel(client, reject, RESOURCE_SHORTAGE, `too many channels on this connection: at most ${this.opts.maxChannels} (--netconf-max-channels)`);
        }
        channels++;
        const session = accept();
        session.once('close', () => channels--);
        session.on('subsystem', (acceptSub, rejectSub, sub) => {
          if (sub.name !== 'netconf') return this.refused(`subsystem ${JSON.stringify(sub.name).slice(0, 80)}`, user, ip, rejectSub);
          if (this.sessions.size >= this.opts.maxSessions) {
            this.log.warn({ user, from: ip, max: this.opts.maxSessions }, 'NETCONF session refused: too many sessions');
            return rejectSub();
          }
          const channel = acceptSub();
          this.open(channel as unknown as Channel, user, ip);
        });
        // Only the netconf subsystem is served: no command, shell, terminal, agent or X11. (ssh2
        // refuses what has no listener too; these say so in the log.) The channel stays open for
        // a netconf subsystem request, as OpenSSH keeps it after a refused request.
        for (const what of ['exec', 'shell', 'pty', 'x11', 'auth-agent', 'env', 'sftp'] as const) {
          session.on(what as 'exec', (_accept: unknown, rejectIt?: () => void) => this.refused(what, user, ip, rejectIt));
        }
      });
      // Port forwarding, either way, is not offered: a NETCONF server is no bastion into the network.
      const noForwarding = 'port forwarding is not offered: this server serves the netconf subsystem only';
      client.on('tcpip', (_accept, reject, to) => {
        this.refused(`forwarding to ${to.destIP}:${to.destPort}`, user, ip);
        refuseChannel(client, reject, ADMINISTRATIVELY_PROHIBITED, noForwarding);
      });
      client.on('openssh.streamlocal', (_accept, reject, to) => {
        this.refused(`forwarding to ${to.socketPath}`, user, ip);
        refuseChannel(client, reject, ADMINISTRATIVELY_PROHIBITED, noForwarding);
      });
      client.on('request', (_accept, reject, name) => this.refused(`global request ${name}`, user, ip, reject));
    });
    client.on('error', (e) => this.log.debug({ err: e, from: ip }, 'NETCONF SSH connection error'));
    client.on('close', () => {
      this.loggedInOrGone(`${ip}|${info.port}`);
      this.clients.delete(client);
    });
  }

  private refused(what: string, user: string, ip: string, reject?: () => void): void {
    this.log.warn({ user, from: ip, request: what }, `NETCONF: refused ${what}: only the netconf subsystem is served`);
    reject?.();
  }

  /** Counts a failed login from `ip`; returns how many it made within the last FAILED_WINDOW_MS. */
  private failedFrom(ip: string): number {
    const now = Date.now();
    const times = (this.failedLogins.get(ip) ?? []).filter((at) => now - at < FAILED_WINDOW_MS);
    times.push(now);
    this.failedLogins.delete(ip);
    this.failedLogins.set(ip, times.slice(-16));
    // Bounded: the sources heard from longest ago go first.
    if (this.failedLogins.size > 10_000) this.failedLogins.delete(this.failedLogins.keys().next().value!);
    return times.length;
  }

  private keyAllowed(ctx: ssh2.PublicKeyAuthContext): boolean {
    for (const k of this.allowedKeys) {
      if (ctx.key.algo !== k.type || !ctx.key.data.equals(k.getPublicSSH())) continue;
      if (!ctx.signature || !ctx.blob) return true;
      return k.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
    }
    return false;
  }

  private open(channel: Channel, user: string, ip: string): void {
    const id = this.nextSession++;
    const session = new NetconfSession(this, channel, id, user, ip, { maxMessage: this.opts.maxMessage, idleTimeoutMs: this.opts.idleTimeoutMs });
    this.sessions.set(id, session);
    this.counters.inSessions++;
    this.log.info({ session: id, user, from: ip }, 'NETCONF session opened');
    void this.publish();
  }

  // ----- SessionHost -----

  subscribeNotifications(handler: Parameters<NotificationBus['subscribe']>[0]): () => void {
    return this.notifications.subscribe(handler);
  }

  replayNotifications(start: Date, stop?: Date) {
    return this.notifications.replay(start, stop);
  }

  candidate(create: true): Transaction;
  candidate(create: false): Transaction | undefined;
  candidate(create: boolean): Transaction | undefined {
    let tx = this.candidateTx;
    // The candidate is running plus the pending edits: follow running when it moves on.
    if (tx && (tx.stale || tx.finished)) tx = this.candidateTx = tx.rebased();
    if (!tx && create) tx = this.candidateTx = this.data.transaction('config');
    return tx;
  }

  dropCandidate(): void {
    if (this.candidateTx && !this.candidateTx.finished) this.candidateTx.cancel();
    this.candidateTx = undefined;
  }

  /** NETCONF sessions open now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  lockHolder(ds: DatastoreName): number | undefined {
    return this.locks.get(ds)?.session;
  }

  lock(ds: DatastoreName, session: number): void {
    const held = this.locks.get(ds);
    if (held) {
      throw new YangError({ tag: 'lock-denied', type: 'protocol', message: `the ${ds} datastore is already locked by session ${held.session}`, info: { 'session-id': String(held.session) } });
    }
    // RFC 6241 7.5: no lock on a candidate holding changes nobody committed or discarded.
    if (ds === 'candidate' && this.candidateTx && !this.candidateTx.empty) {
      throw new YangError({ tag: 'lock-denied', type: 'protocol', message: 'the candidate holds uncommitted changes: commit or discard them first', info: { 'session-id': '0' } });
    }
    this.locks.set(ds, { session, since: new Date() });
    void this.publish();
  }

  unlock(ds: DatastoreName, session: number): void {
    const held = this.locks.get(ds);
    if (!held) throw new YangError({ tag: 'operation-failed', type: 'protocol', message: `the ${ds} datastore is not locked` });
    if (held.session !== session) {
      throw new YangError({ tag: 'lock-denied', type: 'protocol', message: `the ${ds} datastore is locked by session ${held.session}`, info: { 'session-id': String(held.session) } });
    }
    this.locks.delete(ds);
    void this.publish();
  }

  operationalRoot(): DataObject {
    const root = this.data.snapshot('operational').root;
    const node = this.schema.roots.get(`${MONITORING}:netconf-state`);
    if (!node) return root;
    // Counters change with every rpc: the live state is read at the moment of the get.
    return { ...root, [node.jsonName]: decodeValue(this.schema, node, this.state(), STATE_PATH) };
  }

  kill(session: number, by: number): boolean {
    const s = this.sessions.get(session);
    if (!s) return false;
    this.log.info({ session, by }, 'NETCONF session killed');
    s.end(false);
    return true;
  }

  closed(session: NetconfSession, graceful: boolean): void {
    if (!this.sessions.delete(session.id)) return;
    if (!graceful) this.counters.droppedSessions++;
    for (const [ds, lock] of this.locks) {
      if (lock.session !== session.id) continue;
      this.locks.delete(ds);
      // RFC 6241 7.5: a candidate lock released by the session's end discards the candidate.
      if (ds === 'candidate') this.dropCandidate();
    }
    this.log.info({ session: session.id, graceful }, 'NETCONF session closed');
    void this.publish();
  }

  counted(what: 'inRpcs' | 'inBadRpcs' | 'outRpcErrors' | 'outNotifications' | 'inBadHellos'): void {
    this.counters[what]++;
  }

  // ----- monitoring -----

  private state(): Record<string, unknown> {
    return netconfState(this.schema, [...this.sessions.values()].map((s) => s.info), this.locks, this.counters);
  }

  /**
   * Writes netconf-state to the operational datastore (for RESTCONF readers and listeners) when
   * sessions or locks change; one write at a time, each with the state of its moment.
   */
  private publish(): Promise<void> {
    if (!this.schema.roots.has(`${MONITORING}:netconf-state`) || this.opts.publishState === false) return this.publishing;
    this.publishing = this.publishing
      .then(() =>
        retryOnConflict(async () => {
          const tx = this.data.transaction('operational');
          tx.put(STATE_PATH, this.state());
          // RFC 5277's stream list: one stream, replayable from the notification log.
          if (this.schema.roots.has(`${STREAMS_MODULE}:netconf`)) {
            tx.put(`/${STREAMS_MODULE}:netconf`, {
              streams: {
                stream: [{ name: 'NETCONF', description: 'all YANG notifications of the loaded modules', replaySupport: true, replayLogCreationTime: this.counters.startTime.toISOString() }],
              },
            });
          }
          await tx.commit();
        }),
      )
      .catch((e) => this.log.warn({ err: e }, 'could not publish netconf-state'));
    return this.publishing;
  }
}

/**
 * Refuses a channel open with this reason code and description (RFC 4254 5.1), which the client
 * shows (`(SSH) Channel open failure: <description>`). ssh2's own reject sends an empty
 * description and a code of its choosing, so its protocol writer is given ours for that one call
 * (test/netconf/hostile-ssh.test.ts reads the refusal back, so an ssh2 that changes this shows).
 */
function refuseChannel(client: ssh2.Connection, reject: () => void, reason: number, description: string): void {
  const proto = (client as unknown as { _protocol?: { channelOpenFail?: (recipient: number, reason: number, description: string) => void } })._protocol;
  const original = proto?.channelOpenFail;
  if (!proto || typeof original !== 'function') return reject();
  proto.channelOpenFail = (recipient) => original.call(proto, recipient, reason, description);
  try {
    reject();
  } finally {
    delete proto.channelOpenFail; // the prototype's method again
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function readAuthorizedKeys(file: string): ssh2.ParsedKey[] {
  const keys: ssh2.ParsedKey[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#')) continue;
    const parsed = ssh2.utils.parseKey(text);
    if (parsed instanceof Error) throw new Error(`${file}: cannot read key "${text.slice(0, 40)}...": ${parsed.message}`);
    keys.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }
  return keys;
}
