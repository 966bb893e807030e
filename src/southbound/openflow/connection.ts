/**
 * One switch's OpenFlow 1.3 control connection: version negotiation, FEATURES, echo both ways
 * with an inactivity probe, requests matched to replies by xid (multipart replies gathered), and
 * every ERROR logged with its xid and the request it answers. Knows nothing of the datastore:
 * the server (server.ts) decides what to program and publish.
 *
 * A protocol violation (a malformed or oversized message, a version we do not speak, a peer
 * that stops answering, output it will not read) closes this connection only.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  decode,
  encode,
  errorName,
  ERROR_TYPE,
  Framer,
  HELLO_FAILED,
  messageTypeName,
  MSG,
  MULTIPART_REPLY_MORE,
  OFP_VERSION,
  OfDecodeError,
  type FlowMod,
  type FlowStats,
  type FlowStatsRequest,
  type Message,
  type PortDesc,
  type TableStats,
} from './codec.ts';

export interface ConnectionOptions {
  log: Logger;
  /** Idle time after which we send ECHO_REQUEST; as long again without any message closes. */
  probeMs: number;
  /** How long a request (FEATURES, BARRIER, a multipart) may wait for its reply. */
  requestTimeoutMs: number;
  /** Bytes queued for a peer that does not read, past which it is disconnected. */
  maxOutputBytes: number;
  onPortStatus?: (reason: number, port: PortDesc) => void;
  onPacketIn?: (m: Extract<Message, { type: 'packet-in' }>) => void;
  /** An ERROR for a message that was not a request awaiting a reply (a FLOW_MOD, typically). */
  onError?: (xid: number, errType: number, code: number) => void;
}

/** An ERROR from the switch, as a rejection of the request it answers. */
export class OfError extends Error {
  override name = 'OfError';
  constructor(
    readonly xid: number,
    readonly errType: number,
    readonly code: number,
    request: string,
  ) {
    super(`switch answered ${request} (xid ${xid}) with ${errorName(errType, code)}`);
  }
}

interface Pending {
  what: string;
  resolve: (m: Message[]) => void;
  reject: (e: Error) => void;
  parts: Message[];
  timer: NodeJS.Timeout;
}

/** Parts of one multipart reply (each at most 64 KiB: 256 MiB; a 200,000-flow table needs ~350). */
const MAX_REPLY_PARTS = 4096;

/** Requests remembered after they are sent, so an ERROR can name what it answers. */
const SENT_MEMORY = 8192;

