/**
 * Entity tags and conditional requests on RFC 8040 data resources (RFC 8040 3.4.1, 3.5.2;
 * RFC 7232): ETag and Last-Modified on GET and HEAD, 304 on a matching If-None-Match or an
 * unmodified If-Modified-Since, 412 (RFC 8040 error body, nothing written) on a failed
 * If-Match / If-None-Match / If-Unmodified-Since for PUT, PATCH, YANG Patch, POST and DELETE, and
 * no lost update when many clients read-modify-write one leaf with If-Match.
 */
import t from 'tap';
import { join } from 'node:path';
import { parsePath } from '../../src/yang/path.ts';
import { testController } from '../helpers/controller.ts';
import { FIXTURE_YANG } from '../helpers/fixture.ts';

const YANG = `--yang-dir=${join(import.meta.dirname, '../../yang')},${FIXTURE_YANG}`;
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
const JSON_CT = 'application/yang-data+json';

const c = await testController(t, ['--datastore=memory', YANG]);
const url = (p: string) => `${c.restconf.url}${p}`;

interface Answer {
  status: number;
  text: string;
  etag: string | null;
  lastModified: string | null;
}

async function call(method: string, p: string, opts: { headers?: Record<string, string>; body?: unknown; type?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...AUTH, ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.type ?? JSON_CT;
  }
  const r = await fetch(url(p), { method, headers, body });
  return { status: r.status, text: await r.text(), etag: r.headers.get('etag'), lastModified: r.headers.get('last-modified') };
}
const get = (p: string, headers: Record<string, string> = {}) => call('GET', p, { headers });
const tagOf = async (p: string) => (await get(p)).etag!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HOST_A = '/rests/data/sextant-fixture:registry/host=a';
const HOST_B = '/rests/data/sextant-fixture:registry/host=b';
const REGISTRY = '/rests/data/sextant-fixture:registry';

await c.data
  .transaction('config')
  .put('/sextant-fixture:registry', {
    host: [
      { name: 'a', address: '10.0.0.1', tags: ['x', 'y'], port: [{ id: 1 }] },
      { name: 'b', address: '10.0.0.2' },
    ],
  })
  .commit();
await c.data.transaction('operational').put('/sextant-fixture:registry/host=a/stats', { packets: '7' }).commit();

/** The error of an RFC 8040 JSON error body. */
function errorOf(a: Answer): Record<string, string> {
  return JSON.parse(a.text).errors.error[0];
}

t.test('GET and HEAD answer a quoted ETag and an HTTP-date Last-Modified; JSON and XML share the tag', async (t) => {
  const json = await get(HOST_A);
  t.equal(json.status, 200);
  t.match(json.etag, /^"[\x21\x23-\x7e]+"$/, 'a strong, quoted tag');
  t.ok(json.lastModified && /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/.test(json.lastModified), `an IMF-fixdate: ${json.lastModified}`);
  t.ok(Math.abs(Date.parse(json.lastModified!) - Date.now()) < 60_000, 'about now');
  const xml = await get(HOST_A, { accept: 'application/yang-data+xml' });
  t.equal(xml.status, 200);
  t.match(xml.text, /^<host/);
  t.equal(xml.etag, json.etag, 'the tag names the data, not the encoding');
  t.equal(xml.lastModified, json.lastModified);
  const head = await call('HEAD', HOST_A);
  t.equal(head.status, 200);
  t.equal(head.text, '');
  t.equal(head.etag, json.etag, 'HEAD has the same validators');
  const cached = await get(HOST_A);
  t.equal(cached.etag, json.etag, 'a reply served from the reply cache carries the same ETag');
  t.equal(cached.lastModified, json.lastModified, 'and Last-Modified');
  const root = await get('/rests/data');
  t.equal(root.status, 200);
  t.match(root.etag, /^".+"$/, 'the datastore root has a tag');
  t.ok(root.lastModified);
  t.equal((await get(`${HOST_A}?depth=1`)).etag, json.etag, 'query parameters select a representation, the tag names the data');
});

