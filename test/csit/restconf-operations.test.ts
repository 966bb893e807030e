/**
 * CSIT: RPCs through `/rests/operations` and the legacy `/restconf/operations`, in JSON and
 * XML: sextant-fixture:echo (input and output; served by the suite itself in-process),
 * toaster:restock-toaster (input only) and toaster:cancel-toast (neither); and the list of
 * operations (`GET /rests/operations`, RFC 8040 section 3.3.2, and the legacy `GET /restconf/operations`).
 */
import t from 'tap';
import { startSuiteController } from './lib/env.ts';
import { FX, TOASTER_NS, serveEcho, step } from './lib/fixture.ts';
import { JSON_TYPE, RESTCONF_NS, XML_TYPE, expectError, expectStatus, getAsJsonAndCompare, getAsXmlAndCompare, postFromTemplate } from './lib/requests.ts';
import { parseXml } from './lib/xml.ts';
import { compareJson } from './lib/json.ts';

const sc = await startSuiteController(t);
const s = sc.session;
const echo = (await serveEcho(sc)) ? false : `the controller at ${sc.url} does not serve ${FX}:echo`;

const xml = { format: 'xml' } as const;
const E = { MESSAGE: 'hello, toaster', BIG: '18446744073709551615' };

t.test('echo through /rests/operations in JSON', { skip: echo }, async (t) => {
  await step(t, 'module-qualified input -> 200 {"sextant-fixture:output": ...}', () => postFromTemplate('operations/echo', E, { verify: true }));
  await step(t, 'bare {"input": ...} is accepted too', () => postFromTemplate('operations/echo-bare', E, { verify: true }));
  await step(t, 'application/json both ways', async () => {
    const res = await postFromTemplate('operations/echo', E, { contentType: 'application/json', accept: 'application/json', verify: true });
    if (!/json/.test(res.contentType)) throw new Error(`Content-Type ${res.contentType}`);
  });
  await step(t, 'an XML body with a JSON answer', () =>
    postFromTemplate('operations/echo', E, { format: 'xml', accept: JSON_TYPE }).then((res) => {
      const diff = compareJson(res.body, { [`${FX}:output`]: { message: E.MESSAGE, big: E.BIG } });
      if (diff) throw new Error(diff);
    }),
  );
});

t.test('echo through /rests/operations in XML', { skip: echo }, async (t) => {
  await step(t, '<input xmlns=...> -> 200 <output xmlns=...>', () => postFromTemplate('operations/echo', E, { ...xml, verify: true }));
  await step(t, 'application/xml both ways', () =>
    postFromTemplate('operations/echo', E, { ...xml, contentType: 'application/xml', accept: 'application/xml', verify: true }),
  );
  await step(t, 'characters that XML escapes', () =>
    postFromTemplate('operations/echo', { MESSAGE: 'a &amp; b &lt;c&gt;', BIG: '0' }, { ...xml, allowed: [200] }).then((res) => {
      if (!res.body.includes('a &amp; b &lt;c&gt;')) throw new Error(`escaped text not echoed: ${res.describe()}`);
    }),
  );
});

t.test('echo through the legacy /restconf/operations', { skip: echo }, async (t) => {
  await step(t, 'JSON -> 200 {"output": ...}', () => postFromTemplate('operations/legacy-echo', E, { verify: true }));
  await step(t, 'bare {"input": ...}', () => postFromTemplate('operations/legacy-echo-bare', E, { verify: true }));
  await step(t, 'XML -> 200 <output xmlns=...>', () => postFromTemplate('operations/legacy-echo', E, { ...xml, verify: true }));
});

t.test('echo with no body at all', { skip: echo }, async (t) => {
  const res = await s.request('POST', `/rests/operations/${FX}:echo`, { accept: JSON_TYPE });
  t.ok([200, 204].includes(res.status), `200 or 204 (${res.status})`);
  if (res.status === 200) {
    const diff = compareJson(res.body, { [`${FX}:output`]: {} });
    t.notOk(diff, diff ?? 'empty output');
  }
});

