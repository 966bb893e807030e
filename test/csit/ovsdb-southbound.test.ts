/**
 * CSIT-style OVSDB southbound suite, after OpenDaylight's integration-test suites
 * `csit/suites/ovsdb/Southbound_Domain/010__configure_1_ovsdb_node.robot` (active connection,
 * bridge, port, QoS and queues from config), `020__connection_manager.robot` (a switch that
 * connects by itself, bridges made by hand and through the controller) and `Bug_Validation.robot`
 * (Bug 5177: a bridge configured before its switch connects; Bug 7160; the empty ovsdb:1
 * topologies of a fresh controller), with OpenDaylight's bodies (test/csit/ovsdb/, verbatim),
 * URLs, status allow-lists and read-backs: RESTCONF's config and operational topologies, and the
 * switch itself with `ovs-vsctl list-br`, `list-ports`, `list qos`, `list queue`.
 *
 * The switches are real ovsdb-servers on free loopback ports (test/helpers/ovs.ts): TOOLS_SYSTEM_IP
 * is 127.0.0.1 and OVSDB_NODE_PORT the server's `ptcp:` port (ODL's suites run
 * `ovs-vsctl set-manager ptcp:6634`; ours listen from the start). The controller runs in this
 * process with the platform only (`--plugins=toaster`), as ODL's southbound suites run the
 * southbound without NetVirt, and its log is read for what the southbound reports.
 */
import t from 'tap';
import pino from 'pino';
import { startController } from '../../src/controller.ts';
import { testConfig } from '../helpers/controller.ts';
import { computesForTest, setManager, vsctl, type SimCompute } from '../helpers/ovs.ts';
import { ALLOWED_STATUS_CODES, Session, expectError, expectStatus, setDefaultSession } from './lib/requests.ts';
import {
  RFC8040_CONFIG_TOPO_API,
  RFC8040_CONFIG_TOPO_OVSDB1_API,
  RFC8040_OPERATIONAL_TOPO_OVSDB1_API,
  RFC8040_SOUTHBOUND_NODE_HOST1_API,
  RFC8040_TOPO_OVSDB1_API,
  addBridgeToOvsdbNode,
  addTerminationPoint,
  bridgeApi,
  checkForElementsAtUri,
  checkForElementsNotAtUri,
  configAndOperationalTopologyShouldBeEmpty,
  connectToOvsdbNode,
  createOvsdbNode,
  createQos,
  createQosLinkedQueue,
  createQueue,
  deleteBridgeFromOvsdbNode,
  disconnectFromOvsdbNode,
  getOvsdbUuid,
  toolsNodeApi,
  updateQos,
  waitUntilSucceeds,
  type OdlSystem,
} from './ovsdb/odl.ts';

// ---- the controller, with its log kept ------------------------------------------------------

interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}
const logs: LogLine[] = [];
const logStream = { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) };
const c = await startController(testConfig(t, ['--datastore=memory', '--plugins=toaster']), pino({ level: 'info' }, logStream));
t.teardown(() => c.stop());
const session = new Session(c.restconf.url);
setDefaultSession(session);
const odl: OdlSystem = { session, odlIp: '127.0.0.1' };
const TOOLS_SYSTEM_IP = '127.0.0.1';
const OVSDBPORT = c.ovsdb.port;
const logged = (re: RegExp) => logs.filter((l) => re.test(l.msg));

/** Two switches: A is only reachable by the controller dialling it (active), B connects by itself. */
const sims = await computesForTest(t, { count: 2, first: 61, vms: 1 });
const [swA, swB] = sims.computes;
const PORT_A = swA.port;

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
const listBr = async (sw: SimCompute) => lines(await vsctl(sw, 'list-br'));
const listPorts = async (sw: SimCompute, br: string) => lines(await vsctl(sw, 'list-ports', br));
/** `ovs-vsctl list <table>` as rows of column -> value text. */
async function listTable(sw: SimCompute, table: string): Promise<Record<string, string>[]> {
  const out = await vsctl(sw, '--format=json', 'list', table);
  const j = JSON.parse(out) as { headings: string[]; data: unknown[][] };
  return j.data.map((row) => Object.fromEntries(j.headings.map((h, i) => [h, JSON.stringify(row[i])])));
}
/** An OVSDB map column of `--format=json` as an object. */
const ovsMap = (text: string) => Object.fromEntries((JSON.parse(text) as ['map', [string, unknown][]])[1]);

