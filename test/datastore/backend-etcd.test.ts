/**
 * The etcd backend against real etcd: the shared backend suite (each fixture on its own prefix of
 * one etcd started for this file), plus what only a shared backend has — prefixes that do not see
 * each other, per-key guards between two writers, the watch (one batch per write, in order,
 * exactly once, across a member restart, reset after compaction), large atomic commits, and
 * failures while etcd is down.
 */
import t from 'tap';
import { Etcd3 } from 'etcd3';
import { freePort } from '../../scripts/free-port.ts';
import { BackendOpenError, type BackendOp, type WatchBatch } from '../../src/datastore/backends/backend.ts';
import { EtcdBackend, EtcdWriteError, REVISION_KEY_SUFFIX, storePrefix, type EtcdBackendOptions } from '../../src/datastore/backends/etcd.ts';
import { ETCD_TEST_SETTINGS, startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { waitUntil } from '../helpers/process.ts';
import { backendSuite } from './backend-suite.ts';

const etcd = await startEtcd(t);

let prefixes = 0;
/** A prefix no other fixture of this file uses, shaped like `/<cluster-name>/<store>`. */
const freshPrefix = (store = 'config') => `/t${process.pid}-${++prefixes}/${store}`;

/** Backends on one etcd, all closed at teardown (pass or fail). */
function backends(t: { teardown(fn: () => Promise<void>): void }, cluster: EtcdCluster = etcd) {
  const opened: EtcdBackend[] = [];
  t.teardown(async () => {
    for (const b of opened) await b.close().catch(() => {});
  });
  return async (prefix: string, opts: Partial<EtcdBackendOptions> = {}) => {
    const b = new EtcdBackend({
      endpoints: cluster.endpoints,
      prefix,
      maxTxnOps: ETCD_TEST_SETTINGS.maxTxnOps,
      maxRequestBytes: ETCD_TEST_SETTINGS.maxRequestBytes,
      ...opts,
    });
    opened.push(b);
    await b.open();
    return b;
  };
}

/** A raw etcd3 client, closed at teardown. */
function rawClient(t: { teardown(fn: () => void): void }, cluster: EtcdCluster = etcd): Etcd3 {
  const client = new Etcd3({ hosts: cluster.endpoints });
  t.teardown(() => client.close());
  return client;
}

/** Collects a watch's batches and resets. */
function recorder() {
  const batches: WatchBatch[] = [];
  let resets = 0;
  let disconnects = 0;
  return {
    batches,
    resets: () => resets,
    disconnects: () => disconnects,
    handlers: {
      onBatch: (b: WatchBatch) => void batches.push(b),
      onReset: () => void resets++,
      onDisconnect: () => void disconnects++,
    },
  };
}

backendSuite(t, 'etcd', async () => {
  const prefix = freshPrefix();
  const opened: EtcdBackend[] = [];
  const openOne = async () => {
    const b = new EtcdBackend({ endpoints: etcd.endpoints, prefix, maxTxnOps: ETCD_TEST_SETTINGS.maxTxnOps, maxRequestBytes: ETCD_TEST_SETTINGS.maxRequestBytes });
    opened.push(b);
    await b.open();
    return b;
  };
  return {
    backend: await openOne(),
    reopen: openOne,
    cleanup: async () => {
      for (const b of opened) await b.close().catch(() => {});
    },
  };
});

t.test('etcd: kind, location, and the revision key is neither data nor listed', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const b = await open(prefix);
  t.equal(b.kind, 'etcd');
  t.equal(b.location, `etcd://${etcd.endpoints[0]!.replace('http://', '')}${prefix}`);
  await b.write([{ type: 'put', key: '/a', value: '1' }]);
  await b.write([{ type: 'put', key: '/b', value: '2' }]);
  t.same(await b.list(''), [
    { key: '/a', value: '1' },
    { key: '/b', value: '2' },
  ]);
  const raw = rawClient(t);
  const revKey = await raw.get(prefix + REVISION_KEY_SUFFIX).exec();
  t.equal(Number(revKey.kvs[0]!.version), 2, "the store revision is the revision key's etcd version");
  t.same(await raw.getAll().prefix(prefix).keys(), [prefix + REVISION_KEY_SUFFIX, `${prefix}/a`, `${prefix}/b`], 'etcd keys: prefix + datastore key');
  await t.rejects(b.write([{ type: 'put', key: 'no-slash', value: 'x' }]), /does not start with '\/'/);
  t.equal(await b.get('no-slash'), undefined);
  t.same(await b.list('n'), []);
  t.equal(await b.revision(), 2, 'the refused write changed nothing');
});

