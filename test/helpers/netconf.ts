/**
 * A raw NETCONF client for tests (RFC 6241 over SSH, RFC 6242), on the `ssh2` package: it sends
 * exactly the bytes a test gives it and hands back each message the server sends, so tests can
 * replay scripted exchanges (OpenDaylight CSIT style), send broken framing, or drop the
 * connection without a close-session.
 *
 *   const s = await connect(c.netconf.port, { t });      // server hello read, our hello sent
 *   const r = await s.rpc('<get-config><source><running/></source></get-config>');
 *   r.ok, r.errors, r.data, r.root, r.text
 *   await s.close();                                      // close-session, then the channel ends
 *
 * The session starts in end-of-message framing (`]]>]]>`); when both hellos list base:1.1 (ours
 * does only if asked) it switches to chunked framing, in both directions, as the server does.
 * Replies are parsed with a small namespace-aware reader of its own (saxes), independent of the
 * server's XML code.
 */
import ssh2 from 'ssh2';
import { childrenNamed, parseXml as readXmlDocument, type XmlElement } from '../csit/lib/xml.ts';

export const NC_BASE = 'urn:ietf:params:xml:ns:netconf:base:1.0';
export const BASE_10 = 'urn:ietf:params:netconf:base:1.0';
export const BASE_11 = 'urn:ietf:params:netconf:base:1.1';

const EOM = ']]>]]>';
const DEFAULT_TIMEOUT_MS = 10_000;

// ----- XML -----

/**
 * Replies are read with the CSIT library's reader (test/csit/lib/xml.ts), not the server's codec:
 * the client side checks the server with a parser of its own. `written` holds the attributes as
 * sent (namespace declarations included), which the echoed-attribute checks compare.
 */
export type XmlNode = XmlElement;

/** Parses one XML document (DOCTYPEs refused); throws when it is not well formed. */
export function parseXml(text: string): XmlNode {
  return readXmlDocument(text, { rejectDoctype: true });
}

/** Children of `el` with this local name (and namespace, when given). */
export function childrenOf(el: XmlNode | undefined, name: string, ns?: string): XmlNode[] {
  return el ? childrenNamed(el, name, ns) : [];
}

/** The first child with this local name (and namespace). */
export function childOf(el: XmlNode | undefined, name: string, ns?: string): XmlNode | undefined {
  return childrenOf(el, name, ns)[0];
}

/** Trimmed text of the first child named `name`. */
export function textOf(el: XmlNode | undefined, name: string): string | undefined {
  return childOf(el, name)?.text.trim();
}

// ----- replies -----

export interface RpcError {
  type?: string;
  tag?: string;
  severity?: string;
  appTag?: string;
  path?: string;
  message?: string;
  /** error-info children: name -> trimmed text. */
  info: Record<string, string>;
}

export interface Reply {
  text: string;
  root: XmlNode;
  /** A lone `<ok/>`. */
  ok: boolean;
  errors: RpcError[];
  /** The `<data>` element of get / get-config replies. */
  data?: XmlNode;
}

/** Parses an `<rpc-reply>`. */
export function parseReply(text: string): Reply {
  const root = parseXml(text);
  const errors = childrenOf(root, 'rpc-error', NC_BASE).map((e) => {
    const info: Record<string, string> = {};
    for (const i of childOf(e, 'error-info')?.children ?? []) info[i.name] = i.text.trim();
    return {
      type: textOf(e, 'error-type'),
      tag: textOf(e, 'error-tag'),
      severity: textOf(e, 'error-severity'),
      appTag: textOf(e, 'error-app-tag'),
      path: textOf(e, 'error-path'),
      message: textOf(e, 'error-message'),
      info,
    };
  });
  const ok = root.children.length === 1 && root.children[0].name === 'ok' && root.children[0].ns === NC_BASE;
  return { text, root, ok, errors, data: childOf(root, 'data', NC_BASE) };
}

// ----- the session -----