t.test('a change at or under a resource changes its tag; a change elsewhere does not', async (t) => {
  const before = { a: await tagOf(HOST_A), b: await tagOf(HOST_B), reg: await tagOf(REGISTRY), root: await tagOf('/rests/data') };
  await c.data.transaction('config').put('/sextant-fixture:registry/host=a/address', '10.9.9.9').commit();
  const after = { a: await tagOf(HOST_A), b: await tagOf(HOST_B), reg: await tagOf(REGISTRY), root: await tagOf('/rests/data') };
  t.not(after.a, before.a, 'the changed resource');
  t.not(after.reg, before.reg, 'its parent');
  t.not(after.root, before.root, 'the datastore root');
  t.equal(after.b, before.b, 'a sibling keeps its tag');
  await c.data.transaction('config').put('/sextant-fixture:registry/host=a/port=2', { id: 2 }).commit();
  t.not(await tagOf(HOST_A), after.a, 'a change below the resource');
  const a2 = await tagOf(HOST_A);
  await c.data.transaction('operational').put('/sextant-fixture:registry/host=a/stats', { packets: '8' }).commit();
  t.not(await tagOf(HOST_A), a2, 'state data is part of what an RFC 8040 resource shows');
  t.equal(await tagOf(HOST_B), before.b);
  // The same data written again (a new tree, equal content) keeps the tag.
  const b = await tagOf(HOST_B);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=b', { name: 'b', address: '10.0.0.2' }).commit();
  t.equal(await tagOf(HOST_B), b, 'equal content, equal tag');
});

t.test('GET If-None-Match with the current tag: 304 without a body; after a change: 200', async (t) => {
  const first = await get(HOST_B);
  const notModified = await get(HOST_B, { 'if-none-match': first.etag! });
  t.equal(notModified.status, 304);
  t.equal(notModified.text, '', 'no body');
  t.equal(notModified.etag, first.etag, 'the 304 names the tag');
  t.equal((await get(HOST_B, { 'if-none-match': `"nope", ${first.etag!}` })).status, 304, 'any tag of a list');
  t.equal((await get(HOST_B, { 'if-none-match': `W/${first.etag!}` })).status, 304, 'weak comparison for If-None-Match');
  t.equal((await get(HOST_B, { 'if-none-match': '*' })).status, 304);
  t.equal((await call('HEAD', HOST_B, { headers: { 'if-none-match': first.etag! } })).status, 304, 'HEAD too');
  await get(HOST_B); // the reply cache now holds host=b at this revision
  await c.data.transaction('config').put('/sextant-fixture:registry/host=b/address', '10.0.0.22').commit();
  const changed = await get(HOST_B, { 'if-none-match': first.etag! });
  t.equal(changed.status, 200, 'the old tag no longer matches');
  t.match(changed.text, /10\.0\.0\.22/, 'the current data');
  t.not(changed.etag, first.etag);
  t.equal((await get(HOST_B, { 'if-none-match': changed.etag! })).status, 304, 'the new tag matches');
  const missing = await get(`${REGISTRY}/host=zz`, { 'if-none-match': '*' });
  t.equal(missing.status, 409, 'a missing resource is still missing');
});

t.test('If-Modified-Since: 304 while unmodified, 200 after a change, an invalid date is ignored', async (t) => {
  await c.data.transaction('config').put('/sextant-fixture:registry/host=ims', { name: 'ims', address: 'x' }).commit();
  // One change in this second: a client holding this second's date holds the current data.
  await sleep(1100);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=ims/address', 'y').commit();
  const p = `${REGISTRY}/host=ims`;
  const first = await get(p);
  t.equal((await get(p, { 'if-modified-since': first.lastModified! })).status, 304, 'unmodified since its own Last-Modified');
  t.equal((await get(p, { 'if-modified-since': new Date(Date.now() - 3_600_000).toUTCString() })).status, 200, 'modified since an hour ago');
  t.equal((await get(p, { 'if-modified-since': 'yesterday' })).status, 200, 'not an HTTP-date: ignored');
  t.equal((await get(p, { 'if-modified-since': first.lastModified!, 'if-none-match': '"other"' })).status, 200, 'If-None-Match takes precedence');
  await c.data.transaction('config').put('/sextant-fixture:registry/host=ims/address', 'z').commit();
  t.equal((await get(p, { 'if-modified-since': first.lastModified! })).status, 200, 'a second change in the same second counts as modified: no stale 304');
  await c.data.transaction('config').delete('/sextant-fixture:registry/host=ims').commit();
});