// ---- Bug_Validation: a fresh controller holds the empty ovsdb:1 topology in both stores ---------

t.test('a fresh controller has the ovsdb:1 topology in config and operational (Config and Operational Topology Should Be Empty)', async (t) => {
  await configAndOperationalTopologyShouldBeEmpty(odl);
  t.pass('GET config and operational network-topology answer 200 with {"topology-id":"ovsdb:1"}');
  for (const uri of [RFC8040_CONFIG_TOPO_OVSDB1_API, RFC8040_OPERATIONAL_TOPO_OVSDB1_API]) {
    const res = expectStatus(await session.get(uri), [200]);
    t.same(res.json(), { 'network-topology:topology': [{ 'topology-id': 'ovsdb:1' }] }, `GET ${uri}`);
  }
});

// ---- 020__connection_manager.robot: a switch that connects by itself ----------------------------

t.test('020 connection manager: a switch with set-manager tcp:ODL, bridges by hand and through the controller', async (t) => {
  const NODE_LIST = [`ovsdb://${TOOLS_SYSTEM_IP}:${swB.port}`, TOOLS_SYSTEM_IP, String(swB.port)];
  await setManager(swB, `127.0.0.1:${OVSDBPORT}`);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovsdb://uuid', `"remote-ip":"${TOOLS_SYSTEM_IP}"`, `"local-port":${OVSDBPORT}`]));
  t.pass('Get Operational Topology to verify the ovs instance is connected to the controller');
  const uuid = await getOvsdbUuid(odl, TOOLS_SYSTEM_IP);
  t.match(uuid, /^[0-9a-f-]{36}$/, 'Get OVSDB UUID');
  await checkForElementsNotAtUri(odl, RFC8040_CONFIG_TOPO_API, NODE_LIST);
  t.pass('Verify OVS Not In Config Topology');

  await vsctl(swB, 'add-br', 'ovscon_br1');
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovscon_br1']));
  t.pass('a bridge made by hand is reported');
  const config = expectStatus(await session.get(RFC8040_CONFIG_TOPO_API), [200]);
  t.notOk(config.body.includes(`ovsdb://${TOOLS_SYSTEM_IP}:${swB.port}/bridge/ovscon_br1`), 'and is not added to the config datastore');

  await addBridgeToOvsdbNode(odl, `uuid/${uuid}`, TOOLS_SYSTEM_IP, 'ovscon_br2', '0000000000000002', PORT_A);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovscon_br2']));
  t.pass('Create a Bridge through controller: it is reported');
  t.ok((await listBr(swB)).includes('ovscon_br2'), 'ovs-vsctl list-br shows it');
  t.equal(await vsctl(swB, 'get', 'bridge', 'ovscon_br2', 'other-config:datapath-id'), '"0000000000000002"', 'with its datapath-id');
  await checkForElementsAtUri(odl, RFC8040_CONFIG_TOPO_API, [`ovsdb://uuid/${uuid}/bridge/ovscon_br2`]);
  t.pass('the entry is in the config datastore');

  const before = await vsctl(swB, 'get', 'bridge', 'ovscon_br1', 'other_config', 'external_ids');
  await addBridgeToOvsdbNode(odl, `uuid/${uuid}`, TOOLS_SYSTEM_IP, 'ovscon_br1', '0000000000000001', PORT_A);
  await checkForElementsAtUri(odl, RFC8040_CONFIG_TOPO_API, [`ovsdb://uuid/${uuid}/bridge/ovscon_br1`]);
  t.pass('Create bridge of already added bridge: in config');
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovscon_br2']));
  t.equal(await vsctl(swB, 'get', 'bridge', 'ovscon_br1', 'other_config', 'external_ids'), before, "the operator's bridge keeps its own settings (the controller did not create it)");

  await vsctl(swB, 'del-br', 'ovscon_br2');
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovscon_br2']));
  t.pass('Delete bridge manually: it leaves the operational topology');
  await checkForElementsAtUri(odl, RFC8040_CONFIG_TOPO_API, [`ovsdb://uuid/${uuid}/bridge/ovscon_br2`]);
  t.pass('Config Topology Still Contains Bridge');
  // Not re-created behind the operator's back while connected: a later change is applied, the
  // deleted bridge stays deleted.
  await addBridgeToOvsdbNode(odl, `uuid/${uuid}`, TOOLS_SYSTEM_IP, 'ovscon_br3', '0000000000000003', PORT_A);
  await waitUntilSucceeds(async () => (await listBr(swB)).includes('ovscon_br3') || Promise.reject(new Error('ovscon_br3 not made')));
  t.notOk((await listBr(swB)).includes('ovscon_br2'), 'a later change is applied and the bridge deleted by hand is not made again');
  t.ok(logged(/bridge ovscon_br2 was deleted in OVS/).length > 0, 'the controller logs that it was deleted in OVS');

  await deleteBridgeFromOvsdbNode(odl, `uuid/${uuid}`, 'ovscon_br2');
  await deleteBridgeFromOvsdbNode(odl, `uuid/${uuid}`, 'ovscon_br3');
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovscon_br2', 'ovscon_br3']));
  t.pass('Delete the Bridge through rest call: gone from operational');
  t.notOk((await listBr(swB)).includes('ovscon_br3'), 'and the bridge the controller made is gone from OVS');

  await deleteBridgeFromOvsdbNode(odl, `uuid/${uuid}`, 'ovscon_br1');
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovscon_br1']));
  t.ok((await listBr(swB)).includes('ovscon_br1'), "deleting the config node of the operator's bridge leaves that bridge alone");
});

