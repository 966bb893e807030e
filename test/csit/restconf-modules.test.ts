/**
 * CSIT: the RESTCONF modules in the YANG library and `ietf-restconf-monitoring:restconf-state`.
 *
 * OpenDaylight's suite, opendaylight/integration-test csit/suites/integration/basic/restconf_modules.robot
 * (commit f65244a2a093016c71f9a7a564be7d086941e15c): `Get Controller Modules` GETs `${MODULES_API}`
 * (csit/variables/Variables.robot: `/rests/data/ietf-yang-library:modules-state?content=nonconfig`)
 * on a session with `${HEADERS_XML}` (`Content-Type: application/xml`, no Accept: Python requests
 * sends `*\/*`) and checks 200 and that the text contains `ietf-restconf`.
 *
 * restconf-state is what ODL's suites read to see a controller is up
 * (csit/libraries/UtilLibrary.py `wait_for_controller_up`: `.../restconf-state/capabilities`;
 * csit/suites/aaa/tls/010__aaa_restconf_tls.robot: `restconf-state?content=nonconfig`, 200, a
 * capability list starting with `depth`). Sextant lists only what it implements, and each listed
 * capability is exercised below.
 */
import t from 'tap';
import { REGISTRY, assertJson, step, startFixtureSuite } from './lib/fixture.ts';
import { ALLOWED_STATUS_CODES, JSON_TYPE, expectError, expectStatus } from './lib/requests.ts';
import { childText, childrenNamed, parseXml } from './lib/xml.ts';

const sc = await startFixtureSuite(t);
const s = sc.session;

const MODULES_API = '/rests/data/ietf-yang-library:modules-state?content=nonconfig';
const RESTCONF_STATE = '/rests/data/ietf-restconf-monitoring:restconf-state';
const CAPABILITIES = [
  'urn:ietf:params:restconf:capability:depth:1.0',
  'urn:ietf:params:restconf:capability:fields:1.0',
  'urn:ietf:params:restconf:capability:with-defaults:1.0',
  'urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit',
  'urn:ietf:params:restconf:capability:yang-patch:1.0',
];

interface ModuleEntry {
  name: string;
  revision: string;
  namespace: string;
  schema?: string;
  'conformance-type'?: string;
}

t.test("Get Controller Modules (restconf_modules.robot): 200 and ietf-restconf in the text", async (t) => {
  const res = await s.get(MODULES_API, { contentType: 'application/xml', accept: '*/*' });
  t.equal(res.status, 200, 'status 200');
  t.match(res.body, /ietf-restconf/, 'the text contains ietf-restconf');
});

t.test('ietf-restconf and ietf-restconf-monitoring are listed, with their text served', async (t) => {
  const doc = expectStatus(await s.getJson(MODULES_API), [200]).json<Record<string, { module: ModuleEntry[] }>>();
  const mods = new Map(doc['ietf-yang-library:modules-state'].module.map((m) => [m.name, m]));
  t.match(mods.get('ietf-restconf'), { revision: '2017-01-26', namespace: 'urn:ietf:params:xml:ns:yang:ietf-restconf' }, 'ietf-restconf@2017-01-26 (RFC 8040)');
  t.match(
    mods.get('ietf-restconf-monitoring'),
    { revision: '2017-01-26', namespace: 'urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring', 'conformance-type': 'implement' },
    'ietf-restconf-monitoring@2017-01-26, implemented',
  );
  for (const name of ['ietf-restconf', 'ietf-restconf-monitoring']) {
    const text = expectStatus(await s.get(mods.get(name)?.schema ?? `/rests/modules/${name}/2017-01-26`), [200]);
    t.match(text.body, new RegExp(`^module ${name} \\{`), `${name}: its text at ${mods.get(name)?.schema}`);
  }
  t.equal(mods.get('ietf-restconf')?.['conformance-type'], 'import', 'ietf-restconf holds no data (only yang-data templates): conformance import');
  type ModuleSet = { module: ModuleEntry[]; 'import-only-module'?: ModuleEntry[] };
  const lib = expectStatus(await s.getJson('/rests/data/ietf-yang-library:yang-library'), [200]).json<Record<string, { 'module-set': ModuleSet[] }>>();
  const set = lib['ietf-yang-library:yang-library']['module-set'][0];
  t.ok(set.module.some((m) => m.name === 'ietf-restconf-monitoring'), 'the RFC 8525 yang-library implements ietf-restconf-monitoring');
  t.ok(set['import-only-module']?.some((m) => m.name === 'ietf-restconf' && m.revision === '2017-01-26'), 'and lists ietf-restconf as import-only');
  const legacy = expectStatus(await s.getJson('/restconf/modules'), [200]).json<{ modules: { module: ModuleEntry[] } }>();
  t.ok(legacy.modules.module.some((m) => m.name === 'ietf-restconf' && m.revision === '2017-01-26'), 'and in the legacy /restconf/modules');
});