t.test('PUT with a stale If-Match: 412 in RFC 8040 form, nothing written; with the current tag: 204 and a new tag', async (t) => {
  const p = `${REGISTRY}/host=b/address`;
  const tag = await tagOf(HOST_B);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=b/address', '10.0.0.23').commit();
  const stale = await call('PUT', HOST_B, { headers: { 'if-match': tag }, body: { 'sextant-fixture:host': [{ name: 'b', address: 'lost' }] } });
  t.equal(stale.status, 412);
  const e = errorOf(stale);
  t.equal(e['error-tag'], 'operation-failed');
  t.equal(e['error-type'], 'protocol');
  t.equal(e['error-app-tag'], 'precondition-failed');
  t.match(e['error-message'], /If-Match/);
  t.equal(e['error-path'], "/sextant-fixture:registry/host[name='b']");
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=b/address'), '10.0.0.23', 'nothing written');
  const xml = await call('PUT', HOST_B, { headers: { 'if-match': tag, accept: 'application/yang-data+xml' }, body: { 'sextant-fixture:host': [{ name: 'b', address: 'lost' }] } });
  t.equal(xml.status, 412);
  t.match(xml.text, /<error-tag>operation-failed<\/error-tag>/, 'the XML error body');
  const current = await tagOf(HOST_B);
  const ok = await call('PUT', HOST_B, { headers: { 'if-match': current }, body: { 'sextant-fixture:host': [{ name: 'b', address: 'won' }] } });
  t.equal(ok.status, 204);
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=b/address'), 'won');
  const next = await tagOf(HOST_B);
  t.not(next, current, 'the next GET has the new tag');
  t.equal((await call('PUT', p, { headers: { 'if-match': `W/${next}` }, body: { 'sextant-fixture:address': 'weak' } })).status, 412, 'If-Match compares strongly: a weak tag never matches');
  t.equal((await call('PUT', `${REGISTRY}/host=zz`, { headers: { 'if-match': '*' }, body: { 'sextant-fixture:host': [{ name: 'zz' }] } })).status, 412, 'If-Match: * on a missing resource');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=zz'), undefined);
  t.equal((await call('PUT', HOST_B, { headers: { 'if-match': `"x", ${next}` }, body: { 'sextant-fixture:host': [{ name: 'b', address: 'listed' }] } })).status, 204, 'any tag of a list');
});

t.test('If-None-Match: * on PUT: 412 when the resource exists, 201 when it does not', async (t) => {
  const exists = await call('PUT', HOST_B, { headers: { 'if-none-match': '*' }, body: { 'sextant-fixture:host': [{ name: 'b', address: 'over' }] } });
  t.equal(exists.status, 412);
  t.match(errorOf(exists)['error-message'], /If-None-Match/);
  t.not(c.data.read('config', '/sextant-fixture:registry/host=b/address'), 'over', 'nothing written');
  const created = await call('PUT', `${REGISTRY}/host=new`, { headers: { 'if-none-match': '*' }, body: { 'sextant-fixture:host': [{ name: 'new' }] } });
  t.equal(created.status, 201);
  t.ok(c.data.read('config', '/sextant-fixture:registry/host=new'));
  const tag = await tagOf(`${REGISTRY}/host=new`);
  t.equal((await call('PUT', `${REGISTRY}/host=new`, { headers: { 'if-none-match': tag }, body: { 'sextant-fixture:host': [{ name: 'new', address: 'n' }] } })).status, 412, 'a list that matches');
  t.equal((await call('PUT', `${REGISTRY}/host=new`, { headers: { 'if-none-match': '"other"' }, body: { 'sextant-fixture:host': [{ name: 'new', address: 'n' }] } })).status, 204, 'a list that does not');
});

