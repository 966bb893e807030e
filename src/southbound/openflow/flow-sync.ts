/**
 * Keeps one switch's flow table equal to its config inventory node. Level-triggered, like
 * src/plugin/work-queue.ts: a change only marks a flow id dirty; the worker recomputes what the
 * switch must be told from the current intent and what it last confirmed, so changes coalesce
 * and nothing depends on the order they came in.
 *
 * What is on the switch is known per config flow id (`installed`), confirmed by a BARRIER: a
 * batch of at most `batchSize` FLOW_MODs is sent, then a BARRIER, and every ERROR the switch
 * answers before the barrier's reply names one of that batch's FLOW_MODs by xid. A rejected flow
 * is reported (`rejected`, a log line) and the rest of its batch is still confirmed.
 *
 * Replacing a flow never leaves a gap: adds and modifies go first, the deletes of what they
 * replace (and of stale flows) only after the adds' barrier, in their own batches.
 */
import type { Logger } from 'pino';
import { FLOW_MOD_COMMAND, GROUP_ANY, instructionsKey, matchKey, NO_BUFFER, PORT, TABLE_ALL, type FlowStats } from './codec.ts';
import type { SwitchConnection } from './connection.ts';
import { switchFlow, type SwitchFlow } from './flows.ts';

/** How flows are told apart on a switch (OF 1.3 §6.4: table, priority and match identify a flow). */
export const switchKey = (f: { tableId: number; priority: number; match: SwitchFlow['match'] }) => `${f.tableId}|${f.priority}|${matchKey(f.match)}`;

const sameBehaviour = (a: SwitchFlow, b: Pick<SwitchFlow, 'cookie' | 'idleTimeout' | 'hardTimeout' | 'instructions'>) =>
  a.cookie === b.cookie && a.idleTimeout === b.idleTimeout && a.hardTimeout === b.hardTimeout && instructionsKey(a.instructions) === instructionsKey(b.instructions);

export interface CookieMatch {
  value: bigint;
  mask: bigint;
}

/** The intent of one switch: config flow id (`<table>/<id>`) -> the stored flow JSON. */
export type FlowIntent = ReadonlyMap<string, unknown>;

interface Op {
  id?: string;
  command: number;
  flow: SwitchFlow;
  /** What `installed` becomes for `id` once the switch confirms it. */
  after?: SwitchFlow;
}

/**
 * Stored flow JSON -> its switch form, once per stored value (the intent keeps the object until
 * the flow changes), so a reconcile of a large table does not translate every flow again.
 */
const translations = new WeakMap<object, SwitchFlow | Error>();
function translated(stored: object): SwitchFlow {
  let f = translations.get(stored);
  if (!f) {
    try {
      f = switchFlow(stored as Record<string, unknown>);
    } catch (e) {
      f = e as Error;
    }
    translations.set(stored, f);
  }
  if (f instanceof Error) throw f;
  return f;
}

export class FlowSync {
  /** Config flow id -> the flow the switch confirmed holding for it. */
  private readonly installed = new Map<string, SwitchFlow>();
  private readonly dirty = new Set<string>();
  /** Flows on the switch, not in the intent, carrying our cookie: to delete after the next adds. */
  private stale: SwitchFlow[] = [];
  /** Config flow id -> why the switch (or the translation) refused it. */
  readonly rejected = new Map<string, string>();
  private running = false;
  private reconciled = false;
  private stopped = false;
  private waiters: (() => void)[] = [];
  /** Counters for the operator and the benchmark. */
  readonly counts = { flowMods: 0, barriers: 0, rejected: 0 };

  constructor(
    private readonly conn: SwitchConnection,
    private readonly intent: () => FlowIntent,
    private readonly opts: { log: Logger; batchSize: number; ours: CookieMatch; node: string },
  ) {}

  /** Marks config flow ids whose intent changed. */
  mark(ids: Iterable<string>): void {
    for (const id of ids) this.dirty.add(id);
    this.kick();
  }

