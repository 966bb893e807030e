/**
 * Commit phases: what an application does inside a commit, as FRR's northbound callbacks, sysrepo's
 * change events and Clixon's transaction callbacks let it. Per store and api-path pattern (the
 * same patterns as listeners), with a priority (lower first):
 *
 * - `prepare(changes, tx)`: may add derived writes to the committing transaction (same store);
 *   they are validated and written in the same atomic batch, so no reader, listener or crash
 *   ever sees the commit without them. Runs first, so validate sees the whole change.
 * - `validate(changes, view)`: may veto by throwing a YangError, which the client receives as
 *   the commit's error (RESTCONF body, NETCONF rpc-error); nothing is written.
 * - `apply(changes)`: once the commit is durable. `abort(changes, error)`: when a commit whose
 *   prepare or validate ran failed afterwards.
 *
 * A callback that throws something else, or does not finish within the timeout, fails that commit
 * with operation-failed naming its owner; the store goes on serving. Every call is a span.
 * Commits on a store are checked one after another, so a slow callback delays the store's
 * commits: callbacks should decide from the change and the tree, and leave slow work to
 * post-commit listeners.
 */
import { trace } from '@opentelemetry/api';
import { YangError } from '../errors.ts';
import { inSpan } from '../telemetry/tracing.ts';
import type { DataPath, Mode } from '../yang/binding.ts';
import type { InstancePath } from '../yang/path.ts';
import type { DataObject } from '../yang/schema.ts';
import type { StoreName, Transaction } from './datastore.ts';
import type { Change, ListenerHub, PatternStep } from './listeners.ts';

/** The tree the commit would leave, for validate. */
export interface PhaseView {
  read: Transaction['read'];
  exists: Transaction['exists'];
}

/** Writes that join the committing transaction; `commit` is the platform's, not the callback's. */
export type PhaseWriter = Omit<Transaction, 'commit' | 'rebased' | 'savepoint' | 'rollbackTo'>;

export interface CommitPhases {
  /** Who registered it (a plugin's name): named in errors and spans. */
  owner: string;
  store: StoreName;
  /** api-path pattern (a generated path with ANY keys, or text where `*` stands for any key). */
  path: string | DataPath<unknown, Mode>;
  priority?: number;
  prepare?(changes: Change[], tx: PhaseWriter): void | Promise<void>;
  validate?(changes: Change[], view: PhaseView): void | Promise<void>;
  apply?(changes: Change[]): void;
  abort?(changes: Change[], error: YangError): void;
}

interface Registration {
  spec: CommitPhases;
  pattern: PatternStep[];
  priority: number;
  order: number;
}

/** What the phases made of one transaction, for the datastore to write and report. */
export interface PhasedCommit {
  after: DataObject;
  touched: InstancePath[];
  /** Registrations whose prepare or validate ran: they hear apply or abort. */
  ran: Registration[];
}

const tracer = trace.getTracer('sextant.datastore');

export class CommitPhaseRegistry {
  private readonly regs: Record<StoreName, Registration[]> = { config: [], operational: [] };
  private order = 0;

  constructor(
    private readonly hub: ListenerHub,
    private readonly timeoutMs: number,
    private readonly report: (e: unknown, owner: string, phase: string) => void,
  ) {}

  register(spec: CommitPhases): () => void {
    const reg: Registration = { spec, pattern: this.hub.compile(spec.path), priority: spec.priority ?? 0, order: this.order++ };
    const list = this.regs[spec.store];
    list.push(reg);
    list.sort((a, b) => a.priority - b.priority || a.order - b.order);
    return () => {
      const i = list.indexOf(reg);
      if (i >= 0) list.splice(i, 1);
    };
  }

  has(store: StoreName): boolean {
    return this.regs[store].length > 0;
  }

  /**
   * Runs prepare then validate for one transaction going from `before` to `after`. `derive`
   * makes a transaction over a tree whose edits the commit takes over.
   */
  async run(store: StoreName, before: DataObject, after: DataObject, touched: InstancePath[], derive: (root: DataObject) => Transaction): Promise<PhasedCommit> {
    const ran: Registration[] = [];
    let root = after;
    let paths = touched;
    try {
      for (const reg of this.regs[store]) {
        if (!reg.spec.prepare) continue;
        const changes = this.hub.changesFor(reg.pattern, before, root, paths);
        if (!changes.length) continue;
        ran.push(reg);
        const tx = derive(root);
        try {
          await this.call(reg, 'prepare', () => reg.spec.prepare!(changes, tx));
        } finally {
          // Writes after the deadline (a callback that hung and woke up) must not leak into a commit.
          tx.cancel();
        }
        if (!tx.empty) {
          root = tx.workingRoot();
          paths = [...paths, ...tx.touchedPaths()];
        }
      }
      const view = derive(root);
      view.cancel();
      for (const reg of this.regs[store]) {
        if (!reg.spec.validate) continue;
        const changes = this.hub.changesFor(reg.pattern, before, root, paths);
        if (!changes.length) continue;
        if (!ran.includes(reg)) ran.push(reg);
        await this.call(reg, 'validate', () => reg.spec.validate!(changes, view));
      }
    } catch (e) {
      this.aborted({ after: root, touched: paths, ran }, before, e as YangError);
      throw e;
    }
    return { after: root, touched: paths, ran };
  }

  applied(phased: PhasedCommit, before: DataObject): void {
    this.finish(phased, before, 'apply', (reg, changes) => reg.spec.apply?.(changes));
  }

  aborted(phased: PhasedCommit, before: DataObject, error: YangError): void {
    this.finish(phased, before, 'abort', (reg, changes) => reg.spec.abort?.(changes, error));
  }

  private finish(phased: PhasedCommit, before: DataObject, phase: string, fn: (reg: Registration, changes: Change[]) => void): void {
    for (const reg of phased.ran) {
      if (phase === 'apply' ? !reg.spec.apply : !reg.spec.abort) continue;
      try {
        fn(reg, this.hub.changesFor(reg.pattern, before, phased.after, phased.touched));
      } catch (e) {
        this.report(e, reg.spec.owner, phase);
      }
    }
  }

  /** One callback, in a span, bounded in time; a YangError it throws is its verdict. */
  private async call(reg: Registration, phase: string, fn: () => void | Promise<void>): Promise<void> {
    const owner = reg.spec.owner;
    let timer: NodeJS.Timeout | undefined;
    try {
      await inSpan(tracer, `datastore.${phase} ${owner}`, () =>
        Promise.race([
          Promise.resolve().then(fn),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new YangError({ tag: 'operation-failed', message: `plugin "${owner}" did not finish ${phase} on ${String(reg.spec.path)} within ${this.timeoutMs} ms`, info: { plugin: owner } })),
              this.timeoutMs,
            );
          }),
        ]),
      );
    } catch (e) {
      if (e instanceof YangError) throw e;
      this.report(e, owner, phase);
      throw new YangError({ tag: 'operation-failed', message: `plugin "${owner}" failed in ${phase} on ${String(reg.spec.path)}: ${(e as Error)?.message ?? String(e)}`, info: { plugin: owner } });
    } finally {
      clearTimeout(timer);
    }
  }
}