t.test('an rpc with input only: toaster:restock-toaster', async (t) => {
  const before = expectStatus(await s.getJson('/rests/data/toaster:toaster/amountOfBreadInStock'), [200]).json<Record<string, number>>()['toaster:amountOfBreadInStock'];
  t.type(before, 'number', `stock before: ${before}`);
  const r1 = await postFromTemplate('operations/restock', { AMOUNT: 3 });
  t.equal(r1.status, 204, '/rests JSON -> 204');
  t.equal(r1.body, '', 'no body');
  await step(t, 'the stock grew', () => getAsJsonAndCompare('operations/toaster-state', { AMOUNT: before + 3 }));
  const r2 = await postFromTemplate('operations/restock', { AMOUNT: 2 }, xml);
  t.equal(r2.status, 204, '/rests XML -> 204');
  await step(t, 'the stock grew (XML GET)', () => getAsXmlAndCompare('operations/toaster-state', { AMOUNT: before + 5 }));
  const r3 = await postFromTemplate('operations/legacy-restock', { AMOUNT: 1 });
  t.equal(r3.status, 200, 'legacy JSON -> 200');
  t.equal(r3.body, '', 'empty');
  const r4 = await postFromTemplate('operations/legacy-restock', { AMOUNT: 1 }, xml);
  t.equal(r4.status, 200, 'legacy XML -> 200');
  t.equal(r4.body, '', 'empty');
  await step(t, 'the stock grew by 7 in all', () => getAsJsonAndCompare('operations/toaster-state', { AMOUNT: before + 7 }));
});

t.test('an rpc with neither input nor output: toaster:cancel-toast', async (t) => {
  const bare = await s.request('POST', '/rests/operations/toaster:cancel-toast', { accept: JSON_TYPE });
  t.equal(bare.status, 204, `no body -> 204 (${bare.status} ${bare.body})`);
  t.equal((await postFromTemplate('operations/cancel-toast', {})).status, 204, 'empty JSON input -> 204');
  t.equal((await postFromTemplate('operations/cancel-toast', {}, xml)).status, 204, 'empty XML input -> 204');
  const legacy = await postFromTemplate('operations/legacy-cancel-toast', {});
  t.equal(legacy.status, 200, 'legacy JSON -> 200');
  t.equal(legacy.body, '', 'legacy: empty body');
  const legacyXml = await postFromTemplate('operations/legacy-cancel-toast', {}, xml);
  t.equal(legacyXml.status, 200, 'legacy XML -> 200');
  const legacyBare = await s.request('POST', '/restconf/operations/toaster:cancel-toast', { accept: XML_TYPE });
  t.equal(legacyBare.status, 200, 'legacy, no body -> 200');
});

t.test('bad rpc input is rejected', { skip: echo }, async (t) => {
  await step(t, 'uint64 out of range -> 400 invalid-value', async () =>
    expectError(await postFromTemplate('operations/echo', { MESSAGE: 'x', BIG: '18446744073709551616' }, { allowed: [400] }), 400, 'invalid-value'),
  );
  await step(t, 'unknown input leaf -> 400 unknown-element', async () =>
    expectError(await s.postJson(`/rests/operations/${FX}:echo`, { [`${FX}:input`]: { nope: 1 } }), 400, 'unknown-element'),
  );
  await step(t, 'malformed JSON -> 400 malformed-message', async () =>
    expectError(await s.postJson(`/rests/operations/${FX}:echo`, `{"${FX}:input": {`), 400, 'malformed-message'),
  );
  await step(t, 'legacy: malformed XML -> 400 malformed-message', async () =>
    expectError(await s.postXml(`/restconf/operations/${FX}:echo`, `<input xmlns="urn:sextant:fixture"><message>`), 400, 'malformed-message'),
  );
});

// RFC 8040 section 3.3.2: GET of the operations resource lists the rpcs, each an empty leaf
// `module:rpc` ([null] in JSON, an empty element in its module's namespace in XML). Listed are
// those the server runs: notifications:create-subscription is a NETCONF session's own rpc
// (RESTCONF answers it 501), so it is not.
const TOASTER_RPCS = ['toaster:cancel-toast', 'toaster:make-toast', 'toaster:restock-toaster'];

t.test('GET /rests/operations lists the operations (JSON)', async (t) => {
  const res = expectStatus(await s.getJson('/rests/operations'), [200]);
  t.match(res.contentType, /application\/yang-data\+json/, 'yang-data+json');
  const doc = res.json<Record<string, Record<string, unknown>>>();
  t.same(Object.keys(doc), ['ietf-restconf:operations'], 'one member, ietf-restconf:operations');
  const ops = doc['ietf-restconf:operations'];
  for (const name of TOASTER_RPCS) t.same(ops[name], [null], `${name}: [null]`);
  if (!echo) t.same(ops[`${FX}:echo`], [null], `${FX}:echo, which this suite serves`);
  t.ok(Object.values(ops).every((v) => JSON.stringify(v) === '[null]'), 'every value is [null]');
  t.ok(Object.keys(ops).every((n) => /^[\w.-]+:[\w.-]+$/.test(n)), 'every name is module:rpc');
  t.notOk('notifications:create-subscription' in ops, 'create-subscription (NETCONF only) is not listed');
  const notServed = await s.request('POST', '/rests/operations/notifications:create-subscription', { accept: JSON_TYPE });
  await step(t, '... and a POST of it is 501', async () => expectError(notServed, 501, 'operation-not-supported'));
  t.same(Object.keys(ops), [...Object.keys(ops)].sort(), 'sorted by name');
});

