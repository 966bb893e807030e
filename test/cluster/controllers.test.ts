/**
 * Several controllers on one etcd (cluster mode), driven over RESTCONF: a write on one instance is
 * read on the others, the cluster state shows every member and one leader, read-modify-write with
 * ETags from three instances loses no update, and the scale-in application works with its calls
 * spread over the instances (registration and elections done once, by the leader).
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../helpers/etcd.ts';
import { startMain, waitUntil } from '../helpers/process.ts';
import { NetVirt, computeName } from '../csit/lib/netvirt.ts';
import { Session } from '../csit/lib/requests.ts';
import { computesForTest } from '../helpers/ovs.ts';
import { Etcd3 } from 'etcd3';
import { storePrefix } from '../../src/datastore/backends/etcd.ts';

const etcd = await startEtcd(t, { members: 1 });
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
let clusters = 0;

async function cluster(t: Tap, n: number) {
  const name = `ctl${++clusters}`;
  const flags = (id: string) => [
    `--datastore=etcd://${etcd.endpoints.map((e) => e.replace('http://', '')).join(',')}`,
    `--cluster-name=${name}`,
    `--member-id=${id}`,
    `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
    `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
  ];
  const out = [];
  for (let i = 0; i < n; i++) out.push(await testController(t, flags(String.fromCharCode(97 + i))));
  return out;
}
type Tap = { teardown(fn: () => unknown): void };

async function http(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(base + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, etag: r.headers.get('etag'), json: text ? JSON.parse(text) : undefined };
}

const TOASTER = '/rests/data/toaster:toaster';
/** Read-modify-write increments per instance in the no-lost-update test. */
const INCREMENTS = 200;

t.test('a write on A is read on B and C; every member sees three members and one leader', async (t) => {
  const [a, b, c] = await cluster(t, 3);
  t.equal((await http(a.restconf.url, 'PUT', TOASTER, { 'toaster:toaster': { darknessFactor: 4242 } })).status, 201);
  for (const x of [b, c]) {
    await waitUntil('the write reaches every instance', () => (x.data.read('config', '/toaster:toaster') as { darknessFactor?: number } | undefined)?.darknessFactor === 4242, 5000);
    t.match((await http(x.restconf.url, 'GET', `${TOASTER}?content=config`)).json, { 'toaster:toaster': { darknessFactor: 4242 } }, 'read over RESTCONF on another instance');
  }
  await waitUntil('the cluster state lists three members', () => ((a.data.read('operational', '/sextant-cluster:cluster') as { member?: unknown[] } | undefined)?.member?.length ?? 0) === 3, 10_000);
  for (const x of [a, b, c]) {
    const state = (await http(x.restconf.url, 'GET', '/rests/data/sextant-cluster:cluster')).json['sextant-cluster:cluster'];
    t.equal(state.member.length, 3);
    t.equal(state.member.filter((m: { leader: boolean }) => m.leader).length, 1, 'one leader');
    t.same(state.member.map((m: { 'member-id': string }) => m['member-id']), ['a', 'b', 'c']);
  }
  t.equal([a, b, c].filter((x) => x.plugins.loaded[0].ctx.cluster.isLeader()).length, 1, 'exactly one instance leads');
  const leader = [a, b, c].find((x) => x.plugins.loaded[0].ctx.cluster.isLeader())!;
  const follower = [a, b, c].find((x) => x !== leader)!;
  t.throws(() => follower.plugins.loaded[0].ctx.data.transaction('config', { leaderOnly: true }), { tag: 'operation-failed', appTag: 'not-leader', message: /does not lead/ }, 'leader-only work is refused on a follower');
  const fenced = leader.plugins.loaded[0].ctx.data.transaction('config', { leaderOnly: true });
  t.equal(fenced.fences.length, 1, "the leader's leader-only transaction carries its fence");
  fenced.cancel();

  // An application shards 100 entities of a kind: the state says how many each member owns.
  const entities = Array.from({ length: 100 }, (_, i) => `vim-${i}`);
  for (const x of [a, b, c]) x.plugins.loaded[0].ctx.cluster.entities.set('vim', entities);
  const ownedBy = (id: string) => entities.filter((e) => a.plugins.loaded[0].ctx.cluster.ownerOf(e) === id).length;
  type Owned = { member: { 'member-id': string; owned?: { 'entity-type': string; count: number }[] }[] };
  const vims = (m: Owned['member'][number]) => m.owned?.filter((o) => o['entity-type'] === 'vim');
  const counted = (s: Owned | undefined) => s?.member.every((m) => vims(m)?.[0]?.count === ownedBy(m['member-id'])) ?? false;
  await waitUntil('the cluster state counts the entities', () => counted(b.data.read('operational', '/sextant-cluster:cluster') as Owned | undefined), 10_000);
  const state = (await http(c.restconf.url, 'GET', '/rests/data/sextant-cluster:cluster')).json['sextant-cluster:cluster'] as Owned;
  t.same(state.member.map(vims), ['a', 'b', 'c'].map((id) => [{ 'entity-type': 'vim', count: ownedBy(id) }]), 'per member, the number of vims it owns (over RESTCONF)');
  t.equal(state.member.reduce((n, m) => n + vims(m)![0].count, 0), 100, 'each entity counted once');
  t.ok(state.member.every((m) => vims(m)![0].count > 10), 'spread over all three');
});

