/**
 * An etcd backend (npm `etcd3`, etcd v3 API): one store = one key prefix on a shared etcd, so
 * several Sextant instances (and several clusters, and both stores) can use one etcd.
 *
 * Layout under the store's prefix `P` (e.g. `/sextant/config`): a datastore key `/a/b` is the etcd
 * key `P/a/b` (datastore keys always start with '/'), and `P\0rev` is the reserved revision key.
 *
 * Store revision: etcd's own revision is global (every prefix, every cluster on the etcd bumps
 * it), so the store keeps its own. EVERY write txn also puts `P\0rev`, and etcd's per-key `version`
 * of that key counts how often it was put: that is the store revision, bumped atomically inside the
 * txn with no compare, so concurrent unconditional writers never conflict yet get strictly
 * sequential revisions. `expectRevision` is a compare on that version (0 also holds for the key not
 * existing yet). Guards (`WriteOptions.guards`) compare data keys' `mod_revision` instead, so writers
 * on disjoint keys both succeed.
 *
 * Each write is ONE etcd Txn (all or nothing). etcd refuses a txn with two ops on one key, so a
 * write is reduced to its final op per key first (same effect). etcd also refuses txns over
 * `--max-txn-ops` (default 128) and requests over `--max-request-bytes` (default 1.5 MiB): the
 * backend is told the limits etcd was started with (`maxTxnOps`, `maxRequestBytes`) and refuses a
 * larger write itself, naming the flag, instead of splitting it (which would not be atomic).
 *
 * Failures: no client-side retries of a write that may have reached etcd (a retried txn could
 * apply twice); a write is only retried, within `requestTimeoutMs`, when it provably never left
 * (no connection to any member). Reads retry within the same bound.
 */

import {
  Etcd3,
  GRPCUnavailableError,
  isRecoverableError,
  type ICompare,
  type IDuplexStream,
  type IKeyValue,
  type IOptions,
  type IRequestOp,
  type IWatchRequest,
  type IWatchResponse,
} from 'etcd3';
import {
  BackendOpenError,
  type Backend,
  type BackendEntry,
  type BackendEntryWithRevision,
  type BackendOp,
  type BackendWatch,
  type CommitResult,
  type RevisionedList,
  type WatchBatch,
  type WatchHandlers,
  type WriteOptions,
  type WriteResult,
} from './backend.ts';

/** Appended to the store prefix for the revision key; '\0' sorts before '/', outside every data key. */
export const REVISION_KEY_SUFFIX = '\u0000rev';

/** etcd's own defaults; raise both here and on etcd (same values) for large commits. */
export const ETCD_DEFAULT_MAX_TXN_OPS = 128;
export const ETCD_DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

export interface EtcdBackendOptions {
  /** Client URLs of the etcd members, e.g. `['http://127.0.0.1:2379']`. */
  endpoints: string[];
  /** The store's key prefix, `/<cluster-name>/<store>`: starts with '/', no trailing '/'. */
  prefix: string;
  /** Bound on one request including its retries (ms); a write with etcd unreachable fails after it. Default 5000. */
  requestTimeoutMs?: number;
  /** Bound on reaching etcd at open (ms). Default 5000. */
  dialTimeoutMs?: number;
  /** etcd's `--max-txn-ops`: the most ops (keys written + guards) one write may have. */
  maxTxnOps?: number;
  /** etcd's `--max-request-bytes`: the largest write, estimated from its keys and values. */
  maxRequestBytes?: number;
}

/** etcd's answers to a txn beyond --max-txn-ops or --max-request-bytes (checked before it is applied). */
const ETCD_REFUSED_AS_TOO_LARGE = /etcdserver: (too many operations in txn request|request is too large)|received message larger than max/i;
/** Protobuf framing per op in the size estimate: tags and varint lengths, generously rounded up. */
const OP_OVERHEAD_BYTES = 24;
/** After a connection failure a member is skipped for this long, so requests go to the others. */
const MEMBER_COOLDOWN_MS = 250;
const RETRY_MIN_MS = 20;
const RETRY_MAX_MS = 250;
const WATCH_BACKOFF_MIN_MS = 50;
const WATCH_BACKOFF_MAX_MS = 1000;

