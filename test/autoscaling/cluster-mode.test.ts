/**
 * Autoscaling with two instances on one etcd: a scaling request sent to each instance at once for
 * one cluster: one is accepted, the other refused (Senlin's 409), and the cluster grows by one
 * node only; the action runs once, on the cluster's owner, whichever instance took the request.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../helpers/etcd.ts';
import { computesForTest } from '../helpers/ovs.ts';
import { waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const etcd = await startEtcd(t, { members: 1 });
const flags = (id: string) => [
  `--datastore=etcd://${etcd.endpoints[0].replace('http://', '')}`,
  '--cluster-name=scaling',
  `--member-id=${id}`,
  `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
  `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
];
const a = await testController(t, flags('a'));
const b = await testController(t, flags('b'));
await computesForTest(t, { count: 3, controller: `127.0.0.1:${a.ovsdb.port}` });

async function http(base: string, method: string, path: string, body?: unknown) {
  const r = await fetch(base + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}
type Node = { id: string; status: string };
const nodes = (x: typeof a, id: string) => ((x.data.read('operational', `/sextant-clustering:clustering-state/cluster=${id}`) as { node?: Node[] } | undefined)?.node ?? []);
const actions = (x: typeof a) => (x.data.read('operational', '/sextant-clustering:clustering-state/action') as { id: string; target: string; action: string; status: string; owner?: string }[] | undefined) ?? [];

t.test('a scaling request at each instance at once: one runs, once; nothing is double-scaled', async (t) => {
  await waitUntil('three computes registered', () => ((b.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 3, 20_000);
  t.equal((await http(a.restconf.url, 'POST', '/rests/data', {
    'sextant-clustering:clustering': {
      profile: [{ id: 'p', name: 'p', type: 'sextant.ovs.port-1.0', network: '33333333-4444-4555-8666-777777777777' }],
      cluster: [{ id: 'shared', name: 'shared', profile: 'p', 'min-size': 0, 'max-size': 10, 'desired-capacity': 1 }],
    },
  })).status, 201, 'a cluster created through instance a');
  await waitUntil('one ACTIVE node, seen on both', () => [a, b].every((x) => nodes(x, 'shared').filter((n) => n.status === 'ACTIVE').length === 1), 20_000);
  const both = await Promise.all([a, b].map((x) => http(x.restconf.url, 'POST', '/rests/operations/sextant-clustering:cluster-scale-out', { input: { cluster: 'shared' } })));
  t.same(both.map((r) => r.status).sort(), [200, 409], 'one accepted, one refused (409)');
  const accepted = both.find((r) => r.status === 200)!.json['sextant-clustering:output'].action as string;
  // Each instance reads its own replica: wait until both have seen the end.
  await waitUntil('the accepted action ends, seen on both', () => [a, b].every((x) => ['SUCCEEDED', 'FAILED'].includes(actions(x).find((y) => y.id === accepted)?.status ?? '')), 20_000);
  const done = actions(b).find((x) => x.id === accepted)!;
  t.equal(done.status, 'SUCCEEDED', 'it SUCCEEDED');
  const owner = a.plugins.loaded[0].ctx.cluster.ownerOf('shared');
  t.equal(done.owner, owner, `run by the cluster's owner (${owner})`);
  await b.data.sync('operational');
  t.equal(nodes(b, 'shared').length, 2, 'two nodes: scaled by one, not two');
  t.equal(actions(a).filter((x) => x.target === 'shared' && x.action === 'CLUSTER_SCALE_OUT').length, 1, 'one scale-out action exists');
});

t.test("a member that is gone: only the actions it was running fail (Senlin's gc_by_engine), and the cluster takes work again", async (t) => {
  // An action RUNNING on member b, which then dies mid-action. (An owner that is no live member
  // at all is failed as soon as it is seen, so the claim names a member that is still up.)
  const tx = a.data.transaction('operational');
  tx.put('/sextant-clustering:clustering-state/action=orphan', { id: 'orphan', target: 'shared', action: 'CLUSTER_SCALE_OUT', status: 'RUNNING', owner: 'b', cause: 'RPC Request', inputs: '{}', 'created-at': new Date().toISOString() });
  tx.merge('/sextant-clustering:clustering-state/cluster=shared', { id: 'shared', 'running-action': 'orphan', 'scaling-action': 'orphan' });
  await tx.commit();
  const refused = await http(a.restconf.url, 'POST', '/rests/operations/sextant-clustering:cluster-scale-out', { input: { cluster: 'shared' } });
  t.equal(refused.status, 409, 'while it looks RUNNING, a scaling is refused');
  const before = actions(a).filter((x) => x.status === 'SUCCEEDED').map((x) => x.id);
  // A membership change makes the owner look for actions of members that are gone.
  await b.stop();
  await waitUntil('the orphan failed', () => actions(a).find((x) => x.id === 'orphan')?.status === 'FAILED', 20_000);
  const orphan = a.data.read('operational', '/sextant-clustering:clustering-state/action=orphan') as { 'status-reason'?: string };
  t.match(orphan['status-reason'], /\(b\)/, 'failed, naming the member that ran it');
  t.same(actions(a).filter((x) => x.status === 'SUCCEEDED').map((x) => x.id), before, "the other members' finished actions are untouched");
  const accepted = await http(a.restconf.url, 'POST', '/rests/operations/sextant-clustering:cluster-scale-out', { input: { cluster: 'shared' } });
  t.equal(accepted.status, 200, `the cluster takes a scaling again (${JSON.stringify(accepted.json)})`);
  const id = accepted.json['sextant-clustering:output'].action as string;
  await waitUntil('it ends', () => ['SUCCEEDED', 'FAILED'].includes(actions(a).find((x) => x.id === id)?.status ?? ''), 20_000);
  t.equal(actions(a).find((x) => x.id === id)?.status, 'SUCCEEDED', 'and runs it');
});