t.test('no lost update: 3 x 200 read-modify-write increments with If-Match from three instances', async (t) => {
  const ds = await cluster(t, 3);
  t.equal((await http(ds[0].restconf.url, 'PUT', TOASTER, { 'toaster:toaster': { darknessFactor: 0 } })).status, 201);
  let acknowledged = 0;
  let refused = 0;
  await Promise.all(
    ds.map(async (x) => {
      for (let i = 0; i < INCREMENTS; i++) {
        for (;;) {
          const got = await http(x.restconf.url, 'GET', `${TOASTER}/darknessFactor`);
          if (got.status !== 200) continue;
          const n = got.json['toaster:darknessFactor'] as number;
          const put = await http(x.restconf.url, 'PUT', `${TOASTER}/darknessFactor`, { 'toaster:darknessFactor': n + 1 }, { 'if-match': got.etag! });
          if (put.status === 204) {
            acknowledged++;
            break;
          }
          if (put.status === 412 || put.status === 409) refused++;
          else throw new Error(`unexpected ${put.status} ${JSON.stringify(put.json)}`);
        }
      }
    }),
  );
  await ds[0].data.sync('config');
  t.equal(acknowledged, 3 * INCREMENTS);
  t.equal((await http(ds[0].restconf.url, 'GET', `${TOASTER}/darknessFactor`)).json['toaster:darknessFactor'], 3 * INCREMENTS, `the final value equals the acknowledged increments (${refused} stale writes refused on the way)`);
  const stale = await http(ds[1].restconf.url, 'PUT', `${TOASTER}/darknessFactor`, { 'toaster:darknessFactor': 1 }, { 'if-match': '"stale"' });
  t.equal(stale.status, 412, 'a stale If-Match gets 412');
  t.equal((await http(ds[2].restconf.url, 'GET', `${TOASTER}/darknessFactor`)).json['toaster:darknessFactor'], 3 * INCREMENTS, 'and wrote nothing');
});

