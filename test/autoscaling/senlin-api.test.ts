/**
 * Senlin's v1 API over raw HTTP (X-Auth-Token = --api-token) against a controller with real
 * ovsdb-server computes: discovery without credentials, every resource's routes with Senlin's
 * envelopes and status codes, names / ids / short ids wherever an id goes, numbers sent as
 * strings, marker+limit paging that ends with an empty page, 202 + Location of the action, the
 * webhook (public: V=2 grows the cluster in OVS; no V 400; a forged id 404; a cooldown 409), and
 * the bad inputs answered with Senlin's error body and nothing written. The objects are the
 * datastore's: RESTCONF sees what the API wrote.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync as until, waitUntil } from '../helpers/process.ts';

const TOKEN = 'senlin-api-token-5c1e';
const NETWORK = '33333333-4444-4555-8666-777777777777';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const c = await testController(t, ['--datastore=memory', '--autoscaling-port-wait-ms=10000', `--api-token=${TOKEN}`]);
const sims = await computesForTest(t, { count: 3, controller: `127.0.0.1:${c.ovsdb.port}` });
const base = c.http.listening().get('clustering')!.url;
await waitUntil('the three computes are registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 3, 15_000);
{
  const tx = c.data.transaction('config');
  tx.put(`/neutron:neutron/networks/network=${NETWORK}`, { uuid: NETWORK, name: 'web-net' });
  await tx.commit();
}

interface Reply {
  status: number;
  json: any;
  location: string | null;
}

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-auth-token': TOKEN }): Promise<Reply> {
  const r = await fetch(base + path, {
    method,
    headers: { 'openstack-api-version': 'clustering 1.14', ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined, location: r.headers.get('location') };
}

const action = (id: string) => c.data.read('operational', `/sextant-clustering:clustering-state/action=${id}`) as { status: string; 'status-reason'?: string } | undefined;
async function waitAction(id: string) {
  await waitUntil(`action ${id} ends`, () => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(action(id)?.status ?? ''), 20_000);
  return action(id)!;
}
const nodes = (cluster: string) => ((c.data.read('operational', `/sextant-clustering:clustering-state/cluster=${cluster}`) as { node?: { id: string; port: string; compute: string; status: string }[] } | undefined)?.node ?? []);

const allIfaceIds = async () => (await Promise.all(sims.computes.map(ifaceIds))).flat();


/** Senlin's FaultWrapper body. */
function isFault(t: Tap, r: Reply, status: number, type: string, message: RegExp | string) {
  t.equal(r.status, status, `${status}`);
  t.match(r.json, { code: status, error: { code: status, type, message }, title: String, explanation: String }, `Senlin's error body (${type})`);
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Tap = { equal(...args: any[]): unknown; match(...args: any[]): unknown };

const profileSpec = { type: 'os.nova.server', version: 1.0, properties: { flavor: 'm1.tiny', image: 'cirros', networks: [{ network: 'web-net' }] } };

t.test('discovery: the version documents, without credentials; microversions up to 1.14', async (t) => {
  const root = await api('GET', '/', undefined, {});
  t.equal(root.status, 300, 'GET / is 300');
  t.match(root.json, { versions: [{ id: '1.0', status: 'CURRENT', min_version: '1.0', max_version: '1.14', links: [{ rel: 'self', href: `${base}/v1/` }] }] });
  for (const path of ['/v1', '/v1/']) {
    const v1 = await api('GET', path, undefined, {});
    t.equal(v1.status, 200, `GET ${path} is 200`);
    t.same(v1.json.version, root.json.versions[0], 'the same entry');
  }
  t.equal((await api('GET', '/v1/clusters', undefined, {})).status, 401, 'the API itself needs credentials');
  isFault(t, await api('GET', '/v1/clusters', undefined, { 'x-auth-token': 'wrong' }), 401, 'HTTPUnauthorized', /requires authentication/);
  isFault(t, await api('GET', '/v1/clusters', undefined, { 'x-auth-token': TOKEN, 'openstack-api-version': 'clustering 1.15' }), 406, 'InvalidGlobalAPIVersion', "Version '1.15' is not supported by the API. Minimum is '1.0' and maximum is '1.14'.");
  t.equal((await api('GET', '/v1/clusters', undefined, { 'x-auth-token': TOKEN, 'openstack-api-version': 'clustering 1.2' })).status, 200, 'an older microversion is fine');
  t.match((await api('GET', '/v1/build-info')).json, { build_info: { api: {}, engine: {} } }, 'build-info');
  t.match((await api('GET', '/v1/profile-types')).json, { profile_types: [{ name: 'os.nova.server-1.0' }, { name: 'sextant.ovs.port-1.0' }] }, 'profile-types');
});

t.test('profiles, policies, clusters, actions, nodes, receivers, events: the whole way, by names and short ids', async (t) => {
  const profile = await api('POST', '/v1/profiles', { profile: { name: 'web', spec: profileSpec, metadata: { tier: 'front' } } });
  t.equal(profile.status, 201, 'profile create: 201');
  t.match(profile.json.profile, { id: UUID, name: 'web', type: 'os.nova.server-1.0', spec: profileSpec, metadata: { tier: 'front' } });
  const pid = profile.json.profile.id;
  t.match(c.data.read('config', `/sextant-clustering:clustering/profile=${pid}`), { name: 'web', network: NETWORK, flavor: 'm1.tiny', image: 'cirros' }, 'stored with the network resolved from its name');
  t.same((await api('GET', `/v1/profiles/web`)).json, profile.json, 'profile show by name');
  t.same((await api('GET', `/v1/profiles/${pid.slice(0, 8)}`)).json, profile.json, 'and by short id');

  const policy = await api('POST', '/v1/policies', { policy: { name: 'out-cool', spec: { type: 'senlin.policy.scaling', version: '1.0', properties: { event: 'CLUSTER_SCALE_OUT', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 1, cooldown: 600 } } } } });
  t.equal(policy.status, 201, 'policy create: 201');
  t.match(policy.json.policy, { id: UUID, name: 'out-cool', type: 'senlin.policy.scaling-1.0', spec: { properties: { event: 'CLUSTER_SCALE_OUT' } } });
  const polid = policy.json.policy.id;
  t.match(c.data.read('config', `/sextant-clustering:clustering/policy=${polid}`), { scaling: { event: 'CLUSTER_SCALE_OUT', 'adjustment-type': 'CHANGE_IN_CAPACITY', number: 1, cooldown: 600 } }, "stored as the model's typed leaves");
  const deletion = await api('POST', '/v1/policies', { policy: { name: 'oldest', spec: { type: 'senlin.policy.deletion', version: 1.1, properties: { criteria: 'OLDEST_FIRST' } } } });
  t.equal(deletion.status, 201, 'a deletion policy');
  t.match(deletion.json.policy, { type: 'senlin.policy.deletion-1.1' });
  t.equal((await api('GET', '/v1/policies')).json.policies.length, 2, 'policy list');

  // Numbers as the CLI sends them: strings.
  const created = await api('POST', '/v1/clusters', { cluster: { name: 'web-cluster', profile_id: 'web', min_size: '1', max_size: '4', desired_capacity: '2', timeout: '600', metadata: { app: 'shop' }, config: {} } });
  t.equal(created.status, 202, 'cluster create: 202');
  t.match(created.location, new RegExp(`^${base}/v1/actions/[0-9a-f-]{36}$`), 'with the Location of its action');
  const cid = created.json.cluster.id;
  t.match(created.json.cluster, { id: UUID, name: 'web-cluster', profile_id: pid, profile_name: 'web', min_size: 1, max_size: 4, desired_capacity: 2, timeout: 600, metadata: { app: 'shop' } }, 'the numbers as numbers');
  const createAction = created.location!.split('/').pop()!;
  t.equal((await waitAction(createAction)).status, 'SUCCEEDED', 'its CLUSTER_CREATE action succeeds');
  const restconf = await fetch(`${c.restconf.url}/rests/data/sextant-clustering:clustering/cluster=${cid}`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`, accept: 'application/yang-data+json' } });
  t.match((await restconf.json())['sextant-clustering:cluster'][0], { name: 'web-cluster', 'min-size': 1, 'max-size': 4, 'desired-capacity': 2 }, 'RESTCONF sees the same cluster');

  const shown = await api('GET', `/v1/clusters/${cid.slice(0, 8)}`);
  t.match(shown.json.cluster, { id: cid, status: 'ACTIVE', desired_capacity: 2 }, 'cluster show by short id: ACTIVE');
  t.equal(shown.json.cluster.nodes.length, 2, 'two nodes');
  t.same((await api('GET', '/v1/clusters/web-cluster')).json.cluster.id, cid, 'and by name');
  t.match((await api('GET', '/v1/clusters?name=web-cluster&global_project=False')).json, { clusters: [{ id: cid }] }, 'cluster list, filtered by name');
  isFault(t, await api('GET', '/v1/clusters/nothing-like-it'), 404, 'ResourceNotFound', "The cluster 'nothing-like-it' could not be found.");
  isFault(t, await api('GET', '/v1/clusters?colour=blue'), 400, 'BadRequest', "Invalid parameter 'colour'");

  const ourNodes = await api('GET', `/v1/nodes?cluster_id=web-cluster`);
  t.equal(ourNodes.json.nodes.length, 2, 'node list with cluster_id (a name)');
  const n0 = ourNodes.json.nodes[0];
  t.match(n0, { cluster_id: cid, status: 'ACTIVE', physical_id: UUID, profile_name: 'web' });
  t.same((await api('GET', `/v1/nodes/${n0.id.slice(0, 8)}`)).json.node, n0, 'node show by short id');

  const update = await api('PATCH', `/v1/clusters/web-cluster`, { cluster: { name: 'shop', metadata: { app: 'shop2' }, timeout: '100', profile_id: null, profile_only: false } });
  t.equal(update.status, 202, 'cluster update: 202');
  t.match(update.location, /\/v1\/actions\//);
  t.match(update.json.cluster, { name: 'shop', timeout: 100, metadata: { app: 'shop2' } });

  // Actions on the cluster, by name.
  const attach = await api('POST', '/v1/clusters/shop/actions', { policy_attach: { policy_id: 'out-cool', enabled: true } });
  t.equal(attach.status, 202, 'policy_attach: 202');
  t.equal(attach.location, `${base}/v1/actions/${attach.json.action}`, '{"action": id} + its Location');
  t.equal((await waitAction(attach.json.action)).status, 'SUCCEEDED');
  t.match((await api('GET', `/v1/clusters/shop/policies`)).json, { cluster_policies: [{ policy_id: polid, policy_name: 'out-cool', enabled: true, cluster_id: cid }] }, 'the binding listed');
  t.equal((await api('POST', '/v1/clusters/shop/actions', { policy_update: { policy_id: polid.slice(0, 8), enabled: false } })).status, 202, 'policy_update (short id)');
  t.match((await api('GET', `/v1/clusters/shop/policies/out-cool`)).json, { cluster_policy: { enabled: false } });
  t.equal((await api('POST', '/v1/clusters/shop/actions', { policy_detach: { policy_id: 'out-cool' } })).status, 202, 'policy_detach');
  t.same((await api('GET', `/v1/clusters/shop/policies`)).json, { cluster_policies: [] });

  const out = await api('POST', `/v1/clusters/${cid.slice(0, 8)}/actions`, { scale_out: { count: '1' } });
  t.equal(out.status, 202, 'scale_out with a count string: 202');
  t.equal((await waitAction(out.json.action)).status, 'SUCCEEDED');
  t.equal(nodes(cid).length, 3, 'three nodes');
  const inn = await api('POST', `/v1/clusters/shop/actions`, { scale_in: { count: null } });
  t.equal((await waitAction(inn.json.action)).status, 'SUCCEEDED', 'scale_in without a count');
  t.equal(nodes(cid).length, 2);
  const resize = await api('POST', `/v1/clusters/shop/actions`, { resize: { adjustment_type: 'EXACT_CAPACITY', number: '3', min_size: null, max_size: null, min_step: null, strict: false } });
  t.equal(resize.status, 202, 'resize to capacity 3');
  t.equal((await waitAction(resize.json.action)).status, 'SUCCEEDED');
  t.equal(nodes(cid).length, 3);
  const inOvs = await allIfaceIds();
  t.ok(nodes(cid).every((n) => inOvs.includes(n.port)), "every node is an interface in some compute's OVS");
  const check = await api('POST', `/v1/clusters/shop/actions`, { check: {} });
  t.equal((await waitAction(check.json.action)).status, 'SUCCEEDED', 'check');
  const recover = await api('POST', `/v1/clusters/shop/actions`, { recover: { check: true } });
  t.equal((await waitAction(recover.json.action)).status, 'SUCCEEDED', 'recover (nothing to recover)');
  const victim = nodes(cid)[0];
  const delNodes = await api('POST', `/v1/clusters/shop/actions`, { del_nodes: { nodes: [victim.id.slice(0, 8)] } });
  t.equal(delNodes.status, 202, 'del_nodes by short id: 202');
  t.equal((await waitAction(delNodes.json.action)).status, 'SUCCEEDED', 'del_nodes SUCCEEDED');
  t.equal(nodes(cid).length, 2, 'the node is gone');
  t.notOk(nodes(cid).some((n) => n.id === victim.id), 'that node');
  await until('its port left OVS', async () => !(await allIfaceIds()).includes(victim.port));
  t.pass('and its interface left OVS');
  const notMember = await api('POST', `/v1/clusters/shop/actions`, { del_nodes: { nodes: ['no-such-node'] } });
  t.equal(notMember.status, 400, 'del_nodes of a node not in the cluster: 400');
  t.match(notMember.json, { error: { message: /not members of specified cluster/ } });

  const shownAction = await api('GET', `/v1/actions/${out.json.action.slice(0, 8)}`);
  t.match(shownAction.json.action, { id: out.json.action, action: 'CLUSTER_SCALE_OUT', target: cid, status: 'SUCCEEDED', inputs: { count: 1 }, depends_on: [], depended_by: [] }, 'action show by short id');
  const listed = (await api('GET', `/v1/actions?target=${cid}`)).json.actions;
  t.ok(listed.length >= 8, `action list filtered by target (${listed.length})`);
  const events = (await api('GET', `/v1/events?cluster_id=${cid}&global_project=False`)).json.events;
  t.equal(events.length, listed.length, 'one event per action');
  t.match(events[0], { otype: 'CLUSTER', oid: cid, level: 'INFO', action: String });

  // Receivers: the cluster by name; the URL is the webhook.
  const receiver = await api('POST', '/v1/receivers', { receiver: { name: 'grow', type: 'webhook', action: 'CLUSTER_SCALE_OUT', cluster_id: 'shop', params: { count: '1' } } });
  t.equal(receiver.status, 201, 'receiver create: 201');
  const rid = receiver.json.receiver.id;
  t.match(rid, /^[0-9a-f]{48}$/, 'a long random id');
  t.equal(receiver.json.receiver.channel.alarm_url, `${base}/v1/webhooks/${rid}/trigger?V=2&count=1`, 'channel.alarm_url is the webhook');
  t.match((await api('GET', '/v1/receivers')).json, { receivers: [{ id: rid, cluster_id: cid, action: 'CLUSTER_SCALE_OUT', params: { count: '1' } }] }, 'receiver list');
  t.equal((await api('GET', '/v1/receivers/grow')).json.receiver.id, rid, 'receiver show by name');

  // Deletes: in use first, then in order.
  isFault(t, await api('DELETE', '/v1/profiles/web'), 409, 'ResourceInUse', "cannot be deleted: still referenced by some clusters and/or nodes.");
  const ports = nodes(cid).map((n) => n.port);
  const del = await api('DELETE', '/v1/clusters/shop');
  t.equal(del.status, 202, 'cluster delete: 202');
  t.match(del.location, new RegExp(`^${base}/v1/actions/`), 'with the Location the SDK reads the action from');
  t.equal((await waitAction(del.location!.split('/').pop()!)).status, 'SUCCEEDED', 'CLUSTER_DELETE succeeds');
  await until('the ports left OVS', async () => !(await allIfaceIds()).some((p) => ports.includes(p)), 15_000);
  t.pass('its interfaces are gone from OVS');
  t.equal((await api('GET', `/v1/receivers/${rid}`)).status, 404, 'its receiver went with it');
  t.equal((await api('DELETE', '/v1/profiles/web')).status, 204, 'profile delete: 204');
  t.equal((await api('DELETE', '/v1/policies/out-cool')).status, 204, 'policy delete: 204');
  t.equal((await api('DELETE', '/v1/policies/oldest')).status, 204);
  t.equal((await api('GET', '/v1/profiles/web')).status, 404, 'gone');
});

t.test('paging: marker + limit walks the list and ends with an empty page; sort', async (t) => {
  const names = ['p-a', 'p-b', 'p-c'];
  for (const name of names) t.equal((await api('POST', '/v1/profiles', { profile: { name, spec: { type: 'sextant.ovs.port', version: '1.0', properties: { network: NETWORK } } } })).status, 201, `profile ${name}`);
  const seen: string[] = [];
  let marker = '';
  let pages = 0;
  for (;;) {
    const r = await api('GET', `/v1/profiles?limit=2&sort=name:desc&global_project=False${marker ? `&marker=${marker}` : ''}`);
    t.equal(r.status, 200);
    pages++;
    const got = r.json.profiles as { id: string; name: string }[];
    if (!got.length) break;
    t.ok(got.length <= 2, 'at most limit entries');
    seen.push(...got.map((p) => p.name));
    marker = got[got.length - 1].id;
  }
  t.same(seen, [...names].reverse(), 'every profile once, sorted name:desc');
  t.equal(pages, 3, 'two pages, then an empty one');
  isFault(t, await api('GET', '/v1/profiles?limit=-1'), 400, 'BadRequest', "Value must be >= 0 for field 'limit'.");
  isFault(t, await api('GET', '/v1/profiles?marker=nope'), 400, 'BadRequest', /marker/);
  for (const name of names) t.equal((await api('DELETE', `/v1/profiles/${name}`)).status, 204);
});

t.test('webhooks: public, V=2 scales out (in OVS), no V 400, a forged id 404, a cooldown 409', async (t) => {
  t.equal((await api('POST', '/v1/profiles', { profile: { name: 'hook-web', spec: profileSpec } })).status, 201);
  const created = await api('POST', '/v1/clusters', { cluster: { name: 'hooked', profile_id: 'hook-web', min_size: '1', max_size: '3', desired_capacity: '1' } });
  const cid = created.json.cluster.id;
  await waitAction(created.location!.split('/').pop()!);
  t.equal((await api('POST', '/v1/policies', { policy: { name: 'hook-cool', spec: { type: 'senlin.policy.scaling', version: 1.0, properties: { event: 'CLUSTER_SCALE_OUT', adjustment: { number: 1, cooldown: 600 } } } } })).status, 201);
  t.equal((await api('POST', '/v1/clusters/hooked/actions', { policy_attach: { policy_id: 'hook-cool' } })).status, 202);
  const receiver = await api('POST', '/v1/receivers', { receiver: { name: 'hook', type: 'webhook', action: 'CLUSTER_SCALE_OUT', cluster_id: cid.slice(0, 8) } });
  const url = new URL(receiver.json.receiver.channel.alarm_url);
  const before = await allIfaceIds();

  isFault(t, await api('POST', `${url.pathname}`, undefined, {}), 400, 'BadRequest', 'V query parameter is required in webhook trigger URL');
  isFault(t, await api('POST', `/v1/webhooks/${'0'.repeat(48)}/trigger?V=2`, undefined, {}), 404, 'ResourceNotFound', /The receiver '0+' could not be found/);
  t.equal((await api('POST', `/v1/webhooks/${receiver.json.receiver.id.slice(0, 8)}/trigger?V=2`, undefined, {})).status, 404, 'a short id is no capability');
  t.equal((await api('POST', `/v1/webhooks/hook/trigger?V=2`, undefined, {})).status, 404, 'nor is the name');

  // An Aodh alarm notification as the body: accepted, its fields ignored.
  const alarm = { alarm_id: 'a1', alarm_name: 'cpu-high', current: 'alarm', previous: 'ok', reason: 'Transition to alarm', severity: 'low' };
  const fired = await api('POST', `${url.pathname}${url.search}`, alarm, {});
  t.equal(fired.status, 202, 'without credentials, V=2: 202');
  t.equal(fired.location, `${base}/v1/actions/${fired.json.action}`, '{"action": id} + Location');
  const done = await waitAction(fired.json.action);
  t.equal(done.status, 'SUCCEEDED', 'its action SUCCEEDS');
  t.equal(nodes(cid).length, 2, 'the cluster grew');
  const added = nodes(cid).find((n) => !before.includes(n.port))!;
  await until('the new port in OVS', async () => (await allIfaceIds()).includes(added.port), 10_000);
  t.pass("the new node is an interface in a compute's OVS");

  // Senlin's webhook_trigger goes through Action.create: the policy's cooldown refuses it, 409.
  const again = await api('POST', `${url.pathname}${url.search}`, undefined, {});
  isFault(t, again, 409, 'ActionCooldown', /cooldown/);
  t.equal(nodes(cid).length, 2, 'nothing changed');
  t.equal((await api('POST', `${url.pathname}?V=2`, { params: { count: 'x' } }, {})).status, 400, 'a bad count in params: 400');
  t.equal((await api('DELETE', '/v1/clusters/hooked')).status, 202);
});

t.test('bad input: Senlin\'s 400s (and 413), nothing written', async (t) => {
  t.equal((await api('POST', '/v1/profiles', { profile: { name: 'bad-web', spec: profileSpec } })).status, 201);
  const before = (c.data.read('config', '/sextant-clustering:clustering/cluster') as unknown[] | undefined)?.length ?? 0;
  const cases: [string, Record<string, unknown>, RegExp | string][] = [
    ['min > max', { min_size: '3', max_size: '2' }, /max_size \(2\)/],
    ['desired above max', { min_size: '1', max_size: '2', desired_capacity: '5' }, 'The target capacity (5) is greater than the specified max_size (2).'],
    ['desired below min', { min_size: '2', max_size: '4', desired_capacity: '1' }, 'The target capacity (1) is less than the specified min_size (2).'],
    ['a negative number', { min_size: '-1' }, 'The value for the min_size field must be greater than or equal to 0.'],
    ['not a number', { desired_capacity: 'three' }, "The value for desired_capacity must be an integer: 'three'."],
    ['an unknown profile', { profile_id: 'no-such-profile' }, "The specified profile 'no-such-profile' could not be found."],
  ];
  for (const [what, fields, message] of cases) {
    const r = await api('POST', '/v1/clusters', { cluster: { name: `bad-${what}`, profile_id: 'bad-web', ...fields } });
    t.test(what, async (t) => isFault(t, r, 400, 'BadRequest', message));
  }
  t.equal((c.data.read('config', '/sextant-clustering:clustering/cluster') as unknown[] | undefined)?.length ?? 0, before, 'no cluster written');

  const ok = await api('POST', '/v1/clusters', { cluster: { name: 'bad-target', profile_id: 'bad-web', min_size: '1', max_size: '2', desired_capacity: '1' } });
  await waitAction(ok.location!.split('/').pop()!);
  const actionsBefore = (c.data.read('operational', '/sextant-clustering:clustering-state/action') as unknown[]).length;
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { resize: { adjustment_type: 'SOME_OTHER', number: 1 } }), 400, 'BadRequest', "Value 'SOME_OTHER' is not acceptable for field 'adjustment_type'.");
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { resize: { adjustment_type: 'EXACT_CAPACITY', number: 5, strict: true } }), 400, 'BadRequest', "The target capacity (5) is greater than the cluster's max_size (2).");
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { resize: { min_size: 3, max_size: 2 } }), 400, 'BadRequest', 'The specified min_size (3) is greater than the specified max_size (2).');
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { scale_out: { count: '-2' } }), 400, 'BadRequest', "Value must be >= 0 for field 'count'.");
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { scale_in: { count: 0 } }), 400, 'BadRequest', 'Count for scale-in request cannot be 0.');
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { fly: {} }), 400, 'BadRequest', "Unrecognized action 'fly' specified");
  isFault(t, await api('POST', '/v1/clusters/bad-target/actions', { scale_in: {}, scale_out: {} }), 400, 'BadRequest', 'Multiple actions specified');
  t.equal((c.data.read('operational', '/sextant-clustering:clustering-state/action') as unknown[]).length, actionsBefore, 'no action recorded');

  const policiesBefore = (c.data.read('config', '/sextant-clustering:clustering/policy') as unknown[] | undefined)?.length ?? 0;
  isFault(t, await api('POST', '/v1/policies', { policy: { name: 'no-event', spec: { type: 'senlin.policy.scaling', version: 1.0, properties: { adjustment: { number: 1 } } } } }), 400, 'InvalidSpec', "Required spec item 'event' not provided");
  isFault(t, await api('POST', '/v1/policies', { policy: { name: 'bad-adj', spec: { type: 'senlin.policy.scaling', version: 1.0, properties: { event: 'CLUSTER_SCALE_IN', adjustment: { type: 'SOME_OTHER' } } } } }), 400, 'InvalidSpec', /SOME_OTHER/);
  t.equal((c.data.read('config', '/sextant-clustering:clustering/policy') as unknown[] | undefined)?.length ?? 0, policiesBefore, 'no policy written');
  isFault(t, await api('POST', '/v1/profiles', { profile: { name: 'no-net', spec: { type: 'os.nova.server', version: 1.0, properties: { networks: [{ network: 'no-such-net' }] } } } }), 400, 'BadRequest', "The specified network 'no-such-net' could not be found.");
  isFault(t, await api('POST', '/v1/profiles', { profile: { name: 'heat', spec: { type: 'os.heat.stack', version: 1.0, properties: {} } } }), 400, 'BadRequest', "The specified profile_type 'os.heat.stack-1.0' could not be found.");
  isFault(t, await api('POST', '/v1/profiles', '{"profile": '), 400, 'BadRequest', /not valid JSON/);
  isFault(t, await api('POST', '/v1/receivers', { receiver: { name: 'r', type: 'webhook', action: 'CLUSTER_SCALE_OUT', cluster_id: 'nope' } }), 400, 'BadRequest', "The referenced cluster 'nope' could not be found.");

  const huge = JSON.stringify({ profile: { name: 'huge', spec: profileSpec, metadata: { blob: 'x'.repeat(10 * 1024 * 1024) } } });
  const tooBig = await api('POST', '/v1/profiles', huge);
  isFault(t, tooBig, 413, 'HTTPRequestEntityTooLarge', /./);
  t.equal((await api('GET', '/v1/profiles/huge')).status, 404, 'nothing written');
  t.equal((await api('DELETE', '/v1/clusters/bad-target')).status, 202);
});
