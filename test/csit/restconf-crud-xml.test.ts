/**
 * CSIT: the CRUD of hosts, ports and links through RFC 8040 `/rests` with XML bodies and XML
 * answers (data.xml / response.xml of the same template folders), plus mixing the encodings.
 */
import t from 'tap';
import { FX, FX_NS, REGISTRY, assertMissing, step, startFixtureSuite } from './lib/fixture.ts';
import {
  DELETED_STATUS_CODES,
  RESTCONF_NS,
  XML_TYPE,
  deleteFromTemplate,
  expectError,
  expectStatus,
  getAsJsonAndCompare,
  getAsXmlAndCompare,
  patchFromTemplate,
  postFromTemplate,
  putFromTemplate,
} from './lib/requests.ts';
import { compareXml, parseXml } from './lib/xml.ts';

const sc = await startFixtureSuite(t);
const s = sc.session;

const xml = { format: 'xml' } as const;
const H1 = { NAME: 'h1', ADDRESS: '10.0.0.1', DPN: '18446744073709551615', WEIGHT: '1.5', COLOUR: 'red', TAG1: 'b', TAG2: 'a' };
const H2 = { NAME: 'h2', ADDRESS: '10.0.0.2' };

t.test('a missing registry is data-missing, with an XML error body', async (t) => {
  const res = await s.getXml(REGISTRY);
  await step(t, '409 data-missing', async () => expectError(res, 409, 'data-missing'));
  t.match(res.contentType, /^application\/yang-data\+xml/, `Content-Type ${res.contentType}`);
  await step(t, `<errors xmlns="${RESTCONF_NS}">`, async () => {
    const root = parseXml(res.body);
    if (root.name !== 'errors' || root.ns !== RESTCONF_NS) throw new Error(`root is {${root.ns}}${root.name}`);
  });
});

t.test('POST /rests/data creates the top-level container from XML', async (t) => {
  const res = await postFromTemplate('rests/root-post', { NAME: 'h0', ADDRESS: 'root' }, xml);
  t.equal(res.status, 201);
  t.match(res.location ?? '', new RegExp(`/rests/data/${FX}:registry$`), `Location (${res.location})`);
  await step(t, 'GET h0 as XML', () => getAsXmlAndCompare('rests/host-brief', { NAME: 'h0', ADDRESS: 'root' }));
  await step(t, 'POST again -> 409 data-exists', async () =>
    expectError(await postFromTemplate('rests/root-post', { NAME: 'hx', ADDRESS: 'x' }, { ...xml, allowed: [409] }), 409, 'data-exists'),
  );
});

t.test('PUT creates a host from XML (201), GET returns it as XML and as JSON', async (t) => {
  t.equal((await putFromTemplate('rests/host', H1, { ...xml, allowed: [201] })).status, 201);
  await step(t, 'GET as XML (identityref prefix may differ, empty leaf)', () => getAsXmlAndCompare('rests/host', H1));
  await step(t, 'GET as JSON', () => getAsJsonAndCompare('rests/host', H1));
  await step(t, 'GET one leaf as XML', () => getAsXmlAndCompare('rests/host-address', H1));
});

t.test('the identityref may use any prefix bound to the module', async (t) => {
  const body = `<host xmlns="${FX_NS}"><name>h1</name><address>10.0.0.1</address><colour xmlns:zz="${FX_NS}">zz:green</colour></host>`;
  const res = await s.putXml(`${REGISTRY}/host=h1`, body);
  t.equal(res.status, 204, `replaced: ${res.describe()}`);
  const get = expectStatus(await s.getXml(`${REGISTRY}/host=h1`), [200]);
  const diff = compareXml(get.body, body, { unordered: ['host'] });
  t.notOk(diff, diff ?? 'GET shows colour green');
});

t.test('PUT replaces (204)', async (t) => {
  t.equal((await putFromTemplate('rests/host', H1, { ...xml, allowed: [204] })).status, 204);
  await step(t, 'GET as XML', () => getAsXmlAndCompare('rests/host', H1));
});

t.test('POST a host into the registry from XML', async (t) => {
  const res = await postFromTemplate('rests/host-post', H2, xml);
  t.equal(res.status, 201);
  t.match(res.location ?? '', new RegExp(`/rests/data/${FX}:registry/host=h2$`), `Location (${res.location})`);
  await step(t, 'GET h2 as XML', () => getAsXmlAndCompare('rests/host-brief', H2));
  await step(t, 'with-defaults=report-all as XML', () => getAsXmlAndCompare('rests/host-defaults', H2, { query: 'with-defaults=report-all' }));
});

t.test('PATCH merges from XML (200)', async (t) => {
  t.equal((await patchFromTemplate('rests/host-merge', { NAME: 'h2', WEIGHT: '2.75' }, xml)).status, 200);
  await step(t, 'GET merged as XML', () => getAsXmlAndCompare('rests/host-merged', { ...H2, WEIGHT: '2.75' }));
});

