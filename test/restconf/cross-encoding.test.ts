/**
 * JSON and XML are two encodings of one answer: the same GET, for every content / depth / fields /
 * with-defaults combination the suites use (and their combinations), decodes to the same internal
 * tree in both, on a datastore with config and operational data (topology, the fixture's
 * registry, toaster). Decoding uses the codecs' decoders, then both trees are compared as values.
 */
import t from 'tap';
import { join } from 'node:path';
import { decodeObject, readJson } from '../../src/yang/json.ts';
import { parsePath } from '../../src/yang/path.ts';
import type { DataValue, SchemaNode } from '../../src/yang/schema.ts';
import { decodeXmlObject, readXml } from '../../src/yang/xml.ts';
import { testController } from '../helpers/controller.ts';
import { FIXTURE_YANG } from '../helpers/fixture.ts';

const YANG = `--yang-dir=${join(import.meta.dirname, '../../yang')},${FIXTURE_YANG}`;
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const c = await testController(t, ['--datastore=memory', YANG]);

const BRIDGE = 'ovsdb://uuid/77/bridge/br-int';
await c.data
  .transaction('config')
  .put('/network-topology:network-topology/topology=ovsdb%3A1', {
    'topology-id': 'ovsdb:1',
    node: [{ 'node-id': BRIDGE, 'ovsdb:bridge-name': 'br-int', 'termination-point': [{ 'tp-id': 'tap1', 'ovsdb:name': 'tap1' }] }],
  })
  .put('/sextant-fixture:registry', {
    host: [
      { name: 'a', address: '10.0.0.1', dpn: '18446744073709551615', weight: '2.5', colour: 'sextant-fixture:red', tags: ['x', 'y'], marker: [null], port: [{ id: 1 }, { id: 2, peer: 'b' }] },
      { name: 'b', address: '10.0.0.2', enabled: false },
    ],
    link: [{ src: 'a', dst: 'b', cost: 3 }],
    limits: { low: 1, high: 5 },
  })
  .commit();
await c.data
  .transaction('operational')
  .put('/network-topology:network-topology/topology=ovsdb%3A1', {
    'topology-id': 'ovsdb:1',
    node: [
      { 'node-id': BRIDGE, 'ovsdb:bridge-name': 'br-int', 'ovsdb:datapath-id': '00:00:00:00:00:00:00:01', 'termination-point': [{ 'tp-id': 'tap1', 'ovsdb:name': 'tap1', 'ovsdb:ofport': 3 }] },
      { 'node-id': 'ovsdb://uuid/77', 'ovsdb:connection-info': { 'remote-ip': '10.0.0.9', 'remote-port': 6640 } },
    ],
  })
  .put('/sextant-fixture:registry/host=a/stats', { packets: '7' })
  .put('/sextant-fixture:counters', { boots: 2 })
  .commit();

const RESOURCES = [
  '/rests/data/network-topology:network-topology',
  '/rests/data/network-topology:network-topology/topology=ovsdb%3A1',
  `/rests/data/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(BRIDGE)}`,
  `/rests/data/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(BRIDGE)}/termination-point=tap1`,
  '/rests/data/sextant-fixture:registry',
  '/rests/data/sextant-fixture:registry/host=a',
  '/rests/data/sextant-fixture:registry/host=a/address',
  '/rests/data/sextant-fixture:registry/host=a/port',
  '/rests/data/sextant-fixture:counters',
  '/rests/data/toaster:toaster',
];
const QUERIES = [
  '',
  'content=config',
  'content=nonconfig',
  'content=all',
  'depth=1',
  'depth=2',
  'depth=3',
  'fields=name;address',
  'fields=address',
  'fields=node(node-id;termination-point/tp-id)',
  'with-defaults=report-all',
  'content=config&depth=1',
  'content=config&fields=address',
  'content=config&with-defaults=report-all',
  'content=nonconfig&depth=2',
  'content=nonconfig&with-defaults=report-all',
  'content=all&fields=name;address&with-defaults=report-all',
];
const LEGACY = [
  '/restconf/config/network-topology:network-topology/topology/ovsdb:1',
  '/restconf/operational/network-topology:network-topology/topology/ovsdb:1',
  '/restconf/config/sextant-fixture:registry/host/a',
  '/restconf/operational/sextant-fixture:registry',
];

