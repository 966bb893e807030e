/**
 * CSIT: RPCs through `/rests/operations` and the legacy `/restconf/operations`, in JSON and
 * XML: sextant-fixture:echo (input and output; served by the suite itself in-process),
 * toaster:restock-toaster (input only) and toaster:cancel-toast (neither).
 */
import t from 'tap';
import { startSuiteController } from './lib/env.ts';
import { FX, serveEcho, step } from './lib/fixture.ts';
import { JSON_TYPE, XML_TYPE, expectError, expectStatus, getAsJsonAndCompare, getAsXmlAndCompare, postFromTemplate } from './lib/requests.ts';
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
