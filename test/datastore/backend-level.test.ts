/**
 * The LevelDB backend: the shared backend suite over a temp dir, plus what only a disk backend
 * has — the LevelDB lock (in this process and from another process), the reserved revision key,
 * open failures, and data plus revision surviving a killed process.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendOpenError } from '../../src/datastore/backends/backend.ts';
import { LevelBackend, REVISION_KEY } from '../../src/datastore/backends/level.ts';
import { backendSuite } from './backend-suite.ts';

const ROOT = join(import.meta.dirname, '../..');
const CHILD = join(import.meta.dirname, 'fixtures/level-child.ts');

/** A fresh temp dir plus every backend opened on it, all closed and removed at teardown. */
async function scratch(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'sextant-level-'));
  const opened: LevelBackend[] = [];
  const cleanup = async () => {
    for (const b of opened) await b.close().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  t.teardown(cleanup);
  const openAt = async (path = join(dir, 'db'), opts?: { sync?: boolean }) => {
    const b = new LevelBackend(path, opts);
    opened.push(b);
    await b.open();
    return b;
  };
  return { dir, db: join(dir, 'db'), opened, openAt, cleanup };
}

backendSuite(t, 'level', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sextant-level-'));
  const db = join(dir, 'nested', 'db'); // a missing parent too: open must create it
  const opened: LevelBackend[] = [];
  const openOne = async () => {
    const b = new LevelBackend(db);
    opened.push(b);
    await b.open();
    return b;
  };
  return {
    backend: await openOne(),
    reopen: openOne,
    cleanup: async () => {
      for (const b of opened) await b.close().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
});

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the fixture child to completion. */
function runChild(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

t.test('level: kind, location and the reserved revision key', async (t) => {
  const s = await scratch(t);
  const b = await s.openAt();
  t.equal(b.kind, 'level');
  t.equal(b.location, s.db);
  t.notOk(REVISION_KEY.startsWith('/'), 'cannot collide with datastore keys');
  await b.write([{ type: 'put', key: '/a', value: '1' }]);
  t.equal(await b.get(REVISION_KEY), undefined, 'not readable as data');
  t.same(await b.list(''), [{ key: '/a', value: '1' }], 'not listed');
  await t.rejects(b.write([{ type: 'put', key: REVISION_KEY, value: '99' }]), /reserved/);
  t.equal(await b.revision(), 1, 'the refused write changed nothing');
  t.same(await b.write([{ type: 'put', key: '/b', value: '2' }]), { ok: true, revision: 2 }, 'writes continue after a failed one');
  // A bad op after good ones: the good ones are not written either (the batch is checked first).
  await t.rejects(b.write([{ type: 'put', key: '/c', value: '3' }, { type: 'put', key: REVISION_KEY, value: '99' }]), /reserved/);
  await t.rejects(b.write([{ type: 'del', key: '/a' }, { type: 'move', key: '/b' } as never]), /unknown backend op type/);
  t.same(await b.list(''), [{ key: '/a', value: '1' }, { key: '/b', value: '2' }], 'nothing of a refused batch is stored');
  t.equal(await b.revision(), 2, 'and no revision was used');
});

t.test('level: sync writes', async (t) => {
  const s = await scratch(t);
  const b = await s.openAt(s.db, { sync: true });
  t.same(await b.write([{ type: 'put', key: '/a', value: '1' }]), { ok: true, revision: 1 });
  await b.close();
  const again = await s.openAt();
  t.equal(await again.get('/a'), '1');
  t.equal(await again.revision(), 1);
});

t.test('level: a second backend on an open dir in this process is refused as locked', async (t) => {
  const s = await scratch(t);
  const first = await s.openAt();
  await first.write([{ type: 'put', key: '/a', value: '1' }]);

  const second = new LevelBackend(s.db);
  s.opened.push(second);
  const err = await second.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof BackendOpenError, 'a BackendOpenError');
  t.equal((err as BackendOpenError).code, 'locked');
  t.equal((err as BackendOpenError).message, `data dir ${s.db} is in use by another process (LevelDB lock held)`);
  t.equal(await first.get('/a'), '1', 'the first is unaffected');

  // Once the holder lets go, the refused instance can open after all.
  await first.close();
  await second.open();
  t.equal(await second.get('/a'), '1');
  t.equal(await second.revision(), 1);
});

t.test('level: another process cannot open a dir this process holds', async (t) => {
  const s = await scratch(t);
  const held = await s.openAt();
  await held.write([{ type: 'put', key: '/a', value: '1' }]);

  const r = await runChild(['open', s.db]);
  t.equal(r.code, 0, `child exited cleanly (stderr: ${r.stderr})`);
  const out = JSON.parse(r.stdout.trim());
  t.same(out, {
    ok: false,
    name: 'BackendOpenError',
    code: 'locked',
    message: `data dir ${s.db} is in use by another process (LevelDB lock held)`,
  });
  t.notMatch(out.message, /\n\s+at /, 'no stack trace in the message');

  await held.close();
  const after = await runChild(['open', s.db]);
  t.same(JSON.parse(after.stdout.trim()), { ok: true, revision: 1 }, 'opens once the lock is released');
});

t.test('level: this process cannot open a dir another process holds', async (t) => {
  const s = await scratch(t);
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'hold', s.db], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready\n')) resolve();
    });
    child.on('close', () => reject(new Error(`holder exited early: ${stderr}`)));
  });

  const b = new LevelBackend(s.db);
  s.opened.push(b);
  await t.rejects(b.open(), { name: 'BackendOpenError', code: 'locked', message: `data dir ${s.db} is in use by another process (LevelDB lock held)` });

  child.stdin.end();
  t.equal(await exited, 0, 'holder closed cleanly');
  await b.open();
  t.equal(await b.revision(), 0);
});

t.test('level: data and revision survive a killed process', async (t) => {
  const s = await scratch(t);
  const r = await runChild(['write-die', s.db, '25']);
  t.equal(r.signal, 'SIGKILL', `child was killed (stderr: ${r.stderr})`);
  t.equal(r.stdout, 'written\n');
  const b = await s.openAt();
  t.equal(await b.revision(), 25, 'revision of the last write');
  t.equal(await b.get('/crash/last'), '25');
  t.equal((await b.list('/crash/')).length, 26);
  t.same(await b.write([{ type: 'put', key: '/after', value: 'x' }], { expectRevision: 25 }), { ok: true, revision: 26 });
});

t.test('level: a dir that cannot be created is unavailable', async (t) => {
  const s = await scratch(t);
  const file = join(s.dir, 'a-file');
  await writeFile(file, 'not a directory');
  const b = new LevelBackend(join(file, 'db'));
  const err = await b.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof BackendOpenError);
  t.equal((err as BackendOpenError).code, 'unavailable');
  t.match((err as BackendOpenError).message, /a-file/);
});

t.test('level: an unreadable revision record is reported as corrupt', async (t) => {
  const s = await scratch(t);
  // Plant a bad record with the raw library, as a damaged or foreign store might have.
  const { Level } = await import('level');
  const raw = new Level<string, string>(s.db);
  await raw.put(REVISION_KEY, 'not-a-number');
  await raw.close();
  const b = new LevelBackend(s.db);
  s.opened.push(b);
  await t.rejects(b.open(), { name: 'BackendOpenError', code: 'corrupt' });
  // The failed open released the lock.
  const raw2 = new Level<string, string>(s.db);
  await raw2.open();
  await raw2.close();
  t.pass('lock released after a failed open');
});