t.test('etcd: two prefixes on one etcd do not see each other; other writes do not move a store revision', async (t) => {
  const open = backends(t);
  const cluster = freshPrefix('config').replace(/\/config$/, '');
  const config = await open(`${cluster}/config`);
  const config2 = await open(`${cluster}/config2`); // a name that extends the other's
  const other = await open(`${cluster}-other/config`);
  const seen = recorder();
  config.watch(await config.etcdRevision(), seen.handlers);

  await config2.write([{ type: 'put', key: '/a', value: 'config2' }]);
  await other.write([{ type: 'put', key: '/a', value: 'other' }]);
  const raw = rawClient(t);
  await raw.put(`${cluster}/configX`).value('foreign'); // a neighbour key outside every store
  t.same(await config.write([{ type: 'put', key: '/a', value: 'config' }]), { ok: true, revision: 1 }, 'revision 1 although etcd moved on');
  await config2.write([{ type: 'put', key: '/b', value: 'config2' }]);

  t.same(await config.list(''), [{ key: '/a', value: 'config' }]);
  t.same(await config2.list(''), [
    { key: '/a', value: 'config2' },
    { key: '/b', value: 'config2' },
  ]);
  t.same(await other.list(''), [{ key: '/a', value: 'other' }]);
  t.equal(await config.revision(), 1);
  t.equal(await config2.revision(), 2);
  await waitUntil('the watch to see its own store write', () => seen.batches.length >= 1, 5000);
  await new Promise((r) => setTimeout(r, 200));
  t.same(
    seen.batches.map((b) => b.ops),
    [[{ type: 'put', key: '/a', value: 'config' }]],
    'the watch saw only its own store',
  );
});

t.test('etcd: guarded writes from two instances on disjoint keys both succeed; on one key exactly one wins', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const a = await open(prefix);
  const b = await open(prefix);
  await a.write([
    { type: 'put', key: '/x', value: '0' },
    { type: 'put', key: '/y', value: '0' },
  ]);
  const snapA = await a.listWithRevisions('/');
  const snapB = await b.listWithRevisions('/');
  t.same(snapA, snapB, 'both instances read the same snapshot');
  t.equal(snapA.revision, 1);
  const mod = (key: string) => snapA.entries.find((e) => e.key === key)!.modRevision;
  t.ok(mod('/x') > 0 && mod('/x') === snapA.etcdRevision, 'modRevision is the etcd revision of the write');

  const [onX, onY] = await Promise.all([
    a.commit([{ type: 'put', key: '/x', value: 'a' }], { guards: [{ key: '/x', modRevision: mod('/x') }] }),
    b.commit([{ type: 'put', key: '/y', value: 'b' }], { guards: [{ key: '/y', modRevision: mod('/y') }] }),
  ]);
  t.ok(onX.ok && onY.ok, 'disjoint: both succeed');
  t.same([onX.revision, onY.revision].sort(), [2, 3], 'each bumped the store revision once');
  t.not(onX.etcdRevision, onY.etcdRevision);

  const after = await a.listWithRevisions('/');
  const modX = after.entries.find((e) => e.key === '/x')!.modRevision;
  const results = await Promise.all(
    [a, b, a, b].map((w, i) =>
      w.commit(
        [
          { type: 'put', key: '/x', value: `w${i}` },
          { type: 'put', key: `/by/${i}`, value: 'x' },
        ],
        { guards: [{ key: '/x', modRevision: modX }] },
      ),
    ),
  );
  t.equal(results.filter((r) => r.ok).length, 1, 'overlapping: exactly one wins');
  const winner = results.findIndex((r) => r.ok);
  for (const r of results.filter((r) => !r.ok)) t.same({ ok: r.ok, revision: r.revision }, { ok: false, revision: 4 }, 'losers learn the current revision');
  t.equal(await b.get('/x'), `w${winner}`);
  t.same(
    (await b.list('/by/')).map((e) => e.key),
    [`/by/${winner}`],
    'losers wrote nothing',
  );

  // 0 = the key must not exist: create-if-absent.
  const create = () => a.commit([{ type: 'put', key: '/new', value: 'first' }], { guards: [{ key: '/new', modRevision: 0 }] });
  t.equal((await create()).ok, true);
  t.equal((await create()).ok, false, 'a second create of the same key fails');
  // Guards and expectRevision together: both must hold.
  const rev = await a.revision();
  t.equal((await a.commit([{ type: 'put', key: '/z', value: '1' }], { expectRevision: rev - 1, guards: [{ key: '/z', modRevision: 0 }] })).ok, false);
  t.equal((await a.commit([{ type: 'put', key: '/z', value: '1' }], { expectRevision: rev, guards: [{ key: '/z', modRevision: 0 }] })).ok, true);
});

