/**
 * CSIT: one test per bad input. Each asserts the status and the RESTCONF error body, and that
 * nothing was written: the target is still missing (or unchanged) and the registry's
 * configuration is exactly what it was before.
 */
import t, { type Test } from 'tap';
import { startSuiteController, type SuiteController } from './lib/env.ts';
import { FX, FX_NS, REGISTRY, assertMissing, cleanFixture, registrySnapshot, step, startFixtureSuite } from './lib/fixture.ts';
import {
  ALLOWED_DELETE_STATUS_CODES,
  JSON_TYPE,
  RESTCONF_NS,
  XML_TYPE,
  expectError,
  expectStatus,
  getAsJsonAndCompare,
  putFromTemplate,
  readErrors,
  type HttpResponse,
  type Session,
} from './lib/requests.ts';
import { parseXml } from './lib/xml.ts';

const sc = await startFixtureSuite(t);
const s = sc.session;

const H1 = { NAME: 'h1', ADDRESS: '10.0.0.1' };
const H9 = `${REGISTRY}/host=h9`;
await putFromTemplate('rests/host-brief', H1, { session: s });

// A test that fails by writing must not make the next ones fail: start each from the same state.
t.beforeEach(async () => {
  for (const name of ['h8', 'h9']) expectStatus(await s.delete(`${REGISTRY}/host=${name}`), ALLOWED_DELETE_STATUS_CODES);
});

/**
 * Runs a bad request: asserts status and error-tag (tag undefined: any RESTCONF errors body),
 * that `missing` paths still have no data and that the registry is unchanged.
 */
async function rejected(
  t: Test,
  send: () => Promise<HttpResponse>,
  status: number,
  tag: string | string[] | undefined,
  missing: string[] = [H9],
  session: Session = s,
): Promise<HttpResponse> {
  const before = await registrySnapshot(session);
  const res = await send();
  await step(t, `${status} ${tag ?? 'with an errors body'}`, async () => expectError(res, status, tag));
  for (const p of missing) await assertMissing(t, p, 'nothing written', session);
  t.equal(await registrySnapshot(session), before, 'the registry is unchanged');
  return res;
}

const h9 = (extra: Record<string, unknown> = {}) => ({ [`${FX}:host`]: [{ name: 'h9', address: 'x', ...extra }] });

t.test('malformed JSON -> 400 malformed-message', async (t) => {
  await rejected(t, () => s.putJson(H9, `{"${FX}:host": [{"name": "h9", "address": `), 400, 'malformed-message');
});

t.test('JSON that is not an object of the target -> 400', async (t) => {
  await rejected(t, () => s.putJson(H9, '[1, 2, 3]'), 400, ['malformed-message', 'invalid-value', 'unknown-element']);
});

t.test('malformed XML -> 400 malformed-message', async (t) => {
  await rejected(t, () => s.putXml(H9, `<host xmlns="${FX_NS}"><name>h9</name><address>x</host>`), 400, 'malformed-message');
});

t.test('XML with a DOCTYPE -> 400 malformed-message (no entity expansion)', async (t) => {
  const body = `<?xml version="1.0"?>\n<!DOCTYPE host [<!ENTITY n "h9">]>\n<host xmlns="${FX_NS}"><name>&n;</name><address>x</address></host>`;
  await rejected(t, () => s.putXml(H9, body), 400, 'malformed-message');
});

t.test('XML with a DOCTYPE but no entities is refused too', async (t) => {
  const body = `<!DOCTYPE host>\n<host xmlns="${FX_NS}"><name>h9</name><address>x</address></host>`;
  await rejected(t, () => s.putXml(H9, body), 400, 'malformed-message');
});

