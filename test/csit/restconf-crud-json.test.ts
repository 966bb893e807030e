/**
 * CSIT: create, read, update and delete hosts, ports and links through RFC 8040 `/rests` with
 * JSON bodies, from the template folders under test/csit/restconf/rests/.
 */
import t from 'tap';
import { REGISTRY, FX, assertJson, assertMissing, step, startFixtureSuite } from './lib/fixture.ts';
import {
  DELETED_STATUS_CODES,
  deleteFromTemplate,
  encodeKey,
  expectError,
  expectStatus,
  getAsJsonAndCompare,
  patchFromTemplate,
  postFromTemplate,
  putFromTemplate,
} from './lib/requests.ts';

const sc = await startFixtureSuite(t);
const s = sc.session;

const H1 = { NAME: 'h1', ADDRESS: '10.0.0.1', DPN: '18446744073709551615', WEIGHT: '1.5', COLOUR: 'red', TAG1: 'b', TAG2: 'a' };
const H2 = { NAME: 'h2', ADDRESS: '10.0.0.2' };

t.test('an empty registry is data-missing', async (t) => {
  await step(t, 'GET registry -> 409 data-missing', async () => expectError(await s.getJson(REGISTRY), 409, 'data-missing'));
});

t.test('POST /rests/data creates the top-level container', async (t) => {
  const res = await postFromTemplate('rests/root-post', { NAME: 'h0', ADDRESS: 'root' });
  t.equal(res.status, 201);
  t.match(res.location ?? '', new RegExp(`/rests/data/${FX}:registry$`), `Location names the new node (${res.location})`);
  await step(t, 'GET h0', () => getAsJsonAndCompare('rests/host-brief', { NAME: 'h0', ADDRESS: 'root' }));
  await step(t, 'POST again -> 409 data-exists', async () =>
    expectError(await postFromTemplate('rests/root-post', { NAME: 'hx', ADDRESS: 'again' }, { allowed: [409] }), 409, 'data-exists'),
  );
  await assertMissing(t, `${REGISTRY}/host=hx`, 'the second POST wrote nothing');
});

t.test('PUT creates a host (201) and GET returns it', async (t) => {
  const res = await putFromTemplate('rests/host', H1, { allowed: [201] });
  t.equal(res.status, 201, 'created');
  await step(t, 'GET host=h1 as written (uint64 and decimal64 as strings, identityref, empty leaf)', () =>
    getAsJsonAndCompare('rests/host', H1),
  );
  await step(t, 'GET one leaf', () => getAsJsonAndCompare('rests/host-address', H1));
});

t.test('PUT replaces an existing host (204)', async (t) => {
  const changed = { ...H1, ADDRESS: '10.9.9.9', COLOUR: 'green', TAG2: 'c' };
  const res = await putFromTemplate('rests/host', changed, { allowed: [204] });
  t.equal(res.status, 204, 'replaced');
  await step(t, 'GET shows the new values', () => getAsJsonAndCompare('rests/host', changed));
  await putFromTemplate('rests/host-brief', { NAME: 'h1', ADDRESS: '10.0.0.1' }, { allowed: [204] });
  await step(t, 'a replace drops what the new body does not have', () => getAsJsonAndCompare('rests/host-brief', { NAME: 'h1', ADDRESS: '10.0.0.1' }));
  await putFromTemplate('rests/host', H1, { allowed: [204] });
  await step(t, 'and back', () => getAsJsonAndCompare('rests/host', H1));
});

t.test('POST a host into the registry: 201 with Location', async (t) => {
  const res = await postFromTemplate('rests/host-post', H2);
  t.equal(res.status, 201);
  t.match(res.location ?? '', new RegExp(`/rests/data/${FX}:registry/host=h2$`), `Location (${res.location})`);
  await step(t, 'GET host=h2', () => getAsJsonAndCompare('rests/host-brief', H2));
});

