/**
 * RFC 8040 details beyond CRUD: query parameters (content, depth, fields, with-defaults), HEAD,
 * OPTIONS, discovery (host-meta), the YANG library and module text, YANG Patch atomicity.
 */
import t from 'tap';
import { join } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { FIXTURE_YANG } from '../helpers/fixture.ts';

const YANG = `--yang-dir=${join(import.meta.dirname, '../../yang')},${FIXTURE_YANG}`;
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
const JSON_CT = { ...AUTH, 'content-type': 'application/yang-data+json' };

const c = await testController(t, ['--datastore=memory', YANG]);
const url = (p: string) => `${c.restconf.url}${p}`;
const get = async (p: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url(p), { headers: { ...AUTH, ...headers } });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text(), headers: r.headers };
};
await c.data
  .transaction('config')
  .put('/sextant-fixture:registry/host=a', { name: 'a', address: '10.0.0.1', port: [{ id: 1 }] })
  .commit();
await c.data.transaction('operational').put('/sextant-fixture:registry/host=a/stats', { packets: '7' }).commit();

t.test('content=config|nonconfig|all', async (t) => {
  const all = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a')).text);
  t.same(all['sextant-fixture:host'][0].stats, { packets: '7' }, 'all merges state into config');
  t.equal(all['sextant-fixture:host'][0].address, '10.0.0.1');
  const cfg = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=config')).text);
  t.notOk(cfg['sextant-fixture:host'][0].stats, 'config leaves state out');
  const state = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=nonconfig')).text);
  t.same(state['sextant-fixture:host'][0].stats, { packets: '7' });
  t.equal((await get('/rests/data/sextant-fixture:registry?content=bogus')).status, 400);
});

t.test('depth, fields and with-defaults', async (t) => {
  const d1 = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=config&depth=1')).text);
  t.same(d1, { 'sextant-fixture:host': [{ name: 'a', address: '10.0.0.1' }] }, 'depth=1 keeps the leaves of the node, not the lists under it');
  const f = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=config&fields=address')).text);
  t.same(f, { 'sextant-fixture:host': [{ name: 'a', address: '10.0.0.1' }] }, 'fields selects (keys stay)');
  const wd = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=config&with-defaults=report-all')).text);
  t.equal(wd['sextant-fixture:host'][0].enabled, true, 'report-all shows the default');
  const plain = JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=config')).text);
  t.equal(plain['sextant-fixture:host'][0].enabled, undefined, 'explicit (the default mode) does not');
  t.equal((await get('/rests/data/sextant-fixture:registry?depth=0')).status, 400);
  t.equal((await get('/rests/data/sextant-fixture:registry?fields=(')).status, 400);
});

t.test('HEAD and OPTIONS', async (t) => {
  const head = await fetch(url('/rests/data/sextant-fixture:registry'), { method: 'HEAD', headers: AUTH });
  t.equal(head.status, 200);
  t.equal(await head.text(), '', 'HEAD has no body');
  const headMissing = await fetch(url('/rests/data/sextant-fixture:registry/host=zz'), { method: 'HEAD', headers: AUTH });
  t.equal(headMissing.status, 409);
  const opt = await fetch(url('/rests/data/sextant-fixture:registry'), { method: 'OPTIONS', headers: AUTH });
  t.equal(opt.status, 200);
  t.match(opt.headers.get('allow'), /PUT/);
  t.match(opt.headers.get('accept-patch'), /application\/yang-patch\+json/);
  const optState = await fetch(url('/rests/data/sextant-fixture:counters'), { method: 'OPTIONS', headers: AUTH });
  t.equal(optState.headers.get('allow'), 'GET, HEAD, OPTIONS', 'state data is read-only');
});

