/**
 * content=nonconfig answers the operational datastore as it is (config true nodes included), in
 * JSON as in XML; RFC 8040 error-path is an instance-identifier (section 7.1), the legacy URLs'
 * stays the api-path ODL's suites know.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { parseXml } from '../csit/lib/xml.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const XML_TYPE = 'application/yang-data+xml';
const NT = 'urn:TBD:params:xml:ns:yang:network-topology';
const OVSDB = 'urn:opendaylight:params:xml:ns:yang:ovsdb';
const BRIDGE = 'ovsdb://uuid/9a3b/bridge/br-int';

const c = await testController(t, ['--datastore=memory']);
const get = async (path: string, accept: string) => {
  const r = await fetch(`${c.restconf.url}${path}`, { headers: { authorization: AUTH, accept } });
  return { status: r.status, text: await r.text() };
};

await c.data
  .transaction('operational')
  .put("/network-topology:network-topology/topology=ovsdb%3A1", {
    'topology-id': 'ovsdb:1',
    node: [{ 'node-id': BRIDGE, 'ovsdb:bridge-name': 'br-int', 'ovsdb:datapath-id': '00:00:aa:bb:cc:dd:ee:ff' }],
  })
  .commit();

const TOPOLOGY = '/rests/data/network-topology:network-topology/topology=ovsdb%3A1';

t.test('content=nonconfig: an operational bridge node comes back whole in JSON', async (t) => {
  const r = await get(`${TOPOLOGY}?content=nonconfig`, JSON_TYPE);
  t.equal(r.status, 200, r.text);
  const node = JSON.parse(r.text)['network-topology:topology'][0].node;
  t.same(node, [{ 'node-id': BRIDGE, 'ovsdb:bridge-name': 'br-int', 'ovsdb:datapath-id': '00:00:aa:bb:cc:dd:ee:ff' }], 'config true leaves of the operational store are kept');
  const legacy = JSON.parse((await get('/restconf/operational/network-topology:network-topology/topology/ovsdb:1', JSON_TYPE)).text);
  t.same(legacy.topology[0].node, node, 'the same node as the legacy operational URL gives');
});

t.test('content=nonconfig: an operational bridge node comes back whole in XML', async (t) => {
  const r = await get(`${TOPOLOGY}?content=nonconfig`, XML_TYPE);
  t.equal(r.status, 200, r.text);
  const topology = parseXml(r.text);
  t.equal(topology.name, 'topology');
  const node = topology.children.find((e) => e.name === 'node');
  const leaf = (name: string, ns: string) => node?.children.find((e) => e.name === name && e.ns === ns)?.text;
  t.equal(leaf('node-id', NT), BRIDGE);
  t.equal(leaf('bridge-name', OVSDB), 'br-int');
  t.equal(leaf('datapath-id', OVSDB), '00:00:aa:bb:cc:dd:ee:ff');
});

t.test('content=config does not show the operational store', async (t) => {
  const r = await get(`${TOPOLOGY}?content=config`, JSON_TYPE);
  // The OVSDB southbound makes the empty ovsdb:1 topology at start, as OpenDaylight's does.
  t.same(JSON.parse(r.text), { 'network-topology:topology': [{ 'topology-id': 'ovsdb:1' }] }, 'config holds the empty topology, none of the operational nodes');
});

t.test('RFC 8040 error-path is an instance-identifier, in JSON and XML', async (t) => {
  const missing = `${TOPOLOGY}/node=nope?content=config`;
  const json = await get(missing, JSON_TYPE);
  t.equal(json.status, 409);
  const [e] = JSON.parse(json.text).errors.error;
  t.equal(e['error-tag'], 'data-missing');
  t.equal(e['error-path'], "/network-topology:network-topology/topology[topology-id='ovsdb:1']/node[node-id='nope']", 'RFC 7951 6.11 form');

  const xml = await get(missing, XML_TYPE);
  t.equal(xml.status, 409);
  const path = parseXml(xml.text).children[0].children.find((c) => c.name === 'error-path')!;
  const prefix = path.text.slice(1, path.text.indexOf(':'));
  t.equal(path.text, `/${prefix}:network-topology/${prefix}:topology[${prefix}:topology-id='ovsdb:1']/${prefix}:node[${prefix}:node-id='nope']`);
  t.match(xml.text, new RegExp(`<error-path xmlns:${prefix}="${NT.replace(/[.:]/g, '\\$&')}">`), 'the prefix is declared on the element');

  await c.data.transaction('config').remove('/network-topology:network-topology').commit();
  const top = JSON.parse((await get('/rests/data/network-topology:network-topology?content=config', JSON_TYPE)).text).errors.error[0];
  t.equal(top['error-path'], '/network-topology:network-topology');
});

t.test('an augmented node in error-path names its module', async (t) => {
  const r = await fetch(`${c.restconf.url}${TOPOLOGY}/node=${encodeURIComponent(BRIDGE)}/ovsdb:bridge-name`, {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': JSON_TYPE },
    body: JSON.stringify({ 'ovsdb:datapath-id': '00:00:00:00:00:00:00:01' }),
  });
  t.equal(r.status, 400, 'a body naming another node');
  const e = JSON.parse(await r.text()).errors.error[0];
  if (e['error-path'] !== undefined) {
    t.match(e['error-path'], /^\/network-topology:network-topology\/topology\[topology-id='ovsdb:1'\]\/node\[node-id='ovsdb:\/\/uuid\/9a3b\/bridge\/br-int'\]\/ovsdb:bridge-name$/);
  } else t.fail(`no error-path in ${JSON.stringify(e)}`);
});

t.test('legacy URLs keep the api-path in error-path', async (t) => {
  const r = await get('/restconf/config/network-topology:network-topology/topology/ovsdb:1', JSON_TYPE);
  t.equal(r.status, 404);
  t.equal(JSON.parse(r.text).errors.error[0]['error-path'], '/network-topology:network-topology/topology=ovsdb%3A1');
});