t.test('etcd: a second instance watches every write of the first as one batch each, in order, exactly once', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const writer = await open(prefix);
  const follower = await open(prefix);
  await writer.write([{ type: 'put', key: '/before', value: 'x' }]);
  const snap = await follower.listWithRevisions('');
  const seen = recorder();
  const watch = follower.watch(snap.etcdRevision, seen.handlers);

  const writes: BackendOp[][] = [];
  for (let i = 0; i < 40; i++) {
    const ops: BackendOp[] = [{ type: 'put', key: `/w/${i}`, value: String(i) }];
    if (i % 3 === 0) ops.push({ type: 'put', key: `/w/${i}/extra`, value: 'e' }, { type: 'del', key: '/before' });
    if (i % 7 === 0) ops.push({ type: 'del', key: `/w/${i - 1}` });
    writes.push(ops);
  }
  const results = await Promise.all(writes.map((ops) => writer.commit(ops)));
  await waitUntil('every write to arrive', () => seen.batches.length >= writes.length, 10_000);
  await new Promise((r) => setTimeout(r, 200)); // nothing more may come
  t.equal(seen.batches.length, writes.length, 'one batch per write, none repeated');
  const byRevision = [...results].sort((x, y) => x.revision - y.revision);
  t.same(
    seen.batches.map((b) => b.revision),
    byRevision.map((r) => r.revision),
    'batches in commit order with the writers\' revisions',
  );
  t.same(
    seen.batches.map((b) => b.etcdRevision),
    byRevision.map((r) => r.etcdRevision),
  );
  t.ok(seen.batches.every((b, i) => i === 0 || b.etcdRevision > seen.batches[i - 1]!.etcdRevision), 'strictly increasing etcd revisions');
  // What each write should show: its final op per key, minus deletes of keys absent at that point.
  const sortOps = (ops: BackendOp[]) => [...ops].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const model = new Map(snap.entries.map((e) => [e.key, e.value]));
  const expected = byRevision.map((r) => {
    const finalOps = new Map<string, BackendOp>();
    for (const op of writes[results.indexOf(r)]!) finalOps.set(op.key, op);
    const effect = [...finalOps.values()].filter((op) => op.type === 'put' || model.has(op.key));
    for (const op of effect) op.type === 'put' ? model.set(op.key, op.value) : model.delete(op.key);
    return sortOps(effect);
  });
  t.same(
    seen.batches.map((b) => sortOps(b.ops)),
    expected,
    "each batch holds exactly its write's effect",
  );

  // Replaying the batches over the snapshot gives what the store holds.
  const replica = new Map(snap.entries.map((e) => [e.key, e.value]));
  for (const b of seen.batches) for (const op of b.ops) op.type === 'put' ? replica.set(op.key, op.value) : replica.delete(op.key);
  t.same(
    [...replica].sort(([x], [y]) => (x < y ? -1 : 1)).map(([key, value]) => ({ key, value })),
    await writer.list(''),
    'snapshot + batches = the store',
  );
  await watch.close();
  await writer.write([{ type: 'put', key: '/after-close', value: 'x' }]);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(seen.batches.length, writes.length, 'nothing after close');
  t.equal(seen.resets(), 0);
});

