/**
 * The VNF manager on three instances sharing one etcd, no lock anywhere: two operations on one VNF
 * sent through two instances at once (one 202, one 409); 50 VNFs instantiated at once, their
 * requests spread over the instances (all COMPLETED, each occurrence run once, by its VNF's owner,
 * each VDU cluster created once); and the synchronisation run by the leader only, once per
 * interval, finding a VNFC whose port was removed from Open vSwitch behind the controller's back.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../helpers/etcd.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync, waitUntil } from '../helpers/process.ts';
import { csarOf, defaultVim, FLAVOUR, onboard, tackerApi, VNFD_ID, VNFD_TEXT } from '../helpers/vnf.ts';
import type { VnfState } from '../../plugins/vnf-manager/index.ts';
import { clusterIdOf } from '../../plugins/vnf-manager/realise.ts';

const TOKEN = 'vnf-cluster-token-c4d1';
const VNFS = 50;
const etcd = await startEtcd(t, { members: 1 });
const flags = (id: string) => [
  `--datastore=etcd://${etcd.endpoints[0].replace('http://', '')}`,
  '--cluster-name=vnfs',
  `--member-id=${id}`,
  `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
  `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
  `--api-token=${TOKEN}`,
  '--vnf-sync-interval=1',
  '--autoscaling-port-wait-ms=30000',
];
const members = [await testController(t, flags('a')), await testController(t, flags('b')), await testController(t, flags('c'))];
const [a] = members;
const sims = await computesForTest(t, { count: 4, controller: `127.0.0.1:${a.ovsdb.port}` });
await waitUntil('four computes registered, seen by all', () => members.every((m) => ((m.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 4), 20_000);
await waitUntil('three members', () => members.every((m) => m.plugins.loaded[0].ctx.cluster.members().length === 3), 20_000);
await defaultVim(t, a);
const apis = members.map((m) => tackerApi(m.http.listening().get('tacker')!.url, TOKEN));
await onboard(apis[0], csarOf(VNFD_TEXT));

type Occ = { id: string; 'vnf-instance': string; operation: string; 'operation-state': string; owner?: string; attempt?: number; error?: { detail?: string } };
const occs = () => (a.data.read('config', '/sextant-vnflcm:vnflcm/vnf-lcm-op-occ') as Occ[] | undefined) ?? [];
const ctxOf = (m: (typeof members)[number]) => m.plugins.loaded.find((p) => p.plugin.name === 'vnf')!.ctx;
const runsOf = (m: (typeof members)[number], op: string) => m.plugins.state<VnfState>('vnf')!.executor.runs.get(op) ?? 0;
const create = async (i: number) => (await apis[i % 3]('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID, vnfInstanceName: `vnf-${i}` })).json.id as string;

t.test('two operations on one VNF through two instances at once: one 202, one 409', async (t) => {
  const vnf = await create(0);
  await waitUntil('the instance is seen by b', () => !!members[1].data.read('config', `/sextant-vnflcm:vnflcm/vnf-instance=${vnf}`), 10_000);
  const both = await Promise.all([apis[0], apis[1]].map((api) => api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR })));
  t.same(both.map((r) => r.status).sort(), [202, 409], `one accepted, one refused (${both.map((r) => r.status)})`);
  const refused = both.find((r) => r.status === 409)!;
  t.match(refused.json, { status: 409, detail: new RegExp(`VNF instance ${vnf} is busy|is INSTANTIATED`) }, `a ProblemDetails: ${refused.json?.detail}`);
  await waitUntil('it ends', () => occs().some((o) => o['vnf-instance'] === vnf && o['operation-state'] === 'COMPLETED'), 30_000);
  t.equal(occs().filter((o) => o['vnf-instance'] === vnf).length, 1, 'one occurrence exists');
});

t.test(`${VNFS} VNFs instantiated at once through three instances: all COMPLETED, none run twice`, async (t) => {
  const before = members.map((m) => runsOf(m, 'INSTANTIATE'));
  const vnfs = await Promise.all(Array.from({ length: VNFS }, (_, i) => create(i + 1)));
  await waitUntil('every instance seen by every member', () => members.every((m) => vnfs.every((v) => !!m.data.read('config', `/sextant-vnflcm:vnflcm/vnf-instance=${v}`))), 20_000);
  const replies = await Promise.all(vnfs.map((v, i) => apis[i % 3]('POST', `/vnflcm/v2/vnf_instances/${v}/instantiate`, { flavourId: FLAVOUR })));
  t.ok(replies.every((r) => r.status === 202), 'all accepted');
  const mine = () => occs().filter((o) => vnfs.includes(o['vnf-instance']));
  await waitUntil('all ended', () => mine().length === VNFS && mine().every((o) => ['COMPLETED', 'FAILED_TEMP'].includes(o['operation-state'])), 180_000, 200);
  t.equal(mine().filter((o) => o['operation-state'] === 'COMPLETED').length, VNFS, 'all COMPLETED');
  t.ok(mine().every((o) => o.attempt === 1), 'each run once (attempt 1)');
  const ran = members.map((m, i) => runsOf(m, 'INSTANTIATE') - before[i]);
  t.equal(ran.reduce((x, y) => x + y, 0), VNFS, `executor runs: ${ran.join(' + ')} = ${VNFS}, no occurrence twice`);
  t.ok(ran.filter((n) => n > 0).length >= 2, 'spread over the members');
  for (const o of mine()) if (o.owner !== ctxOf(a).cluster.ownerOf(o['vnf-instance'])) t.fail(`occurrence ${o.id} run by ${o.owner}, not the VNF's owner`);
  const creates = ((a.data.read('operational', '/sextant-clustering:clustering-state/action') as { action: string; target: string; status: string }[] | undefined) ?? []).filter((x) => x.action === 'CLUSTER_CREATE');
  const targets = new Set(creates.map((x) => x.target));
  t.equal(creates.length, targets.size, 'each VDU cluster created once');
});

t.test('the synchronisation runs on the leader only, once per interval, and finds a removed port', async (t) => {
  const leader = members.find((m) => ctxOf(m).cluster.isLeader())!;
  const sync = () => (a.data.read('operational', '/sextant-vnflcm:vnflcm-state/sync') as { member: string; runs: string }[] | undefined) ?? [];
  const t0 = Date.now();
  const runs0 = Number(sync().find((s) => s.member === ctxOf(leader).cluster.memberId)?.runs ?? 0);
  await waitUntil('three more cycles', () => Number(sync().find((s) => s.member === ctxOf(leader).cluster.memberId)?.runs ?? 0) >= runs0 + 3, 15_000);
  const elapsed = (Date.now() - t0) / 1000;
  t.same(sync().map((s) => s.member), [ctxOf(leader).cluster.memberId], `only the leader (${ctxOf(leader).cluster.memberId}) ran it`);
  const runs = Number(sync()[0].runs) - runs0;
  t.ok(runs <= Math.ceil(elapsed) + 1, `${runs} cycles in ${elapsed.toFixed(1)} s: once per interval, not three times`);

  // Drift: a VNFC's port taken away behind the VNF manager's back (its OVS interface deleted from
  // the config topology over RESTCONF, so the OVSDB southbound removes it from the switch; one
  // deleted in OVS by hand alone is put back by the southbound at once, which is no drift).
  const inst = ((a.data.read('config', '/sextant-vnflcm:vnflcm/vnf-instance') as { id: string; 'current-operation'?: string; 'instantiated-vnf-info'?: { 'vnfc-resource-info'?: { id: string; compute: string; port: string }[] } }[]) ?? []).find((i) => !i['current-operation'] && i['instantiated-vnf-info']?.['vnfc-resource-info']?.length)!;
  const vnfc = inst['instantiated-vnf-info']!['vnfc-resource-info']![0];
  const sw = sims.computes.find((s) => s.name === vnfc.compute)!;
  const bridge = (a.data.read('config', `/cloudscaler-rpc:compute-nodes/compute-node=${vnfc.compute}`) as { nodeid: string }).nodeid;
  const tp = ((a.data.read('config', `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(bridge)}`) as { 'termination-point': { 'tp-id': string; 'ovsdb:interface-external-ids'?: { 'external-id-key': string; 'external-id-value': string }[] }[] })['termination-point']).find((x) => x['ovsdb:interface-external-ids']?.some((e) => e['external-id-key'] === 'iface-id' && e['external-id-value'] === vnfc.port))!;
  const del = await fetch(`${members[1].restconf.url}/rests/data/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(bridge)}/termination-point=${tp['tp-id']}`, { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
  t.equal(del.status, 204, 'the VNFC\'s interface deleted from the config topology (RESTCONF, instance b)');
  await untilAsync(`the interface gone from ${vnfc.compute}'s OVS`, async () => !(await ifaceIds(sw)).includes(vnfc.port));
  t.pass(`gone from ${vnfc.compute}'s OVS (ovs-vsctl)`);
  const drift = () => (a.data.read('operational', '/sextant-vnflcm:vnflcm-state/vnf-drift') as { 'vnf-instance': string; vnfc: string; reason: string }[] | undefined) ?? [];
  await waitUntil('the drift recorded', () => drift().some((d) => d.vnfc === vnfc.id), 15_000);
  t.match(drift().find((d) => d.vnfc === vnfc.id), { 'vnf-instance': inst.id, reason: new RegExp(`port ${vnfc.port} is gone from ${vnfc.compute}`) }, 'vnf-drift names the VNFC and why');
  t.same(sync().map((s) => s.member), [ctxOf(leader).cluster.memberId], 'still only the leader ran it');

  // With auto-heal on (vnfConfigurableProperties.isAutohealEnabled), the drifted VNFC is healed.
  const patch = await apis[2]('PATCH', `/vnflcm/v2/vnf_instances/${inst.id}`, { vnfConfigurableProperties: { isAutohealEnabled: true } }, { 'content-type': 'application/merge-patch+json' });
  t.equal(patch.status, 202, `auto-heal enabled (PATCH through instance c) ${patch.text}`);
  const heals = () => occs().filter((o) => o['vnf-instance'] === inst.id && o.operation === 'HEAL');
  await waitUntil('an automatic heal COMPLETED', () => heals().some((o) => o['operation-state'] === 'COMPLETED'), 30_000);
  t.equal(heals().length, 1, 'one heal, started once (by the leader), not once per member');
  const healed = (a.data.read('config', `/sextant-vnflcm:vnflcm/vnf-instance=${inst.id}`) as typeof inst)['instantiated-vnf-info']!['vnfc-resource-info']!;
  t.notOk(healed.some((v) => v.id === vnfc.id), 'the drifted VNFC was replaced');
  await waitUntil('the drift cleared', () => !drift().some((d) => d['vnf-instance'] === inst.id), 15_000);
  t.pass('and the drift record cleared by the next cycle');
});

t.test("a restart of an instance running none of the operations in flight changes none of them (Tacker's conductor would fail them all)", async (t) => {
  // The instance to restart: c (a is the computes' OVSDB manager); two VNFs it runs nothing for:
  // it owns neither the VNF (the occurrence) nor the VDU1 cluster (the autoscaler's action).
  const restarted = 2;
  const cId = ctxOf(members[restarted]).cluster.memberId;
  const owner = (id: string) => ctxOf(a).cluster.ownerOf(id);
  const vnfs = ((a.data.read('config', '/sextant-vnflcm:vnflcm/vnf-instance') as { id: string; 'instantiation-state'?: string; 'current-operation'?: string }[]) ?? [])
    .filter((i) => i['instantiation-state'] === 'INSTANTIATED' && !i['current-operation'] && owner(i.id) !== cId && owner(clusterIdOf(i.id, 'VDU1')) !== cId)
    .slice(0, 2)
    .map((i) => i.id);
  // In flight for a while: scale-outs whose new VNFCs wait for computes that do not answer.
  for (const s of sims.computes) process.kill(s.pid, 'SIGSTOP');
  t.teardown(() => sims.computes.forEach((s) => process.kill(s.pid, 'SIGCONT')));
  const replies = await Promise.all(vnfs.map((v, i) => apis[i]('POST', `/vnflcm/v2/vnf_instances/${v}/scale`, { type: 'SCALE_OUT', aspectId: 'worker_instance' })));
  t.ok(replies.every((r) => r.status === 202), 'two scale-outs accepted');
  const ids = replies.map((r) => r.headers.get('location')!.split('/').pop()!);
  const byId = () => new Map(occs().filter((o) => ids.includes(o.id)).map((o) => [o.id, o]));
  await waitUntil('both PROCESSING, claimed', () => [...byId().values()].filter((o) => o['operation-state'] === 'PROCESSING' && o.owner).length === 2, 15_000);
  const claimed = byId();
  const holders = new Set([...claimed.values()].map((o) => o.owner));
  const idle = restarted;
  t.notOk(holders.has(cId), `member ${cId} holds none of them (holders: ${[...holders].join(', ')}) nor their clusters' actions`);
  const id = cId;
  await members[idle].stop();
  members[idle] = await testController(t, flags(id));
  await waitUntil('it is back, three members', () => members.every((m) => m.plugins.loaded[0].ctx.cluster.members().length === 3), 20_000);
  await members[idle].data.sync?.('config');
  for (const [occId, before] of claimed) {
    const now = byId().get(occId)!;
    t.match(now, { 'operation-state': 'PROCESSING', owner: before.owner, attempt: before.attempt }, `occurrence ${occId.slice(0, 8)}: still PROCESSING by ${before.owner}, attempt ${before.attempt}`);
  }
  for (const s of sims.computes) process.kill(s.pid, 'SIGCONT');
  await waitUntil('both ended', () => [...byId().values()].every((o) => ['COMPLETED', 'FAILED_TEMP'].includes(o['operation-state'])), 60_000);
  for (const [occId, before] of claimed) t.match(byId().get(occId), { 'operation-state': 'COMPLETED', owner: before.owner, attempt: 1 }, `occurrence ${occId.slice(0, 8)}: COMPLETED by its first owner, run once: ${JSON.stringify(byId().get(occId)?.error)}`);
});