/**
 * The key prefix of one store of one cluster, `/<cluster-name>/<store>`. A name with '/' is
 * refused: cluster `a` would otherwise see cluster `a/config`'s keys inside its own store.
 */
export function storePrefix(clusterName: string, store: string): string {
  for (const [what, name] of [
    ['cluster name', clusterName],
    ['store name', store],
  ] as const) {
    if (name === '' || /[/\u0000]/.test(name)) throw new TypeError(`etcd ${what} ${JSON.stringify(name)} must be non-empty, without '/' or NUL`);
  }
  return `/${clusterName}/${store}`;
}

export class EtcdBackend implements Backend {
  readonly kind = 'etcd';
  readonly location: string;

  readonly endpoints: readonly string[];
  readonly prefix: string;
  private readonly revisionKey: Buffer;
  private readonly requestTimeoutMs: number;
  private readonly dialTimeoutMs: number;
  private readonly maxTxnOps: number;
  private readonly maxRequestBytes: number;
  private client: Etcd3 | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly watches = new Set<PrefixWatch>();

  constructor(opts: EtcdBackendOptions) {
    if (!Array.isArray(opts.endpoints) || opts.endpoints.length === 0) throw new TypeError('etcd backend: at least one endpoint is needed');
    if (!opts.prefix.startsWith('/') || opts.prefix.endsWith('/') || opts.prefix.includes('\u0000')) {
      throw new TypeError(`etcd backend: prefix ${JSON.stringify(opts.prefix)} must start with '/', not end with '/' and have no NUL`);
    }
    this.endpoints = [...opts.endpoints];
    this.prefix = opts.prefix;
    this.location = `etcd://${this.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',')}${opts.prefix}`;
    this.revisionKey = Buffer.from(opts.prefix + REVISION_KEY_SUFFIX);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 5000;
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 5000;
    this.maxTxnOps = opts.maxTxnOps ?? ETCD_DEFAULT_MAX_TXN_OPS;
    this.maxRequestBytes = opts.maxRequestBytes ?? ETCD_DEFAULT_MAX_REQUEST_BYTES;
  }

  async open(): Promise<void> {
    if (this.client) return;
    const client = new Etcd3(clientOptions(this.endpoints));
    try {
      // Any linearizable read proves a member with a leader answers.
      await this.retrying(this.dialTimeoutMs, isRetryableRead, (deadline) => client.kv.range({ key: this.revisionKey, keys_only: true }, { deadline }));
    } catch (err) {
      client.close();
      throw new BackendOpenError(`etcd unreachable at ${this.endpoints.join(',')}: ${firstLine(err)}`, 'unavailable');
    }
    this.client = client;
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([...this.watches].map((w) => w.close()));
    this.client = undefined;
    client.close();
  }

  async get(key: string): Promise<string | undefined> {
    const client = this.openClient();
    if (!key.startsWith('/')) return undefined;
    const res = await this.read('get', (deadline) => client.kv.range({ key: this.etcdKey(key) }, { deadline }));
    return res.kvs[0]?.value.toString('utf8');
  }

  async list(prefix: string): Promise<BackendEntry[]> {
    return (await this.listWithRevisions(prefix)).entries.map(({ key, value }) => ({ key, value }));
  }

  async listWithRevisions(prefix: string): Promise<RevisionedList> {
    const client = this.openClient();
    // No data key can start with anything but '/'.
    const reads: IRequestOp[] = [{ request_range: { key: this.revisionKey } }];
    if (prefix === '' || prefix.startsWith('/')) reads.push({ request_range: this.dataRange(prefix) });
    // One read-only txn: the entries and the store revision of the same snapshot.
    const res = await this.read('list', (deadline) => client.kv.txn({ success: reads }, { deadline }));
    const revision = versionOf(res.responses[0]!.response_range.kvs[0]);
    const etcdRevision = Number(res.header.revision);
    const entries: BackendEntryWithRevision[] = [];
    let sorted = true;
    for (const kv of res.responses[1]?.response_range.kvs ?? []) {
      const key = kv.key.toString('utf8').slice(this.prefix.length);
      if (sorted && entries.length > 0 && entries[entries.length - 1]!.key > key) sorted = false;
      entries.push({ key, value: kv.value.toString('utf8'), modRevision: Number(kv.mod_revision) });
    }
    // etcd orders by UTF-8 bytes; callers get UTF-16 code-unit order (differs only for astral vs U+E000..U+FFFF).
    if (!sorted) entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { entries, revision, etcdRevision };
  }