t.test('etcd: watchers on two instances see writes from two writers in the same order; a slow onBatch holds the next; a throwing one resets', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const [a, b, c, d] = await Promise.all([open(prefix), open(prefix), open(prefix), open(prefix)]);
  const from = await c.etcdRevision();
  const fast = recorder();
  c.watch(from, fast.handlers);
  let running = 0;
  let overlapped = false;
  const slow: WatchBatch[] = [];
  d.watch(from, {
    onBatch: async (batch) => {
      if (running++ > 0) overlapped = true;
      await new Promise((r) => setTimeout(r, 2));
      slow.push(batch);
      running--;
    },
    onReset: () => t.fail('no reset'),
  });
  await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).write([{ type: 'put', key: `/n/${i % 5}`, value: String(i) }])));
  await waitUntil('both watchers', () => fast.batches.length === 30 && slow.length === 30, 10_000);
  t.same(
    slow.map((x) => x.etcdRevision),
    fast.batches.map((x) => x.etcdRevision),
    'the same sequence on both instances',
  );
  t.same(
    fast.batches.map((x) => x.revision),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  t.notOk(overlapped, 'one onBatch at a time');

  let resets = 0;
  let calls = 0;
  b.watch(await b.etcdRevision(), {
    onBatch: () => {
      calls++;
      throw new Error('replica broken');
    },
    onReset: () => void resets++,
  });
  await a.write([{ type: 'put', key: '/x', value: '1' }]);
  await a.write([{ type: 'put', key: '/y', value: '1' }]);
  await waitUntil('the reset', () => resets === 1, 5000);
  await new Promise((r) => setTimeout(r, 200));
  t.equal(calls, 1, 'no batch after the failed one');
  t.equal(resets, 1);
});

t.test('etcd: a 5,000-op write commits atomically and reaches a watcher as one batch', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const b = await open(prefix);
  const follower = await open(prefix);
  const seen = recorder();
  follower.watch(await follower.etcdRevision(), seen.handlers);
  const ops: BackendOp[] = [];
  for (let i = 0; i < 5000; i++) ops.push({ type: 'put', key: `/big/${String(i).padStart(4, '0')}`, value: `value-${i}-${'v'.repeat(100)}` });
  const started = Date.now();
  const r = await b.commit(ops);
  t.comment(`5,000-op commit: ${Date.now() - started} ms`);
  t.same({ ok: r.ok, revision: r.revision }, { ok: true, revision: 1 });
  t.equal((await b.list('/big/')).length, 5000);
  await waitUntil('the batch', () => seen.batches.length >= 1, 10_000);
  t.equal(seen.batches.length, 1, 'one batch');
  t.equal(seen.batches[0]!.ops.length, 5000);
  t.equal(seen.batches[0]!.etcdRevision, r.etcdRevision);
});