t.test('DELETE, PATCH (merge), YANG Patch and POST with a stale If-Match: 412, nothing changed; current: done', async (t) => {
  await c.data.transaction('config').put('/sextant-fixture:registry/host=d', { name: 'd', address: 'd0' }).commit();
  const p = `${REGISTRY}/host=d`;
  const stale = await tagOf(p);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=d/address', 'd1').commit();
  const read = () => c.data.read('config', '/sextant-fixture:registry/host=d');

  const del = await call('DELETE', p, { headers: { 'if-match': stale } });
  t.equal(del.status, 412, 'DELETE');
  t.equal(errorOf(del)['error-tag'], 'operation-failed');
  t.same(read(), { name: 'd', address: 'd1' });

  const merge = await call('PATCH', p, { headers: { 'if-match': stale }, body: { 'sextant-fixture:host': [{ name: 'd', tags: ['m'] }] } });
  t.equal(merge.status, 412, 'PATCH merge');
  t.same(read(), { name: 'd', address: 'd1' });

  const edits = { 'ietf-yang-patch:yang-patch': { 'patch-id': 'p', edit: [{ 'edit-id': '1', operation: 'merge', target: '/address', value: { 'sextant-fixture:address': 'yp' } }] } };
  const yp = await call('PATCH', p, { headers: { 'if-match': stale }, body: edits, type: 'application/yang-patch+json' });
  t.equal(yp.status, 412, 'YANG Patch');
  t.equal(errorOf(yp)['error-tag'], 'operation-failed');
  t.same(read(), { name: 'd', address: 'd1' });

  const regStale = await tagOf(REGISTRY);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=d/address', 'd2').commit();
  const post = await call('POST', REGISTRY, { headers: { 'if-match': regStale }, body: { 'sextant-fixture:host': [{ name: 'posted' }] } });
  t.equal(post.status, 412, 'POST: the precondition is on the target (parent) resource');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=posted'), undefined);

  const current = await tagOf(p);
  t.equal((await call('PATCH', p, { headers: { 'if-match': current }, body: { 'sextant-fixture:host': [{ name: 'd', tags: ['m'] }] } })).status, 200, 'PATCH with the current tag');
  const afterMerge = await tagOf(p);
  t.not(afterMerge, current);
  const ok = await call('PATCH', p, { headers: { 'if-match': afterMerge }, body: edits, type: 'application/yang-patch+json' });
  t.equal(ok.status, 200, 'YANG Patch with the current tag');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=d/address'), 'yp');
  t.equal((await call('POST', REGISTRY, { headers: { 'if-match': await tagOf(REGISTRY) }, body: { 'sextant-fixture:host': [{ name: 'posted' }] } })).status, 201, 'POST with the current tag');
  t.equal((await call('DELETE', p, { headers: { 'if-match': await tagOf(p) } })).status, 204, 'DELETE with the current tag');
  t.equal(read(), undefined);
  t.equal((await call('DELETE', `${REGISTRY}/host=posted`, { headers: { 'if-match': '"whatever"' } })).status, 412);
  t.equal((await call('DELETE', `${REGISTRY}/host=never`, { headers: { 'if-match': '"whatever"' } })).status, 409, 'preconditions are ignored when the request fails anyway (RFC 7232 5)');
});