export class SwitchConnection {
  /** A HELLO header has arrived (checked as headers come in, before the messages are handled). */
  private sawHello = false;
  private readonly framer = new Framer(undefined, (version, type) => {
    // First a HELLO (of any version: it is what negotiates); every other message OpenFlow 1.3.
    if (type === MSG.HELLO) this.sawHello = true;
    else if (!this.sawHello) throw new OfDecodeError(`${messageTypeName(type)} (version ${version}) before HELLO`);
    else if (version !== OFP_VERSION) throw new OfDecodeError(`message of version ${version} on an OpenFlow 1.3 connection`);
  });
  private readonly pending = new Map<number, Pending>();
  private readonly sent = new Map<number, string>();
  private nextXid = 1;
  private lastHeard = Date.now();
  private probe: NodeJS.Timeout | undefined;
  private echoOutstanding = false;
  private negotiated = false;
  private helloSeen: ((m: Extract<Message, { type: 'hello' }>) => void) | undefined;
  closed = false;
  closeReason = '';
  datapathId: bigint | undefined;
  nTables = 0;
  readonly remote: string;
  private readonly closedFns: ((reason: string) => void)[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('the switch closed the connection'));
  }

  onClosed(fn: (reason: string) => void): void {
    if (this.closed) fn(this.closeReason);
    else this.closedFns.push(fn);
  }

  /** HELLO both ways, then FEATURES: resolves with the datapath id. */
  async handshake(): Promise<bigint> {
    const hello = new Promise<Extract<Message, { type: 'hello' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no HELLO from the switch')), this.opts.requestTimeoutMs);
      this.helloSeen = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      this.onClosed((reason) => {
        clearTimeout(timer);
        reject(new Error(reason));
      });
    });
    this.send({ type: 'hello', xid: this.xid(), version: OFP_VERSION, versions: [OFP_VERSION] });
    const theirs = await hello;
    // §7.5.1: with bitmaps on both sides, the highest common bit; without, the lower version.
    const common = theirs.versions ? theirs.versions.includes(OFP_VERSION) : theirs.version >= OFP_VERSION;
    if (!common) {
      const offered = theirs.versions ? theirs.versions.join(',') : String(theirs.version);
      this.send({ type: 'error', xid: theirs.xid, errType: ERROR_TYPE.HELLO_FAILED, code: HELLO_FAILED.INCOMPATIBLE, data: Buffer.from(`only OpenFlow 1.3 (version 4) is spoken; switch offered ${offered}`) });
      this.close(`no common OpenFlow version (switch offered ${offered})`);
      throw new Error(this.closeReason);
    }
    this.negotiated = true;
    this.armProbe();
    const [features] = await this.request({ type: 'features-request', xid: 0 }, 'FEATURES_REQUEST');
    if (features.type !== 'features-reply') throw new Error(`FEATURES_REQUEST answered with ${features.type}`);
    if (features.auxiliaryId !== 0) {
      this.close('auxiliary connections are not supported');
      throw new Error(this.closeReason);
    }
    this.datapathId = features.datapathId;
    this.nTables = features.nTables;
    return features.datapathId;
  }

  xid(): number {
    const x = this.nextXid;
    this.nextXid = this.nextXid >= 0xfffffffe ? 1 : this.nextXid + 1;
    return x;
  }

  /** Sends without waiting for an answer; returns the xid (an ERROR for it goes to onError). */
  send(m: Message, what?: string): number {
    if (this.closed) return m.xid;
    if (what) {
      this.sent.set(m.xid, what);
      if (this.sent.size > SENT_MEMORY) this.sent.delete(this.sent.keys().next().value!);
    }
    this.socket.write(encode(m));
    if (this.socket.writableLength > this.opts.maxOutputBytes) this.close(`the switch does not read what is sent (${this.socket.writableLength} bytes queued)`);
    return m.xid;
  }

  sendFlowMod(f: FlowMod, what: string): number {
    return this.send({ type: 'flow-mod', xid: this.xid(), ...f }, what);
  }

  /** Sends a request and resolves with its reply (every part of a multipart reply). */
  request(m: Message, what: string): Promise<Message[]> {
    const xid = this.xid();
    const msg = { ...m, xid } as Message;
    return new Promise<Message[]>((resolve, reject) => {
      if (this.closed) return reject(new Error(`connection closed: ${this.closeReason}`));
      const timer = setTimeout(() => {
        this.pending.delete(xid);
        reject(new Error(`${what} (xid ${xid}) got no reply in ${this.opts.requestTimeoutMs} ms`));
        this.close(`${what} (xid ${xid}) got no reply in ${this.opts.requestTimeoutMs} ms`);
      }, this.opts.requestTimeoutMs);
      this.pending.set(xid, { what, resolve, reject, parts: [], timer });
      this.send(msg, what);
    });
  }

  async barrier(): Promise<void> {
    await this.request({ type: 'barrier-request', xid: 0 }, 'BARRIER_REQUEST');
  }

  async portDesc(): Promise<PortDesc[]> {
    const parts = await this.request({ type: 'multipart-request', xid: 0, flags: 0, body: { kind: 'port-desc' } }, 'MULTIPART PORT_DESC');
    return parts.flatMap((p) => (p.type === 'multipart-reply' && p.body.kind === 'port-desc' ? p.body.ports : []));
  }

  async flowStats(req: FlowStatsRequest): Promise<FlowStats[]> {
    const parts = await this.request({ type: 'multipart-request', xid: 0, flags: 0, body: { kind: 'flow', ...req } }, 'MULTIPART FLOW');
    return parts.flatMap((p) => (p.type === 'multipart-reply' && p.body.kind === 'flow' ? p.body.flows : []));
  }

  async tableStats(): Promise<TableStats[]> {
    const parts = await this.request({ type: 'multipart-request', xid: 0, flags: 0, body: { kind: 'table' } }, 'MULTIPART TABLE');
    return parts.flatMap((p) => (p.type === 'multipart-reply' && p.body.kind === 'table' ? p.body.tables : []));
  }

  async role(role: number, generationId: bigint): Promise<number> {
    const [reply] = await this.request({ type: 'role-request', xid: 0, role, generationId }, 'ROLE_REQUEST');
    if (reply.type !== 'role-reply') throw new Error(`ROLE_REQUEST answered with ${reply.type}`);
    return reply.role;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    clearTimeout(this.probe);
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`connection closed: ${reason}`));
    }
    this.pending.clear();
    this.socket.destroy();
    for (const fn of this.closedFns.splice(0)) fn(reason);
  }

  private armProbe(): void {
    clearTimeout(this.probe);
    if (this.closed) return;
    const idle = Date.now() - this.lastHeard;
    if (idle >= this.opts.probeMs) {
      if (this.echoOutstanding) return this.close(`no answer to ECHO_REQUEST in ${this.opts.probeMs} ms`);
      this.echoOutstanding = true;
      this.send({ type: 'echo-request', xid: this.xid(), data: Buffer.alloc(0) });
      this.probe = setTimeout(() => this.armProbe(), this.opts.probeMs);
    } else this.probe = setTimeout(() => this.armProbe(), this.opts.probeMs - idle);
    this.probe.unref();
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let messages: Message[];
    try {
      messages = this.framer.push(chunk).map(decode);
    } catch (e) {
      const reason = e instanceof OfDecodeError ? `malformed message: ${e.message}` : `undecodable message: ${(e as Error).message}`;
      // Say why in the protocol's own terms before hanging up (§7.4.4 BAD_REQUEST).
      if (!this.closed && this.socket.writable) this.socket.write(encode({ type: 'error', xid: 0, errType: ERROR_TYPE.BAD_REQUEST, code: 6, data: Buffer.from(reason.slice(0, 64)) }));
      this.close(reason);
      return;
    }
    this.lastHeard = Date.now();
    this.echoOutstanding = false;
    for (const m of messages) {
      if (this.closed) return;
      this.handle(m);
    }
  }

  private handle(m: Message): void {
    if (m.type === 'hello') {
      if (this.helloSeen) {
        const seen = this.helloSeen;
        this.helloSeen = undefined;
        seen(m);
      }
      return;
    }
    if (!this.negotiated) return this.close(`${m.type} before version negotiation`);
    switch (m.type) {
      case 'echo-request':
        this.send({ type: 'echo-reply', xid: m.xid, data: m.data });
        return;
      case 'echo-reply':
        return;
      case 'error': {
        const what = this.pending.get(m.xid)?.what ?? this.sent.get(m.xid) ?? 'an unknown request';
        // The first 64 bytes of the offending request come back in data: its type names it.
        const echoed = m.data.length >= 2 ? messageTypeName(m.data[1]) : '';
        this.opts.log.warn({ xid: m.xid, error: errorName(m.errType, m.code), request: what, echoed, dpid: this.datapathId?.toString() }, `openflow: switch ${this.datapathId ?? this.remote} rejected ${what} (xid ${m.xid}): ${errorName(m.errType, m.code)}`);
        const p = this.pending.get(m.xid);
        if (p) {
          this.pending.delete(m.xid);
          clearTimeout(p.timer);
          p.reject(new OfError(m.xid, m.errType, m.code, p.what));
        } else this.opts.onError?.(m.xid, m.errType, m.code);
        return;
      }
      case 'port-status':
        this.opts.onPortStatus?.(m.reason, m.port);
        return;
      case 'packet-in':
        this.opts.onPacketIn?.(m);
        return;
      default: {
        const p = this.pending.get(m.xid);
        if (!p) return;
        p.parts.push(m);
        // A reply that never ends (MORE set for ever) would grow without bound.
        if (p.parts.length > MAX_REPLY_PARTS) {
          this.close(`${p.what}: more than ${MAX_REPLY_PARTS} parts in one multipart reply`);
          return;
        }
        if (m.type === 'multipart-reply' && m.flags & MULTIPART_REPLY_MORE) return;
        this.pending.delete(m.xid);
        this.sent.delete(m.xid);
        clearTimeout(p.timer);
        p.resolve(p.parts);
      }
    }
  }
}