t.test('Bug 5177: a bridge configured while its switch is away is made when it connects', async (t) => {
  const uuid = await getOvsdbUuid(odl, TOOLS_SYSTEM_IP);
  await vsctl(swB, 'del-manager');
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [uuid]));
  await addBridgeToOvsdbNode(odl, `uuid/${uuid}`, TOOLS_SYSTEM_IP, 'ovsbug_br', '0000000000005177', PORT_A);
  await checkForElementsAtUri(odl, RFC8040_CONFIG_TOPO_API, [`uuid/${uuid}/bridge/ovsbug_br`]);
  await setManager(swB, `127.0.0.1:${OVSDBPORT}`);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['ovsbug_br']));
  t.pass('the bridge is in the operational topology');
  t.ok((await listBr(swB)).includes('ovsbug_br'), 'and in OVS');
  await deleteBridgeFromOvsdbNode(odl, `uuid/${uuid}`, 'ovsbug_br');
  await waitUntilSucceeds(async () => !(await listBr(swB)).includes('ovsbug_br') || Promise.reject(new Error('still there')));
  t.pass('Bug 4794: deleting it from config removes it');
  await vsctl(swB, 'del-manager');
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [uuid]));
});

// ---- 010__configure_1_ovsdb_node.robot: the controller connects (active mode) --------------------

const BRIDGE = 'ovsconf_br';
const PORT = 'ovsconf_vx1';
const NODE_A = `${TOOLS_SYSTEM_IP}:${PORT_A}`;
const NODE_LIST = [`ovsdb://${NODE_A}`, TOOLS_SYSTEM_IP, String(PORT_A)];