t.test('discovery, yang library, module text', async (t) => {
  const hm = await get('/.well-known/host-meta');
  t.equal(hm.status, 200);
  t.match(hm.text, '<Link rel="restconf" href="/rests"/>');
  t.same(JSON.parse((await get('/.well-known/host-meta.json')).text), { links: [{ rel: 'restconf', href: '/rests' }] });
  const ms = JSON.parse((await get('/rests/data/ietf-yang-library:modules-state')).text);
  const fixture = ms['ietf-yang-library:modules-state'].module.find((m: { name: string }) => m.name === 'sextant-fixture');
  t.match(fixture, { revision: '2026-11-22', namespace: 'urn:sextant:fixture', 'conformance-type': 'implement', schema: '/rests/modules/sextant-fixture/2026-11-22' });
  const text = await get(fixture.schema);
  t.equal(text.status, 200);
  t.match(text.text, /^module sextant-fixture \{/);
  t.equal(text.type, 'application/yang');
  const lib = JSON.parse((await get('/rests/data/ietf-yang-library:yang-library')).text);
  t.ok(lib['ietf-yang-library:yang-library']['module-set'][0].module.some((m: { name: string }) => m.name === 'toaster'));
  const legacy = JSON.parse((await get('/restconf/modules')).text);
  t.ok(legacy.modules.module.some((m: { name: string; revision: string }) => m.name === 'toaster' && m.revision === '2009-11-20'));
  t.equal((await get('/rests/modules/nosuch/2020-01-01')).status, 409);
});

t.test('YANG Patch applies all edits or none', async (t) => {
  const patch = (edits: unknown[]) =>
    fetch(url('/rests/data/sextant-fixture:registry'), {
      method: 'PATCH',
      headers: { ...AUTH, 'content-type': 'application/yang-patch+json' },
      body: JSON.stringify({ 'ietf-yang-patch:yang-patch': { 'patch-id': 'p', edit: edits } }),
    });
  const bad = await patch([
    { 'edit-id': '1', operation: 'create', target: '/host=b', value: { 'sextant-fixture:host': [{ name: 'b' }] } },
    { 'edit-id': '2', operation: 'create', target: '/host=a', value: { 'sextant-fixture:host': [{ name: 'a' }] } },
  ]);
  t.equal(bad.status, 409);
  const status = await bad.json();
  t.equal(status['ietf-yang-patch:yang-patch-status']['edit-status'].edit[0]['edit-id'], '2', 'the failing edit is named');
  t.equal((await get('/rests/data/sextant-fixture:registry/host=b')).status, 409, 'the first edit was not applied');
  const good = await patch([
    { 'edit-id': '1', operation: 'create', target: '/host=b', value: { 'sextant-fixture:host': [{ name: 'b' }] } },
    { 'edit-id': '2', operation: 'merge', target: '/host=a', value: { 'sextant-fixture:host': [{ name: 'a', address: '10.9.9.9' }] } },
  ]);
  t.equal(good.status, 200);
  t.same(await good.json(), { 'ietf-yang-patch:yang-patch-status': { 'patch-id': 'p', ok: [null] } });
  t.equal(JSON.parse((await get('/rests/data/sextant-fixture:registry/host=a?content=config')).text)['sextant-fixture:host'][0].address, '10.9.9.9');
  const xml = await fetch(url('/rests/data/sextant-fixture:registry'), {
    method: 'PATCH',
    headers: { ...AUTH, 'content-type': 'application/yang-patch+xml' },
    body: '<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch"><patch-id>x</patch-id><edit><edit-id>1</edit-id><operation>delete</operation><target>/host=b</target></edit></yang-patch>',
  });
  t.equal(xml.status, 200, 'the XML form works too');
  t.equal((await get('/rests/data/sextant-fixture:registry/host=b')).status, 409);
});

t.test('operations: output in JSON and XML, input from XML', async (t) => {
  c.rpc.register('sextant-fixture:echo', (input) => input, 'test');
  const j = await fetch(url('/rests/operations/sextant-fixture:echo'), { method: 'POST', headers: JSON_CT, body: '{"sextant-fixture:input": {"message": "hi", "big": 18446744073709551615}}' });
  t.equal(j.status, 200);
  t.same(JSON.parse(await j.text()), { 'sextant-fixture:output': { message: 'hi', big: '18446744073709551615' } }, 'a uint64 sent as a JSON number keeps every digit');
  const x = await fetch(url('/rests/operations/sextant-fixture:echo'), {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/yang-data+xml', accept: 'application/yang-data+xml' },
    body: '<input xmlns="urn:sextant:fixture"><message>xml</message></input>',
  });
  t.equal(x.status, 200);
  t.equal(await x.text(), '<output xmlns="urn:sextant:fixture"><message>xml</message></output>');
  const unknown = await fetch(url('/rests/operations/sextant-fixture:nope'), { method: 'POST', headers: JSON_CT, body: '{}' });
  t.equal(unknown.status, 400);
});

t.test('the OpenAPI document and its browsable explorer are served', async (t) => {
  const doc = JSON.parse((await get('/openapi.json')).text);
  t.equal(doc.openapi, '3.0.3');
  t.ok(doc.paths['/rests/data/sextant-fixture:registry/host={name}'].put, 'data paths of the loaded modules are described');
  const page = await get('/apidoc');
  t.equal(page.status, 200);
  t.match(page.text, /SwaggerUIBundle\(\{ url: '\/openapi\.json'/);
  const js = await get('/apidoc/swagger-ui-bundle.js');
  t.equal(js.status, 200);
  t.match(js.type, /javascript/);
  t.ok(js.text.length > 100000, 'the explorer script is served from the installed package');
  t.equal((await get('/apidoc/..%2Fpackage.json')).status, 404, 'nothing else is reachable through it');
});

t.test('a repeated GET never serves data older than the last commit', async (t) => {
  const path = '/rests/data/sextant-fixture:registry/host=a?content=config';
  const first = JSON.parse((await get(path)).text);
  t.same(JSON.parse((await get(path)).text), first, 'unchanged data reads the same');
  await c.data.transaction('config').merge('/sextant-fixture:registry/host=a', { address: '10.1.2.3' }).commit();
  t.equal(JSON.parse((await get(path)).text)['sextant-fixture:host'][0].address, '10.1.2.3', 'a commit is seen by the next GET');
  await c.data.transaction('operational').put('/sextant-fixture:counters', { boots: 9 }).commit();
  t.same(JSON.parse((await get('/rests/data/sextant-fixture:counters')).text), { 'sextant-fixture:counters': { boots: 9 } });
  await c.data.transaction('operational').put('/sextant-fixture:counters', { boots: 10 }).commit();
  t.same(JSON.parse((await get('/rests/data/sextant-fixture:counters')).text), { 'sextant-fixture:counters': { boots: 10 } }, 'state commits too');
});