t.test('ports from XML', async (t) => {
  const post = await postFromTemplate('rests/port-post', { NAME: 'h1', PORT: 7 }, xml);
  t.equal(post.status, 201);
  t.match(post.location ?? '', new RegExp(`/rests/data/${FX}:registry/host=h1/port=7$`), `Location (${post.location})`);
  await step(t, 'GET port=7', () => getAsXmlAndCompare('rests/port-bare', { NAME: 'h1', PORT: 7 }));
  t.equal((await putFromTemplate('rests/port', { NAME: 'h1', PORT: 8, PEER: 'h2' }, { ...xml, allowed: [201] })).status, 201);
  await step(t, 'GET port=8', () => getAsXmlAndCompare('rests/port', { NAME: 'h1', PORT: 8, PEER: 'h2' }));
});

t.test('links from XML', async (t) => {
  const L = { SRC: 'h1', DST: 'h2', COST: 5 };
  t.equal((await putFromTemplate('rests/link', L, { ...xml, allowed: [201] })).status, 201);
  await step(t, 'GET link=h1,h2', () => getAsXmlAndCompare('rests/link', L));
  await step(t, 'PUT its cost leaf from XML (204)', () => putFromTemplate('rests/link-cost', { ...L, COST: 6 }, { ...xml, allowed: [204] }));
  await step(t, 'GET the cost leaf', () => getAsXmlAndCompare('rests/link-cost', { ...L, COST: 6 }));
  const odd = 'x/y,z';
  await step(t, 'a link whose key has / and ,', async () => {
    await putFromTemplate('rests/host-brief', { NAME: odd, ADDRESS: 'odd' }, { ...xml, allowed: [201] });
    await putFromTemplate('rests/link', { SRC: odd, DST: 'h1', COST: 2 }, { ...xml, allowed: [201] });
    await getAsXmlAndCompare('rests/link', { SRC: odd, DST: 'h1', COST: 2 });
  });
});

t.test('application/xml works like application/yang-data+xml', async (t) => {
  const body = `<host xmlns="${FX_NS}"><name>h3</name><address>plain-xml</address></host>`;
  const put = await s.putXml(`${REGISTRY}/host=h3`, body, { contentType: 'application/xml', accept: 'application/xml' });
  t.equal(put.status, 201, `PUT with application/xml: ${put.describe()}`);
  const get = await s.getXml(`${REGISTRY}/host=h3`, { accept: 'application/xml' });
  t.equal(get.status, 200);
  t.match(get.contentType, /^application\/(yang-data\+)?xml/, `Content-Type ${get.contentType}`);
  const diff = compareXml(get.body, body, { unordered: ['host'] });
  t.notOk(diff, diff ?? 'GET with Accept: application/xml');
});

t.test('the encodings mix: XML in, JSON out and JSON in, XML out', async (t) => {
  await step(t, 'PUT XML, GET JSON', async () => {
    await putFromTemplate('rests/host-brief', { NAME: 'h4', ADDRESS: 'xml-in' }, { ...xml, allowed: [201] });
    await getAsJsonAndCompare('rests/host-brief', { NAME: 'h4', ADDRESS: 'xml-in' });
  });
  await step(t, 'PUT JSON, GET XML', async () => {
    await putFromTemplate('rests/host-brief', { NAME: 'h5', ADDRESS: 'json-in' }, { allowed: [201] });
    await getAsXmlAndCompare('rests/host-brief', { NAME: 'h5', ADDRESS: 'json-in' });
  });
  await step(t, 'XML body with JSON Accept', async () => {
    const res = await putFromTemplate('rests/host-brief', { NAME: 'h6', ADDRESS: 'mixed' }, { ...xml, accept: 'application/yang-data+json', allowed: [201] });
    expectStatus(res, [201]);
  });
});

t.test('DELETE with XML Accept', async (t) => {
  t.equal((await deleteFromTemplate('rests/port', { NAME: 'h1', PORT: 8 }, { accept: XML_TYPE })).status, 204);
  await assertMissing(t, `${REGISTRY}/host=h1/port=8`, 'port 8 gone');
  const again = await deleteFromTemplate('rests/port', { NAME: 'h1', PORT: 8 }, { accept: XML_TYPE, allowed: DELETED_STATUS_CODES });
  await step(t, 'DELETE again -> 409 data-missing in XML', async () => {
    expectError(again, 409, 'data-missing');
    if (!again.body.trim().startsWith('<')) throw new Error(`not XML: ${again.describe()}`);
  });
  t.equal((await deleteFromTemplate('rests/link', { SRC: 'h1', DST: 'h2' }, { accept: XML_TYPE })).status, 204);
  t.equal((await deleteFromTemplate('rests/registry', {}, { accept: XML_TYPE })).status, 204);
  await assertMissing(t, REGISTRY, 'registry gone');
});
