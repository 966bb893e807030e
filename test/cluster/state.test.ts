/**
 * Cluster state is visible: the operational sextant-cluster container lists the live members
 * and the leader, over RESTCONF and NETCONF. A single instance lists itself as the leader.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { childOf, childrenOf, connect, textOf } from '../helpers/netconf.ts';
import { waitUntil } from '../csit/lib/wait.ts';

const NS = 'urn:sextant:params:xml:ns:yang:sextant-cluster';
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

t.test('a single instance lists itself as the leader, over RESTCONF and NETCONF', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--member-id=solo', '--cluster-name=blue']);
  const body = await waitUntil(5000, 20, async () => {
    const r = await fetch(`${c.restconf.url}/rests/data/sextant-cluster:cluster`, { headers: { authorization: AUTH, accept: 'application/yang-data+json' } });
    if (r.status !== 200) throw new Error(`status ${r.status}`);
    return (await r.json()) as { 'sextant-cluster:cluster': { member: { address: string }[] } };
  });
  t.match(body, { 'sextant-cluster:cluster': { 'cluster-name': 'blue', 'member-count': 1, member: [{ 'member-id': 'solo', address: c.restconf.url, leader: true, since: /^\d{4}-\d\d-\d\dT/ }] } });
  const s = await connect(c.netconf.port, { t });
  const reply = await s.rpc(`<get><filter type="subtree"><cluster xmlns="${NS}"/></filter></get>`);
  const members = childrenOf(childOf(reply.data, 'cluster', NS), 'member', NS);
  t.equal(members.length, 1, 'NETCONF get shows the member');
  t.equal(textOf(members[0], 'member-id'), 'solo');
  t.equal(textOf(members[0], 'leader'), 'true');
  const write = await fetch(`${c.restconf.url}/rests/data/sextant-cluster:cluster`, {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({ 'sextant-cluster:cluster': { 'cluster-name': 'mine' } }),
  });
  t.equal(write.status, 400, 'clients cannot write the cluster state (config false)');
  c.plugins.loaded[0].ctx.cluster.entities.set('vim', ['v1', 'v2', 'v3']);
  await waitUntil(5000, 20, async () => {
    const owned = (c.data.read('operational', '/sextant-cluster:cluster/member=solo/owned=vim') as { count?: number } | undefined)?.count;
    if (owned !== 3) throw new Error(`owned ${owned}`);
  });
  const again = childrenOf(childOf((await s.rpc(`<get><filter type="subtree"><cluster xmlns="${NS}"/></filter></get>`)).data, 'cluster', NS), 'member', NS);
  const owned = childOf(again[0], 'owned', NS);
  t.equal(textOf(owned, 'entity-type'), 'vim', 'NETCONF shows the declared kind');
  t.equal(textOf(owned, 'count'), '3', 'a single instance owns every entity');
});
