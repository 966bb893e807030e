/**
 * The datastore over a shared backend (etcd, cluster mode): every instance is a replica that
 * follows the backend's history, so a commit on A is read on B, listeners on every instance hear
 * every commit once and in the same order, commits on disjoint data from different instances
 * both succeed, overlapping ones: exactly one wins, and a restarted instance loads what is there.
 */
import t from 'tap';
import { Datastore, retryOnConflict, type Change } from '../../src/datastore/datastore.ts';
import { EtcdBackend } from '../../src/datastore/backends/etcd.ts';
import { Etcd3 } from 'etcd3';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { isConflict } from '../../src/errors.ts';
import { fixtureSchema } from '../helpers/fixture.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../helpers/etcd.ts';
import { waitUntil } from '../helpers/process.ts';

const schema = await fixtureSchema();
const etcd = await startEtcd(t, { members: 1 });
const HOSTS = '/sextant-fixture:registry/host=*';
const host = (name: string) => `/sextant-fixture:registry/host=${name}`;
let clusters = 0;

async function instance(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<Datastore> {
  const ds = await Datastore.open({
    schema,
    config: new EtcdBackend({ endpoints: etcd.endpoints, prefix: `${prefix}/config`, maxTxnOps: ETCD_TEST_SETTINGS.maxTxnOps, maxRequestBytes: ETCD_TEST_SETTINGS.maxRequestBytes }),
    operational: new MemoryBackend(),
  });
  t.teardown(() => ds.close());
  return ds;
}

/** Records, per instance, the hosts created by each commit its listener hears. */
function record(ds: Datastore): string[][] {
  const heard: string[][] = [];
  ds.subscribe('config', HOSTS, (changes: Change[]) => void heard.push(changes.filter((c) => c.type !== 'deleted').map((c) => (c.after as { name: string }).name).sort()), { replay: false });
  return heard;
}

t.test('a commit on A is read on B; sync makes the read fresh', async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const b = await instance(t, prefix);
  await a.transaction('config').put(host('h1'), { name: 'h1', address: 'from A' }).commit();
  t.same(a.read('config', host('h1')), { name: 'h1', address: 'from A' }, 'read your writes on A at once');
  await b.sync('config');
  t.same(b.read('config', host('h1')), { name: 'h1', address: 'from A' }, 'B after sync');
  t.equal(b.revision('config'), a.revision('config'), 'the same revision on both');
});

t.test('listeners on every instance hear every commit once, in the same order', async (t) => {
  const prefix = `/c${++clusters}`;
  const ds = [await instance(t, prefix), await instance(t, prefix), await instance(t, prefix)];
  const heard = ds.map(record);
  // Disjoint writes from all three at once: none may conflict.
  const conflicts: unknown[] = [];
  await Promise.all(
    ds.map((d, i) =>
      (async () => {
        for (let n = 0; n < 15; n++) {
          await d.transaction('config').put(host(`i${i}-${n}`), { name: `i${i}-${n}` }).commit().catch((e: unknown) => conflicts.push(e));
        }
      })(),
    ),
  );
  t.same(conflicts, [], 'disjoint commits from three instances: no conflict');
  for (const d of ds) await d.sync('config');
  await waitUntil('every listener heard 45 commits', () => heard.every((h) => h.length === 45), 5000);
  for (const d of ds) await d.settled();
  t.same(heard[1], heard[0], 'B heard what A heard, in the same order');
  t.same(heard[2], heard[0], 'C too');
  t.equal(new Set(heard[0].flat()).size, 45, 'each commit once');
  t.equal((ds[2].read('config', '/sextant-fixture:registry/host') as unknown[]).length, 45);
});