async function get(path: string, accept: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${c.restconf.url}${path}`, { headers: { authorization: AUTH, accept } });
  return { status: r.status, text: await r.text() };
}

/** A decoded tree in a comparable form: list entries by key in order, members sorted. */
function comparable(v: DataValue | undefined): unknown {
  if (v instanceof Map) return [...v].map(([k, e]) => [k, comparable(e)]);
  if (Array.isArray(v)) return v.map((x) => comparable(x as DataValue));
  if (typeof v === 'bigint') return `${v}n`;
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, comparable((v as Record<string, DataValue>)[k])]));
  return v;
}

/** The parent schema node of a data URL's target (undefined: the top level). */
function parentOf(url: string): SchemaNode | undefined {
  const apiPath = url.startsWith('/rests/data') ? url.slice('/rests/data'.length) : undefined;
  if (apiPath === undefined) {
    // legacy: /restconf/<store>/top/...: only top-level resources and list entries of the top container are used here
    const path = url.replace(/^\/restconf\/(config|operational)/, '');
    const [top, list] = path.split('/').filter(Boolean);
    const p = parsePath(c.schema, `/${top}`);
    return list ? p[0].schema : undefined;
  }
  const p = parsePath(c.schema, apiPath);
  return p.length > 1 ? p[p.length - 2].schema : undefined;
}

function decodeBoth(url: string, json: string, xml: string): { fromJson: unknown; fromXml: unknown } {
  const parent = parentOf(url);
  const j = readJson(json) as Record<string, unknown>;
  const fromJson = decodeObject(c.schema, parent, j, '', { lenientNames: true });
  const fromXml = decodeXmlObject(c.schema, parent, readXml(xml, { fragment: true }), '');
  return { fromJson: comparable(fromJson), fromXml: comparable(fromXml) };
}

t.test('RFC 8040: JSON and XML give the same data for every query', async (t) => {
  let compared = 0;
  for (const resource of RESOURCES) {
    for (const q of QUERIES) {
      const url = q ? `${resource}?${q}` : resource;
      const json = await get(url, 'application/yang-data+json');
      const xml = await get(url, 'application/yang-data+xml');
      t.equal(xml.status, json.status, `${url}: same status`);
      if (json.status !== 200) continue;
      const { fromJson, fromXml } = decodeBoth(resource, json.text, xml.text);
      t.same(fromXml, fromJson, `${url}: same data`);
      compared++;
    }
  }
  t.ok(compared > RESOURCES.length * QUERIES.length * 0.8, `most combinations hold data (${compared})`);
});

t.test('the datastore root: JSON ietf-restconf:data and XML <data> hold the same data', async (t) => {
  for (const q of ['content=config', 'content=config&depth=2', 'content=config&with-defaults=report-all']) {
    const json = await get(`/rests/data?${q}`, 'application/yang-data+json');
    const xml = await get(`/rests/data?${q}`, 'application/yang-data+xml');
    t.equal(json.status, 200);
    t.equal(xml.status, 200);
    const fromJson = decodeObject(c.schema, undefined, (readJson(json.text) as Record<string, unknown>)['ietf-restconf:data'], '');
    const [data] = readXml(xml.text);
    t.equal(data.name, 'data');
    const fromXml = decodeXmlObject(c.schema, undefined, data.children, '');
    t.same(comparable(fromXml), comparable(fromJson), `/rests/data?${q}: same data`);
    t.ok(Object.keys(fromJson).includes('sextant-fixture:registry'), 'the registry is there');
  }
});

t.test('legacy URLs: JSON and XML give the same data', async (t) => {
  for (const url of LEGACY) {
    const json = await get(url, 'application/json');
    const xml = await get(url, 'application/xml');
    t.equal(json.status, 200, url);
    t.equal(xml.status, 200, url);
    const { fromJson, fromXml } = decodeBoth(url, json.text, xml.text);
    t.same(fromXml, fromJson, `${url}: same data`);
  }
});

t.test('the selections do select (the comparison above is not vacuous)', async (t) => {
  const read = async (q: string) => JSON.parse((await get(`/rests/data/sextant-fixture:registry/host=a?${q}`, 'application/yang-data+json')).text)['sextant-fixture:host'][0];
  t.ok((await read('content=all')).stats, 'all: state is merged in');
  t.notOk((await read('content=config')).stats, 'config: no state');
  t.same(Object.keys(await read('content=nonconfig')).sort(), ['name', 'stats'], 'nonconfig: the operational entry as it is');
  t.notOk((await read('depth=1')).port, 'depth=1: no lists below');
  t.same(Object.keys(await read('fields=address')).sort(), ['address', 'name']);
  t.equal((await read('content=config&with-defaults=report-all')).enabled, true);
});
