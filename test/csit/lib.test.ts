/**
 * Unit tests of the CSIT library (no controller needed): substitution and key encoding, JSON
 * and XML normalisation, error-body reading, status checks, waitUntil, and the templated
 * requests against a throw-away local HTTP server.
 */
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  ALLOWED_STATUS_CODES,
  DELETED_STATUS_CODES,
  HttpResponse,
  Session,
  StatusError,
  basicAuth,
  deleteFromTemplate,
  encodeKey,
  expectError,
  expectStatus,
  getAsJsonAndCompare,
  getAsXmlAndCompare,
  patchFromTemplate,
  postFromTemplate,
  putFromTemplate,
  readErrors,
  readTemplate,
  resolveBody,
  resolveUri,
  substitute,
} from './lib/requests.ts';
import { canonicalJson, compareJson, normalizeJson } from './lib/json.ts';
import { canonicalXml, compareXml, parseXml } from './lib/xml.ts';
import { WaitTimeoutError, waitUntil } from './lib/wait.ts';
import { odlEnv } from './lib/env.ts';

function tempFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'csit-lib-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function writeTemplate(root: string, name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const res = (status: number, body = '', type = 'application/yang-data+json') =>
  new HttpResponse('GET', 'http://x/y', status, new Headers({ 'content-type': type }), body);

t.test('encodeKey: RFC 8040 key encoding', async (t) => {
  t.equal(encodeKey('h1'), 'h1');
  t.equal(encodeKey('a/b'), 'a%2Fb');
  t.equal(encodeKey('a,b'), 'a%2Cb', 'comma separates keys, so it is encoded');
  t.equal(encodeKey("x!'()*"), 'x%21%27%28%29%2A', "encodeURIComponent leaves !'()* alone; RFC 8040 does not");
  t.equal(encodeKey('a b=c:d'), 'a%20b%3Dc%3Ad');
  t.equal(encodeKey('é'), '%C3%A9', 'UTF-8 octets');
  t.equal(encodeKey('%'), '%25');
  t.equal(encodeKey('-_.~'), '-_.~', 'unreserved characters stay');
});

t.test('substitute: $VAR, ${VAR}, $$ and unknown names', async (t) => {
  t.equal(substitute('a $X b ${Y}c', { X: 1, Y: 'z' }), 'a 1 b zc');
  t.equal(substitute('$X$Y', { X: 'p', Y: 'q' }), 'pq');
  t.equal(substitute('cost $$5 $X', { X: 2 }), 'cost $5 2', '$$ is a literal dollar');
  t.equal(substitute('$UNKNOWN and ${ALSO}', {}), '$UNKNOWN and ${ALSO}', 'unknown names stay (safe_substitute)');
  t.equal(substitute('$NAME_2 $NAME', { NAME: 'n', NAME_2: 'm' }), 'm n', 'longest identifier wins');
  t.equal(substitute('${NAME}_2', { NAME: 'n' }), 'n_2', 'braces delimit');
  t.equal(substitute('$X', { X: 10n }), '10', 'bigint');
  t.equal(substitute('$X', { X: false }), 'false', 'boolean');
  t.equal(substitute('5 $ 6', {}), '5 $ 6', 'a lone dollar stays');
});

t.test('resolveUri encodes values, resolveBody does not', async (t) => {
  t.equal(
    resolveUri('/rests/data/sextant-fixture:registry/host=$NAME/port=$PORT\n', { NAME: 'a/b', PORT: 7 }),
    '/rests/data/sextant-fixture:registry/host=a%2Fb/port=7',
  );
  t.equal(resolveUri('/rests/data/fx:registry/link=$SRC,$DST', { SRC: 'x,y', DST: 'q(1)' }), '/rests/data/fx:registry/link=x%2Cy,q%281%29');
  t.equal(resolveUri('/restconf/config/fx:registry/link/$SRC/$DST', { SRC: 'a/b', DST: 'c' }), '/restconf/config/fx:registry/link/a%2Fb/c');
  t.equal(resolveBody('{"name":"$NAME","id":$ID}', { NAME: 'a/b"c', ID: 3 }), '{"name":"a/b"c","id":3}', 'verbatim, even quotes');
  t.equal(resolveBody('<name>$NAME</name>', { NAME: 'a&b' }), '<name>a&b</name>');
});

