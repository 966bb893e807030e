/**
 * The etcd test peer (test/helpers/etcd.ts): real members on free ports that form a cluster, serve
 * reads of each other's writes, and leave no process behind.
 */
import t from 'tap';
import { Etcd3 } from 'etcd3';
import { pidAlive, startEtcd } from '../helpers/etcd.ts';

t.test('etcd helper: one member starts healthy, off the default ports, and stop leaves no process', async (t) => {
  const cluster = await startEtcd(t);
  t.equal(cluster.members.length, 1);
  t.equal(cluster.endpoints.length, 1);
  t.notMatch(cluster.endpoints[0]!, /:(2379|2380)$/, 'never a default port');
  const client = new Etcd3({ hosts: cluster.endpoints });
  t.teardown(() => client.close());
  await client.put('/helper/one').value('1');
  t.equal(await client.get('/helper/one').string(), '1');
  const pid = cluster.members[0]!.pid;
  t.ok(pidAlive(pid));
  await cluster.stop();
  t.notOk(pidAlive(pid), 'the member process is gone');
});

t.test('etcd helper: three members form one cluster; a put on one is read on another', async (t) => {
  const cluster = await startEtcd(t, { members: 3 });
  t.equal(cluster.members.length, 3);
  const ports = cluster.members.flatMap((m) => [m.clientUrl, m.peerUrl].map((u) => Number(new URL(u).port)));
  t.equal(new Set(ports).size, 6, 'six distinct ports');
  t.notOk(ports.some((p) => p === 2379 || p === 2380), 'never a default port');
  const [a, b, c] = cluster.members.map((m) => new Etcd3({ hosts: [m.clientUrl] }));
  t.teardown(() => [a, b, c].forEach((x) => x!.close()));
  await a!.put('/helper/three').value('from n1');
  t.equal(await b!.get('/helper/three').string(), 'from n1', 'n2 reads n1\'s write');
  t.equal(await c!.get('/helper/three').string(), 'from n1', 'n3 reads n1\'s write');
  const members = await a!.cluster.memberList({});
  t.equal(members.members.length, 3, 'one cluster of three');
  const leader = await cluster.leader();
  t.ok(cluster.members.includes(leader), 'one member is the leader');
  await leader.stop('SIGKILL');
  const next = await cluster.leader();
  t.not(next, leader, 'the others elect a new one');

  const pids = cluster.members.map((m) => m.pid);
  t.same(pids.filter(pidAlive), pids.filter((p) => p !== leader.pid), 'the two others still run');
  await cluster.stop();
  t.same(pids.filter(pidAlive), [], 'every member process is gone');
});

t.test('etcd helper: a killed member restarts on the same data dir and keeps its data', async (t) => {
  const cluster = await startEtcd(t);
  const m = cluster.members[0]!;
  const client = new Etcd3({ hosts: cluster.endpoints });
  t.teardown(() => client.close());
  await client.put('/helper/durable').value('kept');
  const before = m.pid;
  await m.stop('SIGKILL');
  t.notOk(pidAlive(before));
  t.notOk(m.running);
  await m.restart();
  t.ok(m.running);
  t.not(m.pid, before, 'a new process');
  t.equal(await client.get('/helper/durable').string(), 'kept');
});

t.test('etcd helper: a paused member answers nothing until resumed; settings can be overridden per call', async (t) => {
  const cluster = await startEtcd(t, { settings: { maxTxnOps: 128 } });
  const m = cluster.members[0]!;
  const health = () =>
    fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(500) }).then(
      (r) => r.ok,
      () => false,
    );
  t.ok(await health());
  await m.pause();
  t.notOk(await health(), 'no answer while stopped');
  await m.resume();
  t.ok(await health(), 'answers again');
  const client = new Etcd3({ hosts: cluster.endpoints });
  t.teardown(() => client.close());
  const txn = (n: number) =>
    client.kv.txn({ success: Array.from({ length: n }, (_, i) => ({ request_put: { key: Buffer.from(`/k/${i}`), value: Buffer.from('x') } })) });
  await txn(128);
  await t.rejects(txn(129), /too many operations/, 'the overridden --max-txn-ops is in force');
});