t.test('errors come back in XML when XML is accepted', async (t) => {
  const res = await rejected(t, () => s.putXml(H9, `<host xmlns="${FX_NS}"><name>h9</name>`), 400, 'malformed-message');
  t.match(res.contentType, /xml/, `Content-Type ${res.contentType}`);
  await step(t, `root <errors xmlns="${RESTCONF_NS}">`, async () => {
    const root = parseXml(res.body);
    if (root.name !== 'errors' || root.ns !== RESTCONF_NS) throw new Error(`root is {${root.ns}}${root.name}`);
    const err = root.children.find((c) => c.name === 'error');
    if (!err) throw new Error('no <error>');
    for (const f of ['error-type', 'error-tag']) if (!err.children.some((c) => c.name === f)) throw new Error(`no <${f}>`);
  });
});

t.test('an unsupported Content-Type -> 415', async (t) => {
  await rejected(t, () => s.put(H9, JSON.stringify(h9()), { contentType: 'text/plain', accept: JSON_TYPE }), 415, undefined);
});

t.test('a form Content-Type -> 415', async (t) => {
  await rejected(t, () => s.put(H9, 'name=h9', { contentType: 'application/x-www-form-urlencoded', accept: JSON_TYPE }), 415, undefined);
});

t.test('an Accept that nothing fits -> 406', async (t) => {
  const res = await s.get(`${REGISTRY}/host=h1`, { accept: 'text/html' });
  t.equal(res.status, 406, `GET with Accept: text/html (${res.status})`);
  await step(t, 'with an errors body', async () => {
    if (readErrors(res).length === 0) throw new Error('no error');
  });
  await rejected(t, () => s.postJson(`/rests/operations/${FX}:echo`, { [`${FX}:input`]: { message: 'm' } }, { accept: 'image/png' }), 406, undefined);
});

t.test('an unknown leaf -> 400 unknown-element', async (t) => {
  await rejected(t, () => s.putJson(H9, h9({ colourz: 'red' })), 400, 'unknown-element');
  await rejected(t, () => s.putXml(H9, `<host xmlns="${FX_NS}"><name>h9</name><colourz>red</colourz></host>`), 400, 'unknown-element');
});

t.test('a leaf of the wrong type -> 400 invalid-value', async (t) => {
  await rejected(t, () => s.putJson(H9, h9({ enabled: 'maybe' })), 400, 'invalid-value');
  await rejected(t, () => s.putJson(H9, h9({ colour: `${FX}:blue` })), 400, 'invalid-value');
});

t.test('a number out of range -> 400 invalid-value', async (t) => {
  await rejected(t, () => s.putJson(H9, h9({ dpn: '18446744073709551616' })), 400, 'invalid-value');
  await rejected(
    t,
    () => s.putJson(`${REGISTRY}/host=h1/port=4294967296`, { [`${FX}:port`]: [{ id: 4294967296 }] }),
    400,
    'invalid-value',
    [`${REGISTRY}/host=h1/port`],
  );
  await rejected(t, () => s.putJson(H9, h9({ weight: '1.234' })), 400, 'invalid-value');
});

t.test('a list entry without its key -> 400 missing-element', async (t) => {
  await rejected(t, () => s.postJson(REGISTRY, { [`${FX}:host`]: [{ address: 'no-name' }] }), 400, 'missing-element');
});

t.test('URL and body keys differ -> 400', async (t) => {
  await rejected(t, () => s.putJson(H9, { [`${FX}:host`]: [{ name: 'h8', address: 'x' }] }), 400, 'invalid-value', [H9, `${REGISTRY}/host=h8`]);
  await rejected(t, () => s.putJson(H9, { [`${FX}:port`]: [{ id: 1 }] }), 400, ['invalid-value', 'unknown-element', 'malformed-message']);
});

t.test('a path into a nonexistent module -> 400 unknown-element', async (t) => {
  await step(t, 'GET', async () => expectError(await s.getJson('/rests/data/no-such-module:thing'), 400, 'unknown-element'));
  await rejected(t, () => s.putJson('/rests/data/no-such-module:thing', { 'no-such-module:thing': {} }), 400, 'unknown-element');
  await rejected(t, () => s.getJson(`${REGISTRY}/no-such-child`), 400, 'unknown-element');
});