  async revision(): Promise<number> {
    const client = this.openClient();
    const res = await this.read('revision', (deadline) => client.kv.range({ key: this.revisionKey }, { deadline }));
    return versionOf(res.kvs[0]);
  }

  async etcdRevision(): Promise<number> {
    const client = this.openClient();
    const res = await this.read('revision', (deadline) => client.kv.range({ key: this.revisionKey, keys_only: true }, { deadline }));
    return Number(res.header.revision);
  }

  async write(ops: BackendOp[], opts: WriteOptions = {}): Promise<WriteResult> {
    const { ok, revision } = await this.commit(ops, opts);
    return { ok, revision } as WriteResult;
  }

  commit(ops: BackendOp[], opts: WriteOptions = {}): Promise<CommitResult> {
    let run: Promise<CommitResult>;
    try {
      run = this.runCommit(this.openClient(), this.txnFor(ops, opts));
    } catch (err) {
      return Promise.reject(err);
    }
    // close() waits for these.
    this.inFlight.add(run);
    const forget = () => this.inFlight.delete(run);
    run.then(forget, forget);
    return run;
  }

  watch(afterEtcdRevision: number, handlers: WatchHandlers): BackendWatch {
    const client = this.openClient();
    const watch = new PrefixWatch(client, this.prefix, afterEtcdRevision, handlers, () => this.watches.delete(watch));
    this.watches.add(watch);
    return watch;
  }

  private txnFor(ops: BackendOp[], opts: WriteOptions) {
    // The final op per key: etcd rejects a txn that touches one key twice, and the effect is the same.
    const finalOps = new Map<string, BackendOp>();
    for (const op of ops) {
      if (op.type !== 'put' && op.type !== 'del') throw new TypeError(`unknown backend op type ${String((op as { type: unknown }).type)}`);
      this.checkKey(op.key);
      finalOps.delete(op.key);
      finalOps.set(op.key, op);
    }
    const compare: ICompare[] = [];
    if (opts.expectRevision !== undefined) {
      compare.push({ key: this.revisionKey, target: 'Version', result: 'Equal', version: opts.expectRevision });
    }
    for (const guard of opts.guards ?? []) {
      this.checkKey(guard.key);
      compare.push({ key: this.etcdKey(guard.key), target: 'Mod', result: 'Equal', mod_revision: guard.modRevision });
    }
    for (const fence of opts.fences ?? []) {
      compare.push({ key: Buffer.from(fence.key), target: 'Create', result: 'Equal', create_revision: fence.createRevision });
    }
    for (const guard of opts.rangeGuards ?? []) {
      this.checkKey(guard.key);
      // etcd compares every key of [key, range_end): all must be older than the snapshot (a key
      // that does not exist has mod_revision 0, so only creations and changes fail it).
      const key = this.etcdKey(guard.key);
      compare.push({ key, ...(guard.prefix ? { range_end: prefixEnd(key) } : {}), target: 'Mod', result: 'Less', mod_revision: guard.notModifiedAfter + 1 });
    }
    let bytes = 0;
    const success: IRequestOp[] = [];
    for (const op of finalOps.values()) {
      const key = this.etcdKey(op.key);
      if (op.type === 'put') {
        const value = Buffer.from(op.value, 'utf8');
        bytes += key.length + value.length + OP_OVERHEAD_BYTES;
        success.push({ request_put: { key, value, ...(op.lease ? { lease: op.lease } : {}) } });
      } else {
        bytes += key.length + OP_OVERHEAD_BYTES;
        success.push({ request_delete_range: { key } });
      }
    }
    // Last, so its response is last: prev_kv's version + 1 is this write's store revision.
    success.push({ request_put: { key: this.revisionKey, value: Buffer.alloc(0), prev_kv: true } });
    bytes += compare.reduce((n, c) => n + (c.key?.length ?? 0) + OP_OVERHEAD_BYTES, 0) + this.revisionKey.length * 2 + OP_OVERHEAD_BYTES * 2;
    const opCount = Math.max(success.length, compare.length);
    if (opCount > this.maxTxnOps) {
      throw new Error(
        `etcd backend: a write of ${success.length} ops and ${compare.length} guards exceeds the ${this.maxTxnOps} ops of one etcd txn; ` +
          `start etcd with a larger --max-txn-ops and give the backend the same maxTxnOps`,
      );
    }
    if (bytes > this.maxRequestBytes) {
      throw new Error(
        `etcd backend: a write of about ${bytes} bytes exceeds the ${this.maxRequestBytes}-byte etcd request limit; ` +
          `start etcd with a larger --max-request-bytes and give the backend the same maxRequestBytes`,
      );
    }
    // A failed compare reads the current revision in the same txn.
    return { compare, success, failure: [{ request_range: { key: this.revisionKey } }] };
  }

