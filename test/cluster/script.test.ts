/**
 * `scripts/cluster` as an operator runs it: start prints every instance's URLs, the instances
 * form one cluster; kill -9 of the leader instance: another leads within the lease TTL plus a
 * second and the leader's work (compute registration) goes on there; stop ends exactly the
 * processes it started and removes the dir.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { pidAlive, startClusterScript } from '../helpers/cluster-script.ts';
import { NetVirt, computeName } from '../csit/lib/netvirt.ts';
import { Session } from '../csit/lib/requests.ts';
import { computesForTest } from '../helpers/ovs.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

async function clusterState(url: string): Promise<{ member: { 'member-id': string; leader: boolean }[] } | undefined> {
  try {
    const r = await fetch(`${url}/rests/data/sextant-cluster:cluster`, { headers: { authorization: AUTH, accept: 'application/yang-data+json' } });
    return r.status === 200 ? ((await r.json()) as { 'sextant-cluster:cluster': { member: { 'member-id': string; leader: boolean }[] } })['sextant-cluster:cluster'] : undefined;
  } catch {
    return undefined;
  }
}

t.test('scripts/cluster start, failover of the leader instance, stop', async (t) => {
  const cluster = await startClusterScript(t, ['--instances', '3', '--etcd', '1', '--name', 'scripted']);
  const { dir, file } = cluster;
  const lines = cluster.stdout.trim().split('\n');
  t.equal(lines.length, 5, 'one line per instance, then etcd and dir');
  t.match(lines[0], /^member-1 http:\/\/127\.0\.0\.1:\d+ netconf=127\.0\.0\.1:\d+ ovsdb=127\.0\.0\.1:\d+ clustering=http:\/\/127\.0\.0\.1:\d+ neutron=http:\/\/127\.0\.0\.1:\d+ tacker=http:\/\/127\.0\.0\.1:\d+$/);
  t.match(lines[3], /^etcd http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(lines[4], `dir ${dir}`);
  const urls = file.instances.map((i) => i.restconf);
  t.same(lines.slice(0, 3).map((l) => l.split(' ')[1]), urls, 'the printed URLs are the instances');

  let leaderId = '';
  for (let i = 0; i < 100; i++) {
    const states = await Promise.all(urls.map(clusterState));
    const leaders = new Set(states.flatMap((s) => (s?.member ?? []).filter((m) => m.leader).map((m) => m['member-id'])));
    if (states.every((s) => s?.member.length === 3) && leaders.size === 1) {
      leaderId = [...leaders][0];
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(leaderId, `one leader in every view (${leaderId})`);

  const leader = file.instances.find((i) => i.memberId === leaderId)!;
  const survivors = file.instances.filter((i) => i !== leader);
  // A real switch database managed by the leader instance: its bridge is in everyone's topology.
  const sims = await computesForTest(t, { count: 1, controller: leader.ovsdb });
  const bridgeOf = async (url: string) => {
    const r = await fetch(`${url}/rests/data/network-topology:network-topology/topology=ovsdb%3A1?content=nonconfig`, { headers: { authorization: AUTH, accept: 'application/yang-data+json' } });
    if (r.status !== 200) return undefined;
    const topo = (await r.json()) as { 'network-topology:topology': { node?: { 'node-id': string; 'ovsdb:bridge-name'?: string }[] }[] };
    return topo['network-topology:topology'][0]?.node?.find((n) => n['ovsdb:bridge-name'] === 'br-int');
  };
  let seen: unknown;
  for (let i = 0; i < 100 && !seen; i++) {
    seen = await bridgeOf(survivors[0].restconf);
    if (!seen) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(seen, `the bridge ${sims.computes[0].name} reported to the leader is read on another instance`);
  const killed = Date.now();
  process.kill(leader.pid, 'SIGKILL');
  let newLeader = '';
  for (;;) {
    const state = await clusterState(survivors[0].restconf);
    const l = state?.member.find((m) => m.leader && m['member-id'] !== leaderId);
    if (l && !state!.member.some((m) => m['member-id'] === leaderId)) {
      newLeader = l['member-id'];
      break;
    }
    if (Date.now() - killed > 15_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const took = Date.now() - killed;
  t.ok(newLeader, `a new leader: ${newLeader}`);
  t.ok(took < 3000 + 1000, `within the 2 s lease TTL plus a second, plus the time to publish and read the state (${took} ms)`);
  // What the dead instance learnt from its switch went with its lease: no stale connected bridge.
  let gone = false;
  for (let i = 0; i < 100 && !gone; i++) {
    gone = (await bridgeOf(survivors[0].restconf)) === undefined;
    if (!gone) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(gone, 'the bridge the killed instance had published is gone from the operational topology');

  // The leader's work resumes on the new leader: a compute reported to a survivor is registered once.
  const nv = new NetVirt(new Session(survivors[1].restconf));
  await nv.addCompute({ n: 7 });
  let registered: unknown;
  for (let i = 0; i < 100 && !registered; i++) {
    const r = await fetch(`${survivors[0].restconf}/rests/data/cloudscaler-rpc:compute-nodes/compute-node=${computeName(7)}`, { headers: { authorization: AUTH, accept: 'application/yang-data+json' } });
    if (r.status === 200) registered = await r.json();
    else await new Promise((r2) => setTimeout(r2, 100));
  }
  t.match(registered, { 'cloudscaler-rpc:compute-node': [{ 'compute-name': computeName(7) }] }, 'the new leader registered the compute');

  await cluster.stop();
  t.notOk(existsSync(dir), 'stop removes the dir');
  t.same([...file.instances, ...file.etcd].filter((p) => pidAlive(p.pid)).map((p) => p.pid), [], 'and no process it started is left');
});