t.test('etcd: a write beyond the configured etcd limits is refused naming the flag, and writes nothing', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const b = await open(prefix, { maxTxnOps: 128, maxRequestBytes: 1.5 * 1024 * 1024 }); // etcd's defaults
  const many: BackendOp[] = Array.from({ length: 128 }, (_, i) => ({ type: 'put', key: `/m/${i}`, value: 'x' }));
  await t.rejects(b.write(many), /--max-txn-ops/, '128 keys + the revision key > 128 ops');
  t.same(await b.write(many.slice(0, 127)), { ok: true, revision: 1 }, '127 keys fit');
  const guards = Array.from({ length: 129 }, (_, i) => ({ key: `/g/${i}`, modRevision: 0 }));
  await t.rejects(b.write([{ type: 'put', key: '/g', value: 'x' }], { guards }), /--max-txn-ops/, 'too many guards');
  await t.rejects(b.write([{ type: 'put', key: '/huge', value: 'x'.repeat(2 * 1024 * 1024) }]), /--max-request-bytes/);
  t.equal(await b.revision(), 1, 'refused writes changed nothing');
  t.equal(await b.get('/huge'), undefined);
});

t.test('etcd: a write beyond what etcd was started with is refused by etcd, not applied, naming the flag', async (t) => {
  const defaults = await startEtcd(t, { settings: { maxTxnOps: 128, maxRequestBytes: 1.5 * 1024 * 1024 } });
  const b = await backends(t, defaults)(freshPrefix()); // told the test settings: etcd has the defaults
  const many: BackendOp[] = Array.from({ length: 200 }, (_, i) => ({ type: 'put', key: `/m/${i}`, value: 'x' }));
  const tooMany = await b.write(many).catch((e: unknown) => e);
  t.ok(tooMany instanceof EtcdWriteError);
  t.equal((tooMany as EtcdWriteError).outcome, 'not-applied');
  t.match((tooMany as Error).message, /--max-txn-ops/);
  for (const size of [1.8, 3]) {
    const tooBig = await b.write([{ type: 'put', key: '/big', value: 'x'.repeat(size * 1024 * 1024) }]).catch((e: unknown) => e);
    t.ok(tooBig instanceof EtcdWriteError, `${size} MiB refused`);
    t.equal((tooBig as EtcdWriteError).outcome, 'not-applied');
    t.match((tooBig as Error).message, /--max-request-bytes/, (tooBig as Error).message);
  }
  t.equal(await b.revision(), 0, 'nothing applied');
});

t.test('etcd: a hung (SIGSTOP) member: a write fails in bounded time as outcome unknown; after SIGCONT the store and the watch agree', async (t) => {
  const cluster = await startEtcd(t);
  const member = cluster.members[0]!;
  const open = backends(t, cluster);
  const prefix = freshPrefix();
  const writer = await open(prefix, { requestTimeoutMs: 1000 });
  const follower = await open(prefix, { requestTimeoutMs: 1000 });
  const seen = recorder();
  follower.watch(await follower.etcdRevision(), seen.handlers);
  await writer.write([{ type: 'put', key: '/a', value: '1' }]);
  await waitUntil('the first write', () => seen.batches.length === 1, 5000);

  await member.pause();
  t.teardown(() => member.resume());
  const started = Date.now();
  const err = await writer.write([{ type: 'put', key: '/b', value: '2' }]).catch((e: unknown) => e);
  const took = Date.now() - started;
  t.ok(err instanceof EtcdWriteError, 'the write fails');
  t.equal((err as EtcdWriteError).outcome, 'unknown', 'it was sent: it may still apply');
  t.match((err as Error).message, /outcome unknown/);
  t.ok(took < 2500, `within a bounded time (${took} ms, request timeout 1000 ms)`);

  await member.resume();
  let r;
  for (const end = Date.now() + 10_000; !r && Date.now() < end; ) r = await writer.write([{ type: 'put', key: '/c', value: '3' }]).catch(() => undefined);
  t.ok(r?.ok, 'writes work after SIGCONT');
  const stored = await writer.list('');
  await waitUntil('the watch to catch up', () => seen.batches.at(-1)?.revision === r!.revision, 5000);
  const replica = new Map<string, string>();
  for (const b of seen.batches) for (const op of b.ops) op.type === 'put' ? replica.set(op.key, op.value) : replica.delete(op.key);
  t.same(
    [...replica].sort().map(([key, value]) => ({ key, value })),
    stored,
    `the watch and the store agree (the unknown write ${stored.some((e) => e.key === '/b') ? 'did' : 'did not'} apply)`,
  );
  t.same(
    seen.batches.map((b) => b.revision),
    Array.from({ length: seen.batches.length }, (_, i) => i + 1),
    'every write once, in order',
  );
});