  /**
   * The switch's table made equal to the intent: its flows are read (MULTIPART FLOW), the ones
   * matching an intended flow exactly count as installed, the others intended are added or
   * replaced, and flows with our cookie that nothing intends are deleted afterwards. Flows with
   * other cookies (not written by us) are left alone.
   */
  async reconcile(): Promise<void> {
    const present = await this.conn.flowStats({ tableId: TABLE_ALL, outPort: PORT.ANY, outGroup: GROUP_ANY, cookie: 0n, cookieMask: 0n, match: [] });
    const byKey = new Map<string, FlowStats>();
    for (const f of present) byKey.set(switchKey(f), f);
    const wanted = new Set<string>();
    for (const [id, stored] of this.intent()) {
      const want = this.translate(id, stored);
      if (!want) continue;
      const key = switchKey(want);
      wanted.add(key);
      const have = byKey.get(key);
      if (have && sameBehaviour(want, have)) this.installed.set(id, want);
      else {
        // Present with other behaviour: the ADD that follows replaces it in place.
        if (have) this.installed.set(id, { ...want, cookie: have.cookie, instructions: have.instructions, idleTimeout: have.idleTimeout, hardTimeout: have.hardTimeout });
        this.dirty.add(id);
      }
    }
    const { value, mask } = this.opts.ours;
    this.stale = present
      .filter((f) => (f.cookie & mask) === (value & mask) && !wanted.has(switchKey(f)))
      .map((f) => ({ tableId: f.tableId, priority: f.priority, cookie: f.cookie, idleTimeout: f.idleTimeout, hardTimeout: f.hardTimeout, match: f.match, instructions: f.instructions }));
    this.opts.log.info({ node: this.opts.node, present: present.length, intended: this.intent().size, toWrite: this.dirty.size, stale: this.stale.length }, `openflow ${this.opts.node}: reconciling (${present.length} flows on the switch, ${this.dirty.size} to write, ${this.stale.length} stale)`);
    this.reconciled = true;
    this.kick();
  }

  /** Resolves once every change marked so far is confirmed by the switch (or rejected). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  isIdle(): boolean {
    return this.reconciled && !this.running && !this.dirty.size && !this.stale.length;
  }

  stop(): void {
    this.stopped = true;
    this.release();
  }

  private release(): void {
    if (!this.isIdle() && !this.stopped) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private translate(id: string, stored: unknown): SwitchFlow | undefined {
    try {
      const f = translated(stored as object);
      if (this.rejected.get(id)?.startsWith('not translatable')) this.rejected.delete(id);
      return f;
    } catch (e) {
      this.reject(id, `not translatable: ${(e as Error).message}`);
      return undefined;
    }
  }

  private reject(id: string, why: string): void {
    this.rejected.set(id, why);
    this.counts.rejected++;
    this.opts.log.error({ node: this.opts.node, flow: id, reason: why }, `openflow ${this.opts.node}: flow ${id} is not in the switch: ${why}`);
  }

  private kick(): void {
    if (this.running || !this.reconciled || this.stopped) return;
    this.running = true;
    void this.work()
      .catch((e) => {
        if (!this.conn.closed) this.opts.log.warn({ err: e, node: this.opts.node }, `openflow ${this.opts.node}: programming stopped: ${(e as Error).message}`);
      })
      .finally(() => {
        this.running = false;
        if (this.conn.closed) this.stopped = true;
        if (!this.stopped && (this.dirty.size || this.stale.length)) this.kick();
        else this.release();
      });
  }

  private async work(): Promise<void> {
    while (!this.stopped && !this.conn.closed && (this.dirty.size || this.stale.length)) {
      const intent = this.intent();
      const adds: Op[] = [];
      const deletes: Op[] = [];
      const wantedKeys = new Set<string>();
      const ids = [...this.dirty].slice(0, this.opts.batchSize);
      for (const id of ids) this.dirty.delete(id);
      const plans: { id: string; want?: SwitchFlow; have?: SwitchFlow }[] = [];
      for (const id of ids) {
        const stored = intent.get(id);
        const want = stored === undefined ? undefined : this.translate(id, stored);
        if (stored === undefined) this.rejected.delete(id);
        plans.push({ id, want, have: this.installed.get(id) });
        if (want) wantedKeys.add(switchKey(want));
      }
      for (const { id, want, have } of plans) {
        if (want && have && switchKey(want) === switchKey(have)) {
          if (sameBehaviour(want, have)) continue;
          // MODIFY_STRICT keeps the cookie (§7.3.4.1): a new cookie needs an ADD, which replaces.
          adds.push({ id, command: want.cookie === have.cookie ? FLOW_MOD_COMMAND.MODIFY_STRICT : FLOW_MOD_COMMAND.ADD, flow: want, after: want });
        } else {
          if (want) adds.push({ id, command: FLOW_MOD_COMMAND.ADD, flow: want, after: want });
          else if (have) this.installed.delete(id);
          // The flow it replaces (another key), unless another intended flow now has that key.
          if (have && !wantedKeys.has(switchKey(have)) && !this.keyIntendedElsewhere(id, have)) deletes.push({ command: FLOW_MOD_COMMAND.DELETE_STRICT, flow: have });
        }
      }
      if (adds.length) await this.send(adds);
      const staleNow = this.stale.splice(0, Math.max(0, this.opts.batchSize - deletes.length));
      for (const flow of staleNow) deletes.push({ command: FLOW_MOD_COMMAND.DELETE_STRICT, flow });
      if (deletes.length) await this.send(deletes);
    }
  }

  /** Whether a flow confirmed for another id sits at this key (deleting it would take theirs). */
  private keyIntendedElsewhere(id: string, flow: SwitchFlow): boolean {
    const key = switchKey(flow);
    for (const [other, f] of this.installed) if (other !== id && switchKey(f) === key) return true;
    return false;
  }