t.test('010 configure one ovsdb node: connect, bridge, port, delete, disconnect, reconnect', async (t) => {
  await connectToOvsdbNode(odl, TOOLS_SYSTEM_IP, PORT_A);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, NODE_LIST));
  t.pass('Connect to OVSDB Node; Get Operational Topology');

  await addBridgeToOvsdbNode(odl, NODE_A, TOOLS_SYSTEM_IP, BRIDGE, '0000000000000040', PORT_A);
  await checkForElementsAtUri(odl, RFC8040_CONFIG_TOPO_API, [BRIDGE]);
  t.pass('Create a Bridge; Get Config Topology with Bridge');
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [BRIDGE]));
  t.pass('Get Operational Topology with Bridge');
  t.ok((await listBr(swA)).includes(BRIDGE), 'ovs-vsctl list-br shows the bridge');
  const [row] = (await listTable(swA, 'Bridge')).filter((r) => r.name === `"${BRIDGE}"`);
  t.equal(row.protocols, '"OpenFlow13"', 'protocols from ovsdb:protocol-entry');
  t.same(ovsMap(row.other_config), { 'datapath-id': '0000000000000040' }, 'other_config from ovsdb:bridge-other-configs');
  t.match(ovsMap(row.external_ids), { 'opendaylight-iid': /bridge%2Fovsconf_br$/ }, 'marked as the controller’s');
  t.equal(await vsctl(swA, 'get', 'controller', BRIDGE, 'target'), '"tcp:127.0.0.1:6633"', 'the controller-entry target');
  t.same(await listPorts(swA, BRIDGE), [], 'only its internal port (list-ports lists none)');
  const bridgeNode = expectStatus(await session.get(`${bridgeApi(NODE_A, BRIDGE)}?content=nonconfig`), [200]).json() as { 'network-topology:node': Record<string, unknown>[] };
  t.match(bridgeNode['network-topology:node'][0], {
    'ovsdb:bridge-name': BRIDGE,
    'ovsdb:datapath-id': '00:00:00:00:00:00:00:40',
    'ovsdb:managed-by': `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='ovsdb://${NODE_A}']`,
    'ovsdb:protocol-entry': [{ protocol: 'ovsdb:ovsdb-bridge-protocol-openflow-13' }],
    'ovsdb:controller-entry': [{ target: 'tcp:127.0.0.1:6633' }],
  }, 'the operational bridge node');

  await addTerminationPoint(odl, NODE_A, BRIDGE, PORT, '10.0.0.10');
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [BRIDGE, PORT]));
  t.pass('Create Port and Attach to a Bridge; Get Operational Topology with Port');
  t.same(await listPorts(swA, BRIDGE), [PORT], 'ovs-vsctl list-ports shows it');
  t.equal(await vsctl(swA, 'get', 'interface', PORT, 'type'), 'vxlan', 'a vxlan interface');
  t.equal(await vsctl(swA, 'get', 'interface', PORT, 'options:remote_ip'), '"10.0.0.10"', 'to 10.0.0.10');

  expectStatus(await session.delete(`${toolsNodeApi(TOOLS_SYSTEM_IP, PORT_A)}%2Fbridge%2F${BRIDGE}/termination-point=${PORT}`), [204]);
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [PORT]));
  t.pass('Delete the Port; Get Operational Topology after Deletion of Port');
  t.same(await listPorts(swA, BRIDGE), [], 'gone from OVS');

  await deleteBridgeFromOvsdbNode(odl, NODE_A, BRIDGE);
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [BRIDGE, PORT]));
  t.pass('Delete the Bridge; Get Operational Topology after Deletion of Bridge');
  t.same(await listBr(swA), ['br-int'], 'ovs-vsctl list-br: the bridge is gone, the one the controller did not create stays');
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, NODE_LIST));
  t.pass('Verify Config Still Has OVS Info');

  await disconnectFromOvsdbNode(odl, TOOLS_SYSTEM_IP, PORT_A);
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [`ovsdb://${NODE_A}`]));
  t.pass('Delete the OVSDB Node: the connection is gone from operational');
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_CONFIG_TOPO_OVSDB1_API, [`ovsdb://${NODE_A}`]));
  t.pass('and from config');

  await connectToOvsdbNode(odl, TOOLS_SYSTEM_IP, PORT_A);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, NODE_LIST));
  t.pass('Reconnect to OVSDB Node; Get Operational Topology After Node Reconnect');
});

// ---- QoS and queues on the connected node ---------------------------------------------------------

const NODE_A_API = toolsNodeApi(TOOLS_SYSTEM_IP, PORT_A);
const queueRefOf = (queue: string) => `/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='ovsdb://${NODE_A}']/ovsdb:queues[queue-id='${queue}']`;
const linkedQos = (queue: string) => JSON.stringify({
  'ovsdb:qos-entries': [{
    'qos-id': 'QOS-1',
    'qos-type': 'ovsdb:qos-type-linux-htb',
    'qos-other-config': [{ 'other-config-key': 'max-rate', 'other-config-value': '3300000' }],
    'queue-list': [{ 'queue-number': 0, 'queue-ref': queueRefOf(queue) }],
  }],
});