t.test('etcd: 3 members, the leader killed: writes go on through the others, no acknowledged write lost', async (t) => {
  const cluster = await startEtcd(t, { members: 3 });
  const open = backends(t, cluster);
  const prefix = freshPrefix();
  const writer = await open(prefix, { requestTimeoutMs: 3000 });
  const follower = await open(prefix, { requestTimeoutMs: 3000 });
  const seen = recorder();
  follower.watch(await follower.etcdRevision(), seen.handlers);

  const leader = await cluster.leader();

  const acknowledged: string[] = [];
  let failed = 0;
  const writeOne = async (i: number) => {
    try {
      await writer.write([{ type: 'put', key: `/k/${i}`, value: String(i) }]);
      acknowledged.push(`/k/${i}`);
    } catch (err) {
      failed++;
      t.comment(`write ${i} failed after the kill: ${(err as Error).message}`);
    }
  };
  for (let i = 0; i < 10; i++) await writeOne(i);
  await leader.stop('SIGKILL');
  const killedAt = Date.now();
  let firstAfter = 0;
  for (let i = 10; i < 40; i++) {
    await writeOne(i);
    if (!firstAfter && acknowledged.includes(`/k/${i}`)) firstAfter = Date.now() - killedAt;
  }
  t.comment(`first acknowledged write ${firstAfter} ms after the kill; ${failed} failed`);
  t.ok(acknowledged.length >= 35, `writes go on (${acknowledged.length} of 40 acknowledged, ${failed} failed)`);
  const stored = (await writer.list('/k/')).map((e) => e.key);
  t.ok(
    acknowledged.every((k) => stored.includes(k)),
    'every acknowledged write is stored',
  );
  await waitUntil('the watch to see them', () => seen.batches.length >= stored.length, 10_000);
  t.equal(new Set(seen.batches.map((b) => b.revision)).size, seen.batches.length, 'no batch twice');
});

t.test('etcd: unreachable at open is BackendOpenError unavailable with a one-line message naming the endpoints', async (t) => {
  const port = await freePort(new Set([2379, 2380]));
  const endpoint = `http://127.0.0.1:${port}`;
  const b = new EtcdBackend({ endpoints: [endpoint], prefix: '/nobody/config', dialTimeoutMs: 1000 });
  const started = Date.now();
  const err = await b.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = Date.now() - started;
  t.ok(err instanceof BackendOpenError, 'a BackendOpenError');
  t.equal((err as BackendOpenError).code, 'unavailable');
  t.match((err as BackendOpenError).message, new RegExp(`^etcd unreachable at ${endpoint}: `));
  t.notMatch((err as BackendOpenError).message, /\n/, 'one line');
  t.ok(took < 3000, `gave up within the dial timeout (${took} ms)`);
  await t.rejects(b.get('/a'), /not open/);
});

t.test('etcd: bad options are refused at construction', async (t) => {
  t.throws(() => new EtcdBackend({ endpoints: [], prefix: '/c/config' }), /endpoint/);
  t.throws(() => new EtcdBackend({ endpoints: etcd.endpoints, prefix: 'c/config' }), /prefix/);
  t.throws(() => new EtcdBackend({ endpoints: etcd.endpoints, prefix: '/c/config/' }), /prefix/);
  t.equal(storePrefix('sextant', 'config'), '/sextant/config');
  t.throws(() => storePrefix('a/b', 'config'), /cluster name "a\/b" must be non-empty, without '\/'/);
  t.throws(() => storePrefix('', 'config'), /cluster name/);
  t.throws(() => storePrefix('sextant', 'op/x'), /store name/);
});