t.test('If-Unmodified-Since: 412 when older than Last-Modified; its own Last-Modified after a quiet second: done', async (t) => {
  await c.data.transaction('config').put('/sextant-fixture:registry/host=u', { name: 'u', address: 'u0' }).commit();
  const p = `${REGISTRY}/host=u`;
  const lastModified = (await get(p)).lastModified!;
  const older = new Date(Date.parse(lastModified) - 3_600_000).toUTCString();
  const refused = await call('PUT', `${p}/address`, { headers: { 'if-unmodified-since': older }, body: { 'sextant-fixture:address': 'u1' } });
  t.equal(refused.status, 412);
  t.match(errorOf(refused)['error-message'], /If-Unmodified-Since/);
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=u/address'), 'u0', 'nothing written');
  await sleep(1100);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=u/address', 'u2').commit();
  const mine = (await get(p)).lastModified!;
  t.equal((await call('PUT', `${p}/address`, { headers: { 'if-unmodified-since': mine }, body: { 'sextant-fixture:address': 'u3' } })).status, 204, 'unmodified since the date it was read');
  t.equal((await call('PUT', `${p}/address`, { headers: { 'if-unmodified-since': mine }, body: { 'sextant-fixture:address': 'u4' } })).status, 412, 'a second write in the same second with that date: modified');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=u/address'), 'u3');
  t.equal((await call('PUT', `${p}/address`, { headers: { 'if-unmodified-since': 'last tuesday' }, body: { 'sextant-fixture:address': 'u5' } })).status, 204, 'not an HTTP-date: ignored (RFC 7232 3.4)');
  t.equal((await call('PUT', `${p}/address`, { headers: { 'if-unmodified-since': older, 'if-match': await tagOf(`${p}/address`) }, body: { 'sextant-fixture:address': 'u6' } })).status, 204, 'If-Match takes precedence over If-Unmodified-Since');
});

t.test('malformed If-Match or If-None-Match: 400 malformed-message, nothing written', async (t) => {
  const p = `${REGISTRY}/host=b/address`;
  const before = c.data.read('config', '/sextant-fixture:registry/host=b/address');
  for (const header of ['if-match', 'if-none-match']) {
    for (const value of ['abc', '"unterminated', 'W/abc', '"a" "b"', ',']) {
      const r = await call('PUT', p, { headers: { [header]: value }, body: { 'sextant-fixture:address': 'malformed' } });
      t.equal(r.status, 400, `${header}: ${value}`);
      t.equal(errorOf(r)['error-tag'], 'malformed-message');
    }
  }
  t.equal((await get(HOST_B, { 'if-none-match': 'abc' })).status, 400, 'on GET too');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=b/address'), before);
});

t.test('legacy /restconf: ETag on GET (the store in the URL), conditional writes in its own error dialect', async (t) => {
  const legacy = '/restconf/config/sextant-fixture:registry/host/b';
  const first = await get(legacy);
  t.equal(first.status, 200);
  t.match(first.etag, /^".+"$/);
  t.ok(first.lastModified);
  t.equal((await get(legacy, { 'if-none-match': first.etag! })).status, 304);
  await c.data.transaction('config').put('/sextant-fixture:registry/host=b/address', 'legacy').commit();
  const stale = await call('PUT', legacy, { headers: { 'if-match': first.etag! }, body: { host: [{ name: 'b', address: 'lost' }] } });
  t.equal(stale.status, 412);
  t.equal(errorOf(stale)['error-tag'], 'operation-failed');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=b/address'), 'legacy');
  t.equal((await call('PUT', legacy, { headers: { 'if-match': await tagOf(legacy) }, body: { host: [{ name: 'b', address: 'ok' }] } })).status, 200);
});

