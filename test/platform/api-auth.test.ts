/**
 * Who may call a plugin-owned HTTP API: the northbound Basic credentials, or an `X-Auth-Token`
 * equal to `--api-token` (the password unless set), or with `--api-noauth` any non-empty token
 * (and a warning at start). Anything else is 401, in the owner's error dialect. RESTCONF takes
 * Basic only, whatever the options.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import pino from 'pino';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testConfig, testController } from '../helpers/controller.ts';
import { startController } from '../../src/controller.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

// A plugin with an API of its own and its own error body, so a 401 shows whose handler rendered it.
const ops = `export default {
  name: 'ops',
  yang: ['sextant-fixture'],
  http: { ops: { port: 9911, help: 'a test API' } },
  start(ctx) {
    ctx.http('ops').register(async (app) => {
      app.setErrorHandler((err, req, reply) => reply.code(err.statusCode ?? 500).send({ fault: { status: err.statusCode ?? 500, message: err.message } }));
      app.get('/v1/things', async () => ({ things: [] }));
      app.post('/v1/things', async (req, reply) => reply.code(201).send({ thing: req.body }));
    });
  },
};
`;

function pluginsDir(t: Tap): string {
  return writeFiles(tempDir(t), { 'ops/index.ts': ops, 'package.json': '{"type": "module"}' });
}
type Tap = { teardown(fn: () => unknown): void };

const flags = (t: Tap, more: string[] = []) => [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${pluginsDir(t)}`, '--datastore=memory', '--ops-port=0', ...more];

async function call(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const r = await fetch(url, { method, headers: { ...headers, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, body: method === 'POST' ? '{"a":1}' : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined, challenge: r.headers.get('www-authenticate') };
}

t.test('defaults: Basic or the password as X-Auth-Token; anything else 401 in the API\'s own error body', async (t) => {
  const c = await testController(t, flags(t));
  const api = c.http.listening().get('ops')!.url + '/v1/things';
  t.equal((await call(api, { authorization: basic('admin', 'admin') })).status, 200, 'Basic credentials');
  t.equal((await call(api, { 'x-auth-token': 'admin' })).status, 200, 'the token (by default the password)');
  t.equal((await call(api, { 'x-auth-token': 'admin' }, 'POST')).status, 201, 'a write with the token');
  for (const [what, headers] of [
    ['no credentials', {}],
    ['a wrong token', { 'x-auth-token': 'admin2' }],
    ['a token that is a prefix of the right one', { 'x-auth-token': 'adm' }],
    ['an empty token', { 'x-auth-token': '' }],
    ['"notused" (what --os-auth-type none sends)', { 'x-auth-token': 'notused' }],
    ['a wrong password', { authorization: basic('admin', 'nope') }],
    ['the token as a Bearer credential', { authorization: 'Bearer admin' }],
  ] as [string, Record<string, string>][]) {
    const r = await call(api, headers);
    t.equal(r.status, 401, what);
    t.same(r.json, { fault: { status: 401, message: 'authentication required' } }, `${what}: rendered by the API's error handler`);
    t.match(r.challenge, /^Basic realm=/, `${what}: with the Basic challenge`);
  }
  t.equal((await call(api, { 'x-auth-token': 'nope' }, 'POST')).status, 401, 'a write with a wrong token');

  const restconf = c.restconf.url + '/.well-known/host-meta.json';
  t.equal((await call(restconf, { authorization: basic('admin', 'admin') })).status, 200, 'RESTCONF: Basic');
  t.equal((await call(restconf, { 'x-auth-token': 'admin' })).status, 401, 'RESTCONF does not take the token');
});

t.test('--api-token: that token, not the password, as X-Auth-Token; Basic still works', async (t) => {
  const c = await testController(t, flags(t, ['--password=pw-9', '--api-token=tok-7f3a']));
  const api = c.http.listening().get('ops')!.url + '/v1/things';
  t.equal((await call(api, { 'x-auth-token': 'tok-7f3a' })).status, 200, 'the api token');
  t.equal((await call(api, { 'x-auth-token': 'pw-9' })).status, 401, 'the password is not a token any more');
  t.equal((await call(api, { 'x-auth-token': 'admin' })).status, 401, 'nor the default one');
  t.equal((await call(api, { authorization: basic('admin', 'pw-9') })).status, 200, 'Basic with the password');
  t.equal((await call(api, { authorization: basic('admin', 'tok-7f3a') })).status, 401, 'the token is no password');
  t.equal((await call(c.restconf.url + '/.well-known/host-meta.json', { 'x-auth-token': 'tok-7f3a' })).status, 401, 'RESTCONF does not take it');
});

t.test('--api-noauth: any non-empty token, a warning at start; no credentials is still 401', async (t) => {
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += chunk;
      done();
    },
  });
  const c = await startController(testConfig(t, flags(t, ['--api-noauth'])), pino({ level: 'warn' }, sink));
  t.teardown(() => c.stop());
  const edge = c.http.listening().get('ops')!;
  const warnings = logged.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string });
  const warning = warnings.find((w) => /api-noauth/.test(w.msg));
  t.ok(warning, 'a warning names the option');
  t.equal(warning?.level, 40, 'at level warn');
  t.match(warning?.msg, `ops at ${edge.url}`, 'and the APIs it opens');

  const api = edge.url + '/v1/things';
  for (const token of ['notused', 'anything', 'admin']) t.equal((await call(api, { 'x-auth-token': token })).status, 200, `token "${token}"`);
  t.equal((await call(api, { 'x-auth-token': 'notused' }, 'POST')).status, 201, 'a write with any token');
  t.equal((await call(api, { authorization: basic('admin', 'admin') })).status, 200, 'Basic still works');
  t.equal((await call(api)).status, 401, 'no credentials');
  t.equal((await call(api, { 'x-auth-token': '' })).status, 401, 'an empty token');
  t.equal((await call(api, { authorization: basic('admin', 'nope') })).status, 401, 'a wrong password');
  t.equal((await call(c.restconf.url + '/.well-known/host-meta.json', { 'x-auth-token': 'notused' })).status, 401, 'RESTCONF stays Basic-only');
});

t.test('without --api-noauth there is no such warning', async (t) => {
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += chunk;
      done();
    },
  });
  const c = await startController(testConfig(t, flags(t)), pino({ level: 'warn' }, sink));
  t.teardown(() => c.stop());
  t.notMatch(logged, /api-noauth/);
});
