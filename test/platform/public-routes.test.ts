/**
 * A plugin-owned route may skip authentication only by saying so itself (`config: { public: true }`):
 * such routes answer without credentials, while its neighbours on the same listener, routes whose
 * config says anything but `true`, and paths no route matches still get 401. On the real
 * controller only Senlin's discovery documents and its webhook are public.
 */
import t from 'tap';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testController } from '../helpers/controller.ts';

const ops = `export default {
  name: 'ops',
  yang: ['sextant-fixture'],
  http: { ops: { port: 9912, help: 'a test API' } },
  start(ctx) {
    ctx.http('ops').register(async (app) => {
      app.setErrorHandler((err, req, reply) => reply.code(err.statusCode ?? 500).send({ fault: err.statusCode ?? 500 }));
      app.get('/open', { config: { public: true } }, async () => ({ open: true }));
      app.post('/hooks/:id', { config: { public: true } }, async (req) => ({ hook: req.params.id }));
      app.get('/closed', async () => ({ closed: true }));
      app.get('/almost', { config: { public: 'true' } }, async () => ({ almost: true }));
      app.get('/other', { config: { somethingElse: true } }, async () => ({ other: true }));
    }, { prefix: '/v1' });
    ctx.http('ops').route({ method: 'GET', url: '/root-open', config: { public: true }, handler: async () => ({ rootOpen: true }) });
    ctx.http('ops').route({ method: 'GET', url: '/root-closed', handler: async () => ({ rootClosed: true }) });
  },
};
`;

type Tap = { teardown(fn: () => unknown): void };
const basic = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

async function call(url: string, method = 'GET', headers: Record<string, string> = {}) {
  const r = await fetch(url, { method, headers });
  await r.arrayBuffer();
  return r.status;
}

t.test('only routes marked public: true skip authentication', async (t) => {
  const dir = writeFiles(tempDir(t as Tap), { 'ops/index.ts': ops, 'package.json': '{"type": "module"}' });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${dir}`, '--datastore=memory', '--ops-port=0']);
  const base = c.http.listening().get('ops')!.url;
  t.equal(await call(`${base}/v1/open`), 200, 'a public GET without credentials');
  t.equal(await call(`${base}/v1/open`, 'HEAD'), 200, "and its HEAD twin");
  t.equal(await call(`${base}/v1/hooks/abc`, 'POST'), 200, 'a public POST without credentials');
  t.equal(await call(`${base}/root-open`), 200, 'a public route added with route()');
  for (const [what, path, method] of [
    ['a route beside the public ones', '/v1/closed', 'GET'],
    ["config public: 'true' (a string)", '/v1/almost', 'GET'],
    ['another config flag', '/v1/other', 'GET'],
    ['a route added with route()', '/root-closed', 'GET'],
    ['a path no route matches', '/v1/nothing-here', 'GET'],
    ['a method the public path does not have', '/v1/open', 'DELETE'],
  ] as const) {
    t.equal(await call(`${base}${path}`, method), 401, `${what}: 401 without credentials`);
  }
  t.equal(await call(`${base}/v1/closed`, 'GET', { authorization: basic }), 200, 'the closed route with credentials');
  t.equal(await call(`${base}/v1/open`, 'GET', { authorization: 'Basic d3Jvbmc6d3Jvbmc=' }), 200, 'wrong credentials on a public route do not matter');
});

t.test("the real controller: only Senlin's discovery documents and webhook are public", async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const PUBLIC = new Set(['GET /', 'HEAD /', 'GET /v1', 'HEAD /v1', 'POST /v1/webhooks/:id/trigger']);
  const seen = new Set<string>();
  for (const [name, edge] of c.http.listening()) {
    for (const route of edge.routes()) {
      const key = `${route.method} ${route.url}`;
      const status = await call(edge.url + route.url.replace(/:[A-Za-z]+/g, 'x'), route.method);
      if (name === 'clustering' && PUBLIC.has(key)) {
        seen.add(key);
        t.not(status, 401, `${name}: ${key} answers without credentials`);
      } else t.equal(status, 401, `${name}: ${key} needs credentials`);
    }
  }
  t.same([...seen].sort(), [...PUBLIC].sort(), 'every public route was found');
});
