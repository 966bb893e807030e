/**
 * --otlp-endpoint: traces exported over OTLP/HTTP to a real receiver the test starts (an HTTP
 * server decoding the JSON payloads the exporter sends to /v1/traces): RESTCONF request spans
 * with their route, method and status, the rpc and commit spans nested in them, the resource
 * naming the service and the member; the last spans flushed when the controller stops; a second
 * controller in the same process exporting to its own receiver; bad endpoints refused.
 */
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { testController } from '../helpers/controller.ts';
import { FIXTURE_YANG } from '../helpers/fixture.ts';

const YANG = `--yang-dir=${join(import.meta.dirname, '../../yang')},${FIXTURE_YANG}`;
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
const JSON_BODY = { ...AUTH, 'content-type': 'application/yang-data+json' };

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };

interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  resource: Record<string, string | number | boolean | undefined>;
}

const valueOf = (v: AnyValue) => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue;
const attrs = (list: KeyValue[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** An OTLP/HTTP trace receiver on a free loopback port: what it was sent, decoded. */
async function startReceiver(t: { teardown(fn: () => unknown): void }) {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.push(String(req.headers['content-type']));
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource?: { attributes?: KeyValue[] }; scopeSpans: { spans: { name: string; traceId: string; spanId: string; parentSpanId?: string; kind: number; attributes?: KeyValue[] }[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) spans.push({ name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, kind: s.kind, attributes: attrs(s.attributes), resource });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  t.teardown(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, contentTypes, close };
}

t.test('RESTCONF, rpc and commit spans reach the OTLP/HTTP receiver, with the resource; the last ones are flushed at stop', async (t) => {
  const receiver = await startReceiver(t);
  const c = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG, `--otlp-endpoint=${receiver.url}/`, '--member-id=otlp-member-1']);
  const put = await fetch(`${c.restconf.url}/rests/data/sextant-fixture:registry/host=h1`, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify({ 'sextant-fixture:host': [{ name: 'h1' }] }) });
  t.equal(put.status, 201);
  const rpc = await fetch(`${c.restconf.url}/rests/operations/toaster:restock-toaster`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ 'toaster:input': { amountOfBreadToStock: 2 } }) });
  t.equal(rpc.status, 204);
  const missing = await fetch(`${c.restconf.url}/restconf/config/sextant-fixture:registry/host/nobody`, { headers: AUTH });
  t.equal(missing.status, 404);
  await c.stop();

  t.ok(receiver.contentTypes.length > 0 && receiver.contentTypes.every((ct) => ct.startsWith('application/json')), 'OTLP/HTTP with JSON payloads');
  const one = (name: string) => {
    const found = receiver.spans.filter((s) => s.name === name);
    t.equal(found.length, 1, `one span named ${name}`);
    return found[0];
  };
  const putSpan = one('PUT /rests/data/*');
  t.match(putSpan.attributes, { 'http.request.method': 'PUT', 'http.route': '/rests/data/*', 'http.response.status_code': 201, 'url.path': '/rests/data/sextant-fixture:registry/host=h1' });
  t.equal(putSpan.kind, 2, 'a server span (SPAN_KIND_SERVER)');
  t.match(putSpan.resource, { 'service.name': 'sextant', 'service.instance.id': 'otlp-member-1' }, 'the resource names the service and the member');
  const commit = receiver.spans.find((s) => s.name === 'datastore.commit config' && s.parentSpanId === putSpan.spanId);
  t.ok(commit, 'the commit span is a child of the request span');
  t.equal(commit?.traceId, putSpan.traceId, 'in the same trace');
  const post = one('POST /rests/operations/*');
  t.equal(post.attributes['http.response.status_code'], 204);
  const rpcSpan = one('rpc toaster:restock-toaster');
  t.equal(rpcSpan.parentSpanId, post.spanId, 'the rpc span is a child of its request span');
  t.equal(rpcSpan.attributes['rpc.method'], 'toaster:restock-toaster');
  const get = one('GET /restconf/config/*');
  t.match(get.attributes, { 'http.route': '/restconf/config/*', 'http.response.status_code': 404 });
});

t.test('a second controller in the process exports to its own receiver once the first has stopped', async (t) => {
  const first = await startReceiver(t);
  const a = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG, `--otlp-endpoint=${first.url}`, '--member-id=otlp-a']);
  await fetch(`${a.restconf.url}/rests/data`, { headers: AUTH });
  await a.stop();
  const seenByFirst = first.spans.length;
  t.ok(first.spans.some((s) => s.name === 'GET /rests/data'), 'the first controller exported');

  const second = await startReceiver(t);
  const b = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG, `--otlp-endpoint=${second.url}`, '--member-id=otlp-b']);
  const put = await fetch(`${b.restconf.url}/rests/data/sextant-fixture:registry/host=h2`, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify({ 'sextant-fixture:host': [{ name: 'h2' }] }) });
  t.equal(put.status, 201);
  await b.stop();
  const putSpan = second.spans.find((s) => s.name === 'PUT /rests/data/*');
  t.ok(putSpan, 'the second receiver got the PUT');
  t.equal(putSpan?.resource['service.instance.id'], 'otlp-b');
  t.ok(second.spans.some((s) => s.name === 'datastore.commit config' && s.parentSpanId === putSpan?.spanId), 'with its commit nested');
  t.equal(first.spans.length, seenByFirst, 'the first receiver got nothing of the second controller');
});

t.test('a collector that is down costs the controller nothing but the lost spans', async (t) => {
  const gone = await startReceiver(t);
  // A port that was just free: nothing listens there once the receiver is closed.
  const url = gone.url;
  await gone.close();
  const c = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG, `--otlp-endpoint=${url}`]);
  const put = await fetch(`${c.restconf.url}/rests/data/sextant-fixture:registry/host=h3`, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify({ 'sextant-fixture:host': [{ name: 'h3' }] }) });
  t.equal(put.status, 201, 'requests are served');
  await c.stop();
  t.pass('and the controller stops');
});

t.test('--otlp-endpoint and SEXTANT_OTLP_ENDPOINT: an http(s) URL, anything else stops start-up', async (t) => {
  t.equal(loadConfig([], { SEXTANT_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).otlpEndpoint, 'http://127.0.0.1:4318', 'read from the environment');
  t.equal(loadConfig(['--otlp-endpoint=https://collector.example:4318'], { SEXTANT_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).otlpEndpoint, 'https://collector.example:4318', 'the flag wins');
  t.equal(loadConfig([], {}).otlpEndpoint, '', 'unset by default: no export');
  for (const bad of ['127.0.0.1:4318', 'grpc://127.0.0.1:4317', 'not a url']) {
    t.throws(() => loadConfig([`--otlp-endpoint=${bad}`]), ConfigError, `"${bad}" refused`);
  }
  t.throws(() => loadConfig(['--otlp-endpoint=grpc://h:4317']), /otlp-endpoint must be an http\(s\) URL such as http:\/\/127\.0\.0\.1:4318, got "grpc:\/\/h:4317"/);
});