t.test('etcd: member killed under open backends: writes fail in bounded time, then work again; the watch resumes; nothing lost', async (t) => {
  const cluster = await startEtcd(t);
  const member = cluster.members[0]!;
  const open = backends(t, cluster);
  const prefix = freshPrefix();
  const writer = await open(prefix, { requestTimeoutMs: 1000 });
  const follower = await open(prefix, { requestTimeoutMs: 1000 });
  const seen = recorder();
  follower.watch(await follower.etcdRevision(), seen.handlers);

  const acknowledged: number[] = [];
  for (let i = 0; i < 10; i++) {
    await writer.write([{ type: 'put', key: `/k/${i}`, value: String(i) }]);
    acknowledged.push(i);
  }
  await waitUntil('the first writes at the follower', () => seen.batches.length === 10, 5000);

  await member.stop('SIGKILL');
  const started = Date.now();
  const err = await writer.write([{ type: 'put', key: '/k/down', value: 'x' }]).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  const took = Date.now() - started;
  t.ok(err instanceof Error, 'the write while etcd is down fails');
  t.match(err?.message, /^etcd write failed at /, `a clear message: ${err?.message}`);
  // The first write may still go out on the dying connection ("Connection dropped"): unknown.
  t.ok(err instanceof EtcdWriteError && ['not-applied', 'unknown'].includes(err.outcome), 'an EtcdWriteError');
  const next = await writer.write([{ type: 'put', key: '/k/down2', value: 'x' }]).catch((e: unknown) => e);
  t.equal((next as EtcdWriteError).outcome, 'not-applied', `once the connection is known dead: not applied (${(next as Error).message})`);
  t.ok(took < 2500, `within a bounded time (${took} ms, request timeout 1000 ms)`);
  await t.rejects(follower.get('/k/0'), /^etcd get failed/, 'reads fail too');

  await member.restart();
  let back = false;
  for (const end = Date.now() + 10_000; !back && Date.now() < end; ) {
    back = await writer.write([{ type: 'put', key: '/k/10', value: '10' }]).then(
      () => true,
      () => false,
    );
  }
  t.ok(back, 'writes work again after the restart');
  acknowledged.push(10);
  for (let i = 11; i < 20; i++) {
    await writer.write([{ type: 'put', key: `/k/${i}`, value: String(i) }]);
    acknowledged.push(i);
  }
  t.same(
    (await writer.list('/k/')).map((e) => e.key).sort(),
    acknowledged.map((i) => `/k/${i}`).sort(),
    'every acknowledged write is there, the failed one is not',
  );
  await waitUntil('the watch to resume and deliver the rest', () => seen.batches.length >= 20, 10_000);
  await new Promise((r) => setTimeout(r, 200));
  t.ok(seen.disconnects() >= 1, 'the watch noticed the break');
  t.same(
    seen.batches.map((b) => b.revision),
    Array.from({ length: 20 }, (_, i) => i + 1),
    'every write once, in order, across the restart',
  );
  t.equal(seen.resets(), 0);
});

t.test('etcd: a watch from a compacted revision calls onReset and delivers nothing', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const b = await open(prefix);
  const start = await b.etcdRevision();
  for (let i = 0; i < 3; i++) await b.write([{ type: 'put', key: `/c/${i}`, value: String(i) }]);
  const raw = rawClient(t);
  await raw.kv.compact({ revision: await b.etcdRevision(), physical: true });
  const seen = recorder();
  b.watch(start, seen.handlers);
  await waitUntil('onReset', () => seen.resets() === 1, 5000);
  t.same(seen.batches, [], 'no batch from a history with holes');
  // After a reload the caller watches again from the snapshot, and that works.
  const snap = await b.listWithRevisions('');
  t.equal(snap.entries.length, 3);
  const again = recorder();
  b.watch(snap.etcdRevision, again.handlers);
  await b.write([{ type: 'put', key: '/c/3', value: '3' }]);
  await waitUntil('the next write', () => again.batches.length === 1, 5000);
  t.equal(again.batches[0]!.revision, 4);
  t.equal(again.resets(), 0);
});

