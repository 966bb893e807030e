/**
 * One NETCONF session (RFC 6241) on an SSH channel: the hello exchange and framing switch, then
 * `<rpc>` messages answered in order with `<rpc-reply>`. Base operations act on the same
 * datastore transactions as RESTCONF; any other element is a YANG rpc of a loaded module, called
 * through the rpc registry; create-subscription (RFC 5277) streams the platform's notifications.
 * Everything a session shares with others (the candidate, locks, the session table) lives in
 * the server (`SessionHost`).
 */
import type { Datastore, Transaction } from '../../datastore/datastore.ts';
import { retryOnConflict } from '../../datastore/datastore.ts';
import { asYangError, YangError } from '../../errors.ts';
import type { YangNotification } from '../../rpc/notifications.ts';
import type { RpcRegistry } from '../../rpc/registry.ts';
import type { DataObject, Schema } from '../../yang/schema.ts';
import { validateTree } from '../../yang/validate.ts';
import { decodeXmlObject, decodeXmlValue, encodeXmlMember, encodeXmlRoot, escapeXml, moduleOfNamespace, readXml, XmlRefused, type XmlElement } from '../../yang/xml.ts';
import { applyEditConfig, parseDefaultOperation, type EditOperation } from './edit.ts';
import { NC_BASE, rpcErrorXml } from './errors.ts';
import { applyFilter, notificationFilter, parseXPathFilter, type DataFilter } from './filter.ts';
import { FrameDecoder, frame } from './framing.ts';
import { capabilities, type SessionInfo } from './monitoring.ts';

export const NC_NOTIFICATION = 'urn:ietf:params:xml:ns:netconf:notification:1.0';
const NC_MANAGE_EVENT = 'urn:ietf:params:xml:ns:netmod:notification';
const BASE_11 = 'urn:ietf:params:netconf:base:1.1';
const BASE_10 = 'urn:ietf:params:netconf:base:1.0';

export type DatastoreName = 'running' | 'candidate';

/** What a session needs from the server it belongs to. */
export interface SessionHost {
  schema: Schema;
  data: Datastore;
  rpc: RpcRegistry;
  subscribeNotifications(handler: (n: YangNotification) => void): () => void;
  replayNotifications(start: Date, stop?: Date): YangNotification[];
  /** The shared candidate, rebased on the latest running; created when `create`. */
  candidate(create: true): Transaction;
  candidate(create: false): Transaction | undefined;
  dropCandidate(): void;
  lockHolder(ds: DatastoreName): number | undefined;
  lock(ds: DatastoreName, session: number): void;
  unlock(ds: DatastoreName, session: number): void;
  /** The operational tree NETCONF `get` reads (with live netconf-state). */
  operationalRoot(): DataObject;
  kill(session: number, by: number): boolean;
  closed(session: NetconfSession, graceful: boolean): void;
  counted(what: 'inRpcs' | 'inBadRpcs' | 'outRpcErrors' | 'outNotifications' | 'inBadHellos'): void;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
}

/** The byte stream a session talks over (an ssh2 channel). */
export interface Channel {
  write(data: Buffer): boolean;
  end(): void;
  pause(): unknown;
  resume(): unknown;
  on(event: 'data', fn: (d: Buffer) => void): unknown;
  on(event: 'close' | 'drain', fn: () => void): unknown;
  once(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}

/**
 * Flow control: past this many rpcs received and not yet answered, the session stops reading
 * until it is down to RESUME_AT; and no rpc is started while the client is not reading its
 * replies. A client that floods without reading holds a bounded amount of memory.
 */
const PAUSE_AT = 64;
const RESUME_AT = 16;

interface Reply {
  body: string;
  /** Runs after the reply is written (notification replay, closing the session). */
  after?: () => void;
}

interface Subscription {
  stop(): void;
}

export class NetconfSession {
  readonly info: SessionInfo;
  private readonly decoder: FrameDecoder;
  private helloDone = false;
  private ended = false;
  private work: Promise<void> = Promise.resolve();
  private subscription?: Subscription;
  private idleTimer?: NodeJS.Timeout;
  /** Rpcs received and not yet answered. */
  private pending = 0;
  /** The last write filled the channel's buffer: the client is not reading fast enough. */
  private congested = false;