t.test('QoS and queues of a node: created, linked, refused when the queue is missing, deleted', async (t) => {
  await createQueue(odl, 'QUEUE-1', NODE_A_API);
  await createQos(odl, 'QOS-1', NODE_A_API);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['QOS-1', 'QUEUE-1']));
  t.pass('Get QOS / Queue Operational Topology');
  const [queue] = await listTable(swA, 'Queue');
  t.equal(queue.dscp, '51', 'ovs-vsctl list queue: dscp');
  t.same(ovsMap(queue.other_config), { 'max-rate': '1230000', 'min-rate': '1000000' }, 'other_config');
  t.match(ovsMap(queue.external_ids), { qexid: 'qexvalue', 'opendaylight-iid': /ovsdb:queues=QUEUE-1$/ }, 'external_ids');
  let [qos] = await listTable(swA, 'QoS');
  t.equal(qos.type, '"linux-htb"', 'ovs-vsctl list qos: type');
  t.same(ovsMap(qos.other_config), { 'max-rate': '3300000' }, 'other_config');
  t.same(ovsMap(qos.queues), {}, 'no queue linked yet');

  // Linking: the queue-list entry names the queue by instance-identifier (ODL's model).
  expectStatus(await session.put(`${NODE_A_API}/ovsdb:qos-entries=QOS-1`, linkedQos('QUEUE-1'), { contentType: 'application/json' }), ALLOWED_STATUS_CODES);
  await waitUntilSucceeds(async () => {
    [qos] = await listTable(swA, 'QoS');
    return Object.keys(ovsMap(qos.queues)).length === 1 || Promise.reject(new Error(`queues ${qos.queues}`));
  });
  t.same(ovsMap(qos.queues), { 0: ['uuid', JSON.parse(queue._uuid)[1]] }, 'ovs-vsctl list qos: queues={0=<the queue>}');
  const opQos = await waitUntilSucceeds(async () => {
    const res = expectStatus(await session.get(`${NODE_A_API}/ovsdb:qos-entries=QOS-1?content=nonconfig`), [200]);
    const e = (res.json() as { 'ovsdb:qos-entries': { 'queue-list'?: unknown[] }[] })['ovsdb:qos-entries'][0];
    return e['queue-list'] ? e : Promise.reject(new Error('no queue-list yet'));
  });
  t.same(opQos['queue-list'], [{ 'queue-number': 0, 'queue-ref': queueRefOf('QUEUE-1') }], 'the operational QoS entry links the operational queue');

  // Bad input: a QoS entry naming a missing queue is refused, and nothing is written.
  const configBefore = expectStatus(await session.get(`${NODE_A_API}?content=config`), [200]).body;
  const bad = await session.put(`${NODE_A_API}/ovsdb:qos-entries=QOS-1`, linkedQos('QUEUE-404'), { contentType: 'application/json' });
  const err = expectError(bad, 409, 'data-missing');
  t.equal(err['error-app-tag'], 'instance-required', `a queue-ref to a missing queue: 409 data-missing instance-required (${err['error-message']})`);
  const orphan = await session.put(`${NODE_A_API}/ovsdb:qos-entries=QOS-2`, linkedQos('QUEUE-404').replace('QOS-1', 'QOS-2'), { contentType: 'application/json' });
  expectError(orphan, 409, 'data-missing');
  t.pass('also for a new QoS entry');
  const deleteQueue = await session.delete(`${NODE_A_API}/ovsdb:queues=QUEUE-1`);
  expectError(deleteQueue, 409, 'data-missing');
  t.pass('a queue a QoS entry links cannot be deleted');
  t.equal(expectStatus(await session.get(`${NODE_A_API}?content=config`), [200]).body, configBefore, 'the config node is unchanged');
  t.same(ovsMap((await listTable(swA, 'QoS'))[0].queues), { 0: ['uuid', JSON.parse(queue._uuid)[1]] }, 'and so is OVS');
  t.equal((await listTable(swA, 'QoS')).length, 1, 'one QoS row');

  // Delete a Queue entry from a Qos entry, the QoS entry, the queue (010's order).
  expectStatus(await session.delete(`${NODE_A_API}/ovsdb:qos-entries=QOS-1/queue-list=0`), ALLOWED_STATUS_CODES);
  expectStatus(await session.delete(`${NODE_A_API}/ovsdb:qos-entries=QOS-1`), ALLOWED_STATUS_CODES);
  expectStatus(await session.delete(`${NODE_A_API}/ovsdb:queues=QUEUE-1`), ALLOWED_STATUS_CODES);
  await waitUntilSucceeds(async () => ((await listTable(swA, 'QoS')).length === 0 && (await listTable(swA, 'Queue')).length === 0) || Promise.reject(new Error('rows left')));
  t.pass('ovs-vsctl list qos / list queue: the rows the controller made are gone');
  await waitUntilSucceeds(() => checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['QOS-1', 'QUEUE-1']));
  t.pass('and from the operational topology');
});