t.test('etcd: a watcher cut off while etcd compacts past it calls onReset when it reconnects', async (t) => {
  const cluster = await startEtcd(t, { members: 3 });
  // Cut off a follower, so the others need no election and take writes at once.
  const leader = await cluster.leader();
  const [m1, m2] = [...cluster.members.filter((m) => m !== leader), leader];
  const prefix = freshPrefix();
  // The writer talks to the two members that stay up, so killing member 1 costs it nothing.
  const writer = await backends(t, { ...cluster, endpoints: [m2!.clientUrl, leader.clientUrl] })(prefix, { requestTimeoutMs: 5000 });
  // The follower talks to member 1 only, so killing it cuts the follower off.
  const follower = await backends(t, { ...cluster, endpoints: [m1!.clientUrl] })(prefix, { requestTimeoutMs: 2000 });
  const seen = recorder();
  follower.watch(await follower.etcdRevision(), seen.handlers);
  await writer.write([{ type: 'put', key: '/a', value: '1' }]);
  await waitUntil('the first write', () => seen.batches.length === 1, 5000);

  await m1!.stop('SIGKILL');
  for (let i = 0; i < 5; i++) await writer.write([{ type: 'put', key: `/b/${i}`, value: String(i) }]);
  const raw = new Etcd3({ hosts: [m2!.clientUrl] });
  t.teardown(() => raw.close());
  await raw.kv.compact({ revision: await writer.etcdRevision(), physical: true });
  await m1!.restart();
  await waitUntil('onReset after the reconnect', () => seen.resets() === 1, 15_000);
  t.equal(seen.batches.length, 1, 'no partial history delivered');
});

t.test('etcd: range guards refuse a write when another writer created or changed a key in the guarded range since the snapshot', async (t) => {
  const open = backends(t);
  const prefix = freshPrefix();
  const a = await open(prefix);
  const b = await open(prefix);
  await a.write([{ type: 'put', key: '/r/x', value: '1' }]);
  const snapshot = (await a.listWithRevisions!('/')).etcdRevision;
  // Another writer creates a key A never saw, under /r/, and one that only shares a prefix.
  await b.write([{ type: 'put', key: '/r/y', value: '2' }]);
  await b.write([{ type: 'put', key: '/rr', value: 'sibling' }]);
  const under = await a.commit!([{ type: 'put', key: '/r', value: '{}' }], { rangeGuards: [{ key: '/r/', prefix: true, notModifiedAfter: snapshot }] });
  t.equal(under.ok, false, 'a creation under /r/ since the snapshot fails the guard');
  t.equal(await a.get('/r'), undefined, 'and nothing was written');
  const exact = await a.commit!([{ type: 'put', key: '/z', value: '1' }], { rangeGuards: [{ key: '/rr', notModifiedAfter: snapshot }] });
  t.equal(exact.ok, false, 'an exact-key guard fails when that key was created since');
  const elsewhere = await a.commit!([{ type: 'put', key: '/q', value: '1' }], { rangeGuards: [{ key: '/q/', prefix: true, notModifiedAfter: snapshot }, { key: '/q', notModifiedAfter: snapshot }] });
  t.equal(elsewhere.ok, true, 'a range nobody touched passes');
  const fresh = (await a.listWithRevisions!('/')).etcdRevision;
  const now = await a.commit!([{ type: 'put', key: '/r', value: '{}' }], { rangeGuards: [{ key: '/r/', prefix: true, notModifiedAfter: fresh }] });
  t.equal(now.ok, true, 'from a fresh snapshot it passes');
});
