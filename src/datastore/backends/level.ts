/**
 * A LevelDB backend on disk (the `level` package, utf8 keys and values).
 *
 * The store revision lives under the reserved key `REVISION_KEY` and is written in the same
 * atomic batch as the data, so data and revision can never disagree after a crash. This process
 * is the only writer (LevelDB's LOCK file guarantees it), so the revision is kept in memory after
 * open and writes are chained one after another so revisions are strictly sequential.
 *
 * Ordering: LevelDB orders keys by their UTF-8 bytes, which differs from UTF-16 code-unit order
 * only for keys that mix astral characters with characters U+E000..U+FFFF at the same position;
 * `list()` re-sorts its result in that (rare) case so callers always see UTF-16 order.
 */

import { mkdir, open as openFile, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { Level } from 'level';
import { BackendOpenError, type Backend, type BackendEntry, type BackendOp, type WriteResult } from './backend.ts';

/** Reserved key holding the revision; datastore keys always start with '/', so it cannot clash. */
export const REVISION_KEY = '\u0000rev';

/** Rows per read of a scan: large enough to amortise the native call, small enough to die young. */
const SCAN_CHUNK = 1000;

/**
 * The revision witness: a file beside LevelDB's own, holding the lowest revision the store may
 * have. LevelDB cannot tell a log cut short (a damaged disk, a bad copy) from a crash during its
 * last write: it drops the tail and opens, acknowledged commits silently gone, and with CURRENT
 * lost it would start a new, empty database over the old files. The witness is written (fsynced,
 * then renamed into place) only when the revision it names is on disk: right after open (LevelDB
 * has just turned the recovered log into a synced table) and after a clean close (the logs
 * fsynced first), so no crash or power cut can leave the store below it, at no cost per commit.
 */
export const WITNESS_FILE = 'sextant-revision';

/** The documented way out of a damaged data dir (README, "Recovering a damaged data dir"). */
export function repairCommand(dir: string): string {
  return `node --import tsx scripts/repair-datastore.ts ${dir}`;
}

export interface LevelBackendOptions {
  /**
   * fsync every write before it is acknowledged (slower; protects against OS crashes and power
   * loss, not just process crashes). The controller sets it from `--datastore-sync`.
   */
  sync?: boolean;
}

export class LevelBackend implements Backend {
  readonly kind = 'level';
  readonly location: string;

  private readonly sync: boolean;
  private db: Level<string, string> | undefined;
  private rev = 0;
  /** Tail of the write queue; never rejects. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    opts: LevelBackendOptions = {},
  ) {
    this.location = dir;
    this.sync = opts.sync ?? false;
  }

  async open(): Promise<void> {
    if (this.db) return;
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (err) {
      throw new BackendOpenError(`cannot create data dir ${this.dir}: ${messageOf(err)}`, 'unavailable');
    }
    const witnessed = await readWitness(this.dir);
    // A store known to hold commits is never created anew: LevelDB would start an empty one
    // over what is left of the old (and delete the old files as obsolete).
    const db = new Level<string, string>(this.dir, { keyEncoding: 'utf8', valueEncoding: 'utf8', createIfMissing: witnessed === 0 });
    try {
      await db.open();
    } catch (err) {
      throw openError(this.dir, err, witnessed);
    }
    let rev = 0;
    try {
      const stored = await db.get(REVISION_KEY);
      if (stored !== undefined) {
        rev = Number(stored);
        if (!Number.isSafeInteger(rev) || rev < 0) {
          throw new BackendOpenError(`data dir ${this.dir} has an invalid revision record ${JSON.stringify(stored)}`, 'corrupt');
        }
      }
    } catch (err) {
      await db.close().catch(() => {});
      if (err instanceof BackendOpenError) throw err;
      throw new BackendOpenError(`cannot read revision in data dir ${this.dir}: ${messageOf(err)}`, 'unavailable');
    }
    if (rev < witnessed) {
      await db.close().catch(() => {});
      throw damaged(this.dir, `it holds revision ${rev} but had reached revision ${witnessed} (a LevelDB log file was cut short or lost)`);
    }
    try {
      await writeWitness(this.dir, rev);
    } catch (err) {
      await db.close().catch(() => {});
      throw new BackendOpenError(`cannot write ${join(this.dir, WITNESS_FILE)}: ${messageOf(err)}`, 'unavailable');
    }
    this.rev = rev;
    this.db = db;
  }

  async close(): Promise<void> {
    const db = this.db;
    if (!db) return;
    await this.queue;
    this.db = undefined;
    await db.close();
    // Unsynced writes (`sync: false`) are made durable before the witness claims them.
    try {
      for (const f of await readdir(this.dir)) if (/^\d+\.log$/.test(f)) await fsyncFile(join(this.dir, f));
      await writeWitness(this.dir, this.rev);
    } catch (err) {
      // A data dir removed under a closing store (a test's temporary one) has nothing to witness.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  async get(key: string): Promise<string | undefined> {
    if (key === REVISION_KEY) return undefined;
    return this.openDb().get(key);
  }

  async list(prefix: string): Promise<BackendEntry[]> {
    const db = this.openDb();
    const lower = Buffer.from(prefix, 'utf8');
    const upper = prefixUpperBound(lower);
    const range = upper ? { gte: lower, lt: upper } : { gte: lower };
    // Buffer keys so the bounds reach LevelDB byte for byte (the utf8 encoding would re-encode
    // `upper`, which is not always valid UTF-8).
    const rows = await db.iterator<Buffer, string>({ ...range, keyEncoding: 'buffer', valueEncoding: 'utf8' }).all();
    const out: BackendEntry[] = [];
    let sorted = true;
    for (const [k, value] of rows) {
      const key = k.toString('utf8');
      if (key === REVISION_KEY) continue;
      if (sorted && out.length > 0 && out[out.length - 1]!.key > key) sorted = false;
      out.push({ key, value });
    }
    if (!sorted) out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  async *scan(prefix: string): AsyncIterable<BackendEntry[]> {
    // utf8 keys straight from LevelDB (no Buffer per key as in list) and no upper bound, which
    // may not be valid UTF-8: the range ends at the first key without the prefix.
    const it = this.openDb().iterator({ gte: prefix });
    let next: Promise<[string, string][]> | undefined;
    try {
      // The next chunk is read (on libuv's pool) while the caller works on this one.
      const read = () => {
        const p = it.nextv(SCAN_CHUNK);
        p.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
        return p;
      };
      next = read();
      for (;;) {
        const rows = await next;
        if (!rows.length) return;
        next = read();
        const out: BackendEntry[] = [];
        for (const [key, value] of rows) {
          if (!key.startsWith(prefix)) {
            if (out.length) yield out;
            return;
          }
          if (key !== REVISION_KEY) out.push({ key, value });
        }
        yield out;
      }
    } finally {
      // A read still under way (the caller stopped early) must end before the iterator closes.
      await next?.catch(() => undefined);
      await it.close();
    }
  }

  async revision(): Promise<number> {
    this.openDb();
    return this.rev;
  }

  write(ops: BackendOp[], opts: { expectRevision?: number } = {}): Promise<WriteResult> {
    const run = this.queue.then(() => this.apply(ops, opts));
    this.queue = run.catch(() => {});
    return run;
  }

  private async apply(ops: BackendOp[], opts: { expectRevision?: number }): Promise<WriteResult> {
    const db = this.openDb();
    if (opts.expectRevision !== undefined && opts.expectRevision !== this.rev) {
      return { ok: false, revision: this.rev };
    }
    const next = this.rev + 1;
    // Checked before anything is handed to LevelDB: a refused write leaves nothing behind.
    for (const op of ops) {
      if (op.key === REVISION_KEY) throw new Error(`key ${JSON.stringify(op.key)} is reserved by the level backend`);
      if (op.type !== 'put' && op.type !== 'del') throw new TypeError(`unknown backend op type ${String((op as { type: unknown }).type)}`);
    }
    // A chained batch: each op goes to LevelDB's write batch as it is added. The array form has
    // abstract-level copy every op into a new object and the binding read each one's properties
    // back, about four times the cost per op (8 against 2 us here), for the same atomic write.
    const batch = db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
      batch.put(REVISION_KEY, String(next));
    } catch (err) {
      await batch.close();
      throw err;
    }
    await batch.write({ sync: this.sync });
    this.rev = next;
    return { ok: true, revision: next };
  }

  private openDb(): Level<string, string> {
    if (!this.db) throw new Error(`level backend ${this.dir} is not open`);
    return this.db;
  }
}

/** The smallest byte string greater than every string starting with `prefix`, or none. */
function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const upper = Buffer.from(prefix.subarray(0, end));
  upper[end - 1] = prefix[end - 1]! + 1;
  return upper;
}

async function readWitness(dir: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(join(dir, WITNESS_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw new BackendOpenError(`cannot read ${join(dir, WITNESS_FILE)}: ${messageOf(err)}`, 'unavailable');
  }
  const rev = Number(text.trim());
  if (!Number.isSafeInteger(rev) || rev < 0) throw damaged(dir, `${WITNESS_FILE} holds ${JSON.stringify(text.slice(0, 40))}, not a revision`);
  return rev;
}

/** Written whole or not at all: a temp file, fsynced, renamed over the old, the directory fsynced. */
export async function writeWitness(dir: string, rev: number): Promise<void> {
  const tmp = join(dir, `${WITNESS_FILE}.tmp`);
  const fh = await openFile(tmp, 'w');
  try {
    await fh.writeFile(`${rev}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, WITNESS_FILE));
  await fsyncFile(dir);
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await openFile(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function damaged(dir: string, why: string): BackendOpenError {
  return new BackendOpenError(`data dir ${dir} is damaged: ${why}; to keep what is readable run \`${repairCommand(dir)}\`, or move ${dir} aside to start empty`, 'corrupt');
}

function openError(dir: string, err: unknown, witnessed = 0): BackendOpenError {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'LEVEL_DATABASE_NOT_OPEN' && cause?.code === 'LEVEL_LOCKED') {
    return new BackendOpenError(`data dir ${dir} is in use by another process (LevelDB lock held)`, 'locked');
  }
  const detail = typeof cause?.message === 'string' ? cause.message : messageOf(err);
  if (cause?.code === 'LEVEL_CORRUPTION' || /corrupt/i.test(detail)) return damaged(dir, oneLine(detail));
  if (witnessed > 0 && /does not exist/i.test(detail)) return damaged(dir, `LevelDB's CURRENT file is gone though the store had reached revision ${witnessed}`);
  return new BackendOpenError(`cannot open data dir ${dir}: ${detail}`, 'unavailable');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