  constructor(
    private readonly host: SessionHost,
    private readonly channel: Channel,
    id: number,
    username: string,
    sourceHost: string,
    private readonly opts: { maxMessage: number; idleTimeoutMs: number },
  ) {
    this.info = { id, username, sourceHost, loginTime: new Date(), inRpcs: 0, inBadRpcs: 0, outRpcErrors: 0, outNotifications: 0 };
    this.decoder = new FrameDecoder(opts.maxMessage, (text) => this.message(text));
    channel.on('data', (d) => {
      try {
        this.decoder.push(d);
      } catch (e) {
        // Bad framing or a message past the size limit: say why, then end this session only.
        this.send(`<rpc-reply xmlns="${NC_BASE}">${rpcErrorXml(asYangError(e), this.host.schema)}</rpc-reply>`);
        this.end(false);
      }
    });
    channel.on('close', () => this.end(false));
    channel.on('drain', () => (this.congested = false));
    this.send(
      `<hello xmlns="${NC_BASE}"><capabilities>${capabilities(host.schema)
        .map((c) => `<capability>${escapeXml(c)}</capability>`)
        .join('')}</capabilities><session-id>${id}</session-id></hello>`,
    );
    this.touch();
  }

  get id(): number {
    return this.info.id;
  }

  /** Ends the session (close-session, kill-session, idle timeout, transport loss). */
  end(graceful: boolean): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.idleTimer);
    this.subscription?.stop();
    this.subscription = undefined;
    this.host.closed(this, graceful);
    this.channel.end();
  }

  private touch(): void {
    if (!this.opts.idleTimeoutMs) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      // A subscription keeps a session busy on purpose: it is not idle.
      if (this.subscription) return this.touch();
      this.host.log.info({ session: this.id }, 'NETCONF session idle: closing it');
      this.end(false);
    }, this.opts.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private send(text: string): void {
    if (this.ended) return;
    this.congested = !this.channel.write(frame(text, this.decoder.framing));
  }

  /** Called by the decoder for each complete message, in order. */
  private message(text: string): void {
    if (this.ended) return;
    this.touch();
    if (!this.helloDone) {
      // Synchronous: the framing may switch before the decoder cuts the next message.
      this.hello(text);
      return;
    }
    if (++this.pending === PAUSE_AT) this.channel.pause();
    this.work = this.work
      .then(() => this.drained())
      .then(() => this.rpc(text))
      .catch((e) => this.host.log.warn({ err: e, session: this.id }, 'NETCONF message handling failed'))
      .finally(() => {
        if (--this.pending === RESUME_AT && !this.ended) this.channel.resume();
      });
  }

  /** Resolves once the client has read enough of the replies already written. */
  private drained(): Promise<void> | undefined {
    if (!this.congested || this.ended) return undefined;
    return new Promise((resolve) => {
      const done = () => {
        this.channel.off('drain', done);
        this.channel.off('close', done);
        resolve();
      };
      this.channel.once('drain', done);
      this.channel.once('close', done);
    });
  }

  private hello(text: string): void {
    let caps: string[] = [];
    try {
      const [root] = readXml(text);
      if (root.name !== 'hello' || root.ns !== NC_BASE) throw new Error(`expected <hello>, got <${root.name}>`);
      if (root.children.some((c) => c.name === 'session-id')) throw new Error('a client hello carries no session-id');
      caps = root.children.filter((c) => c.name === 'capabilities').flatMap((c) => c.children.filter((x) => x.name === 'capability').map((x) => x.text.trim()));
      if (!caps.includes(BASE_10) && !caps.includes(BASE_11)) throw new Error('no common base capability');
    } catch (e) {
      this.host.counted('inBadHellos');
      this.host.log.warn({ session: this.id, reason: (e as Error).message }, 'bad NETCONF hello: closing the session');
      this.end(false);
      return;
    }
    this.helloDone = true;
    if (caps.includes(BASE_11)) this.decoder.framing = 'chunked';
  }

  private async rpc(text: string): Promise<void> {
    let root: XmlElement;
    try {
      [root] = readXml(text);
    } catch (e) {
      this.counted('inBadRpcs');
      // A well-formed rpc refused for its size (a filter nested too deep) keeps its message-id.
      const rpc = e instanceof XmlRefused ? e.roots[0] : undefined;
      const attrs = rpc && rpc.name === 'rpc' && rpc.ns === NC_BASE ? echoedAttributes(rpc) : `xmlns="${NC_BASE}"`;
      return this.reply(attrs, { body: rpcErrorXml(asYangError(e), this.host.schema) }, true);
    }
    const attrs = echoedAttributes(root);
    if (root.name !== 'rpc' || root.ns !== NC_BASE) {
      this.counted('inBadRpcs');
      const e = new YangError({ tag: 'malformed-message', type: 'rpc', message: `expected <rpc>, got <${root.name}>`, info: { 'bad-element': root.name } });
      return this.reply(attrs, { body: rpcErrorXml(e, this.host.schema) }, true);
    }
    if (!root.attrs.has('message-id')) {
      this.counted('inBadRpcs');
      // OpenDaylight's wording (its CSIT compares the whole reply); error-info says which attribute.
      const e = new YangError({ tag: 'missing-attribute', type: 'rpc', message: 'Missing attribute rpc', info: { 'bad-attribute': 'message-id', 'bad-element': 'rpc' } });
      return this.reply(attrs, { body: rpcErrorXml(e, this.host.schema) }, true);
    }
    this.counted('inRpcs');
    const ops = root.children;
    let reply: Reply;
    try {
      if (ops.length !== 1) throw new YangError({ tag: ops.length ? 'malformed-message' : 'missing-element', type: 'rpc', message: ops.length ? 'an rpc holds exactly one operation' : 'the rpc names no operation' });
      reply = await this.operation(ops[0]);
    } catch (e) {
      return this.reply(attrs, { body: rpcErrorXml(asYangError(e), this.host.schema) }, true);
    }
    this.reply(attrs, reply, false);
  }

  private reply(attrs: string, reply: Reply, error: boolean): void {
    if (error) this.counted('outRpcErrors');
    this.send(`<rpc-reply ${attrs}>${reply.body}</rpc-reply>`);
    reply.after?.();
  }

  private counted(what: 'inRpcs' | 'inBadRpcs' | 'outRpcErrors' | 'outNotifications'): void {
    this.info[what]++;
    this.host.counted(what);
  }

  // ----- operations -----

  private async operation(op: XmlElement): Promise<Reply> {
    if (op.ns === NC_BASE) {
      switch (op.name) {
        case 'get':
          return { body: this.dataReply(this.host.operationalRoot(), op, 'all') };
        case 'get-config':
          return { body: this.dataReply(this.datastoreRoot(this.datastoreArg(op, 'source')), op, 'config') };
        case 'edit-config':
          return this.editConfig(op);
        case 'copy-config':
          return this.copyConfig(op);
        case 'delete-config':
          return this.deleteConfig(op);
        case 'lock':
          this.host.lock(this.datastoreArg(op, 'target'), this.id);
          return OK;
        case 'unlock':
          this.host.unlock(this.datastoreArg(op, 'target'), this.id);
          return OK;
        case 'commit':
          return this.commit(op);
        case 'discard-changes':
          this.checkLock('candidate');
          this.host.dropCandidate();
          return OK;
        case 'validate':
          return this.validate(op);
        case 'close-session':
          return { body: '<ok/>', after: () => this.end(true) };
        case 'kill-session':
          return this.killSession(op);
        default:
          throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: `operation "${op.name}" is not supported`, info: { 'bad-element': op.name } });
      }
    }
    if (op.ns === NC_NOTIFICATION && op.name === 'create-subscription') return this.createSubscription(op);
    return this.yangRpc(op);
  }

  /** `<source>`/`<target>` naming running or candidate. */
  private datastoreArg(op: XmlElement, which: 'source' | 'target'): DatastoreName {
    const arg = parameter(op, which);
    if (!arg) throw new YangError({ tag: 'missing-element', type: 'protocol', message: `<${op.name}> needs a <${which}>`, info: { 'bad-element': which } });
    const [ds] = arg.children;
    if (!ds) throw new YangError({ tag: 'missing-element', type: 'protocol', message: `<${which}> names no datastore`, info: { 'bad-element': which } });
    checkNamespace(arg, ds);
    if (ds.name === 'running' || ds.name === 'candidate') return ds.name;
    if (ds.name === 'startup' || ds.name === 'url') {
      throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: `the ${ds.name} datastore is not supported (no :startup or :url capability)`, info: { 'bad-element': ds.name } });
    }
    throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unknown datastore "${ds.name}"`, info: { 'bad-element': ds.name } });
  }

  private datastoreRoot(ds: DatastoreName): DataObject {
    if (ds === 'running') return this.host.data.snapshot('config').root;
    return this.host.candidate(false)?.workingRoot() ?? this.host.data.snapshot('config').root;
  }

  private dataReply(root: DataObject, op: XmlElement, content: 'all' | 'config'): string {
    const filterEl = parameter(op, 'filter');
    let tree = root;
    if (filterEl) tree = applyFilter(this.host.schema, root, this.filterOf(filterEl));
    const inner = encodeXmlRoot(this.host.schema, tree, content === 'config' ? { content: 'config' } : {});
    return inner ? `<data>${inner}</data>` : '<data/>';
  }

  private filterOf(filterEl: XmlElement): DataFilter {
    const type = filterEl.attrs.get('type') ?? filterEl.attrs.get(`{${NC_BASE}}type`) ?? 'subtree';
    if (type === 'subtree') return { type: 'subtree', elements: filterEl.children };
    if (type === 'xpath') {
      const select = filterEl.attrs.get('select') ?? filterEl.attrs.get(`{${NC_BASE}}select`);
      if (select === undefined) throw new YangError({ tag: 'missing-attribute', type: 'protocol', message: 'an xpath filter needs a select attribute', info: { 'bad-attribute': 'select', 'bad-element': 'filter' } });
      return parseXPathFilter(this.host.schema, select, filterEl.scope);
    }
    throw new YangError({ tag: 'bad-attribute', type: 'protocol', message: `unknown filter type "${type}"`, info: { 'bad-attribute': 'type', 'bad-element': 'filter' } });
  }

  /** Another session's lock on `ds` refuses this session's change. */
  private checkLock(ds: DatastoreName): void {
    const holder = this.host.lockHolder(ds);
    if (holder !== undefined && holder !== this.id) {
      throw new YangError({ tag: 'lock-denied', type: 'protocol', message: `the ${ds} datastore is locked by session ${holder}`, info: { 'session-id': String(holder) } });
    }
  }

  private async editConfig(op: XmlElement): Promise<Reply> {
    const target = this.datastoreArg(op, 'target');
    const defaultOp = parseDefaultOperation(parameter(op, 'default-operation')?.text);
    const testOption = (parameter(op, 'test-option')?.text ?? 'test-then-set').trim();
    if (!['test-then-set', 'set', 'test-only'].includes(testOption)) {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unknown test-option "${testOption}"`, info: { 'bad-element': 'test-option' } });
    }
    const errorOption = (parameter(op, 'error-option')?.text ?? 'stop-on-error').trim();
    if (errorOption === 'continue-on-error') {
      // Every edit-config is atomic here; applying half of one is not offered.
      throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: 'continue-on-error is not supported: edits are all-or-nothing', info: { 'bad-element': 'error-option' } });
    }
    if (errorOption !== 'stop-on-error' && errorOption !== 'rollback-on-error') {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unknown error-option "${errorOption}"`, info: { 'bad-element': 'error-option' } });
    }
    const config = parameter(op, 'config');
    if (!config) {
      if (parameter(op, 'url')) throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: 'edit-config from a url is not supported (no :url capability)', info: { 'bad-element': 'url' } });
      throw new YangError({ tag: 'missing-element', type: 'protocol', message: 'edit-config needs a <config>', info: { 'bad-element': 'config' } });
    }
    this.checkLock(target);
    if (target === 'candidate') {
      this.editCandidate((tx) => applyEditConfig(this.host.schema, tx, config.children, defaultOp), testOption === 'test-only');
      return OK;
    }
    return this.writeRunning((tx) => applyEditConfig(this.host.schema, tx, config.children, defaultOp), testOption === 'test-only');
  }

  /** Applies one request's edits to the candidate, all or nothing. */
  private editCandidate(edit: (tx: Transaction) => void, testOnly: boolean): void {
    const tx = this.host.candidate(true);
    const savepoint = tx.savepoint();
    let keep = false;
    try {
      edit(tx);
      if (testOnly) validateTree(this.host.schema, tx.workingRoot(), { configOnly: true });
      keep = !testOnly;
    } finally {
      // A failed edit leaves nothing behind; test-only never keeps what it tried.
      if (!keep) tx.rollbackTo(savepoint);
    }
  }

  /** Applies one request's edits to running in one transaction (validated on commit). */
  private async writeRunning(edit: (tx: Transaction) => void, testOnly: boolean): Promise<Reply> {
    await retryOnConflict(async () => {
      const tx = this.host.data.transaction('config');
      try {
        edit(tx);
      } catch (e) {
        tx.cancel();
        throw e;
      }
      if (testOnly) {
        try {
          validateTree(this.host.schema, tx.workingRoot(), { configOnly: true });
        } finally {
          tx.cancel();
        }
        return;
      }
      await tx.commit();
    });
    return OK;
  }

  private async commit(op: XmlElement): Promise<Reply> {
    if (parameter(op, 'confirmed') || parameter(op, 'persist-id')) {
      throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: 'confirmed commit is not supported (no :confirmed-commit capability)', info: { 'bad-element': 'confirmed' } });
    }
    this.checkLock('running');
    this.checkLock('candidate');
    const tx = this.host.candidate(false);
    // Nothing to commit is a successful commit (OpenDaylight CSIT relies on it).
    if (!tx || tx.empty) {
      this.host.dropCandidate();
      return OK;
    }
    await retryOnConflict(async () => {
      await this.host.candidate(true).commit();
    });
    this.host.dropCandidate();
    return OK;
  }

  private validate(op: XmlElement): Reply {
    const source = parameter(op, 'source');
    const inline = source && parameter(source, 'config');
    if (inline) {
      const tx = this.host.data.transaction('config');
      try {
        replaceAll(this.host.schema, tx, inline.children);
        validateTree(this.host.schema, tx.workingRoot(), { configOnly: true });
      } finally {
        tx.cancel();
      }
      return OK;
    }
    validateTree(this.host.schema, this.datastoreRoot(this.datastoreArg(op, 'source')), { configOnly: true });
    return OK;
  }

  private async copyConfig(op: XmlElement): Promise<Reply> {
    const target = this.datastoreArg(op, 'target');
    const source = parameter(op, 'source');
    const inline = source && parameter(source, 'config');
    this.checkLock(target);
    if (inline) {
      const edit = (tx: Transaction) => replaceAll(this.host.schema, tx, inline.children);
      if (target === 'candidate') {
        this.editCandidate(edit, false);
        return OK;
      }
      return this.writeRunning(edit, false);
    }
    const from = this.datastoreArg(op, 'source');
    if (from === target) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `copy-config from ${from} to itself`, info: { 'bad-element': 'target' } });
    // candidate -> running is a commit; running -> candidate resets the candidate.
    if (target === 'running') return this.commit(op);
    this.host.dropCandidate();
    return OK;
  }

  private deleteConfig(op: XmlElement): Reply {
    const target = this.datastoreArg(op, 'target');
    if (target === 'running') throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: 'the running datastore cannot be deleted (RFC 6241 7.4)', info: { 'bad-element': 'running' } });
    this.checkLock(target);
    this.editCandidate((tx) => replaceAll(this.host.schema, tx, []), false);
    return OK;
  }

  private killSession(op: XmlElement): Reply {
    const text = parameter(op, 'session-id')?.text.trim();
    const id = Number(text);
    if (!text || !Number.isInteger(id) || id < 1) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `bad session-id "${text ?? ''}"`, info: { 'bad-element': 'session-id' } });
    if (id === this.id) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: 'a session cannot kill itself: use close-session', info: { 'bad-element': 'session-id' } });
    if (!this.host.kill(id, this.id)) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `no session ${id}`, info: { 'bad-element': 'session-id' } });
    return OK;
  }

  private async yangRpc(op: XmlElement): Promise<Reply> {
    const schema = this.host.schema;
    const module = op.ns ? moduleOfNamespace(schema, op.ns) : undefined;
    if (!module) {
      throw new YangError({ tag: 'unknown-namespace', type: 'protocol', message: `unknown namespace "${op.ns}" of operation "${op.name}"`, info: { 'bad-element': op.name, 'bad-namespace': op.ns } });
    }
    const name = `${module}:${op.name}`;
    const node = schema.rpcs.get(name);
    if (!node) throw new YangError({ tag: 'operation-not-supported', type: 'protocol', message: `no rpc "${op.name}" in module ${module}`, info: { 'bad-element': op.name } });
    const inputNode = node.children.find((c) => c.kind === 'input')!;
    const input = decodeXmlObject(schema, inputNode, op.children, `/${name}/input`);
    const output = await this.host.rpc.invokeDecoded(name, input);
    const outputNode = node.children.find((c) => c.kind === 'output')!;
    if (!output || !Object.keys(output).length) return OK;
    let body = '';
    // Output parameters sit directly in <rpc-reply>, each in its module's namespace.
    for (const [member, value] of Object.entries(output)) {
      const child = outputNode.dataChildren.get(member);
      if (child) body += encodeXmlMember(schema, child, value, undefined);
    }
    return { body };
  }

  // ----- notifications (RFC 5277) -----

  private createSubscription(op: XmlElement): Reply {
    const schema = this.host.schema;
    if (this.subscription) throw new YangError({ tag: 'in-use', type: 'protocol', message: 'this session already has a subscription', info: { 'bad-element': 'create-subscription' } });
    const inputNode = schema.rpcs.get('notifications:create-subscription')?.children.find((c) => c.kind === 'input');
    const stream = parameter(op, 'stream')?.text.trim() ?? 'NETCONF';
    if (stream !== 'NETCONF') throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unknown stream "${stream}": only NETCONF`, info: { 'bad-element': 'stream' } });
    const time = (name: string): Date | undefined => {
      const el = parameter(op, name);
      if (!el) return undefined;
      const leaf = inputNode?.dataChildren.get(name);
      // Checked against the module's date-and-time type when the module is loaded.
      if (leaf) decodeXmlValue(schema, leaf, el, `/notifications:create-subscription/input/${name}`);
      const d = new Date(el.text.trim());
      if (Number.isNaN(d.getTime())) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `${name} "${el.text.trim()}" is not a date-and-time`, info: { 'bad-element': name } });
      return d;
    };
    const start = time('startTime');
    const stop = time('stopTime');
    const now = new Date();
    if (stop && !start) throw new YangError({ tag: 'missing-element', type: 'protocol', message: 'stopTime needs a startTime', info: { 'bad-element': 'startTime' } });
    if (start && start > now) throw new YangError({ tag: 'bad-element', type: 'protocol', message: 'startTime is in the future', info: { 'bad-element': 'startTime' } });
    if (start && stop && stop < start) throw new YangError({ tag: 'bad-element', type: 'protocol', message: 'stopTime is before startTime', info: { 'bad-element': 'stopTime' } });
    const filterEl = parameter(op, 'filter');
    const filter = filterEl ? this.filterOf(filterEl) : undefined;

    const deliver = (n: YangNotification) => {
      const node = schema.notifications.get(n.name)!;
      const body = filter ? notificationFilter(schema, node, n.body, filter) : n.body;
      if (!body) return;
      this.counted('outNotifications');
      this.send(`<notification xmlns="${NC_NOTIFICATION}"><eventTime>${n.eventTime.toISOString()}</eventTime>${encodeXmlMember(schema, node, body, undefined)}</notification>`);
    };
    const event = (name: string) => {
      this.send(`<notification xmlns="${NC_NOTIFICATION}"><eventTime>${new Date().toISOString()}</eventTime><${name} xmlns="${NC_MANAGE_EVENT}"/></notification>`);
    };
    let unsubscribe: () => void = () => undefined;
    let stopTimer: NodeJS.Timeout | undefined;
    const finish = () => {
      unsubscribe();
      clearTimeout(stopTimer);
      if (this.subscription === sub) this.subscription = undefined;
    };
    const sub: Subscription = { stop: finish };
    this.subscription = sub;
    return {
      body: '<ok/>',
      after: () => {
        if (start) {
          for (const n of this.host.replayNotifications(start, stop)) deliver(n);
          event('replayComplete');
        }
        if (stop && stop <= new Date()) {
          event('notificationComplete');
          finish();
          return;
        }
        unsubscribe = this.host.subscribeNotifications((n) => {
          if (stop && n.eventTime > stop) return;
          deliver(n);
        });
        if (stop) {
          stopTimer = setTimeout(() => {
            event('notificationComplete');
            finish();
          }, stop.getTime() - Date.now());
        }
      },
    };
  }
}

