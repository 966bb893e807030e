/**
 * The plugin-owned HTTP APIs (Tacker's VIMs, VNF packages and lifecycle, Senlin's clusters and
 * webhooks, OpenDaylight's Neutron northbound) keep RESTCONF's rules on every route, found by
 * walking the routes each listener has mounted rather than by a list that could fall behind: a
 * body over --restconf-max-body is 413, a JSON body nested deeper than RESTCONF's 256 levels is
 * 413 before any route parses it, and a request without credentials is 401 unless the route
 * itself says it is public. RESTCONF's own routes are walked for the size and auth rules too.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';

const MAX_BODY = 65536;
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** What the real controller serves without credentials (test/platform/public-routes.test.ts checks them). */
const PUBLIC = new Set(['clustering GET /', 'clustering HEAD /', 'clustering GET /v1', 'clustering HEAD /v1', 'clustering POST /v1/webhooks/:id/trigger']);

async function call(url: string, method: string, headers: Record<string, string>, body?: string) {
  const r = await fetch(url, { method, headers, body });
  const text = await r.text();
  return { status: r.status, text };
}

t.test('every mounted route: oversized body 413, too-deep JSON 413, no credentials 401', async (t) => {
  const c = await testController(t, ['--datastore=memory', `--restconf-max-body=${MAX_BODY}`]);
  const listeners = [...c.http.listening()].map(([name, edge]) => ({ name, url: edge.url, routes: edge.routes(), plugin: true }));
  listeners.push({ name: 'restconf', url: c.restconf.url, routes: c.restconf.routes(), plugin: false });
  t.same(listeners.map((l) => l.name).sort(), ['clustering', 'neutron', 'restconf', 'tacker'], 'every listener is walked');
  const oversized = JSON.stringify({ pad: 'x'.repeat(MAX_BODY) });
  const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
  let walked = 0;
  for (const l of listeners) {
    t.ok(l.routes.length > 0, `${l.name}: ${l.routes.length} routes`);
    for (const route of l.routes) {
      walked++;
      const key = `${l.name} ${route.method} ${route.url}`;
      const url = l.url + route.url.replace(/:[A-Za-z_]+/g, 'x').replace(/\*/g, 'x');
      // SOL013's Version header, which vnflcm checks before the body (v2 requires it).
      const version = /^\/vnflcm\/v([12])\//.exec(route.url);
      const json = { 'content-type': l.plugin ? 'application/json' : 'application/yang-data+json', ...(version ? { version: version[1] === '2' ? '2.0.0' : '1.3.0' } : {}) };
      if (!PUBLIC.has(key)) {
        const anon = await call(url, route.method, {});
        t.equal(anon.status, 401, `${key}: 401 without credentials`);
      }
      if (!BODY_METHODS.has(route.method)) continue;
      const big = await call(url, route.method, { authorization: AUTH, ...json }, oversized);
      t.equal(big.status, 413, `${key}: a ${oversized.length}-byte body is 413`);
      if (!l.plugin) continue;
      const tooDeep = await call(url, route.method, { authorization: AUTH, ...json }, deep);
      t.equal(tooDeep.status, 413, `${key}: JSON nested 300 deep is 413`);
      t.match(tooDeep.text, /nested deeper than 256/, `${key}: saying why`);
    }
  }
  t.ok(walked > 50, `${walked} routes walked`);
});