t.test('readTemplate reads the folder files', async (t) => {
  const root = tempFolder();
  const dir = writeTemplate(root, 'host', {
    'location.uri': '/rests/data/m:top/item=$NAME\n',
    'data.json': '{"m:item":[{"name":"$NAME"}]}\n',
    'data.xml': '<item xmlns="urn:m"><name>$NAME</name></item>\n',
    'post_data.json': '{"m:item":[{"name":"$NAME"}]}\n\n',
    'response.json': '{"m:item":[{"name":"$NAME","x":1}]}\n',
    status: '201 204\n',
    'normalize.json': '{"unorderedLists":["tags"]}\n',
  });
  const tpl = readTemplate(dir);
  t.equal(tpl.uri, '/rests/data/m:top/item=$NAME');
  t.equal(tpl.data.json, '{"m:item":[{"name":"$NAME"}]}', 'one final newline dropped');
  t.equal(tpl.data.xml, '<item xmlns="urn:m"><name>$NAME</name></item>');
  t.equal(tpl.postData.json, '{"m:item":[{"name":"$NAME"}]}\n', 'only one newline dropped');
  t.equal(tpl.response.json, '{"m:item":[{"name":"$NAME","x":1}]}');
  t.equal(tpl.response.xml, undefined);
  t.strictSame(tpl.status, [201, 204]);
  t.strictSame(tpl.normalize, { unorderedLists: ['tags'] });
  const bare = writeTemplate(root, 'bare', { 'location.uri': '/x' });
  t.equal(readTemplate(bare).status, undefined);
  t.throws(() => readTemplate(join(root, 'missing')), /no location.uri/);
  const bad = writeTemplate(root, 'bad', { 'location.uri': '/x', status: '20x' });
  t.throws(() => readTemplate(bad), /bad status/);
  t.match(readTemplate('rests/host').folder, /test\/csit\/restconf\/rests\/host$/, 'relative folders are under test/csit/restconf');
});