t.test('overlapping commits from two instances: exactly one wins, the other gets a retryable conflict', async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const b = await instance(t, prefix);
  await a.transaction('config').put(host('shared'), { name: 'shared', address: 'v0' }).commit();
  await b.sync('config');
  let wins = 0;
  let losses = 0;
  for (let round = 1; round <= 10; round++) {
    const ta = a.transaction('config').merge(host('shared'), { address: `a${round}` });
    const tb = b.transaction('config').merge(host('shared'), { address: `b${round}` });
    const results = await Promise.allSettled([ta.commit(), tb.commit()]);
    wins += results.filter((r) => r.status === 'fulfilled').length;
    losses += results.filter((r) => r.status === 'rejected' && isConflict(r.reason)).length;
    await a.sync('config');
    await b.sync('config');
    t.same(a.read('config', host('shared')), b.read('config', host('shared')), `round ${round}: both replicas agree`);
  }
  t.equal(wins, 10, 'one commit per round');
  t.equal(losses, 10, 'the other lost with a retryable conflict');
  // With retries, both instances' increments land: no lost update.
  await a.transaction('config').put(host('counter'), { name: 'counter', address: '0' }).commit();
  await b.sync('config');
  const bump = (d: Datastore) =>
    retryOnConflict(async () => {
      await d.sync('config');
      const tx = d.transaction('config');
      const n = Number((tx.read(host('counter')) as { address: string }).address);
      await tx.merge(host('counter'), { address: String(n + 1) }).commit();
    }, 100);
  await Promise.all([a, b].map(async (d) => {
    for (let i = 0; i < 20; i++) await bump(d);
  }));
  await a.sync('config');
  t.same(a.read('config', host('counter')), { name: 'counter', address: '40' }, '40 increments from two instances, none lost');
});

t.test('a restarted instance loads what the others wrote, and follows on', async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  for (let i = 0; i < 5; i++) await a.transaction('config').put(host(`r${i}`), { name: `r${i}` }).commit();
  const b1 = await instance(t, prefix);
  t.equal((b1.read('config', '/sextant-fixture:registry/host') as unknown[]).length, 5, 'loaded at open');
  await b1.close();
  await a.transaction('config').remove(host('r0')).commit();
  const b2 = await instance(t, prefix);
  const heard = record(b2);
  t.equal((b2.read('config', '/sextant-fixture:registry/host') as unknown[]).length, 4, 'a delete made while it was down is seen');
  await a.transaction('config').put(host('later'), { name: 'later' }).commit();
  await b2.sync('config');
  await b2.settled();
  t.same(heard, [['later']], 'and what comes after');
});

t.test('two clusters on one etcd do not see each other', async (t) => {
  const a = await instance(t, `/c${++clusters}`);
  const other = await instance(t, `/c${++clusters}`);
  await a.transaction('config').put(host('mine'), { name: 'mine' }).commit();
  await other.sync('config');
  t.equal(other.read('config', host('mine')), undefined);
});

t.test('a commit that replaces a subtree conflicts with another instance creating inside it since its snapshot', async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const b = await instance(t, prefix);
  await a.transaction('config').put(host('old'), { name: 'old' }).commit();
  await b.sync('config');
  // A's transaction replaces the whole registry; B, unseen by A, adds an entry to it meanwhile.
  const replace = a.transaction('config').put('/sextant-fixture:registry', { host: [{ name: 'fresh' }] });
  await b.transaction('config').put(host('sneaked-in'), { name: 'sneaked-in' }).commit();
  // Refused by the replica's own conflict log when B's batch has arrived, else by etcd (the
  // range guard); the backend test checks the guard itself.
  await t.rejects(replace.commit(), { tag: 'in-use', retryable: true, message: /retry/ }, 'the replace does not silently keep or drop what it never saw');
  await a.sync('config');
  t.same((a.read('config', '/sextant-fixture:registry/host') as { name: string }[]).map((h) => h.name), ['old', 'sneaked-in'], 'B\'s entry is there, the failed replace wrote nothing');
  // Retried on a fresh snapshot, the replace goes through and means what it says.
  await retryOnConflict(() => a.transaction('config').put('/sextant-fixture:registry', { host: [{ name: 'fresh' }] }).commit());
  await b.sync('config');
  t.same((b.read('config', '/sextant-fixture:registry/host') as { name: string }[]).map((h) => h.name), ['fresh']);
  // A sibling whose name merely starts the same way is not inside the subtree: no false conflict.
  const one = a.transaction('config').merge(host('h1'), { name: 'h1', address: 'x' });
  await b.transaction('config').put(host('h10'), { name: 'h10' }).commit();
  await one.commit();
  t.pass('h1 and h10 commit side by side');
});