t.test('GET /rests/operations in XML', async (t) => {
  const res = expectStatus(await s.getXml('/rests/operations'), [200]);
  const root = parseXml(res.body);
  t.equal(root.name, 'operations', '<operations>');
  t.equal(root.ns, RESTCONF_NS, 'in the ietf-restconf namespace');
  const toaster = root.children.filter((c) => c.ns === TOASTER_NS).map((c) => c.name).sort();
  t.same(toaster, TOASTER_RPCS.map((n) => n.split(':')[1]), 'the toaster rpcs, in the toaster namespace');
  t.ok(root.children.every((c) => c.children.length === 0 && c.text.trim() === ''), 'each one an empty element');
  const json = expectStatus(await s.getJson('/rests/operations'), [200]).json<Record<string, Record<string, unknown>>>();
  t.equal(root.children.length, Object.keys(json['ietf-restconf:operations']).length, 'as many as in JSON');
});

t.test('GET /rests/operations/<module>:<rpc>, HEAD and OPTIONS', async (t) => {
  const one = expectStatus(await s.getJson('/rests/operations/toaster:make-toast'), [200]);
  t.same(one.json(), { 'ietf-restconf:operations': { 'toaster:make-toast': [null] } }, 'one rpc, in the operations container (as ODL answers)');
  const oneXml = parseXml(expectStatus(await s.getXml('/rests/operations/toaster:make-toast'), [200]).body);
  t.same(oneXml.children.map((c) => [c.name, c.ns]), [['make-toast', TOASTER_NS]], 'XML: <operations><make-toast xmlns=toaster/></operations>');
  await step(t, 'an unknown rpc -> 400 unknown-element', async () => expectError(await s.getJson('/rests/operations/toaster:fry-egg'), 400, 'unknown-element'));
  await step(t, 'not module-qualified -> 400 invalid-value', async () => expectError(await s.getJson('/rests/operations/make-toast'), 400, 'invalid-value'));
  await step(t, 'a defined rpc nothing serves -> 501, the same error a POST of it answers', async () => {
    const viaGet = expectError(await s.getJson('/rests/operations/notifications:create-subscription'), 501, 'operation-not-supported');
    const viaPost = expectError(await s.request('POST', '/rests/operations/notifications:create-subscription', { accept: JSON_TYPE }), 501, 'operation-not-supported');
    t.match(viaGet['error-message'] ?? '', /notifications:create-subscription.*no plugin serves it/, `names the rpc: ${viaGet['error-message']}`);
    t.equal(viaGet['error-message'], viaPost['error-message'], 'GET and POST say it alike');
  });
  const trailing = expectStatus(await s.getJson('/rests/operations/'), [200]);
  t.ok('ietf-restconf:operations' in trailing.json<object>(), '/rests/operations/ is the list too');
  const head = await s.request('HEAD', '/rests/operations', { accept: JSON_TYPE });
  t.equal(head.status, 200, 'HEAD 200');
  t.equal(head.body, '', 'HEAD has no body');
  const options = await s.request('OPTIONS', '/rests/operations');
  t.equal(options.headers.get('allow'), 'GET, HEAD, OPTIONS', 'OPTIONS of the list');
  const optionsOne = await s.request('OPTIONS', '/rests/operations/toaster:make-toast');
  t.equal(optionsOne.headers.get('allow'), 'GET, HEAD, OPTIONS, POST', 'OPTIONS of one rpc');
  await step(t, 'Accept nothing we produce -> 406', async () => expectStatus(await s.get('/rests/operations', { accept: 'text/html' }), [406]));
});

t.test('legacy GET /restconf/operations: the same list, its top member unqualified as every legacy answer', async (t) => {
  const legacy = expectStatus(await s.getJson('/restconf/operations'), [200]).json<Record<string, Record<string, unknown>>>();
  const rfc = expectStatus(await s.getJson('/rests/operations'), [200]).json<Record<string, Record<string, unknown>>>();
  t.same(Object.keys(legacy), ['operations'], '{"operations": {...}}');
  t.same(legacy.operations, rfc['ietf-restconf:operations'], 'the same rpcs as /rests/operations');
  const xmlRoot = parseXml(expectStatus(await s.getXml('/restconf/operations'), [200]).body);
  t.equal(xmlRoot.ns, RESTCONF_NS, 'XML: <operations xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">');
  t.equal(xmlRoot.children.length, Object.keys(legacy.operations).length, 'XML: as many rpcs');
});