t.test('restconf-state lists the capabilities this server implements', async (t) => {
  const res = expectStatus(await s.getJson(`${RESTCONF_STATE}?content=nonconfig`), [200]);
  assertJson(t, res, { 'ietf-restconf-monitoring:restconf-state': { capabilities: { capability: CAPABILITIES } } }, 'JSON, in this order; no streams');
  t.match(res.body, /restconf-state":\{"capabilities":\{"capability":\["urn:ietf:params:restconf:capability:depth/, 'the list starts with depth, as the TLS suite looks for');
  const capsOnly = expectStatus(await s.getJson(`${RESTCONF_STATE}/capabilities`), [200]);
  assertJson(t, capsOnly, { 'ietf-restconf-monitoring:capabilities': { capability: CAPABILITIES } }, 'GET .../restconf-state/capabilities (UtilLibrary.wait_for_controller_up)');
  const xml = expectStatus(await s.getXml(RESTCONF_STATE), [200]);
  const root = parseXml(xml.body);
  t.equal(root.ns, 'urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring', 'XML namespace');
  const caps = childrenNamed(childrenNamed(root, 'capabilities')[0], 'capability').map((c) => c.text.trim());
  t.same(caps, CAPABILITIES, 'XML lists the same');
  const legacy = expectStatus(await s.getJson('/restconf/operational/ietf-restconf-monitoring:restconf-state'), [200]);
  t.match(legacy.body, /urn:ietf:params:restconf:capability:depth:1\.0/, 'and the legacy operational URL');
  await step(t, 'it is state: a PUT of it is refused', async () => {
    const put = await s.putJson(RESTCONF_STATE, { 'ietf-restconf-monitoring:restconf-state': { capabilities: { capability: ['urn:x'] } } });
    if (put.status < 400) throw new Error(`accepted: ${put.describe()}`);
  });
  assertJson(t, expectStatus(await s.getJson(RESTCONF_STATE), [200]), { 'ietf-restconf-monitoring:restconf-state': { capabilities: { capability: CAPABILITIES } } }, 'unchanged');
});

t.test('each listed capability works, and what is not listed is refused', async (t) => {
  const host = { 'sextant-fixture:host': [{ name: 'm1', address: '10.0.0.1', port: [{ id: 7 }] }] };
  expectStatus(await s.putJson(`${REGISTRY}/host=m1`, host), ALLOWED_STATUS_CODES);
  const get = async (query: string) => expectStatus(await s.getJson(`${REGISTRY}/host=m1?content=config&${query}`), [200]);
  assertJson(t, await get('depth=1'), { 'sextant-fixture:host': [{ name: 'm1', address: '10.0.0.1' }] }, 'depth: depth=1 leaves the ports out');
  assertJson(t, await get('fields=port'), { 'sextant-fixture:host': [{ name: 'm1', port: [{ id: 7 }] }] }, 'fields: fields=port');
  const all = (await get('with-defaults=report-all')).json<Record<string, { enabled?: boolean }[]>>();
  t.equal(all['sextant-fixture:host'][0].enabled, true, 'with-defaults=report-all shows the default of enabled');
  const explicit = (await get('with-defaults=explicit')).json<Record<string, { enabled?: boolean }[]>>();
  t.equal(explicit['sextant-fixture:host'][0].enabled, undefined, 'with-defaults=explicit does not');
  const basic = (await get('depth=unbounded')).json<Record<string, { enabled?: boolean }[]>>();
  t.equal(basic['sextant-fixture:host'][0].enabled, undefined, 'basic-mode=explicit: without with-defaults, as explicit');
  expectStatus(await s.putJson(`${REGISTRY}/host=m1/enabled`, { 'sextant-fixture:enabled': true }), ALLOWED_STATUS_CODES);
  const set = (await get('with-defaults=explicit')).json<Record<string, { enabled?: boolean }[]>>();
  t.equal(set['sextant-fixture:host'][0].enabled, true, 'explicit: a default value the client set is reported');
  for (const mode of ['trim', 'report-all-tagged']) {
    const res = await s.getJson(`${REGISTRY}/host=m1?with-defaults=${mode}`);
    const e = expectError(res, 400, 'invalid-value');
    t.match(e['error-message'], new RegExp(`with-defaults=${mode}.*report-all and explicit`), `with-defaults=${mode} is not served: 400 (${e['error-message']})`);
  }
  const patch = {
    'ietf-yang-patch:yang-patch': {
      'patch-id': 'capability',
      edit: [{ 'edit-id': '1', operation: 'merge', target: '/address', value: { 'sextant-fixture:address': '10.0.0.9' } }],
    },
  };
  const res = await s.patch(`${REGISTRY}/host=m1`, JSON.stringify(patch), { contentType: 'application/yang-patch+json', accept: JSON_TYPE });
  t.equal(res.status, 200, `yang-patch: a YANG Patch applies (${res.status})`);
  t.equal((await get('fields=address')).json<Record<string, { address: string }[]>>()['sextant-fixture:host'][0].address, '10.0.0.9', 'and its edit is read back');
  const xmlRes = await s.getXml(`${REGISTRY}/host=m1?content=config&depth=1`);
  t.equal(childText(parseXml(expectStatus(xmlRes, [200]).body), 'address'), '10.0.0.9', 'depth in XML too');
});