t.test('query parameters', async (t) => {
  await step(t, 'with-defaults=report-all shows enabled=true', () =>
    getAsJsonAndCompare('rests/host-defaults', H2, { query: 'with-defaults=report-all' }),
  );
  await step(t, 'without it the default is not reported', () => getAsJsonAndCompare('rests/host-brief', H2));
  const fields = await s.getJson(`${REGISTRY}/host=h1?fields=name;address`);
  expectStatus(fields, [200]);
  assertJson(t, fields, { [`${FX}:host`]: [{ name: 'h1', address: '10.0.0.1' }] }, 'fields=name;address');
  const config = await s.getJson(`${REGISTRY}/host=h2?content=config`);
  expectStatus(config, [200]);
  assertJson(t, config, { [`${FX}:host`]: [{ name: 'h2', address: '10.0.0.2' }] }, 'content=config');
  await step(t, 'content=nonconfig of config-only data -> data-missing', async () =>
    expectError(await s.getJson(`${REGISTRY}/host=h2?content=nonconfig`), 409, 'data-missing'),
  );
  const depth = await s.getJson(`${REGISTRY}?depth=1`);
  expectStatus(depth, [200]);
  t.ok(depth.json<Record<string, unknown>>()[`${FX}:registry`] !== undefined, 'depth=1 answers the registry');
});

t.test('PATCH merges into a host (200)', async (t) => {
  const res = await patchFromTemplate('rests/host-merge', { NAME: 'h2', WEIGHT: '0.25' });
  t.equal(res.status, 200);
  await step(t, 'GET shows old and merged leaves', () => getAsJsonAndCompare('rests/host-merged', { ...H2, WEIGHT: '0.25' }));
});

t.test('ports: POST into a host, PUT with a leafref peer', async (t) => {
  const post = await postFromTemplate('rests/port-post', { NAME: 'h1', PORT: 7 });
  t.equal(post.status, 201);
  t.match(post.location ?? '', new RegExp(`/rests/data/${FX}:registry/host=h1/port=7$`), `Location (${post.location})`);
  await step(t, 'GET port=7', () => getAsJsonAndCompare('rests/port-bare', { NAME: 'h1', PORT: 7 }));
  await step(t, 'POST port 7 again -> 409 data-exists', async () =>
    expectError(await postFromTemplate('rests/port-post', { NAME: 'h1', PORT: 7 }, { allowed: [409] }), 409, 'data-exists'),
  );
  const put = await putFromTemplate('rests/port', { NAME: 'h1', PORT: 8, PEER: 'h2' }, { allowed: [201] });
  t.equal(put.status, 201);
  await step(t, 'GET port=8', () => getAsJsonAndCompare('rests/port', { NAME: 'h1', PORT: 8, PEER: 'h2' }));
  await step(t, 'PUT port=7 with a peer replaces it (204)', () => putFromTemplate('rests/port', { NAME: 'h1', PORT: 7, PEER: 'h0' }, { allowed: [204] }));
  await step(t, 'GET port=7', () => getAsJsonAndCompare('rests/port', { NAME: 'h1', PORT: 7, PEER: 'h0' }));
});

t.test('links: composite keys', async (t) => {
  const L = { SRC: 'h1', DST: 'h2', COST: 5 };
  t.equal((await putFromTemplate('rests/link', L, { allowed: [201] })).status, 201);
  await step(t, 'GET link=h1,h2', () => getAsJsonAndCompare('rests/link', L));
  await step(t, 'GET its cost', () => getAsJsonAndCompare('rests/link-cost', L));
  await step(t, 'PUT the cost leaf (204)', () => putFromTemplate('rests/link-cost', { ...L, COST: 9 }, { allowed: [204] }));
  await step(t, 'GET link=h1,h2 after', () => getAsJsonAndCompare('rests/link', { ...L, COST: 9 }));
  await step(t, 'the reverse link is another entry', async () => {
    await putFromTemplate('rests/link', { SRC: 'h2', DST: 'h1', COST: 1 }, { allowed: [201] });
    await getAsJsonAndCompare('rests/link', { SRC: 'h2', DST: 'h1', COST: 1 });
    await getAsJsonAndCompare('rests/link', { ...L, COST: 9 });
  });
});