export interface ConnectOptions {
  host?: string;
  user?: string;
  password?: string;
  /**
   * Capabilities of the hello sent after the server's (default: base:1.0 only, like
   * OpenDaylight's CSIT hello). false: send none, the test sends its own with sendHello/sendRaw.
   */
  hello?: string[] | false;
  /** Default read timeout (ms). */
  timeoutMs?: number;
  /** The session (and its SSH connection) is dropped when this test ends, pass or fail. */
  t?: { teardown(fn: () => unknown): void };
}

type Waiter = { resolve(text: string): void; reject(e: Error): void; timer: NodeJS.Timeout };

export class NetconfTestSession {
  /** The server's hello, as received. */
  hello = '';
  /** Its session-id. */
  sessionId = 0;
  serverCapabilities: string[] = [];
  /** Framing of what we send and expect: switched to chunked by sendHello when both sides have base:1.1. */
  framing: 'eom' | 'chunked' = 'eom';
  /** True once the channel closed (by either side). */
  closed = false;
  /** Resolves when the channel closes. */
  readonly closedPromise: Promise<void>;
  readonly timeoutMs: number;
  private buf = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private readonly queue: string[] = [];
  private readonly waiters: Waiter[] = [];
  private failure?: Error;
  private nextId = 1;
  private markClosed!: () => void;