t.test('010 node HOST1 (create_node.json): its QoS and queues reach the switch it names', async (t) => {
  // create_node.json and update_existingqos.json write numbers as JSON strings ("61644", "0"), as ODL's parser takes them.
  await createOvsdbNode(odl, TOOLS_SYSTEM_IP, PORT_A);
  t.pass('Create OVSDB NODE HOST1');
  await createQos(odl, 'QOS-1');
  await createQueue(odl, 'QUEUE-1');
  await createQueue(odl, 'QUEUE-1');
  await updateQos(odl, 'QOS-1');
  t.pass('Create QOS entry; Create Queue entry; Update existing Queue entry; Update QOS with a Linked queue entry');
  await checkForElementsAtUri(odl, RFC8040_CONFIG_TOPO_API, ['QOS-1', 'QUEUE-1']);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['QOS-1', 'QUEUE-1']));
  t.pass('Get QOS / Queue Config and Operational Topology');
  t.equal((await listTable(swA, 'QoS')).length, 1, 'ovs-vsctl list qos: one row');
  t.equal((await listTable(swA, 'Queue')).length, 1, 'ovs-vsctl list queue: one row');
  t.equal([...c.ovsdb.sessions.keys()].filter((k) => k.includes(`:${PORT_A}`) || k === 'ovsdb:HOST1').length, 1, 'one connection to the switch, not one per config node');
  for (const path of ['/ovsdb:qos-entries=QOS-1/queue-list=0', '/ovsdb:qos-entries=QOS-1', '/ovsdb:queues=QUEUE-1', '']) {
    expectStatus(await session.delete(`${RFC8040_SOUTHBOUND_NODE_HOST1_API}${path}`), ALLOWED_STATUS_CODES);
  }
  t.notOk(expectStatus(await session.get(RFC8040_CONFIG_TOPO_API), [200]).body.includes('ovsdb:HOST1'), 'Get Config Topology to verify that deleted configurations are cleaned');
  await waitUntilSucceeds(async () => ((await listTable(swA, 'QoS')).length === 0 && (await listTable(swA, 'Queue')).length === 0) || Promise.reject(new Error('rows left')));
  t.pass('and the switch has no QoS or queue left');
  await checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, NODE_LIST);
  t.pass('the switch stays connected: ovsdb://IP:PORT still names it');

  // Bug 7160: the node PUT whole with QoS and queues, its parts deleted one by one, nothing left.
  await createOvsdbNode(odl, TOOLS_SYSTEM_IP, PORT_A);
  await createQos(odl, 'QOS-1');
  await createQosLinkedQueue(odl);
  for (const path of ['/ovsdb:qos-entries=QOS-1/queue-list=0', '/ovsdb:qos-entries=QOS-1', '/ovsdb:queues=QUEUE-1', '']) {
    expectStatus(await session.delete(`${RFC8040_SOUTHBOUND_NODE_HOST1_API}${path}`), [200, 204]);
  }
  t.pass('Bug 7160: deletes answer 200/204');
});

// ---- bad input ---------------------------------------------------------------------------------

t.test('a bridge name OVS refuses: accepted as ODL does, logged, nothing half-written, other work unaffected', async (t) => {
  const taken = swA.vms[0].name; // a VM's port on br-int: OVS wants bridge, port and interface names unique
  const res = await addBridgeToOvsdbNode(odl, NODE_A, TOOLS_SYSTEM_IP, taken, '0000000000000099', PORT_A);
  t.ok(ALLOWED_STATUS_CODES.includes(res.status), `PUT answers ${res.status}, as OpenDaylight's does (the switch is told afterwards)`);
  const refusal = await waitUntilSucceeds(async () => logged(new RegExp(`refused bridge ${taken}`))[0] ?? Promise.reject(new Error('not logged yet')));
  t.match(refusal.msg, /constraint violation/, `logged: ${refusal.msg}`);
  await addBridgeToOvsdbNode(odl, NODE_A, TOOLS_SYSTEM_IP, 'br-ok', '0000000000000098', PORT_A);
  await waitUntilSucceeds(() => checkForElementsAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, ['br-ok']));
  t.pass('a bridge sent after it is made and reported');
  t.same((await listBr(swA)).sort(), ['br-int', 'br-ok'], 'ovs-vsctl list-br: no bridge of the refused name');
  t.same((await listTable(swA, 'Interface')).filter((r) => r.name === `"${taken}"`).length, 1, 'only the VM’s own interface has that name');
  t.same(await listPorts(swA, 'br-int'), [taken], 'and its port is untouched, on br-int');
  await checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [`ovsdb://${NODE_A}/bridge/${taken}`]);
  t.pass('the refused bridge is not in the operational topology');
  t.equal(logged(new RegExp(`refused bridge ${taken}`)).length, 1, 'logged once, not retried in a loop');
  await deleteBridgeFromOvsdbNode(odl, NODE_A, taken);
  await deleteBridgeFromOvsdbNode(odl, NODE_A, 'br-ok');
  await waitUntilSucceeds(async () => (await listBr(swA)).length === 1 || Promise.reject(new Error('br-ok left')));
  t.same(await listPorts(swA, 'br-int'), [taken], 'deleting the config node leaves the VM port alone');
});