t.test('POST of an existing entry -> 409 data-exists, entry unchanged', async (t) => {
  await rejected(t, () => s.postJson(REGISTRY, { [`${FX}:host`]: [{ name: 'h1', address: 'other' }] }), 409, 'data-exists', []);
  await step(t, 'h1 keeps its address', () => getAsJsonAndCompare('rests/host-brief', H1));
});

// A POST of several entries of one list creates each, in one transaction, as OpenDaylight's
// RestconfTransaction.create does for a map node (netconf plugins/restconf-mdsal-spi): one of them
// already there refuses the whole POST.
const H8 = `${REGISTRY}/host=h8`;
const hosts = (...entries: Record<string, unknown>[]) => ({ [`${FX}:host`]: entries });

t.test('a POST of several entries, one of them existing -> 409 data-exists naming it, none written', async (t) => {
  const res = await rejected(t, () => s.postJson(REGISTRY, hosts({ name: 'h8', address: 'a' }, { name: 'h1', address: 'other' }, { name: 'h9', address: 'b' })), 409, 'data-exists', [H8, H9]);
  t.equal(readErrors(res)[0]?.['error-path'], `/${FX}:registry/host[name='h1']`, 'error-path: the existing entry');
  await step(t, 'h1 keeps its address', () => getAsJsonAndCompare('rests/host-brief', H1));
  await rejected(t, () => s.postJson(`/restconf/config/${FX}:registry`, hosts({ name: 'h8' }, { name: 'h1' })), 409, 'data-exists', [H8]);
});

t.test('a POST of several entries, one of them invalid -> 400, none written', async (t) => {
  const res = await rejected(t, () => s.postJson(REGISTRY, hosts({ name: 'h8', address: 'a' }, { name: 'h9', dpn: 'many' })), 400, 'invalid-value', [H8, H9]);
  t.match(readErrors(res)[0]?.['error-message'] ?? '', /dpn/, 'names the leaf');
  await rejected(t, () => s.postJson(REGISTRY, hosts({ name: 'h8' }, { address: 'no-name' })), 400, 'missing-element', [H8]);
  await rejected(t, () => s.postJson(`/restconf/config/${FX}:registry`, hosts({ name: 'h8' }, { name: 'h9', colourz: 'red' })), 400, 'unknown-element', [H8, H9]);
});

t.test('a POST naming one entry twice, or none -> 400, none written', async (t) => {
  const twice = await rejected(t, () => s.postJson(REGISTRY, hosts({ name: 'h9', address: 'a' }, { name: 'h9', address: 'b' })), 400, 'invalid-value');
  t.equal(readErrors(twice)[0]?.['error-app-tag'], 'data-not-unique', 'error-app-tag data-not-unique');
  await rejected(t, () => s.postJson(REGISTRY, hosts()), 400, 'invalid-value');
});

// The error-path of what is inside a body is the data node's path: the body's root element is the
// target itself, so it is not named again (`.../host[name='h9']/port/id`, not
// `.../host[name='h9']/host/port/id`).
t.test("a refused body's error-path is the data node's path, in XML as in JSON and on the legacy URL", async (t) => {
  const badPort = `<host xmlns="${FX_NS}"><name>h9</name><port><id>x</id></port></host>`;
  const expected = `/${FX}:registry/host[name='h9']/port/id`;
  const xmlPut = await rejected(t, () => s.put(H9, badPort, { contentType: XML_TYPE, accept: JSON_TYPE }), 400, 'invalid-value');
  t.equal(readErrors(xmlPut)[0]?.['error-path'], expected, 'XML body at host=h9');
  const jsonPut = await rejected(t, () => s.putJson(H9, h9({ port: [{ id: 'x' }] })), 400, 'invalid-value');
  t.equal(readErrors(jsonPut)[0]?.['error-path'], expected, 'JSON body at host=h9');
  const legacy = await rejected(t, () => s.put(`/restconf/config/${FX}:registry/host/h9`, badPort, { contentType: XML_TYPE, accept: JSON_TYPE }), 400, 'invalid-value');
  t.equal(readErrors(legacy)[0]?.['error-path'], `/${FX}:registry/host=h9/port/id`, 'legacy: the api-path');
  const post = await rejected(t, () => s.post(REGISTRY, badPort, { contentType: XML_TYPE, accept: JSON_TYPE }), 400, 'invalid-value');
  t.equal(readErrors(post)[0]?.['error-path'], `/${FX}:registry/host/port/id`, 'POST: the created entry, under its parent once');
});