t.test('scale-in with calls spread over instances: registered once, tombstoned everywhere', async (t) => {
  const [a, b, c] = await cluster(t, 3);
  const nv = new NetVirt(new Session(a.restconf.url));
  await nv.addCompute({ n: 1 });
  await nv.addCompute({ n: 2 });
  // The leader registers the computes learnt from the (shared) operational topology.
  await waitUntil('both computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 2, 10_000);
  const start = await http(b.restconf.url, 'POST', '/rests/operations/scalein-api:scalein-computes-start', { 'scalein-api:input': { 'scalein-node-ids': [computeName(1)] } });
  t.equal(start.status, 200, 'scale-in start through B');
  await waitUntil('the tombstone on C', () => (c.data.read('config', `/cloudscaler-rpc:compute-nodes/compute-node=${computeName(1)}`) as { tombstoned?: boolean } | undefined)?.tombstoned === true, 5000);
  t.match((await http(c.restconf.url, 'GET', `/rests/data/cloudscaler-rpc:compute-nodes/compute-node=${computeName(1)}`)).json, { 'cloudscaler-rpc:compute-node': [{ tombstoned: true }] });
  const recover = await http(c.restconf.url, 'POST', '/rests/operations/scalein-api:scalein-computes-recover', { 'scalein-api:input': { 'recover-node-ids': [computeName(1)] } });
  t.equal(recover.status, 200, 'recover through C');
  await waitUntil('recovered on A', () => (a.data.read('config', `/cloudscaler-rpc:compute-nodes/compute-node=${computeName(1)}`) as { tombstoned?: boolean } | undefined)?.tombstoned === false, 5000);
  t.equal(((a.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[]) ?? []).length, 2, 'each compute registered once');
});

t.test('bad cluster settings stop `npm start` with one clear line and a non-zero exit', async (t) => {
  const { freePort } = await import('../../scripts/free-port.ts');
  const closed = await freePort();
  const cases: [string, string[], RegExp, number][] = [
    ['unreachable etcd', [`--datastore=etcd://127.0.0.1:${closed}`], /cannot open the datastore: etcd unreachable at http:\/\/127\.0\.0\.1:\d+/, 1],
    ['a malformed etcd URL', ['--datastore=etcd://127.0.0.1'], /"127\.0\.0\.1" is not host:port/, 2],
    ['a cluster name with /', [`--datastore=etcd://127.0.0.1:${closed}`, '--cluster-name=a/b'], /cluster-name must be .* no "\/"/, 2],
  ];
  for (const [what, args, message, code] of cases) {
    const p = startMain(t, ['--restconf-port=0', ...args]);
    t.equal(await p.exited, code, `${what}: exit ${code}`);
    t.match(p.stderr(), message, `${what}: says why`);
    t.notMatch(p.stderr(), /\n\s+at /, `${what}: no stack trace`);
  }
});

t.test('etcd stopped under a running instance: reads are served, writes get 503, then all recovers', async (t) => {
  const own = await startEtcd(t, { members: 1 });
  const c = await testController(t, [
    `--datastore=etcd://${own.endpoints[0].replace('http://', '')}`,
    '--cluster-name=outage',
    '--member-id=lonely',
    `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
    `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
  ]);
  t.equal((await http(c.restconf.url, 'PUT', TOASTER, { 'toaster:toaster': { darknessFactor: 7 } })).status, 201);
  await own.members[0].stop('SIGKILL');
  const read = await http(c.restconf.url, 'GET', `${TOASTER}?content=config`);
  t.equal(read.status, 200, 'a read is served from the replica');
  t.match(read.json, { 'toaster:toaster': { darknessFactor: 7 } });
  const write = await http(c.restconf.url, 'PUT', TOASTER, { 'toaster:toaster': { darknessFactor: 8 } });
  t.equal(write.status, 503, 'a write gets 503 while etcd is down');
  t.match(write.json, { errors: { error: [{ 'error-tag': 'operation-failed', 'error-app-tag': 'datastore-unavailable', 'error-message': /shared datastore/ }] } });
  await own.members[0].restart();
  // Once etcd is back the instance catches up by itself; a client retrying sees writes work again.
  let status = 0;
  for (let i = 0; i < 100 && status !== 204; i++) {
    status = (await http(c.restconf.url, 'PUT', TOASTER, { 'toaster:toaster': { darknessFactor: 9 } })).status;
    if (status !== 204) await new Promise((r) => setTimeout(r, 200));
  }
  t.equal(status, 204, 'writes work again after etcd is back');
  await c.data.sync('config');
  t.match((await http(c.restconf.url, 'GET', `${TOASTER}?content=config`)).json, { 'toaster:toaster': { darknessFactor: 9 } }, 'and the data is whole');
});

t.test('the etcd leader of three killed under running instances: they keep serving, no acknowledged write is lost', async (t) => {
  const own = await startEtcd(t, { members: 3 });
  const flags = (id: string) => [
    `--datastore=etcd://${own.endpoints.map((e) => e.replace('http://', '')).join(',')}`,
    '--cluster-name=etcd-failover',
    `--member-id=${id}`,
    `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
    `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
  ];
  const a = await testController(t, flags('a'));
  const b = await testController(t, flags('b'));
  const acked: number[] = [];
  const leader = await own.leader();
  for (let i = 0; i < 40; i++) {
    if (i === 10) await leader.stop('SIGKILL');
    const x = i % 2 ? a : b;
    // A client retries what the cluster answers with 503 (etcd electing) or 409 (a conflict).
    for (let attempt = 0; attempt < 50; attempt++) {
      const r = await http(x.restconf.url, 'PUT', `/rests/data/toaster:toaster/darknessFactor`, { 'toaster:darknessFactor': i + 1 });
      if (r.status === 204 || r.status === 201) {
        acked.push(i + 1);
        break;
      }
      t.ok([503, 409, 500].includes(r.status), `write ${i}: a retryable answer while etcd elects (${r.status})`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  t.equal(acked.length, 40, 'every write acknowledged in the end');
  await a.data.sync('config');
  await b.data.sync('config');
  for (const x of [a, b]) t.equal((x.data.read('config', '/toaster:toaster') as { darknessFactor: number }).darknessFactor, 40, 'the last acknowledged write is what both instances hold');
  t.equal((await http(b.restconf.url, 'GET', `${TOASTER}?content=config`)).status, 200, 'reads go on');
});

t.test("a lost lease takes what the instance's switch reported; the instance registers again and reports it anew", async (t) => {
  const [a, b] = await cluster(t, 2);
  const sims = await computesForTest(t, { count: 1, controller: `127.0.0.1:${a.ovsdb.port}` });
  const NODES = '/network-topology:network-topology/topology=ovsdb%3A1/node';
  const bridge = (x: typeof a) => ((x.data.read('operational', NODES) as { 'ovsdb:bridge-name'?: string }[] | undefined) ?? []).find((n) => n['ovsdb:bridge-name'] === 'br-int');
  await waitUntil('the bridge A connects to is in the topology B reads', () => bridge(b) !== undefined, 10_000);
  // What B hears: the bridge node leaving (with the lease), then coming back.
  const heard: string[] = [];
  b.data.subscribe('operational', `${NODES}=*`, (changes) => {
    for (const c of changes) if (String(c.keys[0][0]).endsWith('/bridge/br-int')) heard.push(c.type);
  }, { replay: false });
  const clusterOf = (x: typeof a) => x.plugins.loaded[0].ctx.cluster as unknown as { leaseId(): string | undefined };
  const lost = clusterOf(a).leaseId()!;
  // Revoked, as etcd does with a lease whose keepalives stopped: every key under it goes at once.
  const client = new Etcd3({ hosts: etcd.endpoints });
  t.teardown(() => client.close());
  await client.leaseClient.leaseRevoke({ ID: lost });
  await waitUntil('B heard the bridge leave and come back', () => heard.includes('deleted') && heard.lastIndexOf('created') > heard.indexOf('deleted'), 10_000);
  t.not(clusterOf(a).leaseId(), lost, 'A registered again under a new lease');
  t.ok(bridge(b), `${sims.computes[0].name}'s br-int is in the topology again, reported anew by A`);
  t.ok(bridge(a), 'on A too');
  await waitUntil('both members listed again', () => ((b.data.read('operational', '/sextant-cluster:cluster') as { member?: unknown[] } | undefined)?.member?.length ?? 0) === 2, 10_000);
  // The republished keys are under the new lease.
  const kvs = await client.getAll().prefix(storePrefix(a.config.clusterName, 'operational')).exec();
  const leases = new Set(kvs.kvs.filter((kv) => kv.key.toString().includes('br-int')).map((kv) => kv.lease));
  t.same([...leases], [clusterOf(a).leaseId()], "every key of the bridge is under A's new lease");
});

t.test('switches named in the config topology: each connected by exactly one instance; a member leaving hands over only its own', async (t) => {
  const [a, b, c] = await cluster(t, 3);
  const sims = await computesForTest(t, { count: 6, first: 21 }); // no manager set: only we connect
  const nodeIds = sims.computes.map((sw) => `ovsdb://127.0.0.1:${sw.port}`);
  const tx = a.data.transaction('config');
  sims.computes.forEach((sw, i) =>
    tx.put(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeIds[i])}`, {
      'node-id': nodeIds[i],
      'ovsdb:connection-info': { 'remote-ip': '127.0.0.1', 'remote-port': sw.port },
    }),
  );
  await tx.commit();
  const holders = (xs: (typeof a)[]) => nodeIds.map((id) => xs.filter((x) => x.ovsdb.sessions.has(id)));
  const bridges = (x: typeof a) => nodeIds.filter((id) => x.data.read('operational', `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(`${id}/bridge/br-int`)}`));
  await waitUntil('every switch connected and reported', () => holders([a, b, c]).every((h) => h.length === 1) && bridges(b).length === 6, 20_000);
  const ownerOf = (id: string) => a.plugins.loaded[0].ctx.cluster.ownerOf(`ovsdb/${id}`);
  t.same(holders([a, b, c]).map((h) => h[0].config.memberId), nodeIds.map(ownerOf), 'each switch is connected by its owner, and by no other instance');
  const leaving = [a, b, c].find((x) => nodeIds.some((id) => ownerOf(id) === x.config.memberId))!;
  const staying = [a, b, c].filter((x) => x !== leaving);
  const kept = new Map(nodeIds.filter((id) => ownerOf(id) !== leaving.config.memberId).map((id) => [id, staying.find((x) => x.ovsdb.sessions.has(id))!.ovsdb.sessions.get(id)]));
  const moved = nodeIds.filter((id) => !kept.has(id));
  await leaving.stop();
  await waitUntil("the leaving member's switches are connected by the others", () => holders(staying).every((h) => h.length === 1) && bridges(staying[0]).length === 6, 20_000);
  t.ok(moved.length > 0, `${moved.length} switch(es) moved`);
  for (const [id, session] of kept) t.equal(staying.find((x) => x.ovsdb.sessions.has(id))!.ovsdb.sessions.get(id), session, `${id} kept its connection`);
  const counts = (staying[0].data.read('operational', '/sextant-cluster:cluster') as { member: { owned?: { 'entity-type': string; count: number }[] }[] }).member.map((m) => m.owned?.find((o) => o['entity-type'] === 'ovsdb-node')?.count ?? 0);
  t.equal(counts.reduce((x, y) => x + y, 0), 6, 'the cluster state counts the six switches over the two members');
});
