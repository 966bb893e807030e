/**
 * CSIT: what OpenDaylight's JSON parser accepts that RFC 7951 does not, and ODL's suites send:
 * integers as JSON strings. The body is OpenDaylight's own, verbatim:
 *
 *   opendaylight/integration-test  csit/variables/ovsdb/create_node.json
 *   (commit f65244a2a093016c71f9a7a564be7d086941e15c), kept in restconf/odl/ovsdb/create_node.json
 *
 * sent as csit/libraries/OVSDB.robot's `Create OVSDB Node` sends it: `127.0.0.1` and `61644`
 * replaced by the switch's address and port (Replace String), POSTed to
 * `${RFC8040_TOPO_OVSDB1_API}` (csit/variables/ovsdb/Variables.robot), any of
 * ALLOWED_STATUS_CODES. Its `"ovsdb:remote-port": "61644"` is a uint16 (inet:port-number) as a
 * JSON string. Read back, the value is the RFC 7951 number. A string that is not a number, or
 * out of range, stays a 400 invalid-value that writes nothing.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startSuiteController } from './lib/env.ts';
import { assertJson, step } from './lib/fixture.ts';
import { ALLOWED_DELETE_STATUS_CODES, ALLOWED_STATUS_CODES, DATA_VALIDATION_ERROR, TEMPLATE_ROOT, expectError, expectStatus } from './lib/requests.ts';

const sc = await startSuiteController(t);
const s = sc.session;

const TOPO_OVSDB1 = '/rests/data/network-topology:network-topology/topology=ovsdb%3A1';
const HOST1 = `${TOPO_OVSDB1}/node=ovsdb%3AHOST1`;
const LEGACY_HOST1 = '/restconf/config/network-topology:network-topology/topology/ovsdb:1/node/ovsdb:HOST1';
const CREATE_NODE = readFileSync(join(TEMPLATE_ROOT, 'odl/ovsdb/create_node.json'), 'utf8');

/** A loopback port nothing listens on: the switch the node names is not there (this suite is about the codec). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** create_node.json as OVSDB.robot's keyword makes it: Replace String of the address and port. */
const createNodeBody = (ip: string, port: number | string) => CREATE_NODE.replaceAll('127.0.0.1', ip).replaceAll('61644', String(port));

const expectedNode = (port: number) => ({
  'network-topology:node': [{ 'node-id': 'ovsdb:HOST1', 'ovsdb:connection-info': { 'remote-ip': '127.0.0.1', 'remote-port': port } }],
});

const deleteHost1 = async () => expectStatus(await s.delete(HOST1), ALLOWED_DELETE_STATUS_CODES);
await deleteHost1();
t.teardown(deleteHost1);

const port = await closedPort();

t.test("Create OVSDB Node: ODL's create_node.json, remote-port a JSON string", async (t) => {
  const res = await s.postJson(TOPO_OVSDB1, createNodeBody('127.0.0.1', port));
  expectStatus(res, ALLOWED_STATUS_CODES);
  t.equal(res.status, 201, 'POST creates the node');
  const back = expectStatus(await s.getJson(`${HOST1}?content=config`), [200]);
  assertJson(t, back, expectedNode(port), 'read back: remote-port is the JSON number (RFC 7951)');
  const xml = expectStatus(await s.getXml(`${HOST1}?content=config`), [200]);
  t.match(xml.body, new RegExp(`<remote-port>${port}</remote-port>`), 'and in XML');
});

t.test('PUT of the same body at the node, then read back', async (t) => {
  const other = port === 65535 ? port - 1 : port + 1;
  const res = await s.putJson(HOST1, createNodeBody('127.0.0.1', other));
  expectStatus(res, ALLOWED_STATUS_CODES);
  t.equal(res.status, 204, 'PUT replaces the node');
  assertJson(t, expectStatus(await s.getJson(`${HOST1}?content=config`), [200]), expectedNode(other), 'remote-port read back as a number');
  // Back to the node as created, for the tests below.
  expectStatus(await s.putJson(HOST1, createNodeBody('127.0.0.1', port)), [204]);
});

t.test('the legacy URL takes it too (PUT 200, GET 200)', async (t) => {
  const res = await s.putJson(LEGACY_HOST1, createNodeBody('127.0.0.1', port));
  t.equal(res.status, 200, `legacy PUT of an existing node (${res.status})`);
  const back = expectStatus(await s.getJson(LEGACY_HOST1), [200]);
  const node = back.json<{ node: { 'ovsdb:connection-info': { 'remote-port': unknown } }[] }>().node[0];
  t.equal(node['ovsdb:connection-info']['remote-port'], port, 'remote-port is a number');
});