t.test('keys with reserved characters are percent-encoded', async (t) => {
  const odd = "a/b,c (1)*'!=:%";
  const H = { ...H1, NAME: odd };
  t.equal((await putFromTemplate('rests/host', H, { allowed: [201] })).status, 201);
  await step(t, `GET host=${encodeKey(odd)}`, () => getAsJsonAndCompare('rests/host', H));
  await step(t, 'a port under it', async () => {
    await putFromTemplate('rests/port', { NAME: odd, PORT: 1, PEER: 'h1' }, { allowed: [201] });
    await getAsJsonAndCompare('rests/port', { NAME: odd, PORT: 1, PEER: 'h1' });
  });
  await step(t, 'a link from it (comma inside a key of a composite key)', async () => {
    await putFromTemplate('rests/link', { SRC: odd, DST: 'h1', COST: 3 }, { allowed: [201] });
    await getAsJsonAndCompare('rests/link', { SRC: odd, DST: 'h1', COST: 3 });
  });
  const unicode = { ...H2, NAME: 'hôte-été' };
  await step(t, 'non-ASCII key', async () => {
    await putFromTemplate('rests/host-brief', unicode, { allowed: [201] });
    await getAsJsonAndCompare('rests/host-brief', unicode);
  });
  await step(t, 'DELETE them', async () => {
    await deleteFromTemplate('rests/link', { SRC: odd, DST: 'h1' }, { allowed: [204] });
    await deleteFromTemplate('rests/host', H, { allowed: [204] });
    await deleteFromTemplate('rests/host', unicode, { allowed: [204] });
  });
  await assertMissing(t, `${REGISTRY}/host=${encodeKey(odd)}`, 'deleted');
});

t.test('application/json works like application/yang-data+json', async (t) => {
  const body = { [`${FX}:host`]: [{ name: 'h3', address: 'plain-json' }] };
  const put = await s.putJson(`${REGISTRY}/host=h3`, body, { contentType: 'application/json', accept: 'application/json' });
  t.equal(put.status, 201, `PUT with application/json: ${put.describe()}`);
  const get = await s.getJson(`${REGISTRY}/host=h3`, { accept: 'application/json' });
  t.equal(get.status, 200);
  t.match(get.contentType, /^application\/(yang-data\+)?json/, `Content-Type ${get.contentType}`);
  assertJson(t, get, body, 'GET with Accept: application/json');
  const anyType = await s.getJson(`${REGISTRY}/host=h3`, { accept: '*/*' });
  t.equal(anyType.status, 200, 'Accept */*');
  t.match(anyType.contentType, /json/, 'JSON is the default');
  assertJson(t, anyType, body, 'Accept */* body');
});

t.test('DELETE ports, links and hosts', async (t) => {
  const del = await deleteFromTemplate('rests/port', { NAME: 'h1', PORT: 8 });
  t.equal(del.status, 204, 'DELETE port=8');
  await assertMissing(t, `${REGISTRY}/host=h1/port=8`, 'port 8 gone');
  await step(t, 'port 7 still there', () => getAsJsonAndCompare('rests/port', { NAME: 'h1', PORT: 7, PEER: 'h0' }));
  await step(t, 'DELETE port=8 again -> 409 data-missing', async () =>
    expectError(await deleteFromTemplate('rests/port', { NAME: 'h1', PORT: 8 }, { allowed: DELETED_STATUS_CODES }), 409, 'data-missing'),
  );
  t.equal((await deleteFromTemplate('rests/link', { SRC: 'h1', DST: 'h2' })).status, 204, 'DELETE link=h1,h2');
  await assertMissing(t, `${REGISTRY}/link=h1,h2`, 'link gone');
  await step(t, 'the reverse link stays', () => getAsJsonAndCompare('rests/link', { SRC: 'h2', DST: 'h1', COST: 1 }));
  t.equal((await deleteFromTemplate('rests/link', { SRC: 'h2', DST: 'h1' })).status, 204);
  t.equal((await deleteFromTemplate('rests/host', { NAME: 'h3' })).status, 204, 'DELETE host=h3');
  await assertMissing(t, `${REGISTRY}/host=h3`, 'h3 gone');
  t.equal((await deleteFromTemplate('rests/registry')).status, 204, 'DELETE the registry');
  await step(t, 'registry -> 409 data-missing', async () => expectError(await s.getJson(REGISTRY), 409, 'data-missing'));
  await step(t, 'DELETE registry again -> 409 data-missing', async () =>
    expectError(await deleteFromTemplate('rests/registry', {}, { allowed: DELETED_STATUS_CODES }), 409, 'data-missing'),
  );
});
