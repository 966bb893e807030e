/**
 * Crash rounds against test/datastore/fixtures/crash-writer.ts, for the crash test and
 * `npm run bench:robustness`: the writer is killed with SIGKILL at a random moment or at a chosen
 * point inside a commit, and its data dir is then checked against what it reported over the pipe
 * (every batch it handed to LevelDB, every batch LevelDB answered, every acknowledgement).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { levelDatastore } from './datastore.ts';
import { ROOT } from './process.ts';
import type { Schema } from '../../src/yang/schema.ts';

export const HOSTS_PER_COMMIT = 10;
export const HOSTS = '/sextant-fixture:registry/host';

export interface Host {
  name: string;
  address: string;
  dpn: string;
}

/** Host e of commit n of run `run`: its name and content say which commit wrote it. */
export function hostContent(run: number, n: number, e: number): Host {
  return { name: `r${run}-c${n}-e${e}`, address: `${run}.${n}.${e}/${'x'.repeat(200)}`, dpn: String(n * HOSTS_PER_COMMIT + e) };
}

export interface KilledRun {
  /** Batches handed to LevelDB, by the revision each was to get: the commits ("run:n") in it. */
  writes: Map<number, string[]>;
  /** The highest revision LevelDB answered as written. */
  written: number;
  acked: Set<string>;
  /** Killed inside LevelDB's write: a batch handed over, not yet answered. */
  insideWrite: boolean;
  /** Killed inside a commit: its batch handed to LevelDB and not every commit of it acknowledged. */
  midCommit: boolean;
  pausedAt?: string;
  stdout: string;
}

export interface KillOptions {
  sync: 'always' | 'none';
  /** `before-write:k` or `after-write:k` (see the writer); else killed at a random moment. */
  pause?: string;
  /** The random moment: up to this many ms after LevelDB answered the first batch. */
  maxDelayMs?: number;
  mode?: 'derived';
}

export async function killedRun(dir: string, run: number, opts: KillOptions): Promise<KilledRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/datastore/fixtures/crash-writer.ts'), dir, String(run), opts.sync, opts.mode ?? ''], {
    cwd: ROOT,
    env: { ...process.env, CRASH_PAUSE: opts.pause ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`writer made no commit in 60 s: ${err}`)), 60_000);
      let timer: NodeJS.Timeout | undefined;
      const kill = () => {
        clearTimeout(guard);
        resolve();
      };
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        if (opts.pause) {
          if (/^paused /m.test(out)) kill();
        } else if (!timer && /^written /m.test(out)) timer = setTimeout(kill, Math.random() * (opts.maxDelayMs ?? 400));
      });
      child.on('exit', () => reject(new Error(`writer exited by itself: ${err}`)));
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }
  // Everything the child wrote before it died is still in the pipe: read it all.
  await closed;
  const writes = new Map<number, string[]>();
  const acked = new Set<string>();
  let written = 0;
  let lastWriting: { rev: number; commits: string[] } | undefined;
  let pausedAt: string | undefined;
  for (const line of out.split('\n')) {
    const [what, a, b] = line.split(' ');
    if (what === 'writing') {
      lastWriting = { rev: Number(a), commits: b ? b.split(',').map((n) => `${run}:${n}`) : [] };
      writes.set(lastWriting.rev, lastWriting.commits);
    } else if (what === 'written') written = Math.max(written, Number(a));
    else if (what === 'ack') acked.add(`${run}:${a}`);
    else if (what === 'paused') pausedAt = a;
  }
  const insideWrite = lastWriting !== undefined && lastWriting.rev > written;
  const midCommit = lastWriting !== undefined && lastWriting.commits.some((c) => !acked.has(c));
  return { writes, written, acked, insideWrite, midCommit, pausedAt, stdout: out };
}

export interface StoreCheck {
  revision: number;
  /** Commits ("run:n") present, whole or not. */
  present: string[];
  /** Those the batches up to `revision` hold: what must be present, no more, no less. */
  expected: string[];
  /** Hosts whose content is not what their commit wrote, or commits not all of whose hosts are there. */
  wrong: string[];
  /** Acknowledged commits that are missing. */
  lost: string[];
}

/**
 * Opens the data dir as the controller would and compares it with `ledger`: the batches of every
 * round so far by revision (this round's added first; entries above the store's revision are
 * dropped after, as they never happened and the next round reuses those revisions).
 */
export async function checkStore(schema: Schema, dir: string, ledger: Map<number, string[]>, round: KilledRun): Promise<StoreCheck> {
  for (const [rev, commits] of round.writes) ledger.set(rev, commits);
  const ds = await levelDatastore(schema, dir);
  try {
    const revision = ds.revision('config');
    const hosts = (ds.read('config', HOSTS) as Host[] | undefined) ?? [];
    const byCommit = new Map<string, Host[]>();
    for (const h of hosts) {
      const m = /^r(\d+)-c(\d+)-e\d+$/.exec(h.name);
      if (!m) continue;
      const c = `${m[1]}:${m[2]}`;
      byCommit.set(c, [...(byCommit.get(c) ?? []), h]);
    }
    const wrong: string[] = [];
    for (const [c, got] of byCommit) {
      const [run, n] = c.split(':').map(Number);
      const want = Array.from({ length: HOSTS_PER_COMMIT }, (_, e) => hostContent(run, n, e));
      const sorted = [...got].sort((a, b) => (a.name < b.name ? -1 : 1));
      const wantSorted = [...want].sort((a, b) => (a.name < b.name ? -1 : 1));
      if (JSON.stringify(sorted) !== JSON.stringify(wantSorted)) wrong.push(c);
    }
    const expected: string[] = [];
    for (const [rev, commits] of ledger) if (rev <= revision) expected.push(...commits);
    for (const rev of [...ledger.keys()]) if (rev > revision) ledger.delete(rev);
    const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const present = [...byCommit.keys()].sort(order);
    return { revision, present, expected: expected.sort(order), wrong, lost: [...round.acked].filter((c) => !byCommit.has(c)).sort(order) };
  } finally {
    await ds.close();
  }
}