t.test('an unreachable remote-ip: no crash, retries with growing waits, other switches unaffected, deletion stops them', async (t) => {
  const UNREACHABLE = '192.0.2.1'; // TEST-NET-1 (RFC 5737): nothing answers there
  await connectToOvsdbNode(odl, UNREACHABLE, PORT_A);
  const attempts = () => logs.filter((l) => l.msg.startsWith(`ovsdb: cannot connect to ovsdb://${UNREACHABLE}:${PORT_A}`));
  const three = await waitUntilSucceeds(async () => (attempts().length >= 3 ? attempts() : Promise.reject(new Error(`${attempts().length} attempts`))), 20_000);
  const gaps = three.slice(0, 3).map((l) => Number(l.time));
  t.ok(gaps[2] - gaps[1] > (gaps[1] - gaps[0]) * 1.5, `waits grow (${gaps[1] - gaps[0]} ms, then ${gaps[2] - gaps[1]} ms): bounded backoff, no tight loop`);
  t.match(three[0].msg, /next attempt in \d+ ms/, `logged: ${three[0].msg}`);

  // Meanwhile the connected switch is served.
  await addBridgeToOvsdbNode(odl, NODE_A, TOOLS_SYSTEM_IP, 'br-alive', '0000000000000097', PORT_A);
  await waitUntilSucceeds(async () => (await listBr(swA)).includes('br-alive') || Promise.reject(new Error('not made')));
  t.pass('another switch still gets its bridge');
  await checkForElementsNotAtUri(odl, RFC8040_OPERATIONAL_TOPO_OVSDB1_API, [`ovsdb://${UNREACHABLE}`]);
  t.pass('the unreachable switch is not in the operational topology');

  await disconnectFromOvsdbNode(odl, UNREACHABLE, PORT_A);
  const count = attempts().length;
  await deleteBridgeFromOvsdbNode(odl, NODE_A, 'br-alive');
  await waitUntilSucceeds(async () => !(await listBr(swA)).includes('br-alive') || Promise.reject(new Error('still there')));
  t.ok(attempts().length <= count + 1, 'deleting the node stops the attempts');
  expectStatus(await session.get(RFC8040_CONFIG_TOPO_OVSDB1_API), [200]);
  t.pass('the controller still serves');
});

t.test('Bug 7160 end state: after everything is deleted, config and operational hold the empty ovsdb:1 topology', async (t) => {
  await createQueue(odl, 'QUEUE-9', NODE_A_API);
  await waitUntilSucceeds(async () => (await listTable(swA, 'Queue')).length === 1 || Promise.reject(new Error('no queue')));
  await disconnectFromOvsdbNode(odl, TOOLS_SYSTEM_IP, PORT_A);
  await waitUntilSucceeds(async () => (await listTable(swA, 'Queue')).length === 0 || Promise.reject(new Error('queue left')));
  t.pass("deleting the connected node takes its queue out of OVS before disconnecting");
  for (const n of (expectStatus(await session.get(RFC8040_CONFIG_TOPO_OVSDB1_API), [200]).json() as { 'network-topology:topology': { node?: { 'node-id': string }[] }[] })['network-topology:topology'][0].node ?? []) {
    expectStatus(await session.delete(`${RFC8040_TOPO_OVSDB1_API}/node=${encodeURIComponent(n['node-id'])}`), [204]);
  }
  await waitUntilSucceeds(() => configAndOperationalTopologyShouldBeEmpty(odl));
  t.pass('Config and Operational Topology Should Be Empty');
  const op = expectStatus(await session.get(RFC8040_OPERATIONAL_TOPO_OVSDB1_API), [200]).json();
  t.same(op, { 'network-topology:topology': [{ 'topology-id': 'ovsdb:1' }] }, 'no node left in operational');
});