t.test("a fenced commit goes through only while the fence's key has the create revision it names", async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const { Etcd3 } = await import('etcd3');
  const raw = new Etcd3({ hosts: etcd.endpoints });
  t.teardown(() => raw.close());
  const leaderKey = `${prefix}/cluster/leader`;
  const created = await raw.put(leaderKey).value('a').exec();
  const fence = { key: leaderKey, createRevision: String(created.header.revision) };
  await a.transaction('config').fence(fence).put(host('while-leading'), { name: 'while-leading' }).commit();
  t.ok(a.read('config', host('while-leading')), 'the leader writes');
  // Another member becomes the leader: the key is deleted and created again.
  await raw.delete().key(leaderKey).exec();
  await raw.put(leaderKey).value('b').exec();
  await t.rejects(a.transaction('config').fence(fence).put(host('deposed'), { name: 'deposed' }).commit(), { tag: 'in-use', message: /retry/ }, 'the deposed leader cannot');
  await a.sync('config');
  t.equal(a.read('config', host('deposed')), undefined, 'and nothing was written');
});

t.test('a list written without entries is no data, on the writer as on the replicas', async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const b = await instance(t, prefix);
  await a.transaction('config').put(host('with-list'), { name: 'with-list', tags: ['x'] }).commit();
  await a.transaction('config').put('/sextant-fixture:registry', { host: [] }).commit();
  await b.sync('config');
  t.same(a.read('config', '/sextant-fixture:registry'), b.read('config', '/sextant-fixture:registry'), 'both hold the same');
  t.equal(a.read('config', '/sextant-fixture:registry/host'), undefined, 'no empty list on the writer');
});

t.test('an entry created by a write below it, then removed with everything below: writer, replica and a restart agree', async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const b = await instance(t, prefix);
  // The host exists only because a port was written below it.
  await a.transaction('config').put(`${host('implied')}/port=1`, { id: 1 }).commit();
  await b.sync('config');
  t.same(b.read('config', host('implied')), a.read('config', host('implied')), 'the replica holds the implied entry as the writer does');
  const restarted = await instance(t, prefix);
  t.same(restarted.read('config', host('implied')), { name: 'implied', port: [{ id: 1 }] }, 'and so does an instance loading from etcd');
  await a.transaction('config').remove(host('implied')).commit();
  await b.sync('config');
  await restarted.sync('config');
  t.equal(a.read('config', host('implied')), undefined, 'gone on the writer');
  t.equal(b.read('config', host('implied')), undefined, 'gone on the replica (its ports removed after it do not bring it back)');
  t.equal(restarted.read('config', host('implied')), undefined, 'gone on the other replica');
  const fresh = await instance(t, prefix);
  t.equal(fresh.read('config', host('implied')), undefined, 'and on an instance loading afresh');
});

t.test("an entry that exists because of leased writes below it is not under any writer's lease: one writer's lease ending leaves the others' data", async (t) => {
  const prefix = `/c${++clusters}`;
  const a = await instance(t, prefix);
  const b = await instance(t, prefix);
  const client = new Etcd3({ hosts: etcd.endpoints });
  t.teardown(() => client.close());
  const leaseA = client.lease(30, { autoKeepAlive: false });
  const leaseB = client.lease(30, { autoKeepAlive: false });
  const [idA, idB] = [await leaseA.grant(), await leaseB.grant()];
  a.useLease(() => idA);
  b.useLease(() => idB);
  // A creates the host by writing its port 1 below it; B adds port 2 to the same host.
  await a.transaction('config', { ephemeral: true }).put(`${host('parent')}/port=1`, { id: 1 }).commit();
  await b.sync('config');
  await b.transaction('config', { ephemeral: true }).put(`${host('parent')}/port=2`, { id: 2 }).commit();
  await a.sync('config');
  t.same(a.read('config', `${host('parent')}/port`), [{ id: 1 }, { id: 2 }], 'both ports on A');
  await leaseA.revoke();
  await waitUntil("A's port goes on B", () => (b.read('config', `${host('parent')}/port`) as unknown[] | undefined)?.length === 1, 5000);
  await waitUntil("and on A", () => (a.read('config', `${host('parent')}/port`) as unknown[] | undefined)?.length === 1, 5000);
  t.same(b.read('config', host('parent')), { name: 'parent', port: [{ id: 2 }] }, "B's port stays, in the host A's write created");
  t.same(a.read('config', host('parent')), b.read('config', host('parent')), 'A agrees');
  await leaseB.revoke();
});