t.test('a guarded transaction fails with the retryable conflict when a commit it did not see changed the guarded path', async (t) => {
  const guarded = c.data.transaction('config');
  guarded.guard(parsePath(c.data.schema, '/sextant-fixture:registry/host=a'));
  guarded.put('/sextant-fixture:registry/host=g', { name: 'g' }); // elsewhere: no overlap by writes alone
  await c.data.transaction('config').put('/sextant-fixture:registry/host=a/port=9', { id: 9 }).commit();
  const refused = await guarded.commit().then(
    () => undefined,
    (e: unknown) => e as { tag?: string; retryable?: boolean },
  );
  t.equal(refused?.tag, 'in-use', 'refused with in-use');
  t.equal(refused?.retryable, true, 'retryable');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=g'), undefined, 'nothing written');
  const unguarded = c.data.transaction('config').put('/sextant-fixture:registry/host=g', { name: 'g' });
  await c.data.transaction('config').put('/sextant-fixture:registry/host=a/port=10', { id: 10 }).commit();
  await unguarded.commit();
  t.ok(c.data.read('config', '/sextant-fixture:registry/host=g'), 'without the guard the same interleaving commits');
});

t.test('no lost update: 5 clients x 40 read-modify-write increments with If-Match', async (t) => {
  await c.data.transaction('config').put('/sextant-fixture:registry/host=counter', { name: 'counter', dpn: '0' }).commit();
  const leaf = `${REGISTRY}/host=counter/dpn`;
  let acknowledged = 0;
  let refused = 0;
  let conflicts = 0;
  const client = async () => {
    for (let i = 0; i < 40; i++) {
      for (;;) {
        const r = await get(leaf);
        const value = BigInt(JSON.parse(r.text)['sextant-fixture:dpn']);
        const put = await call('PUT', leaf, { headers: { 'if-match': r.etag! }, body: { 'sextant-fixture:dpn': String(value + 1n) } });
        if (put.status === 204) {
          acknowledged++;
          break;
        }
        if (put.status === 412) refused++;
        else if (put.status === 409) conflicts++;
        else throw new Error(`unexpected ${put.status}: ${put.text}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 5 }, client));
  t.equal(acknowledged, 200);
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=counter/dpn'), '200', 'the final value is the number of acknowledged increments: no 412 or 409 wrote anything');
  t.ok(refused > 0, `clients did race (412: ${refused}, 409: ${conflicts})`);
});

t.test('the check holds up to the write: a commit between check and commit makes a conditional POST or YANG Patch fail with 409 in-use', async (t) => {
  // A commit of host=slow held in its validate phase: requests meanwhile read the snapshot
  // without it, and their commits queue behind it.
  const unregister = c.data.registerPhases({
    owner: 'etag-test',
    store: 'config',
    path: '/sextant-fixture:registry/host=slow',
    validate: async () => {
      await sleep(300);
    },
  });
  t.teardown(unregister);
  const race = async (request: (tag: string) => Promise<Answer>) => {
    const tag = await tagOf(REGISTRY);
    const slow = c.data.transaction('config').put('/sextant-fixture:registry/host=slow', { name: 'slow', address: String(Math.random()) }).commit();
    await sleep(50);
    const answer = await request(tag);
    await slow;
    return answer;
  };
  const post = await race((tag) => call('POST', REGISTRY, { headers: { 'if-match': tag }, body: { 'sextant-fixture:host': [{ name: 'raced' }] } }));
  t.equal(post.status, 409, 'POST: the registry changed after the check');
  t.equal(errorOf(post)['error-tag'], 'in-use');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=raced'), undefined, 'nothing written');
  const edits = { 'ietf-yang-patch:yang-patch': { 'patch-id': 'r', edit: [{ 'edit-id': '1', operation: 'create', target: '/host=raced', value: { 'sextant-fixture:host': [{ name: 'raced' }] } }] } };
  const yp = await race((tag) => call('PATCH', REGISTRY, { headers: { 'if-match': tag }, body: edits, type: 'application/yang-patch+json' }));
  t.equal(yp.status, 409, 'YANG Patch likewise');
  t.equal(c.data.read('config', '/sextant-fixture:registry/host=raced'), undefined, 'nothing written');
  const plain = await race(() => call('POST', REGISTRY, { body: { 'sextant-fixture:host': [{ name: 'raced' }] } }));
  t.equal(plain.status, 201, 'the same interleaving without a precondition commits: the 409 comes from the guard');
});
