/**
 * RESTCONF request spans (route, method, status) with the datastore commit and rpc spans nested
 * in them; RESTCONF over HTTPS with --restconf-tls-cert/--restconf-tls-key.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { testController } from '../helpers/controller.ts';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir } from '../helpers/tmp.ts';

const YANG = `--yang-dir=${join(import.meta.dirname, '../../yang')},${FIXTURE_YANG}`;
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };

t.test('each request is a span with route, method and status; commit and rpc spans nest in it', async (t) => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(provider);
  t.teardown(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });
  const c = await testController(t, ['--datastore=memory', YANG]);
  exporter.reset();
  const put = await fetch(`${c.restconf.url}/rests/data/sextant-fixture:registry/host=h1`, {
    method: 'PUT',
    headers: { ...AUTH, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({ 'sextant-fixture:host': [{ name: 'h1' }] }),
  });
  t.equal(put.status, 201);
  const rpc = await fetch(`${c.restconf.url}/rests/operations/toaster:restock-toaster`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({ 'toaster:input': { amountOfBreadToStock: 1 } }),
  });
  t.equal(rpc.status, 204);
  const spans = exporter.getFinishedSpans();
  const putSpan = spans.find((s) => s.name === 'PUT /rests/data/*');
  t.ok(putSpan, 'the PUT has a request span named by its route');
  t.equal(putSpan?.attributes['http.request.method'], 'PUT');
  t.equal(putSpan?.attributes['http.response.status_code'], 201);
  const commit = spans.find((s) => s.name === 'datastore.commit config');
  t.equal(commit?.parentSpanContext?.spanId, putSpan?.spanContext().spanId, 'the commit span is a child of the request span');
  const rpcReq = spans.find((s) => s.name === 'POST /rests/operations/*');
  const rpcSpan = spans.find((s) => s.name === 'rpc toaster:restock-toaster');
  t.equal(rpcSpan?.parentSpanContext?.spanId, rpcReq?.spanContext().spanId, 'the rpc span is a child of its request span');
  t.equal(rpcReq?.attributes['http.response.status_code'], 204);
});

t.test('RESTCONF over TLS', async (t) => {
  const dir = tempDir(t);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const c = await testController(t, ['--datastore=memory', `--restconf-tls-cert=${cert}`, `--restconf-tls-key=${key}`]);
  t.match(c.restconf.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${c.restconf.url}/rests/data/toaster:toaster`, { headers: AUTH, ca: readFileSync(cert) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(status, 200, 'the request succeeds against the configured certificate');
  t.match(JSON.parse(body), { 'toaster:toaster': { toasterStatus: 'up' } });
});