t.test('DELETE of a missing node -> 409 data-missing', async (t) => {
  await rejected(t, () => s.delete(H9, { accept: JSON_TYPE }), 409, 'data-missing');
  await rejected(t, () => s.delete(`${REGISTRY}/host=h1/port=1`, { accept: JSON_TYPE }), 409, 'data-missing', [`${REGISTRY}/host=h1/port=1`]);
});

t.test('a leafref to a missing host -> 409 data-missing (instance-required), nothing written', async (t) => {
  const res = await rejected(t, () => s.putJson(H9, h9({ backup: 'nobody' })), 409, 'data-missing');
  t.equal(readErrors(res)[0]?.['error-app-tag'], 'instance-required', 'error-app-tag instance-required (RFC 7950 15.5)');
});

t.test('a failed must -> 500 operation-failed (must-violation), nothing written', async (t) => {
  const res = await rejected(
    t,
    () => s.putJson(`${REGISTRY}/link=h1,h1`, { [`${FX}:link`]: [{ src: 'h1', dst: 'h1', cost: 0 }] }),
    500,
    'operation-failed',
    [`${REGISTRY}/link=h1,h1`],
  );
  const e = readErrors(res)[0];
  t.equal(e?.['error-app-tag'], 'must-violation', 'error-app-tag must-violation (RFC 7950 15.4)');
  t.equal(e?.['error-message'], 'cost must be positive', "the must's error-message");
});

t.test('the default body limit is 1 MiB -> 413 too-big', async (t) => {
  const big = 'x'.repeat(1024 * 1024 + 16);
  await rejected(t, () => s.putJson(H9, h9({ address: big })), 413, 'too-big');
  const fine = 'y'.repeat(200 * 1024);
  const ok = await s.putJson(`${REGISTRY}/host=h7`, { [`${FX}:host`]: [{ name: 'h7', address: fine }] });
  t.equal(ok.status, 201, '200 KiB is fine');
  expectStatus(await s.delete(`${REGISTRY}/host=h7`), [204]);
});

t.test('wrong password -> 401 with WWW-Authenticate: Basic', async (t) => {
  const wrong = { user: sc.credentials.user, password: `${sc.credentials.password}-wrong` };
  await unauthorized(t, () => s.putJson(H9, h9(), { auth: wrong }));
  await unauthorized(t, () => s.getJson(`${REGISTRY}/host=h1`, { auth: wrong }));
  await unauthorized(t, () => s.getJson(`${REGISTRY}/host=h1`, { auth: { user: 'nobody', password: sc.credentials.password } }));
  await unauthorized(t, () => s.getJson(`${REGISTRY}/host=h1`, { auth: null, headers: { authorization: 'Basic !!!not-base64' } }));
});

t.test('no Authorization header -> 401 with WWW-Authenticate: Basic', async (t) => {
  await unauthorized(t, () => s.putJson(H9, h9(), { auth: null }));
  await unauthorized(t, () => s.postJson(`/rests/operations/toaster:cancel-toast`, {}, { auth: null }));
  await unauthorized(t, () => s.getJson(`${REGISTRY}/host=h1`, { auth: null }));
  await unauthorized(t, () => s.getJson(`/restconf/config/${FX}:registry`, { auth: null }));
});