  constructor(
    private readonly conn: ssh2.Client,
    private readonly channel: ssh2.ClientChannel,
    timeoutMs: number,
  ) {
    this.timeoutMs = timeoutMs;
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve));
    channel.on('data', (d: Buffer) => this.push(d));
    channel.stderr.on('data', () => undefined);
    channel.on('close', () => this.onClose());
    conn.on('close', () => this.onClose());
    conn.on('error', () => this.onClose());
  }

  /** Writes bytes as given (no framing). */
  sendRaw(data: string | Buffer): void {
    if (this.closed) throw new Error('NETCONF session is closed');
    this.channel.write(data);
  }

  /** Stops reading from the channel (the SSH window fills and the server must hold its replies). */
  pauseReading(): void {
    this.channel.pause();
  }

  resumeReading(): void {
    this.channel.resume();
  }

  /** Frames one message in the current framing and sends it. */
  send(message: string): void {
    if (this.framing === 'eom') return this.sendRaw(message + EOM);
    const body = Buffer.from(message);
    this.sendRaw(Buffer.concat([Buffer.from(`\n#${body.length}\n`), body, Buffer.from('\n##\n')]));
  }

  /** Sends our hello (always end-of-message framed); both sides switch to chunked when both have base:1.1. */
  sendHello(capabilities: string[] = [BASE_10]): void {
    const caps = capabilities.map((c) => `<capability>${c}</capability>`).join('');
    this.sendRaw(`<hello xmlns="${NC_BASE}"><capabilities>${caps}</capabilities></hello>${EOM}`);
    if (capabilities.includes(BASE_11) && this.serverCapabilities.includes(BASE_11)) this.framing = 'chunked';
  }

  /** The next complete message from the server; rejects on timeout or when the session ends first. */
  read(timeoutMs = this.timeoutMs): Promise<string> {
    const next = this.queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error(`NETCONF session ${this.sessionId} closed with no further message`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`no NETCONF message within ${timeoutMs} ms (buffered: ${JSON.stringify(this.buf.toString().slice(0, 200))})`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Reads and parses the next message as an rpc-reply. */
  async readReply(timeoutMs?: number): Promise<Reply> {
    return parseReply(await this.read(timeoutMs));
  }

  /**
   * Sends `<rpc xmlns=base message-id=...>body</rpc>` and returns the next message, parsed.
   * attrs are added to `<rpc>` in order; a `message-id` among them replaces the generated one.
   */
  async rpc(body: string, attrs: Record<string, string> = {}, timeoutMs?: number): Promise<Reply> {
    const all: Record<string, string> = { 'message-id': String(this.nextId++), ...attrs };
    const attrText = Object.entries(all)
      .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
      .join('');
    this.send(`<rpc xmlns="${NC_BASE}"${attrText}>${body}</rpc>`);
    return this.readReply(timeoutMs);
  }

  /** Sends close-session, returns its reply and waits until the server ends the channel. */
  async close(timeoutMs = this.timeoutMs): Promise<Reply> {
    const reply = await this.rpc('<close-session/>', {}, timeoutMs);
    await this.waitClosed(timeoutMs);
    this.conn.end();
    return reply;
  }

  /** Resolves when the channel has closed; rejects after the timeout. */
  async waitClosed(timeoutMs = this.timeoutMs): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.closedPromise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`NETCONF session ${this.sessionId} still open after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Drops the SSH connection (TCP included) without a close-session. Safe to call twice. */
  abort(): void {
    this.conn.destroy();
    this.onClose();
  }

  // ----- incoming bytes -----

  private push(data: Buffer): void {
    if (this.failure) return;
    this.buf = Buffer.concat([this.buf, data]);
    try {
      while (this.buf.length && (this.framing === 'eom' || !this.hello ? this.cutEom() : this.cutChunk()));
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private cutEom(): boolean {
    const at = this.buf.indexOf(EOM);
    if (at < 0) return false;
    const text = this.buf.toString('utf8', 0, at);
    this.buf = this.buf.subarray(at + EOM.length);
    if (text.trim()) this.deliver(text);
    return true;
  }

  private cutChunk(): boolean {
    const s = this.buf.toString('latin1', 0, Math.min(this.buf.length, 16));
    if (s.startsWith('\n##\n')) {
      const text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.buf = this.buf.subarray(4);
      this.deliver(text);
      return true;
    }
    const m = /^\n#([1-9][0-9]{0,9})\n/.exec(s);
    if (!m) {
      if (this.buf.length < 13 && /^(\n(#(#|[0-9]{0,10})?)?)?$/.test(s)) return false;
      throw new Error(`bad chunked framing from the server: ${JSON.stringify(s)}`);
    }
    const size = Number(m[1]);
    const start = m[0].length;
    if (this.buf.length < start + size) return false;
    this.chunks.push(this.buf.subarray(start, start + size));
    this.buf = this.buf.subarray(start + size);
    return true;
  }

  private deliver(text: string): void {
    const w = this.waiters.shift();
    if (!w) {
      this.queue.push(text);
      return;
    }
    clearTimeout(w.timer);
    w.resolve(text);
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(e);
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.markClosed();
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error(`NETCONF session ${this.sessionId} closed before a reply`));
    }
  }

  /** Reads the server hello (first thing on the channel). */
  async readHello(): Promise<void> {
    const text = await this.read();
    this.hello = text;
    const root = parseXml(text);
    if (root.name !== 'hello' || root.ns !== NC_BASE) throw new Error(`expected the server's hello, got: ${text.slice(0, 200)}`);
    this.sessionId = Number(textOf(root, 'session-id'));
    this.serverCapabilities = childrenOf(childOf(root, 'capabilities'), 'capability').map((c) => c.text.trim());
  }
}

/** Opens an SSH connection, starts the `netconf` subsystem and exchanges hellos. */
export async function connect(port: number, opts: ConnectOptions = {}): Promise<NetconfTestSession> {
  const conn = new ssh2.Client();
  opts.t?.teardown(() => conn.destroy());
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve);
    conn.once('error', reject);
    conn.connect({
      host: opts.host ?? '127.0.0.1',
      port,
      username: opts.user ?? 'admin',
      password: opts.password ?? 'admin',
      readyTimeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  });
  conn.on('error', () => undefined);
  const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) => {
    conn.subsys('netconf', (err, ch) => (err ? reject(err) : resolve(ch)));
  }).catch((e) => {
    conn.destroy();
    throw e;
  });
  const session = new NetconfTestSession(conn, channel, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    await session.readHello();
  } catch (e) {
    session.abort();
    throw e;
  }
  if (opts.hello !== false) session.sendHello(opts.hello ?? [BASE_10]);
  return session;
}

function escapeAttr(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** Escapes element text. */
export function escapeText(v: string): string {
  return v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