t.test('a YANG Patch edit and a PATCH merge take strings too', async (t) => {
  const merge = await s.patchJson(HOST1, { 'network-topology:node': [{ 'node-id': 'ovsdb:HOST1', 'ovsdb:connection-info': { 'remote-port': '6641' } }] });
  expectStatus(merge, ALLOWED_STATUS_CODES);
  assertJson(t, expectStatus(await s.getJson(`${HOST1}?content=config`), [200]), expectedNode(6641), 'PATCH merge: 6641');
  const patch = {
    'ietf-yang-patch:yang-patch': {
      'patch-id': 'odl-leniency',
      edit: [{ 'edit-id': '1', operation: 'merge', target: '/ovsdb:connection-info', value: { 'ovsdb:connection-info': { 'remote-port': String(port) } } }],
    },
  };
  const res = await s.patch(HOST1, JSON.stringify(patch), { contentType: 'application/yang-patch+json', accept: 'application/yang-data+json' });
  t.equal(res.status, 200, `YANG Patch (${res.status} ${res.body})`);
  assertJson(t, expectStatus(await s.getJson(`${HOST1}?content=config`), [200]), expectedNode(port), 'YANG Patch: back to the first port');
});

t.test('a string that is not a uint16 is refused: 400 invalid-value, nothing written', async (t) => {
  const before = expectStatus(await s.getJson(`${HOST1}?content=config`), [200]).body;
  for (const bad of ['sixty', '', '6640.0', '0x1F90', '65536', '-1']) {
    await step(t, `remote-port "${bad}"`, async () => {
      const res = await s.putJson(HOST1, createNodeBody('127.0.0.1', bad));
      const e = expectError(res, DATA_VALIDATION_ERROR, 'invalid-value');
      if (!/remote-port/.test(e['error-message'] ?? '')) throw new Error(`the message names the leaf: ${res.describe()}`);
      if (!/remote-port$/.test(e['error-path'] ?? '')) throw new Error(`the error-path is the leaf: ${res.describe()}`);
    });
  }
  const legacy = await s.putJson(LEGACY_HOST1, createNodeBody('127.0.0.1', 'sixty'));
  await step(t, 'and on the legacy URL', async () => expectError(legacy, 400, 'invalid-value'));
  t.equal(expectStatus(await s.getJson(`${HOST1}?content=config`), [200]).body, before, 'the node is as it was');
  const fresh = await s.postJson(TOPO_OVSDB1, createNodeBody('127.0.0.1', 'sixty').replace('ovsdb:HOST1', 'ovsdb:HOST2'));
  await step(t, 'a POST of a new node with it', async () => expectError(fresh, 400, 'invalid-value'));
  const host2 = await s.getJson(`${TOPO_OVSDB1}/node=ovsdb%3AHOST2`);
  t.ok([404, 409].includes(host2.status), `no HOST2 was created (${host2.status})`);
});

t.test('rpc input: numbers as strings in /rests/operations (toaster)', async (t) => {
  const probe = await s.postJson('/rests/operations/toaster:restock-toaster', { 'toaster:input': { amountOfBreadToStock: '0' } });
  if (probe.status === 501) {
    t.comment('skipped: the controller under test serves no toaster');
    return;
  }
  expectStatus(probe, [204]);
  const stock = async () =>
    expectStatus(await s.getJson('/rests/data/toaster:toaster/amountOfBreadInStock?content=nonconfig'), [200]).json<Record<string, unknown>>()['toaster:amountOfBreadInStock'];
  const start = (await stock()) as number;
  t.type(start, 'number', `stock is a number (${start})`);
  expectStatus(await s.postJson('/rests/operations/toaster:restock-toaster', { input: { amountOfBreadToStock: '2' } }), [204]);
  t.equal(await stock(), start + 2, 'restock "2" added two slices');
  const toast = await s.postJson('/rests/operations/toaster:make-toast', { 'toaster:input': { toasterDoneness: '1' } });
  t.equal(toast.status, 200, `make-toast with toasterDoneness "1" (${toast.body})`);
  t.equal(await stock(), start + 1, 'one slice used');
  const tooDone = await s.postJson('/rests/operations/toaster:make-toast', { 'toaster:input': { toasterDoneness: '11' } });
  const e = expectError(tooDone, 400, 'invalid-value');
  t.match(e['error-message'], /range/, `"11" is outside 1..10: ${e['error-message']}`);
  t.equal(await stock(), start + 1, 'the refused rpc used no slice');
});