  private async runCommit(client: Etcd3, txn: { compare: ICompare[]; success: IRequestOp[]; failure: IRequestOp[] }): Promise<CommitResult> {
    let res;
    try {
      res = await this.retrying(this.requestTimeoutMs, neverSent, (deadline) => client.kv.txn(txn, { deadline }));
    } catch (err) {
      const refused = neverSent(err) || ETCD_REFUSED_AS_TOO_LARGE.test(firstLine(err));
      throw new EtcdWriteError(this.failure('write', err).message, refused ? 'not-applied' : 'unknown', err);
    }
    const etcdRevision = Number(res.header.revision);
    if (res.succeeded) {
      const prev = res.responses[res.responses.length - 1]!.response_put.prev_kv;
      return { ok: true, revision: versionOf(prev) + 1, etcdRevision };
    }
    return { ok: false, revision: versionOf(res.responses[0]!.response_range.kvs[0]), etcdRevision };
  }

  private async read<T>(what: string, call: (deadline: number) => Promise<T>): Promise<T> {
    try {
      return await this.retrying(this.requestTimeoutMs, isRetryableRead, call);
    } catch (err) {
      throw this.failure(what, err);
    }
  }

  /** Runs `call` until it succeeds, fails for good, or `budgetMs` is spent; each try gets the remaining time. */
  private async retrying<T>(budgetMs: number, retryable: (err: unknown) => boolean, call: (deadline: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + budgetMs;
    for (let pause = RETRY_MIN_MS; ; pause = Math.min(pause * 2, RETRY_MAX_MS)) {
      try {
        return await call(deadline);
      } catch (err) {
        if (!retryable(err) || Date.now() + pause >= deadline) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  private failure(what: string, err: unknown): Error {
    const detail = firstLine(err);
    if (/etcdserver: too many operations in txn request/.test(detail)) {
      return new Error(`etcd refused a ${what}: more ops than its --max-txn-ops; start etcd with a larger --max-txn-ops (${detail})`, { cause: err });
    }
    if (/etcdserver: request is too large|larger than max/.test(detail)) {
      return new Error(`etcd refused a ${what}: larger than its --max-request-bytes; start etcd with a larger --max-request-bytes (${detail})`, { cause: err });
    }
    return new Error(`etcd ${what} failed at ${this.endpoints.join(',')}: ${detail}`, { cause: err });
  }

  private checkKey(key: string): void {
    if (typeof key !== 'string' || !key.startsWith('/')) throw new TypeError(`etcd backend: key ${JSON.stringify(key)} does not start with '/'`);
  }

  private etcdKey(key: string): Buffer {
    return Buffer.from(this.prefix + key, 'utf8');
  }

  /** The etcd range of the data keys starting with `prefix` (never the revision key). */
  private dataRange(prefix: string): { key: Buffer; range_end: Buffer } {
    const key = this.etcdKey(prefix === '' ? '/' : prefix);
    return { key, range_end: prefixEnd(key) };
  }

  private openClient(): Etcd3 {
    if (!this.client) throw new Error(`etcd backend ${this.location} is not open`);
    return this.client;
  }
}

/**
 * One watch on a store's prefix over a raw etcd watch stream. etcd3's own Watcher is not used: it
 * resumes from the response header's revision, which can be ahead of the events delivered so far
 * (a catch-up response carries the current revision), so a reconnect could skip writes. Here the
 * resume point is always the last delivered write's etcd revision + 1.
 *
 * Batching: etcd never splits one revision's events over two watch responses (its "atomic" watch
 * guarantee; we ask for no fragmenting), and one txn is one revision, so grouping a response's
 * events by mod_revision gives exactly one batch per write.
 */
class PrefixWatch implements BackendWatch {
  private next: number;
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private ended = false;
  private delivery: Promise<void> = Promise.resolve();
  private backoffMs = WATCH_BACKOFF_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private lastRevision = 0;
  private readonly revisionKey: string;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    afterEtcdRevision: number,
    private readonly handlers: WatchHandlers,
    private readonly onEnd: () => void,
  ) {
    if (!Number.isSafeInteger(afterEtcdRevision) || afterEtcdRevision < 0) throw new TypeError(`etcd watch: bad start revision ${afterEtcdRevision}`);
    this.next = afterEtcdRevision + 1;
    this.revisionKey = prefix + REVISION_KEY_SUFFIX;
    void this.connect();
  }

  async close(): Promise<void> {
    this.end();
    await this.delivery;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.retryTimer);
    if (this.stream) stopStream(this.stream);
    this.stream = undefined;
    this.onEnd();
  }

  private async connect(): Promise<void> {
    this.retryTimer = undefined;
    if (this.ended) return;
    let stream: IDuplexStream<IWatchRequest, IWatchResponse>;
    try {
      stream = await this.client.watchClient.watch();
    } catch (err) {
      this.broken(undefined, err);
      return;
    }
    if (this.ended) {
      stopStream(stream);
      return;
    }
    this.stream = stream;
    stream.on('data', (res) => this.onResponse(stream, res));
    stream.on('error', (err) => this.broken(stream, err));
    stream.on('end', () => this.broken(stream, new Error('etcd watch stream ended')));
    // The revision key and every data key: [P\0, P0) ('0' follows '/').
    const start = Buffer.from(this.prefix + '\u0000');
    stream.write({ create_request: { key: start, range_end: Buffer.from(this.prefix + '0'), start_revision: this.next } });
  }

  private broken(stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined, err: unknown): void {
    if (this.ended || stream !== this.stream) return;
    if (stream) stopStream(stream);
    this.stream = undefined;
    this.handlers.onDisconnect?.(err instanceof Error ? err : new Error(String(err)));
    this.retryTimer = setTimeout(() => void this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, WATCH_BACKOFF_MAX_MS);
  }

  private onResponse(stream: IDuplexStream<IWatchRequest, IWatchResponse>, res: IWatchResponse): void {
    if (this.ended || stream !== this.stream) return;
    if (res.compact_revision && res.compact_revision !== '0') {
      // History from `next` is gone: the caller reloads.
      this.end();
      void this.delivery.then(() => this.handlers.onReset());
      return;
    }
    if (res.canceled) {
      this.broken(stream, new Error(`etcd canceled the watch: ${res.cancel_reason || 'no reason given'}`));
      return;
    }
    if (res.created) this.backoffMs = WATCH_BACKOFF_MIN_MS;
    let batch: WatchBatch | undefined;
    for (const event of res.events) {
      const etcdRevision = Number(event.kv.mod_revision);
      if (etcdRevision < this.next) continue; // already delivered (cannot happen while resuming from `next`)
      if (batch && batch.etcdRevision !== etcdRevision) this.deliver(batch);
      if (!batch || batch.etcdRevision !== etcdRevision) batch = { revision: this.lastRevision, etcdRevision, ops: [] };
      this.addEvent(batch, event.type, event.kv);
    }
    if (batch) this.deliver(batch);
  }

  private addEvent(batch: WatchBatch, type: string, kv: IKeyValue): void {
    const key = kv.key.toString('utf8');
    if (key === this.revisionKey) {
      // Writes by anything other than an EtcdBackend (etcdctl) lack it and keep the last revision.
      if (type === 'Put') batch.revision = this.lastRevision = Number(kv.version);
      return;
    }
    const storeKey = key.slice(this.prefix.length);
    if (type === 'Put') batch.ops.push({ type: 'put', key: storeKey, value: kv.value.toString('utf8') });
    else batch.ops.push({ type: 'del', key: storeKey });
  }

  private deliver(batch: WatchBatch): void {
    this.next = batch.etcdRevision + 1;
    this.delivery = this.delivery.then(async () => {
      if (this.ended) return;
      try {
        await this.handlers.onBatch(batch);
      } catch {
        // A replica that failed to apply a write can no longer be trusted: end and let it reload.
        if (this.ended) return;
        this.end();
        this.handlers.onReset();
      }
    });
  }
}

/**
 * A write that did not complete. `not-applied`: etcd never got it, or refused it. `unknown`: the
 * connection broke or the deadline passed after it was sent, so it may still apply; the watch (or
 * a re-read) tells, and nothing is retried blindly.
 */
export class EtcdWriteError extends Error {
  constructor(
    message: string,
    readonly outcome: 'not-applied' | 'unknown',
    cause: unknown,
  ) {
    super(outcome === 'unknown' ? `${message} (outcome unknown: it may still apply)` : message, { cause });
    this.name = 'EtcdWriteError';
  }
}

/**
 * Ends a watch stream we no longer want. Half-closing first matters: etcd3 marks a member failed
 * (resetting its connections) on any error of a still-writable stream, and cancel() raises one.
 */
function stopStream(stream: IDuplexStream<IWatchRequest, IWatchResponse>): void {
  try {
    stream.end();
  } catch {
    // already ended or destroyed
  }
  stream.cancel();
}

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;

/** Runs each call once: etcd3's default retries could apply a txn twice. */
const callOnce = {
  execute: <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T) => Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
} as unknown as Policy;

/** Raised without calling a member that failed a moment ago, so etcd3 tries the next one. */
class MemberCoolingDown extends Error {
  constructor() {
    super('no etcd member reachable (each failed a moment ago)');
  }
}

/** Per member: after a connection failure, skip it for MEMBER_COOLDOWN_MS (etcd3's own breaker waits 5 s). */
function memberCooldown(): Policy {
  let until = 0;
  return {
    execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => {
      if (Date.now() < until) throw new MemberCoolingDown();
      try {
        return await fn({ signal: new AbortController().signal });
      } catch (err) {
        if (err instanceof Error && isRecoverableError(err)) until = Date.now() + MEMBER_COOLDOWN_MS;
        throw err;
      }
    },
    onSuccess: () => ({ dispose() {} }),
    onFailure: () => ({ dispose() {} }),
  } as unknown as Policy;
}

function clientOptions(endpoints: readonly string[]): IOptions {
  return {
    hosts: [...endpoints],
    faultHandling: { global: callOnce, host: () => memberCooldown() },
    grpcOptions: {
      // Lists of a whole store can exceed gRPC's 4 MiB default.
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      // Notice a hung member on an idle watch stream (etcd allows pings every 5 s by default).
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    },
  };
}

/** Whether a failed request certainly never reached etcd (so a write may be sent again). */
function neverSent(err: unknown): boolean {
  if (err instanceof MemberCoolingDown) return true;
  return err instanceof GRPCUnavailableError && /No connection established|ECONNREFUSED|failed to connect/i.test(err.message);
}

function isRetryableRead(err: unknown): boolean {
  return err instanceof MemberCoolingDown || (err instanceof Error && isRecoverableError(err));
}

function versionOf(kv: IKeyValue | undefined | null): number {
  return kv ? Number(kv.version) : 0;
}

/** etcd's range end for "every key starting with `key`". */
function prefixEnd(key: Buffer): Buffer {
  const end = Buffer.from(key);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every key
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!;
}