t.test('JSON normalisation', async (t) => {
  t.equal(compareJson('{"b":1,"a":{"y":2,"x":3}}', { a: { x: 3, y: 2 }, b: 1 }), undefined, 'member order is irrelevant');
  t.match(compareJson('{"a":[1,2]}', { a: [2, 1] }), /JSON differs/, 'arrays are ordered by default');
  t.equal(compareJson('{"a":[1,2]}', { a: [2, 1] }, { unorderedLists: true }), undefined, 'unless all are sets');
  t.equal(compareJson('{"m:tags":["b","a"]}', { 'm:tags': ['a', 'b'] }, { unorderedLists: ['tags'] }), undefined, 'named member, prefix ignored');
  t.match(compareJson('{"m:order":["b","a"]}', { 'm:order': ['a', 'b'] }, { unorderedLists: ['tags'] }), /JSON differs/, 'other members keep order');
  t.match(compareJson('{"id":7}', { id: '7' }), /JSON differs/, 'number and numeric string differ');
  t.match(compareJson('{"id":"7"}', { id: 7 }), /JSON differs/, 'both ways');
  t.match(compareJson('{"a":null}', { a: [null] }), /JSON differs/, 'empty leaf [null] is not null');
  t.match(compareJson('{"a":true}', { a: 'true' }), /JSON differs/, 'boolean and string differ');
  t.match(compareJson('{"a":1}', { a: 1, b: 2 }), /JSON differs/, 'missing member');
  t.match(compareJson('not json', {}), /not JSON/);
  // List entries that are objects with shuffled members sort the same way.
  const actual = { 'm:top': { item: [{ v: 2, name: 'b' }, { name: 'a', v: 1 }] } };
  const expected = { 'm:top': { item: [{ name: 'a', v: 1 }, { name: 'b', v: 2 }] } };
  t.equal(compareJson(actual, expected, { unorderedLists: ['item'] }), undefined, 'sets of objects');
  t.strictSame(normalizeJson({ b: [3, 1], a: 1 }, { unorderedLists: true }), { a: 1, b: [1, 3] });
  t.equal(Object.keys(normalizeJson({ b: 1, a: 2 }) as object).join(), 'a,b');
  t.equal(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
});

t.test('XML normalisation', async (t) => {
  const a = '<host xmlns="urn:fx"><name>h1</name><colour xmlns:fx="urn:fx">fx:red</colour></host>';
  const b = `<?xml version="1.0"?>\n<x:host xmlns:x="urn:fx">\n  <x:name> h1 </x:name>\n  <x:colour>x:red</x:colour>\n</x:host>`;
  t.equal(compareXml(a, b), undefined, 'prefixes, whitespace and identityref prefixes do not matter');
  t.match(compareXml(a, a.replace('urn:fx"><name', 'urn:other"><name')), /XML differs/, 'namespace matters');
  t.match(compareXml('<a xmlns="u"><b>1</b><c>2</c></a>', '<a xmlns="u"><c>2</c><b>1</b></a>'), /XML differs/, 'order matters by default');
  t.equal(compareXml('<a xmlns="u"><b>1</b><c>2</c></a>', '<a xmlns="u"><c>2</c><b>1</b></a>', { unordered: ['a'] }), undefined);
  t.equal(compareXml('<a xmlns="u"><b>1</b><c>2</c></a>', '<a xmlns="u"><c>2</c><b>1</b></a>', { unordered: true }), undefined);
  t.equal(compareXml('<a xmlns="u"><b>x:y</b></a>', '<a xmlns="u"><b>x:y</b></a>'), undefined, 'unbound prefix text compared as is');
  t.equal(compareXml('<a xmlns="u" z="1" y="2"/>', '<a y="2" z="1" xmlns="u"></a>'), undefined, 'attribute order');
  t.match(compareXml('<a>', '<a/>'), /not XML/);
  t.throws(() => parseXml('<a><b></a>'), /malformed XML/);
  t.throws(() => parseXml(''), /malformed XML/);
  t.throws(() => parseXml('<!DOCTYPE a><a/>', { rejectDoctype: true }), /DOCTYPE/);
  t.equal(parseXml('<!DOCTYPE a><a/>').name, 'a');
  const el = parseXml('<p:a xmlns:p="urn:p"><p:b>t</p:b></p:a>');
  t.equal(el.ns, 'urn:p');
  t.equal(el.children[0].name, 'b');
  t.equal(el.children[0].ns, 'urn:p');
  t.equal(canonicalXml('<a xmlns="u"> <b>1</b> </a>'), canonicalXml('<a xmlns="u"><b>1</b></a>'));
});

t.test('readErrors and expectError: JSON and XML error bodies', async (t) => {
  const json = JSON.stringify({
    errors: { error: [{ 'error-type': 'protocol', 'error-tag': 'malformed-message', 'error-message': 'bad' }] },
  });
  t.strictSame(readErrors(json), [{ 'error-type': 'protocol', 'error-tag': 'malformed-message', 'error-message': 'bad' }]);
  t.equal(readErrors(JSON.stringify({ 'ietf-restconf:errors': { error: [{ 'error-tag': 'x' }] } }))[0]['error-tag'], 'x');
  const xml =
    '<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>application</error-type>' +
    '<error-tag>data-missing</error-tag><error-path xmlns:fx="urn:fx">/fx:registry</error-path></error></errors>';
  t.strictSame(readErrors(xml), [{ 'error-type': 'application', 'error-tag': 'data-missing', 'error-path': '/fx:registry' }]);
  t.throws(() => readErrors('{"a":1}'), /not a RESTCONF errors document/);
  t.throws(() => readErrors('<errors xmlns="urn:other"/>'), /not a RESTCONF errors document/);
  t.throws(() => readErrors('oops'), /neither JSON nor XML/);

  t.equal(expectError(res(400, json), 400, 'malformed-message')['error-message'], 'bad');
  t.equal(expectError(res(409, xml), [404, 409], ['data-missing', 'in-use'])['error-tag'], 'data-missing');
  t.throws(() => expectError(res(400, json), 409, 'malformed-message'), StatusError);
  t.throws(() => expectError(res(400, json), 400, 'invalid-value'), /expected error-tag invalid-value/);
  t.throws(() => expectError(res(400, '{"errors":{"error":[]}}'), 400), /no error/);
  t.throws(() => expectError(res(400, '{"errors":{"error":[{"error-tag":"x"}]}}'), 400), /without error-type/);
});

t.test('expectStatus and the allow-lists', async (t) => {
  t.strictSame(ALLOWED_STATUS_CODES, [200, 201, 204]);
  t.strictSame(DELETED_STATUS_CODES, [404, 409]);
  t.equal(expectStatus(res(204), ALLOWED_STATUS_CODES).status, 204);
  t.equal(expectStatus(res(409), DELETED_STATUS_CODES).status, 409);
  const e = t.throws(() => expectStatus(res(500, 'boom'), ALLOWED_STATUS_CODES)) as unknown as StatusError;
  t.ok(e instanceof StatusError);
  t.match(e.message, /expected status 200\|201\|204, got GET http:\/\/x\/y -> 500/);
  t.match(e.message, /boom/, 'the body is in the message');
  t.equal(basicAuth({ user: 'admin', password: 'admin' }), 'Basic YWRtaW46YWRtaW4=');
});

t.test('waitUntil', async (t) => {
  let n = 0;
  const v = await waitUntil(2000, 5, async () => {
    n++;
    if (n < 3) throw new Error(`not yet ${n}`);
    return 'done';
  });
  t.equal(v, 'done');
  t.equal(n, 3, 'retried until it succeeded');

  let m = 0;
  t.equal(await waitUntil(2000, 5, () => ++m >= 2), true, 'false counts as failure, true as success');
  t.equal(m, 2);

  t.equal(await waitUntil(0, 5, () => 'once'), 'once', 'runs at least once even with no time');

  let k = 0;
  const started = Date.now();
  const err = await waitUntil(60, 10, () => {
    k++;
    throw new Error(`attempt ${k}`);
  }).catch((e: unknown) => e);
  t.ok(err instanceof WaitTimeoutError, 'times out');
  const w = err as WaitTimeoutError;
  t.match(w.message, new RegExp(`last error: attempt ${k}$`), 'carries the last error');
  t.equal(w.attempts, k);
  t.ok(k >= 2, 'retried');
  t.ok(Date.now() - started < 1000, 'stopped near the timeout');
  t.equal((w.lastError as Error).message, `attempt ${k}`);

  const f = await waitUntil(20, 5, () => false).catch((e: unknown) => e);
  t.match((f as Error).message, /check returned false/);
});

t.test('odlEnv reads the CSIT variables', async (t) => {
  t.strictSame(odlEnv({}), { credentials: { user: 'admin', password: 'admin' } });
  t.strictSame(odlEnv({ ODL_SYSTEM_IP: '10.0.0.5', RESTCONFPORT: '8282', ODL_RESTCONF_USER: 'u', ODL_RESTCONF_PASSWORD: 'p' }), {
    baseUrl: 'http://10.0.0.5:8282',
    credentials: { user: 'u', password: 'p' },
  });
  t.equal(odlEnv({ ODL_SYSTEM_IP: '127.0.0.1' }).baseUrl, 'http://127.0.0.1:8181', 'port defaults to 8181');
  t.equal(odlEnv({ ODL_SYSTEM_IP: '::1' }).baseUrl, 'http://[::1]:8181', 'IPv6 in brackets');
});

t.test('templated requests against a local HTTP server', async (t) => {
  interface Seen {
    method: string;
    url: string;
    auth?: string;
    type?: string;
    accept?: string;
    body: string;
  }
  const seen: Seen[] = [];
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let b = '';
      req.on('data', (d) => (b += d));
      req.on('end', () => resolve(b));
    });
  const server = createServer(async (req, reply) => {
    const body = await read(req);
    seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, type: req.headers['content-type'], accept: req.headers.accept, body });
    if (req.headers.authorization !== basicAuth({ user: 'admin', password: 'admin' })) {
      reply.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
      return;
    }
    if (req.method === 'GET' && req.headers.accept === 'application/yang-data+xml') {
      reply.writeHead(200, { 'content-type': 'application/yang-data+xml' }).end('<item xmlns="urn:m"><tags>b</tags><name>a/b</name></item>');
      return;
    }
    if (req.method === 'GET') {
      reply.writeHead(200, { 'content-type': 'application/yang-data+json' }).end('{"m:item":[{"tags":["b","a"],"name":"a/b","n":7}]}');
      return;
    }
    if (req.method === 'POST' && req.url === '/rests/operations/m:echo') {
      reply.writeHead(200, { 'content-type': 'application/yang-data+json' }).end(body.replace('m:input', 'm:output'));
      return;
    }
    if (req.method === 'DELETE') {
      reply.writeHead(409, { 'content-type': 'application/yang-data+json' }).end('{"errors":{"error":[{"error-type":"protocol","error-tag":"data-missing"}]}}');
      return;
    }
    reply.writeHead(req.method === 'PUT' ? 201 : req.method === 'PATCH' ? 200 : 204).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const session = new Session(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);

  const root = tempFolder();
  const dir = writeTemplate(root, 'item', {
    'location.uri': '/rests/data/m:top/item=$NAME\n',
    'data.json': '{"m:item":[{"name":"$NAME","tags":["a","b"],"n":$N}]}\n',
    'data.xml': '<item xmlns="urn:m"><name>$NAME</name><tags>b</tags></item>\n',
    'post_data.json': '{"m:other":{}}\n',
    'normalize.json': '{"unorderedLists":["tags"]}\n',
  });
  const mapping = { NAME: 'a/b', N: 7 };

  const put = await putFromTemplate(dir, mapping, { session });
  t.equal(put.status, 201);
  t.strictSame(seen.at(-1), {
    method: 'PUT',
    url: '/rests/data/m:top/item=a%2Fb',
    auth: 'Basic YWRtaW46YWRtaW4=',
    type: 'application/yang-data+json',
    accept: 'application/yang-data+json',
    body: '{"m:item":[{"name":"a/b","tags":["a","b"],"n":7}]}',
  });
  await putFromTemplate(dir, mapping, { session, format: 'xml' });
  t.equal(seen.at(-1)!.type, 'application/yang-data+xml');
  t.equal(seen.at(-1)!.body, '<item xmlns="urn:m"><name>a/b</name><tags>b</tags></item>');

  await postFromTemplate(dir, mapping, { session });
  t.equal(seen.at(-1)!.body, '{"m:other":{}}', 'POST prefers post_data');
  await patchFromTemplate(dir, mapping, { session, query: 'x=1' });
  t.equal(seen.at(-1)!.url, '/rests/data/m:top/item=a%2Fb?x=1');

  await t.rejects(putFromTemplate(dir, mapping, { session, allowed: [204] }), StatusError, 'status outside the allow-list fails');

  const got = await getAsJsonAndCompare(dir, mapping, { session });
  t.strictSame(got, { 'm:item': [{ tags: ['b', 'a'], name: 'a/b', n: 7 }] }, 'tags as a set, members in any order');
  await t.rejects(getAsJsonAndCompare(dir, { NAME: 'a/b', N: '"7"' }, { session }), /JSON differs/, '7 is not "7"');
  await t.rejects(getAsJsonAndCompare(dir, mapping, { session, normalize: {} }), /JSON differs/, 'ordered without the option');
  await getAsXmlAndCompare(dir, mapping, { session, normalize: { unordered: true } });
  await t.rejects(getAsXmlAndCompare(dir, mapping, { session }), /XML differs/);

  const del = await deleteFromTemplate(dir, mapping, { session, allowed: DELETED_STATUS_CODES });
  t.equal(expectError(del, 409, 'data-missing')['error-type'], 'protocol');
  await t.rejects(deleteFromTemplate(dir, mapping, { session }), StatusError, 'data-missing is not in ALLOWED_STATUS_CODES');

  const noAuth = await session.get('/x', { auth: null });
  t.equal(noAuth.status, 401);
  t.equal(seen.at(-1)!.auth, undefined, 'no Authorization header');
  const wrong = await session.get('/x', { auth: { user: 'admin', password: 'nope' } });
  t.equal(wrong.status, 401);
  t.equal(wrong.headers.get('www-authenticate'), 'Basic realm="x"');

  await t.rejects(putFromTemplate(dir, mapping), /no default session/, 'no default session before one is set');

  const op = writeTemplate(root, 'echo', {
    'location.uri': '/rests/operations/m:echo\n',
    'data.json': '{"m:input": {"big": "$BIG"}}\n',
    'response.json': '{"m:output": {"big": "$BIG"}}\n',
    status: '200\n',
  });
  const echoed = await postFromTemplate(op, { BIG: '18446744073709551615' }, { session, verify: true });
  t.equal(echoed.status, 200, 'verify: the answer matches response.json');
  const wrongOp = writeTemplate(root, 'echo-wrong', {
    'location.uri': '/rests/operations/m:echo\n',
    'data.json': '{"m:input": {"big": "$BIG"}}\n',
    'response.json': '{"m:output": {"big": $BIG}}\n',
  });
  await t.rejects(postFromTemplate(wrongOp, { BIG: '5' }, { session, verify: true }), /JSON differs/, 'verify: "5" is not 5');
  await t.rejects(postFromTemplate(dir, mapping, { session, verify: true }), /no response.json to verify against/);
});