const OK: Reply = { body: '<ok/>' };

/**
 * The parameter `name` of an operation: in the base namespace, in the operation's own, or in
 * none. Real clients write them without a namespace inside a prefixed rpc (ncclient's
 * `<config xmlns:xc="urn:ietf:params:xml:ns:netconf:base:1.0">` idiom, `<filter>`/`<source>`
 * strings it passes through); OpenDaylight, ConfD, Junos and IOS XR accept them. One in a
 * foreign namespace is refused rather than taken for NETCONF's or ignored.
 */
function parameter(op: XmlElement, name: string): XmlElement | undefined {
  let foreign: XmlElement | undefined;
  for (const c of op.children) {
    if (c.name !== name) continue;
    if (isOwnNamespace(op, c)) return c;
    foreign ??= c;
  }
  if (foreign) checkNamespace(op, foreign);
  return undefined;
}

function isOwnNamespace(op: XmlElement, el: XmlElement): boolean {
  return el.ns === NC_BASE || el.ns === op.ns || el.ns === '';
}

/** RFC 6241 appendix A: an element in a namespace the operation does not expect is unknown-namespace. */
function checkNamespace(op: XmlElement, el: XmlElement): void {
  if (isOwnNamespace(op, el)) return;
  throw new YangError({
    tag: 'unknown-namespace',
    type: 'protocol',
    message: `<${el.name}> in <${op.name}> is in namespace "${el.ns}", not NETCONF's`,
    info: { 'bad-element': el.name, 'bad-namespace': el.ns },
  });
}

/** Replaces a datastore's whole configuration by `config` (copy-config, delete-config, validate). */
function replaceAll(schema: Schema, tx: Transaction, config: XmlElement[]): void {
  for (const [member, node] of schema.roots) {
    if (node.config && tx.exists([{ schema: node, member }])) tx.delete([{ schema: node, member }]);
  }
  applyEditConfig(schema, tx, config, 'replace' as EditOperation);
}

/** The `<rpc>` element's attributes and namespace declarations, to be echoed on the reply. */
function echoedAttributes(root: XmlElement): string {
  const parts = [`xmlns="${NC_BASE}"`];
  const prefixOf = new Map<string, string>();
  for (const [prefix, uri] of root.scope) {
    if (!prefix) continue;
    prefixOf.set(uri, prefix);
    parts.push(`xmlns:${prefix}="${escapeXml(uri)}"`);
  }
  for (const [key, value] of root.attrs) {
    const m = /^\{(.*)\}(.*)$/.exec(key);
    const name = m ? (prefixOf.has(m[1]) ? `${prefixOf.get(m[1])}:${m[2]}` : undefined) : key;
    if (name) parts.push(`${name}="${escapeXml(value)}"`);
  }
  return parts.join(' ');
}
