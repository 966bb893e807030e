/**
 * Autoscaling on real Open vSwitch databases: a cluster's nodes are VM ports placed on computes
 * (a Neutron port bound to the compute and an OVS interface with iface-id on its bridge, read back
 * with ovs-vsctl); scale-out and scale-in (the deletion policy picks the oldest) move the count and
 * desired-capacity; a second scaling while one runs is refused (409); a compute being scaled in has
 * its nodes replaced elsewhere (never on another tombstoned compute), so scalein-computes-end is
 * DONE without an operator moving them.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { endUntilDone } from '../helpers/scalein.ts';
import { computesForTest, ifaceIds, killCompute, restartCompute } from '../helpers/ovs.ts';
import { untilAsync as until, waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const NETWORK = '11111111-2222-4333-8444-555555555555';

const c = await testController(t, ['--datastore=memory', '--autoscaling-port-wait-ms=10000']);
const sims = await computesForTest(t, { count: 4, controller: `127.0.0.1:${c.ovsdb.port}` });

async function http(method: string, path: string, body?: unknown) {
  const r = await fetch(c.restconf.url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}
const rpc = (name: string, input: Record<string, unknown>) => http('POST', `/rests/operations/${name}`, { input });

type Node = { id: string; status: string; 'status-reason'?: string; compute?: string; port?: string; 'created-at'?: string; index?: number };
const nodes = (cluster: string) => ((c.data.read('operational', `/sextant-clustering:clustering-state/cluster=${cluster}`) as { node?: Node[] } | undefined)?.node ?? []);
const status = (cluster: string) => (c.data.read('operational', `/sextant-clustering:clustering-state/cluster=${cluster}`) as { status?: string } | undefined)?.status;
const action = (id: string) => c.data.read('operational', `/sextant-clustering:clustering-state/action=${id}`) as { status: string; 'status-reason'?: string } | undefined;
const desired = (cluster: string) => (c.data.read('config', `/sextant-clustering:clustering/cluster=${cluster}`) as { 'desired-capacity'?: number })['desired-capacity'];



async function waitAction(id: string): Promise<{ status: string; 'status-reason'?: string }> {
  await waitUntil(`action ${id} ends`, () => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(action(id)?.status ?? ''), 20_000);
  return action(id)!;
}

await waitUntil('the four computes are registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 4, 15_000);

t.test('a cluster of VM ports: placed one per compute, seen in OVS; scaled out and in', async (t) => {
  t.equal((await http('POST', '/rests/data', {
    'sextant-clustering:clustering': {
      profile: [{ id: 'web', name: 'web', type: 'os.nova.server-1.0', network: NETWORK, flavor: 'm1.tiny', image: 'cirros' }],
      policy: [{ id: 'oldest', name: 'oldest', deletion: { criteria: 'OLDEST_FIRST' } }],
      cluster: [{ id: 'c1', name: 'web-cluster', profile: 'web', 'min-size': 1, 'max-size': 4, 'desired-capacity': 3, policy: [{ policy: 'oldest' }] }],
    },
  })).status, 201, 'profile, deletion policy and cluster created over RESTCONF');
  await waitUntil('three ACTIVE nodes', () => nodes('c1').filter((n) => n.status === 'ACTIVE').length === 3 && status('c1') === 'ACTIVE', 20_000);
  const placed = nodes('c1').map((n) => n.compute);
  t.equal(new Set(placed).size, 3, `on three different computes (${placed.join(', ')})`);
  for (const n of nodes('c1')) {
    const sw = sims.computes.find((s) => s.name === n.compute)!;
    t.ok((await ifaceIds(sw)).includes(n.port!), `node ${n.index}: an OVS interface with iface-id ${n.port} on ${sw.name} (ovs-vsctl)`);
    const port = (await http('GET', `/rests/data/neutron:neutron/ports/port=${n.port}`)).json['neutron:port'][0];
    t.match(port, { 'network-id': NETWORK, 'device-owner': 'compute:nova', 'device-id': n.id, 'neutron-binding:host-id': n.compute }, `node ${n.index}: a Neutron port bound to ${n.compute}`);
  }

  // Two scale-outs at once: one is accepted, the other refused while the first has not ended.
  const both = await Promise.all([rpc('sextant-clustering:cluster-scale-out', { cluster: 'web-cluster' }), rpc('sextant-clustering:cluster-scale-out', { cluster: 'c1' })]);
  t.same(both.map((r) => r.status).sort(), [200, 409], 'two scalings at once (by name and by id): one 200, one 409');
  const out = both.find((r) => r.status === 200)!;
  const again = both.find((r) => r.status === 409)!;
  t.match(again.json, { errors: { error: [{ 'error-tag': 'in-use', 'error-message': /The CLUSTER_SCALE_OUT action for target c1 conflicts with the following action\(s\)/ }] } }, "Senlin's ActionConflict message");
  t.equal((await waitAction(out.json['sextant-clustering:output'].action)).status, 'SUCCEEDED', 'scale-out SUCCEEDED');
  t.equal(nodes('c1').length, 4, 'four nodes');
  t.equal(new Set(nodes('c1').map((n) => n.compute)).size, 4, 'the fourth on the compute that had none');
  t.equal(desired('c1'), 4, 'desired-capacity follows');

  const over = await rpc('sextant-clustering:cluster-scale-out', { cluster: 'c1' });
  const failed = await waitAction(over.json['sextant-clustering:output'].action);
  t.equal(failed.status, 'FAILED', 'beyond max-size the action fails');
  t.match(failed['status-reason'], /greater than the cluster's max_size \(4\)/);
  t.equal(nodes('c1').length, 4, 'and nothing changed');

  const oldest = [...nodes('c1')].sort((a, b) => ((a['created-at'] ?? '') < (b['created-at'] ?? '') ? -1 : 1))[0];
  const inAction = await rpc('sextant-clustering:cluster-scale-in', { cluster: 'c1', count: 1 });
  t.equal((await waitAction(inAction.json['sextant-clustering:output'].action)).status, 'SUCCEEDED', 'scale-in SUCCEEDED');
  t.notOk(nodes('c1').some((n) => n.id === oldest.id), 'the deletion policy removed the oldest node');
  const sw = sims.computes.find((s) => s.name === oldest.compute)!;
  await until('its interface left the compute\'s OVS', async () => !(await ifaceIds(sw)).includes(oldest.port!));
  t.pass("its interface left the compute's OVS (ovs-vsctl)");
  t.equal(c.data.read('config', `/neutron:neutron/ports/port=${oldest.port}`), undefined, 'and its Neutron port is gone');
  t.equal(desired('c1'), 3);
});

t.test('bad input: the right error, nothing written', async (t) => {
  const cases: [string, Record<string, unknown>, RegExp | string][] = [
    ['min > max', { id: 'b1', name: 'b1', profile: 'web', 'min-size': 3, 'max-size': 2 }, /min_size \(3\) is greater than the specified max_size \(2\)/],
    ['desired below min', { id: 'b2', name: 'b2', profile: 'web', 'min-size': 2, 'desired-capacity': 1 }, /desired_capacity \(1\) is less than the specified min_size \(2\)/],
    ['desired above max', { id: 'b3', name: 'b3', profile: 'web', 'max-size': 2, 'desired-capacity': 5 }, /desired_capacity \(5\) is greater than the specified max_size \(2\)/],
    ['a negative min-size', { id: 'b4', name: 'b4', profile: 'web', 'min-size': -1 }, 'invalid-value'],
  ];
  for (const [what, body, expect] of cases) {
    const r = await http('POST', '/rests/data/sextant-clustering:clustering', { 'sextant-clustering:cluster': [body] });
    t.equal(r.status, 400, `${what}: 400`);
    const err = r.json?.errors?.error?.[0];
    if (typeof expect === 'string') t.equal(err?.['error-tag'], expect);
    else t.match(err?.['error-message'], expect, `${what}: says why`);
    t.equal(c.data.read('config', `/sextant-clustering:clustering/cluster=${body.id}`), undefined, `${what}: nothing written`);
  }
  const noEvent = await http('POST', '/rests/data/sextant-clustering:clustering', { 'sextant-clustering:policy': [{ id: 'p-bad', name: 'p-bad', scaling: { number: 1 } }] });
  t.equal(noEvent.status, 400, 'a scaling policy without event: 400');
  const badType = await http('POST', '/rests/data/sextant-clustering:clustering', { 'sextant-clustering:policy': [{ id: 'p-bad2', name: 'p-bad2', scaling: { event: 'CLUSTER_SCALE_OUT', 'adjustment-type': 'SOME_OTHER' } }] });
  t.equal(badType.status, 400, 'an unknown adjustment type: 400');
  const unknown = await rpc('sextant-clustering:cluster-scale-out', { cluster: 'no-such-cluster' });
  t.equal(unknown.status, 409, 'scaling an unknown cluster: data-missing (409)');
  t.match(unknown.json, { errors: { error: [{ 'error-tag': 'data-missing', 'error-message': /could not be found/ }] } });
  const negative = await rpc('sextant-clustering:cluster-scale-out', { cluster: 'c1', count: -2 });
  t.equal(negative.status, 400, 'a negative count: 400');
});

t.test("the spec's TOSCA template: a profile, a cluster of default_instances nodes, two scaling policies and two receivers", async (t) => {
  const NET1 = '22222222-3333-4444-8555-666666666666';
  t.equal((await http('PUT', `/rests/data/neutron:neutron/networks/network=${NET1}`, { 'neutron:network': [{ uuid: NET1, name: 'net1' }] })).status, 201, 'the network the template names');
  const template = readFileSync(join(import.meta.dirname, 'fixtures/senlin-spec-example.yaml'), 'utf8');
  const r = await rpc('sextant-clustering:ingest-template', { template, name: 'vnf1' });
  t.equal(r.status, 200, 'ingest-template');
  const out = r.json['sextant-clustering:output'];
  t.equal(out.policy.length, 2, 'two policies');
  t.equal(out.receiver.length, 2, 'two receivers');
  t.match(out.receiver[0], /^[0-9a-f]{48}$/, 'receiver ids are long and random (webhook capabilities)');
  const cluster = c.data.read('config', `/sextant-clustering:clustering/cluster=${out.cluster}`) as Record<string, unknown>;
  t.match(cluster, { 'min-size': 2, 'max-size': 10, 'desired-capacity': 3, profile: out.profile }, 'the cluster: min_instances, max_instances, default_instances');
  const policies = out.policy.map((id: string) => c.data.read('config', `/sextant-clustering:clustering/policy=${id}`) as { scaling: Record<string, unknown> });
  t.same(policies.map((p: { scaling: Record<string, unknown> }) => [p.scaling.event, p.scaling['adjustment-type'], p.scaling.number]), [['CLUSTER_SCALE_OUT', 'CHANGE_IN_CAPACITY', 1], ['CLUSTER_SCALE_IN', 'CHANGE_IN_CAPACITY', 1]], 'scale-out and scale-in by increment');
  t.match(c.data.read('config', `/sextant-clustering:clustering/profile=${out.profile}`), { network: NET1, type: 'os.nova.server-1.0' }, 'the profile on the VL network');
  await waitUntil('three ACTIVE nodes', () => nodes(out.cluster).filter((n) => n.status === 'ACTIVE').length === 3, 20_000);
  t.equal(new Set(nodes(out.cluster).map((n) => n.compute)).size, 3, 'on three different computes');
  const typo = await rpc('sextant-clustering:ingest-template', { template: template.replace('tosca.nodes.nfv.VDU.Tacker', 'tosca.nodes.nfv.VDU.Tackr') });
  t.equal(typo.status, 400, 'a typo in a node type: 400');
  t.match(typo.json, { errors: { error: [{ 'error-tag': 'invalid-value', 'error-message': /Tackr.*node_templates\.VDU1\.type/ }] } }, 'naming the template path');
  t.equal(((c.data.read('config', '/sextant-clustering:clustering/cluster') as unknown[]) ?? []).length, 2, 'nothing written for it');
  // Leave the computes to the next test: this cluster goes, and its receivers with it (as Senlin's delete does).
  t.equal((await http('DELETE', `/rests/data/sextant-clustering:clustering/cluster=${out.cluster}`)).status, 204, 'the cluster deleted');
  for (const id of out.receiver) t.equal(c.data.read('config', `/sextant-clustering:clustering/receiver=${id}`), undefined, 'its receivers went with it');
  await waitUntil('its nodes are gone', () => nodes(out.cluster).length === 0, 20_000);
});

t.test('scale-in of a compute: its nodes are replaced elsewhere, never on a tombstoned compute, and scale-in ends', async (t) => {
  const byCompute = new Map<string, Node[]>();
  for (const n of nodes('c1')) byCompute.set(n.compute!, [...(byCompute.get(n.compute!) ?? []), n]);
  const [victim] = [...byCompute.keys()];
  const other = sims.computes.map((s) => s.name).find((n) => n !== victim && !byCompute.has(n)) ?? sims.computes.map((s) => s.name).find((n) => n !== victim)!;
  // Two computes are scaled in at once: the replacement may go to neither.
  const start = await rpc('scalein-api:scalein-computes-start', { 'scalein-node-ids': [victim, other] });
  t.equal(start.status, 200, 'scalein-computes-start');
  await waitUntil('no node left on the tombstoned computes', () => nodes('c1').length === 3 && nodes('c1').every((n) => n.compute !== victim && n.compute !== other && n.status === 'ACTIVE'), 20_000);
  t.pass(`the nodes on ${victim} moved, none to ${other}`);
  const sw = sims.computes.find((s) => s.name === victim)!;
  await until('the old interfaces left OVS', async () => (await ifaceIds(sw)).length === 0);
  t.pass(`no VM interface left in ${victim}'s OVS (ovs-vsctl)`);
  t.equal(await endUntilDone(rpc, [victim]), 'DONE', 'scalein-computes-end reaches DONE without an operator moving anything');
  await rpc('scalein-api:scalein-computes-recover', { 'recover-node-ids': [other] });
});

t.test('health: a node whose compute goes away is ERROR, and ACTIVE again when it is back', async (t) => {
  const node = nodes('c1').find((n) => n.status === 'ACTIVE')!;
  const sw = sims.computes.find((s) => s.name === node.compute)!;
  await killCompute(sw);
  await waitUntil('the node is ERROR', () => nodes('c1').find((n) => n.id === node.id)?.status === 'ERROR', 20_000);
  t.match(nodes('c1').find((n) => n.id === node.id), { status: 'ERROR', 'status-reason': /not connected/ }, 'ERROR, saying its compute is not connected');
  t.not(status('c1'), 'ACTIVE', `the cluster is no longer ACTIVE (${status('c1')})`);
  await restartCompute(sw);
  await waitUntil('the node is ACTIVE again', () => nodes('c1').find((n) => n.id === node.id)?.status === 'ACTIVE', 30_000);
  await waitUntil('the cluster too', () => status('c1') === 'ACTIVE', 10_000);
  t.pass('node and cluster ACTIVE again once the compute and its port are back');
});