/** 401, a Basic challenge, an error body (if any) saying access-denied, and nothing written. */
async function unauthorized(t: Test, send: () => Promise<HttpResponse>): Promise<void> {
  const before = await registrySnapshot();
  const res = await send();
  t.equal(res.status, 401, `401 (${res.method} ${res.status})`);
  t.match(res.headers.get('www-authenticate') ?? '', /^Basic\b/i, `WWW-Authenticate: ${res.headers.get('www-authenticate')}`);
  if (res.body.trim() !== '') {
    await step(t, 'the error body says access-denied', async () => expectError(res, 401, 'access-denied'));
  }
  t.notMatch(res.body, /10\.0\.0\.1/, 'no data in the answer');
  await assertMissing(t, H9, 'nothing written');
  t.equal(await registrySnapshot(), before, 'the registry is unchanged');
}

// ---- tests that need their own controller

async function ownController(t: Test, flags: string[]): Promise<SuiteController | undefined> {
  const own = await startSuiteController(t, flags);
  if (!own.flagsApplied) return undefined;
  await cleanFixture(own.session);
  await putFromTemplate('rests/host-brief', H1, { session: own.session });
  return own;
}

t.test('a body over --restconf-max-body=1024 -> 413 too-big', { skip: sc.external && 'needs an in-process controller' }, async (t) => {
  const own = await ownController(t, ['--restconf-max-body=1024']);
  if (!own) return;
  const o = own.session;
  const body = JSON.stringify(h9({ address: 'z'.repeat(2048) }));
  t.ok(Buffer.byteLength(body) > 1024, `body of ${Buffer.byteLength(body)} bytes`);
  await rejected(t, () => o.putJson(H9, body), 413, 'too-big', [H9], o);
  await rejected(t, () => o.putXml(H9, `<host xmlns="${FX_NS}"><name>h9</name><address>${'z'.repeat(2048)}</address></host>`), 413, 'too-big', [H9], o);
  await rejected(t, () => o.postJson(`/rests/operations/${FX}:echo`, { [`${FX}:input`]: { message: 'z'.repeat(2048) } }), 413, 'too-big', [H9], o);
  const small = await o.putJson(H9, h9());
  t.equal(small.status, 201, 'a small body still works');
});

t.test('--data-missing-is-404: data-missing answers 404', { skip: sc.external && 'needs an in-process controller' }, async (t) => {
  const own = await ownController(t, ['--data-missing-is-404']);
  if (!own) return;
  const o = own.session;
  await step(t, 'GET missing -> 404 data-missing', async () => expectError(await o.getJson(H9), 404, 'data-missing'));
  await rejected(t, () => o.delete(H9, { accept: JSON_TYPE }), 404, 'data-missing', [H9], o);
  await step(t, 'XML too', async () => expectError(await o.getXml(H9), 404, 'data-missing'));
  await step(t, 'data-exists stays 409', async () =>
    expectError(await o.postJson(REGISTRY, { [`${FX}:host`]: [{ name: 'h1' }] }), 409, 'data-exists'),
  );
  await step(t, 'legacy stays 404', async () => expectError(await o.getJson(`/restconf/config/${FX}:registry/host/h9`), 404, 'data-missing'));
});

t.test('XML error bodies for bad XML through the legacy URLs', async (t) => {
  const res = await rejected(
    t,
    () => s.put(`/restconf/config/${FX}:registry/host/h9`, `<host xmlns="${FX_NS}"><name>h9</nam></host>`, { contentType: XML_TYPE, accept: XML_TYPE }),
    400,
    'malformed-message',
  );
  t.match(res.body, /^\s*(<\?xml[^>]*>\s*)?<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"/, 'XML errors document');
});
