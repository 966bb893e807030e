/**
 * Plugin-owned HTTP APIs (ctx.http): a named listener declared by the plugins that use it, its
 * port the option `--<name>-port`, routes from several plugins on one listener, the platform's
 * auth on every route and method, the body limit, and a graceful stop with the controller.
 */
import t from 'tap';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testController } from '../helpers/controller.ts';
import { usage } from '../../src/config.ts';
import { declaredOptions, discoverPlugins } from '../../src/plugin/loader.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'];

const vims = `export default {
  name: 'vims',
  yang: ['sextant-fixture'],
  http: { tacker: { port: 9890, help: 'the Tacker API' } },
  start(ctx) {
    const state = { vims: [] };
    const api = ctx.http('tacker');
    api.route({ method: 'GET', url: '/v1.0/vims', handler: async () => ({ vims: state.vims }) });
    api.route({ method: 'POST', url: '/v1.0/vims', handler: async (req, reply) => {
      state.vims.push(req.body.vim);
      return reply.code(201).send({ vim: req.body.vim });
    } });
    return state;
  },
};
`;
// A second plugin on the same listener, with its own encapsulated error dialect.
const packages = `export default {
  name: 'packages',
  http: { tacker: { port: 9890, help: 'the Tacker API' } },
  start(ctx) {
    ctx.http('tacker').register(async (app) => {
      app.setErrorHandler((err, req, reply) => reply.code(err.statusCode ?? 500).send({ title: 'error', status: err.statusCode ?? 500, detail: err.message }));
      app.get('/vnf_packages', async () => []);
      app.get('/vnf_packages/:id', async (req) => { throw Object.assign(new Error('no package ' + req.params.id), { statusCode: 404 }); });
    }, { prefix: '/vnfpkgm/v1' });
  },
};
`;
const idle = `export default { name: 'idle', http: { senlin: { port: 8777, help: 'the Senlin API' } } };`;

t.test('routes of two plugins on one named listener, behind the platform auth', async (t) => {
  const plugins = writeFiles(tempDir(t), { 'vims/index.ts': vims, 'packages/index.ts': packages, 'idle/index.ts': idle, 'package.json': '{"type": "module"}' });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory', '--tacker-port=0', '--senlin-port=0', '--restconf-max-body=2048']);
  t.same([...c.http.listening().keys()], ['tacker'], 'a declared listener nobody added routes to is not started');
  const edge = c.http.listening().get('tacker')!;
  t.not(edge.url, c.restconf.url, 'on its own port');

  const authed = (path: string, init: RequestInit = {}) => fetch(edge.url + path, { ...init, headers: { authorization: AUTH, 'content-type': 'application/json', ...init.headers } });
  t.equal((await authed('/v1.0/vims', { method: 'POST', body: JSON.stringify({ vim: { id: 'v1' } }) })).status, 201);
  t.same(await (await authed('/v1.0/vims')).json(), { vims: [{ id: 'v1' }] }, "the first plugin's routes and state");
  t.same(await (await authed('/vnfpkgm/v1/vnf_packages')).json(), [], "the second plugin's routes on the same listener");
  const missing = await authed('/vnfpkgm/v1/vnf_packages/p9');
  t.equal(missing.status, 404);
  t.same(await missing.json(), { title: 'error', status: 404, detail: 'no package p9' }, 'in its own error dialect');
  t.equal((await authed('/v1.0/vims', { method: 'POST', body: JSON.stringify({ vim: { id: 'x'.repeat(4096) } }) })).status, 413, 'the body limit holds');

  const routes = edge.routes();
  t.ok(routes.length >= 4, `routes enumerated: ${routes.map((r) => `${r.method} ${r.url}`).join(', ')}`);
  for (const r of routes) {
    const url = edge.url + r.url.replace(':id', 'p1');
    for (const method of METHODS) {
      const none = await fetch(url, { method });
      t.equal(none.status, 401, `${method} ${r.url} without credentials`);
      const wrong = await fetch(url, { method, headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
      t.equal(wrong.status, 401, `${method} ${r.url} with a wrong password`);
    }
  }
  t.match((await fetch(edge.url + '/v1.0/vims')).headers.get('www-authenticate'), /^Basic realm="sextant"/);

  await c.stop();
  await t.rejects(fetch(edge.url + '/v1.0/vims', { headers: { authorization: AUTH } }), 'the listener stops with the controller');
});

t.test('the listener port is an option; an undeclared listener is refused', async (t) => {
  const plugins = writeFiles(tempDir(t), {
    'vims/index.ts': vims,
    'sneaky/index.ts': `export default { name: 'sneaky', start(ctx) { ctx.http('tacker').route({ method: 'GET', url: '/x', handler: async () => 'x' }); } };`,
    'package.json': '{"type": "module"}',
  });
  t.match(usage(declaredOptions(await discoverPlugins(plugins))), /--tacker-port\s+the Tacker API \(env SEXTANT_TACKER_PORT, default 9890\)/, '--help lists the listener port');
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory', '--tacker-port=0']);
  t.match(c.plugins.failed, [{ name: 'sneaky', error: /uses HTTP listener "tacker" without declaring it/ }]);
  t.same(c.plugins.loaded.map((p) => p.name), ['vims']);
});
