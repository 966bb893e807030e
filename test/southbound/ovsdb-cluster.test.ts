/**
 * The OVSDB southbound in cluster mode (two instances on one etcd), with OpenDaylight's bodies
 * (test/csit/ovsdb/): a switch named in the config topology is dialled by the owner of its entity
 * only (rendezvous on `ovsdb/<node-id>`, as src/cluster decides it; no lock), and a second config
 * node naming the same address (ODL's HOST1) adds no connection anywhere; what either instance
 * writes to config (a bridge, a QoS entry) reaches the switch through that owner; when the owner
 * stops, the other instance dials, and finds the rows it would make already there (marked with
 * their opendaylight-iid), so nothing is made twice. Both stores hold ovsdb:1 from the start.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../helpers/etcd.ts';
import { computesForTest, vsctl } from '../helpers/ovs.ts';
import { Session, expectStatus } from '../csit/lib/requests.ts';
import { waitUntil } from '../csit/lib/wait.ts';
import { RFC8040_CONFIG_TOPO_OVSDB1_API, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, RFC8040_TOPO_OVSDB1_API, addBridgeToOvsdbNode, connectToOvsdbNode, createOvsdbNode, createQos, toolsNodeApi } from '../csit/ovsdb/odl.ts';

const etcd = await startEtcd(t, { members: 1 });
const flags = (id: string) => [
  `--datastore=etcd://${etcd.endpoints.map((e) => e.replace('http://', '')).join(',')}`,
  '--cluster-name=ovsdbcl',
  `--member-id=${id}`,
  `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
  `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
  '--plugins=toaster',
];
const a = await testController(t, flags('a'));
const b = await testController(t, flags('b'));
const members = [a, b];
const sims = await computesForTest(t, { count: 1, first: 31 }); // no manager: only the controller can reach it
const sw = sims.computes[0];
const NODE = `127.0.0.1:${sw.port}`;
const NODE_ID = `ovsdb://${NODE}`;
const sa = new Session(a.restconf.url);
const sb = new Session(b.restconf.url);
const ownerOf = (id: string) => a.plugins.loaded[0].ctx.cluster.ownerOf(`ovsdb/${id}`);
const holders = () => members.filter((m) => [...m.ovsdb.sessions.values()].some((s) => !s.closed && s.nodeId === NODE_ID));
const rows = async (table: string) => (JSON.parse(await vsctl(sw, '--format=json', 'list', table)) as { data: unknown[] }).data.length;

t.test('both instances hold the ovsdb:1 topology in config and operational from the start', async (t) => {
  for (const s of [sa, sb]) {
    for (const uri of [RFC8040_CONFIG_TOPO_OVSDB1_API, RFC8040_OPERATIONAL_TOPO_OVSDB1_API]) {
      t.same(expectStatus(await s.get(uri), [200]).json(), { 'network-topology:topology': [{ 'topology-id': 'ovsdb:1' }] }, `GET ${uri} on ${s.baseUrl}`);
    }
  }
});

t.test('the owner dials, once; writes on either instance reach the switch; a leaving owner hands over', async (t) => {
  await connectToOvsdbNode({ session: sa, odlIp: '127.0.0.1' }, '127.0.0.1', sw.port);
  // HOST1 (create_node.json, verbatim: its port a JSON string, "61644") names the same switch.
  await createOvsdbNode({ session: sb, odlIp: '127.0.0.1' }, '127.0.0.1', sw.port);
  await waitUntil(15_000, 100, () => holders().length === 1 || Promise.reject(new Error(`${holders().length} instances connected`)));
  const owner = holders()[0];
  t.equal(owner.config.memberId, ownerOf(NODE_ID), `connected by its owner (${owner.config.memberId}) only`);
  t.notOk(members.some((m) => m.ovsdb.sessions.has('ovsdb:HOST1')), 'the second node naming the address adds no connection');

  await addBridgeToOvsdbNode({ session: sb, odlIp: '127.0.0.1' }, NODE, '127.0.0.1', 'brcl', '00000000000000c1', sw.port);
  await createQos({ session: sa, odlIp: '127.0.0.1' }, 'QOS-1');
  await waitUntil(15_000, 100, async () => ((await vsctl(sw, 'list-br')).includes('brcl') && (await rows('QoS')) === 1) || Promise.reject(new Error('not yet in OVS')));
  t.pass('the bridge (PUT on one instance) and the QoS entry of HOST1 (on the other) are in OVS');
  const other = members.find((m) => m !== owner)!;
  await waitUntil(10_000, 100, () => other.data.read('operational', `${RFC8040_TOPO_OVSDB1_API.replace('/rests/data', '')}/node=${encodeURIComponent(`${NODE_ID}/bridge/brcl`)}`) !== undefined || Promise.reject(new Error('not reported')));
  t.pass('and the other instance reads the bridge in the operational topology');

  await owner.stop();
  await waitUntil(20_000, 100, () => (holders().length === 1 && holders()[0] === other) || Promise.reject(new Error('not handed over')));
  t.pass('the remaining instance dials the switch');
  await waitUntil(10_000, 100, () => [...other.ovsdb.sessions.values()].some((s) => s.nodeId === NODE_ID && !s.closed) || Promise.reject(new Error('no session')));
  await other.ovsdb.idle();
  t.equal((await vsctl(sw, 'list-br')).split('\n').filter((n) => n === 'brcl').length, 1, 'one bridge brcl, not made twice');
  t.equal(await rows('QoS'), 1, 'one QoS row, not made twice');
  expectStatus(await new Session(other.restconf.url).delete(`${toolsNodeApi('127.0.0.1', sw.port)}%2Fbridge%2Fbrcl`), [204]);
  await waitUntil(10_000, 100, async () => !(await vsctl(sw, 'list-br')).includes('brcl') || Promise.reject(new Error('still there')));
  t.pass('the new owner deletes what the old one made');
});
