/**
 * Authentication on every route: each route fastify knows (the edge's onRoute list), with every
 * method, answers 401 with a Basic challenge without credentials and with wrong ones; the
 * configured --username/--password replace admin/admin on RESTCONF and on NETCONF. And the
 * shared HTTP edge itself: a route added later by another owner is covered, X-Auth-Token when a
 * check is given, the owner's error handler renders the 401.
 */
import t from 'tap';
import pino from 'pino';
import { createHttpEdge, isUnauthorized } from '../../src/northbound/http/edge.ts';
import { testController } from '../helpers/controller.ts';
import { connect } from '../helpers/netconf.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'];

/** A concrete URL for a route pattern: wildcards and parameters filled in. */
const concrete = (pattern: string) => pattern.replace(/\*/g, 'toaster:toaster').replace(/:[A-Za-z_]+/g, 'toaster');

async function send(url: string, method: string, authorization?: string) {
  const headers: Record<string, string> = { accept: 'application/yang-data+json' };
  if (authorization) headers.authorization = authorization;
  const withBody = method === 'PUT' || method === 'POST' || method === 'PATCH';
  if (withBody) headers['content-type'] = 'application/yang-data+json';
  const r = await fetch(url, { method, headers, body: withBody ? JSON.stringify({ 'toaster:toaster': {} }) : undefined });
  return { status: r.status, challenge: r.headers.get('www-authenticate'), text: await r.text() };
}

t.test('every route and every method answers 401 without credentials and with wrong ones', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const routes = c.restconf.routes();
  const urls = [...new Set(routes.map((r) => r.url))];
  for (const must of ['/openapi.json', '/apidoc', '/apidoc/:asset', '/.well-known/host-meta', '/.well-known/host-meta.json', '/rests/data', '/rests/data/*', '/rests/operations/*', '/rests/modules/:module', '/rests/modules/:module/:revision', '/restconf/modules', '/restconf/config/*', '/restconf/operational/*', '/restconf/operations/*']) {
    t.ok(urls.includes(must), `${must} is among the routes`);
  }
  t.ok(routes.some((r) => r.method === 'HEAD' && r.url === '/rests/data/*'), "fastify's HEAD twins are listed too");
  // Unrouted URLs too: the check is not per route.
  urls.push('/no/such/resource', '/rests/nothing', '/restconf/nothing');
  let checked = 0;
  for (const pattern of urls) {
    const url = `${c.restconf.url}${concrete(pattern)}`;
    for (const method of METHODS) {
      for (const [what, auth] of [['no credentials', undefined], ['wrong password', basic('admin', 'wrong')], ['wrong user', basic('root', 'admin')], ['not Basic', 'Bearer admin']] as const) {
        const r = await send(url, method, auth);
        if (r.status !== 401 || r.challenge !== 'Basic realm="sextant"') {
          t.fail(`${method} ${pattern} with ${what}: ${r.status} ${r.challenge ?? 'no challenge'} ${r.text.slice(0, 200)}`);
        } else checked++;
        if (method !== 'HEAD' && r.text) {
          const error = JSON.parse(r.text).errors?.error?.[0];
          if (error?.['error-tag'] !== 'access-denied') t.fail(`${method} ${pattern} with ${what}: body ${r.text.slice(0, 200)}`);
        }
      }
    }
    // The same route with the right credentials is not refused (the check above can tell).
    const own = routes.find((r) => r.url === pattern);
    if (own) {
      const r = await send(url, own.method, basic('admin', 'admin'));
      t.not(r.status, 401, `${own.method} ${pattern} with admin/admin is let in (${r.status})`);
    }
  }
  t.equal(checked, urls.length * METHODS.length * 4, 'all refused with a Basic challenge');
});

t.test('--username/--password replace admin/admin on RESTCONF and NETCONF', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--username=operator', '--password=s3cr3t:pw']);
  const url = `${c.restconf.url}/rests/data/toaster:toaster`;
  t.equal((await send(url, 'GET', basic('operator', 's3cr3t:pw'))).status, 200, 'RESTCONF: the configured credentials work');
  t.equal((await send(url, 'GET', basic('admin', 'admin'))).status, 401, 'RESTCONF: admin/admin is refused');
  t.equal((await send(`${c.restconf.url}/restconf/modules`, 'GET', basic('admin', 'admin'))).status, 401, 'RESTCONF legacy: admin/admin is refused');

  const s = await connect(c.netconf.port, { user: 'operator', password: 's3cr3t:pw', t });
  t.ok(s.sessionId > 0, 'NETCONF: the configured credentials open a session');
  const reply = await s.rpc('<get-config><source><running/></source></get-config>');
  t.ok(reply.data, 'and it is served');
  await s.close();
  await t.rejects(connect(c.netconf.port, { user: 'admin', password: 'admin', t, timeoutMs: 15_000 }), 'NETCONF: admin/admin is refused');
});

t.test('the HTTP edge: later routes are covered, X-Auth-Token, the owner renders the 401', async (t) => {
  const edge = createHttpEdge({
    name: 'test-api',
    host: '127.0.0.1',
    port: 0,
    username: 'u',
    password: 'p',
    maxBody: 1024,
    token: (tok) => tok === 'good-token',
    log: pino({ level: 'silent' }),
  });
  t.teardown(() => edge.close());
  // An owner's encapsulated plugin with its own error format.
  await edge.app.register(
    async (app) => {
      app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => reply.code(isUnauthorized(err) ? 401 : (err.statusCode ?? 500)).send({ error: { code: 'mine', message: err.message } }));
      app.get('/stacks', async () => ({ stacks: [] }));
      app.post('/stacks', async (req) => ({ got: req.body }));
    },
    { prefix: '/v1' },
  );
  await edge.listen();
  t.match(edge.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(edge.port, 0, 'listening on a free port');
  t.same(
    edge.routes().filter((r) => r.url.startsWith('/v1')).map((r) => `${r.method} ${r.url}`).sort(),
    ['GET /v1/stacks', 'HEAD /v1/stacks', 'POST /v1/stacks'],
  );
  const call = async (headers: Record<string, string>, method = 'GET', body?: string) => {
    const r = await fetch(`${edge.url}/v1/stacks`, { method, headers, body });
    return { status: r.status, challenge: r.headers.get('www-authenticate'), body: await r.text() };
  };
  const refused = await call({});
  t.equal(refused.status, 401);
  t.equal(refused.challenge, 'Basic realm="sextant"');
  t.same(JSON.parse(refused.body), { error: { code: 'mine', message: 'authentication required' } }, "the owner's error handler answers");
  t.equal((await call({ 'x-auth-token': 'bad-token' })).status, 401, 'an unknown token is refused');
  t.equal((await call({ 'x-auth-token': 'good-token' })).status, 200, 'a good token is let in');
  t.equal((await call({ authorization: basic('u', 'p') })).status, 200, 'Basic works as well');
  t.equal((await call({ authorization: basic('u', 'p') + 'x' })).status, 401);
  t.equal((await call({ authorization: basic('u', 'p'), 'content-type': 'application/json' }, 'POST', JSON.stringify({ a: 'x'.repeat(2000) }))).status, 413, 'the body limit holds');
  const unknown = await fetch(`${edge.url}/elsewhere`);
  t.equal(unknown.status, 401, 'unrouted URLs are refused too');
});
