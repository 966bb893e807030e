/**
 * Cluster membership over a real etcd: one leader among the members, a clean stop hands the
 * leadership over at once, a killed leader is replaced within the lease TTL plus a second, a
 * paused leader that resumes cannot make fenced writes, and entities are spread over the live
 * members by rendezvous hashing so a member leaving moves only its own.
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { EtcdCluster } from '../../src/cluster/etcd.ts';
import { rendezvousOwner } from '../../src/cluster/cluster.ts';
import { startEtcd } from '../helpers/etcd.ts';
import { waitUntil } from '../helpers/process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TTL = 2;
const etcd = await startEtcd(t, { members: 1 });
let prefixes = 0;

function member(t: Tap, prefix: string, id: string): { cluster: EtcdCluster; client: Etcd3 } {
  const client = new Etcd3({ hosts: etcd.endpoints });
  const cluster = new EtcdCluster({ client, prefix, memberId: id, address: `http://${id}.example:8181`, ttlSeconds: TTL, log: pino({ level: 'silent' }) });
  t.teardown(async () => {
    await cluster.stop();
    client.close();
  });
  return { cluster, client };
}
type Tap = { teardown(fn: () => unknown): void };

const leaders = (cs: EtcdCluster[]) => cs.filter((c) => c.isLeader()).map((c) => c.memberId);

t.test('three members: one leader, the same view on each; a clean stop hands over at once', async (t) => {
  const prefix = `/t${++prefixes}/cluster/`;
  const cs = ['a', 'b', 'c'].map((id) => member(t, prefix, id).cluster);
  for (const c of cs) await c.start();
  await waitUntil('every member sees three', () => cs.every((c) => c.members().length === 3));
  t.equal(leaders(cs).length, 1, 'exactly one leader');
  const leader = cs.find((c) => c.isLeader())!;
  await waitUntil('every member agrees on the leader', () => cs.every((c) => c.members().find((m) => m.leader)?.id === leader.memberId));
  t.same(cs[1].members().map((m) => [m.id, m.address]), [['a', 'http://a.example:8181'], ['b', 'http://b.example:8181'], ['c', 'http://c.example:8181']]);
  const changes: boolean[] = [];
  const rest = cs.filter((c) => c !== leader);
  for (const c of rest) c.onLeadership((l) => l && changes.push(l));
  const stopped = Date.now();
  await leader.stop();
  await waitUntil('a new leader', () => leaders(rest).length === 1);
  const took = Date.now() - stopped;
  t.ok(took < 1000, `taken over in ${took} ms, without waiting for the ${TTL} s lease`);
  t.equal(leaders(rest).length, 1, 'still exactly one');
  await waitUntil('the stopped member is gone from every view', () => rest.every((c) => c.members().length === 2));
});

t.test('ownership: 100 entities over three members, each owned once; a member leaving moves only its own', async (t) => {
  const prefix = `/t${++prefixes}/cluster/`;
  const cs = ['m1', 'm2', 'm3'].map((id) => member(t, prefix, id).cluster);
  for (const c of cs) await c.start();
  await waitUntil('every member sees three', () => cs.every((c) => c.members().length === 3));
  const entities = Array.from({ length: 100 }, (_, i) => `ovsdb://uuid/${i}`);
  const ownersBefore = new Map(entities.map((e) => [e, cs.filter((c) => c.owns(e)).map((c) => c.memberId)]));
  t.ok([...ownersBefore.values()].every((o) => o.length === 1), 'every entity has exactly one owner');
  const counts = cs.map((c) => entities.filter((e) => c.owns(e)).length);
  t.ok(counts.every((n) => n >= 15), `spread over the members: ${counts.join(', ')}`);
  t.ok(entities.every((e) => cs.every((c) => c.ownerOf(e) === ownersBefore.get(e)![0])), 'every member names the same owner');
  const moved: string[][] = [];
  cs[0].onMembership((ms) => moved.push(ms.map((m) => m.id)));
  await cs[2].stop();
  const rest = cs.slice(0, 2);
  await waitUntil('both see two', () => rest.every((c) => c.members().length === 2));
  t.ok(moved.length > 0, 'the membership callback fired');
  for (const e of entities) {
    const before = ownersBefore.get(e)![0];
    const now = rest.filter((c) => c.owns(e)).map((c) => c.memberId);
    t.equal(now.length, 1, `${e}: one owner`);
    if (before !== 'm3') t.equal(now[0], before, `${e}: not moved (was ${before})`);
  }
  t.equal(rendezvousOwner('x', ['a', 'b']), rendezvousOwner('x', ['b', 'a']), 'the owner does not depend on the order members are listed in');
});

/** A member in a child process, so it can be killed or paused. */
function childMember(t: Tap, prefix: string, id: string): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/cluster/fixtures/member.ts'), etcd.endpoints.join(','), prefix, id, String(TTL)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
  });
  return { child, lines };
}

t.test('a killed leader is replaced within the TTL plus a second', async (t) => {
  const prefix = `/t${++prefixes}/cluster/`;
  const first = childMember(t, prefix, 'doomed');
  await waitUntil('the child leads', () => first.lines.some((l) => l.startsWith('leader ')));
  const others = ['x', 'y'].map((id) => member(t, prefix, id).cluster);
  for (const c of others) await c.start();
  t.same(leaders(others), [], 'the child leads, nobody else');
  const killed = Date.now();
  first.child.kill('SIGKILL');
  await waitUntil('a new leader', () => leaders(others).length === 1);
  const took = Date.now() - killed;
  t.ok(took < (TTL + 1) * 1000, `replaced in ${took} ms (TTL ${TTL} s)`);
  await waitUntil('the dead member leaves every view', () => others.every((c) => c.members().every((m) => m.id !== 'doomed')));
});

t.test('a leader paused past its lease cannot make fenced writes when it resumes', async (t) => {
  const prefix = `/t${++prefixes}/cluster/`;
  const sleeper = childMember(t, prefix, 'sleeper');
  await waitUntil('the child leads and writes', () => sleeper.lines.includes('write ok'));
  const other = member(t, prefix, 'awake').cluster;
  await other.start();
  sleeper.child.kill('SIGSTOP');
  await waitUntil('a new leader while the old one sleeps', () => other.isLeader());
  const fence = other.fence()!;
  const seen = sleeper.lines.length;
  sleeper.child.kill('SIGCONT');
  // It wakes up still believing it leads until its lease keepalive fails: every write it tries
  // meanwhile must be refused by the fence.
  await waitUntil('the woken leader tries to write or learns it lost', () => sleeper.lines.slice(seen).some((l) => l === 'write refused' || l === 'follower'));
  await waitUntil('it knows it lost', () => sleeper.lines.slice(seen).includes('follower'));
  t.notOk(sleeper.lines.slice(seen).includes('write ok'), `no write of the old leader went through after it woke (${sleeper.lines.slice(seen).join(' | ')})`);
  t.ok(other.isLeader(), 'the new leader still leads');
  t.same(other.fence(), fence, 'with the same fence');
});