  /** One batch and its BARRIER; ERRORs for its xids reject those flows only. */
  private async send(ops: Op[]): Promise<void> {
    const byXid = new Map<number, Op>();
    const failures = new Map<number, string>();
    const unlisten = this.listenErrors(byXid, failures);
    try {
      for (const op of ops) {
        const f = op.flow;
        const xid = this.conn.sendFlowMod(
          {
            cookie: f.cookie,
            cookieMask: 0n,
            tableId: f.tableId,
            command: op.command,
            idleTimeout: f.idleTimeout,
            hardTimeout: f.hardTimeout,
            priority: f.priority,
            bufferId: NO_BUFFER,
            outPort: PORT.ANY,
            outGroup: GROUP_ANY,
            flags: 0,
            match: f.match,
            instructions: f.instructions,
          },
          `FLOW_MOD ${['ADD', 'MODIFY', 'MODIFY_STRICT', 'DELETE', 'DELETE_STRICT'][op.command]} ${op.id ?? `stale table=${f.tableId} priority=${f.priority} cookie=0x${f.cookie.toString(16)}`} on ${this.opts.node}`,
        );
        byXid.set(xid, op);
      }
      this.counts.flowMods += ops.length;
      await this.conn.barrier();
      this.counts.barriers++;
    } finally {
      unlisten();
    }
    for (const [xid, op] of byXid) {
      const failure = failures.get(xid);
      if (!op.id) continue;
      if (failure) this.reject(op.id, `the switch answered ${failure}`);
      else {
        if (op.after) this.installed.set(op.id, op.after);
        this.rejected.delete(op.id);
      }
    }
  }

  private errorSink: ((xid: number, why: string) => void) | undefined;

  /** The connection's onError, routed to the batch in flight. */
  onSwitchError(xid: number, why: string): void {
    this.errorSink?.(xid, why);
  }

  private listenErrors(byXid: Map<number, Op>, failures: Map<number, string>): () => void {
    this.errorSink = (xid, why) => {
      if (byXid.has(xid)) failures.set(xid, why);
    };
    return () => (this.errorSink = undefined);
  }

  /** The config flow id the switch holds a flow for at this key, if any (for the operational view). */
  idOf(key: string): string | undefined {
    for (const [id, f] of this.installed) if (switchKey(f) === key) return id;
    return undefined;
  }

  /** config id -> key, for the stats reader (one pass, not one per flow). */
  keyIndex(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, f] of this.installed) out.set(switchKey(f), id);
    return out;
  }
}
