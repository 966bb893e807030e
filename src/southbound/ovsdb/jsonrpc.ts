/**
 * JSON-RPC 1.0 over a byte stream, as OVSDB (RFC 7047) uses it: messages are bare JSON objects
 * one after another, with no framing, so a streaming scanner finds where each ends (messages split
 * across reads, several in one read, multi-byte UTF-8 cut between reads). A peer that sends
 * something that is not JSON, a message over the size limit, a method we do not serve or an
 * answer to nothing we asked loses its connection; nothing else is affected. A peer that asks
 * (echo) without reading the answers is not read from until it has taken them, so its answers
 * cannot pile up here; one that stays that way is closed by the inactivity probe.
 */
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/**
 * Splits a character stream into top-level JSON values. Each read is scanned once: the pieces
 * of an unfinished message are kept in a list and joined only when it ends, so a large message
 * arriving in many reads costs linear time, and a message over the limit is refused as soon as
 * it passes it.
 */
export class JsonStreamScanner {
  private parts: string[] = [];
  private partsLength = 0;
  private inMessage = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly maxChars: number) {}

  /** Feeds bytes; returns the complete messages they finish. Throws ProtocolError. */
  push(chunk: Buffer): unknown[] {
    const s = this.decoder.write(chunk);
    const out: unknown[] = [];
    let from = 0; // where the current message starts within s
    for (let i = 0; i < s.length; i++) {
      const ch = s.charCodeAt(i);
      if (!this.inMessage) {
        if (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) continue;
        if (ch !== 0x7b /* { */) throw new ProtocolError(`expected a JSON object, got ${JSON.stringify(s[i])}`);
        this.inMessage = true;
        this.depth = 1;
        from = i;
        continue;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === 0x5c /* \ */) this.escaped = true;
        else if (ch === 0x22 /* " */) this.inString = false;
        continue;
      }
      if (ch === 0x22) this.inString = true;
      else if (ch === 0x7b || ch === 0x5b) this.depth++;
      else if ((ch === 0x7d || ch === 0x5d) && --this.depth === 0) {
        if (this.partsLength + (i + 1 - from) > this.maxChars) throw new ProtocolError(`message over ${this.maxChars} characters`);
        const text = this.parts.length ? this.parts.join('') + s.slice(from, i + 1) : s.slice(from, i + 1);
        this.parts = [];
        this.partsLength = 0;
        this.inMessage = false;
        try {
          out.push(JSON.parse(text));
        } catch (e) {
          throw new ProtocolError(`malformed JSON: ${(e as Error).message}`);
        }
      }
    }
    if (this.inMessage) {
      const tail = s.slice(from);
      this.parts.push(tail);
      this.partsLength += tail.length;
      if (this.partsLength > this.maxChars) throw new ProtocolError(`message over ${this.maxChars} characters`);
    }
    return out;
  }
}

export interface JsonRpcOptions {
  maxMessageChars?: number;
  /** Send an echo after this long without traffic; close if it is not answered as long again. */
  probeMs?: number;
  /** Notifications (id null) the peer may send; others close the connection. */
  onNotification?: (method: string, params: unknown) => void;
  onClose?: (reason: string) => void;
}

interface Pending {
  method: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly error: unknown,
  ) {
    super(`${method} failed: ${typeof error === 'string' ? error : JSON.stringify(error)}`);
  }
}

export class JsonRpcPeer {
  private readonly scanner: JsonStreamScanner;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  private lastRx = Date.now();
  private probe: NodeJS.Timeout | undefined;
  private probing = false;
  /** Reading is paused until the peer has taken what we wrote. */
  private held = false;

  constructor(
    readonly socket: Socket,
    private readonly opts: JsonRpcOptions = {},
  ) {
    this.scanner = new JsonStreamScanner(opts.maxMessageChars ?? 16 * 1024 * 1024);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('connection closed'));
    const every = opts.probeMs ?? 5000;
    this.probe = setInterval(() => this.checkIdle(every), Math.max(50, Math.floor(every / 2)));
    this.probe.unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`${method}: connection closed`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.send({ method, params, id });
    });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.probe);
    for (const p of this.pending.values()) p.reject(new Error(`connection closed: ${reason}`));
    this.pending.clear();
    this.socket.destroy();
    this.opts.onClose?.(reason);
  }

  private send(msg: unknown): void {
    if (!this.closed) this.socket.write(JSON.stringify(msg));
  }

  private checkIdle(every: number): void {
    const idle = Date.now() - this.lastRx;
    if (idle >= 2 * every && this.probing) return this.close(`no answer to an inactivity probe in ${every} ms`);
    if (idle >= every && !this.probing) {
      this.probing = true;
      this.request('echo', []).then(
        () => (this.probing = false),
        () => undefined,
      );
    }
  }

  private onData(chunk: Buffer): void {
    this.lastRx = Date.now();
    let messages: unknown[];
    try {
      messages = this.scanner.push(chunk);
    } catch (e) {
      return this.close((e as Error).message);
    }
    for (const m of messages) {
      if (this.closed) return;
      this.dispatch(m as Record<string, unknown>);
    }
    // Past the socket's high-water mark (a read's worth of echo answers, or one large transact)
    // nothing more is read until the peer drains it.
    if (this.socket.writableNeedDrain && !this.held && !this.closed) {
      this.held = true;
      this.socket.pause();
      this.socket.once('drain', () => {
        this.held = false;
        this.socket.resume();
      });
    }
  }

  private dispatch(m: Record<string, unknown>): void {
    if (typeof m.method === 'string') {
      const params = m.params;
      if (m.id === null || m.id === undefined) {
        if (!this.opts.onNotification) return this.close(`unexpected notification ${m.method}`);
        try {
          this.opts.onNotification(m.method, params);
        } catch (e) {
          this.close(`notification ${m.method}: ${(e as Error).message}`);
        }
        return;
      }
      // A switch only ever asks us for echo; anything else is not an OVSDB peer.
      if (m.method === 'echo') return this.send({ result: params ?? [], error: null, id: m.id });
      return this.close(`unknown method ${JSON.stringify(m.method).slice(0, 80)}`);
    }
    if ('result' in m || 'error' in m) {
      const p = typeof m.id === 'number' ? this.pending.get(m.id) : undefined;
      if (!p) return this.close(`an answer to nothing we asked (id ${JSON.stringify(m.id)})`);
      this.pending.delete(m.id as number);
      if (m.error !== null && m.error !== undefined) p.reject(new RpcError(p.method, m.error));
      else p.resolve(m.result);
      return;
    }
    this.close('a message that is neither a request nor a response');
  }
}
