/**
 * Tacker's /v1.0/vims API over raw HTTP (X-Auth-Token, as python-tackerclient sends it): register,
 * list with server-side filters, show, update and delete, each checked against the datastore;
 * the secrets never come back (in no API answer, not in RESTCONF); bad input is answered in
 * Tacker's error body with its status, and nothing is written.
 */
import t from 'tap';
import { startVimServer } from '../helpers/vim-server.ts';
import { testController } from '../helpers/controller.ts';
import { waitUntil } from '../helpers/process.ts';
import { statePath, VIMS, vimPath } from '../../plugins/vim-monitor/model.ts';
import { ANY } from '../../src/yang/binding.ts';
import { YangError } from '../../src/errors.ts';

const TOKEN = 'tacker-test-token-5c1e';
const PASSWORD = 'clear-text-password-9d2f';
const BEARER = 'clear-text-bearer-token-77aa';
const BASIC = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Tap = { teardown(fn: () => unknown): void };

/** A stand-in for a VIM's Keystone on a free loopback port (test/helpers/vim-server.ts). */
const vimEndpoint = async (t: Tap) => (await startVimServer(t)).url('/identity/v3/secure');

async function tacker(t: Tap) {
  const c = await testController(t, ['--plugins=vim-monitor', '--datastore=memory', `--api-token=${TOKEN}`]);
  const base = c.http.listening().get('tacker')!.url;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-auth-token': TOKEN }) => {
    const r = await fetch(base + path, {
      method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: r.status, text, json };
  };
  return { c, call };
}

/** The body `openstack vim register` sends (python-tackerclient 1.12), with our values. */
function registration(name: string, authUrl: string, more: Record<string, unknown> = {}) {
  return {
    vim: {
      auth_url: authUrl,
      type: 'openstack',
      vim_project: { name: 'nfv', project_domain_name: 'Default' },
      auth_cred: { username: 'nfv_user', password: PASSWORD, user_domain_name: 'Default', cert_verify: 'True' },
      name,
      description: `${name} for tests`,
      is_default: false,
      ...more,
    },
  };
}

/** What of the secrets (or of the fields that would carry them) a text gives away. */
const leaks = (text: string) => [PASSWORD, BEARER, 'password', 'bearer_token', 'bearer-token', 'encrypted'].filter((s) => text.includes(s));

t.test('register, list, filter, show, update and delete over raw HTTP', async (t) => {
  const authUrl = await vimEndpoint(t);
  const { c, call } = await tacker(t);

  const created = await call('POST', '/v1.0/vims.json', registration('vim-a', authUrl));
  t.equal(created.status, 201, 'register: 201');
  const a = created.json.vim;
  t.match(a.id, UUID, 'a UUID id');
  t.same(a, {
    id: a.id,
    name: 'vim-a',
    description: 'vim-a for tests',
    type: 'openstack',
    auth_url: authUrl,
    vim_project: { name: 'nfv', project_domain_name: 'Default' },
    auth_cred: { username: 'nfv_user', user_domain_name: 'Default', cert_verify: 'True' },
    status: 'PENDING',
    is_default: false,
    tenant_id: 'sextant',
    placement_attr: { regions: [] },
    extra: {},
  }, 'the vim as Tacker shows it');
  t.same(leaks(created.text), [], 'the POST answer: no secret, no secret field');
  const entry = c.data.read('config', vimPath(a.id))!;
  t.match(entry, { 'vim-id': a.id, name: 'vim-a', type: 'openstack', 'auth-url': authUrl, project: { name: 'nfv', 'domain-name': 'Default' }, 'auth-cred': { username: 'nfv_user', 'user-domain-name': 'Default', 'cert-verify': true } }, 'the config entry');
  t.match(entry['auth-cred']!['encrypted-secret'], /^v1:/, 'the password sealed into encrypted-secret');
  t.equal(entry['auth-cred']!.password, undefined, 'and not stored in clear');
  t.equal(entry.monitor, undefined, "monitoring keeps the model's defaults");

  // The monitor probes the endpoint; the API shows what it found.
  await waitUntil('vim-a is reachable', () => c.data.read('operational', statePath(a.id))?.status === 'REACHABLE', 10_000);
  t.equal((await call('GET', `/v1.0/vims/${a.id}`)).json.vim.status, 'REACHABLE', 'status from the operational state');

  const k8s = await call('POST', '/v1.0/vims', {
    vim: { name: 'vim-k', type: 'kubernetes', auth_url: authUrl.replace('/identity/v3', '/'), vim_project: { name: 'default' }, auth_cred: { bearer_token: BEARER }, is_default: true, tenant_id: 'project-7' },
  });
  t.equal(k8s.status, 201, 'a kubernetes VIM with a bearer token, without .json');
  const k = k8s.json.vim;
  t.match(k, { name: 'vim-k', type: 'kubernetes', is_default: true, tenant_id: 'project-7', auth_cred: { username: '', cert_verify: 'True' } }, 'the kubernetes VIM as shown');
  t.same(leaks(k8s.text), [], 'the POST answer (bearer token): no secret, no secret field');

  const all = await call('GET', '/v1.0/vims.json');
  t.equal(all.status, 200, 'list: 200');
  t.same(all.json.vims.map((v: { name: string }) => v.name).sort(), ['vim-a', 'vim-k'], 'list: both');
  t.same(leaks(all.text), [], 'the list: no secret, no secret field');
  // The monitor may move a VIM from PENDING to REACHABLE between the two reads: status aside.
  const statusAside = (body: { vims: Record<string, unknown>[] }) => body.vims.map(({ status: _status, ...rest }) => rest);
  t.same(statusAside((await call('GET', '/v1.0/vims')).json), statusAside((await call('GET', '/v1.0/vims.json')).json), 'the same without .json');
  const ids = async (query: string) => (await call('GET', `/v1.0/vims.json?${query}`)).json.vims.map((v: { id: string }) => v.id);
  t.same(await ids('name=vim-a&fields=id'), [a.id], 'filter by name (the CLI lookup)');
  t.same((await call('GET', '/v1.0/vims.json?name=vim-a&fields=id')).json.vims, [{ id: a.id }], 'fields=id: only the id');
  t.same(await ids(`id=${k.id}&fields=id`), [k.id], 'filter by id');
  t.same((await ids('name=vim-a&name=vim-k')).sort(), [a.id, k.id].sort(), 'a filter given twice: either value');
  t.same(await ids('name=vim-z'), [], 'no match: an empty list');
  t.same(await ids('is_default=True'), [k.id], 'filter by is_default');
  t.same(await ids('type=openstack&status=REACHABLE'), [a.id], 'filters together');
  t.same((await ids('colour=blue')).length, 2, 'unknown parameters are ignored, as Tacker does');

  const shown = await call('GET', `/v1.0/vims/${a.id}.json`);
  t.equal(shown.status, 200, 'show');
  t.same(shown.json.vim, { ...a, status: 'REACHABLE' }, 'show: the vim');
  t.same((await call('GET', `/v1.0/vims/${a.id}`)).json, shown.json, 'the same without .json');
  t.same(leaks(shown.text), [], 'show: no secret, no secret field');

  const secretBefore = entry['auth-cred']!['encrypted-secret'];
  const updated = await call('PUT', `/v1.0/vims/${a.id}.json`, {
    vim: { name: 'vim-a2', description: 'renamed', vim_project: { name: 'nfv2' }, auth_cred: { username: 'other_user', password: `${PASSWORD}-2`, cert_verify: 'False' } },
  });
  t.equal(updated.status, 200, 'update: 200');
  t.match(updated.json.vim, { id: a.id, name: 'vim-a2', description: 'renamed', vim_project: { name: 'nfv2', project_domain_name: 'Default' }, auth_cred: { username: 'other_user', user_domain_name: 'Default', cert_verify: 'False' }, is_default: false, auth_url: authUrl }, 'the vim after the update (what was not sent is kept)');
  t.same(leaks(updated.text), [], 'the PUT answer: no secret, no secret field');
  const after = c.data.read('config', vimPath(a.id))!;
  t.not(after['auth-cred']!['encrypted-secret'], secretBefore, 'the new password sealed');
  t.equal(after['auth-cred']!['cert-verify'], false, "cert_verify 'False' stored as false");

  const moved = await vimEndpoint(t);
  const urlChange = await call('PUT', `/v1.0/vims/${a.id}`, { vim: { auth_url: moved, is_default: 'False' } });
  t.equal(urlChange.status, 200, 'a new auth_url');
  t.equal(c.data.read('config', vimPath(a.id))!['auth-url'], moved, 'stored');
  await waitUntil('vim-a is reachable at its new URL', () => c.data.read('operational', statePath(a.id))?.status === 'REACHABLE', 10_000);

  const unDefault = await call('PUT', `/v1.0/vims/${k.id}`, { vim: { is_default: false } });
  t.equal(unDefault.json.vim.is_default, false, 'is_default can be cleared');
  t.equal((await call('PUT', `/v1.0/vims/${a.id}`, { vim: { is_default: true } })).json.vim.is_default, true, 'and given to another VIM');
  t.equal((await call('PUT', `/v1.0/vims/${a.id}`, { vim: {} })).status, 200, 'an empty update is fine');

  for (const id of [a.id, k.id]) {
    const restconf = await fetch(`${c.restconf.url}/rests/data/sextant-nfv-vim:vims/vim=${id}`, { headers: { authorization: BASIC, accept: 'application/yang-data+json' } });
    const restconfText = await restconf.text();
    t.equal(restconf.status, 200, `RESTCONF GET of vim=${id}`);
    t.match(restconfText, id, 'shows the entry');
    t.notMatch(restconfText, new RegExp(`${PASSWORD}|${BEARER}`), 'with no clear-text secret');
    t.notMatch(restconfText, /"password"|"bearer-token"/, 'and no password or bearer-token leaf');
  }

  const deleted = await call('DELETE', `/v1.0/vims/${a.id}.json`);
  t.equal(deleted.status, 204, 'delete: 204');
  t.equal(deleted.text, '', 'with no body');
  t.equal(c.data.read('config', vimPath(a.id)), undefined, 'the entry is gone');
  t.equal((await call('GET', `/v1.0/vims/${a.id}`)).status, 404, 'show after delete: 404');
  await waitUntil('its state is gone', () => c.data.read('operational', statePath(a.id)) === undefined, 5000);
  t.equal((await call('DELETE', `/v1.0/vims/${k.id}`)).status, 204, 'delete without .json');
  t.same((await call('GET', '/v1.0/vims')).json, { vims: [] }, 'nothing left');
});

t.test('a VIM nobody probed yet is PENDING; the tenant is the default project unless named', async (t) => {
  const { c, call } = await tacker(t);
  const tx = c.data.transaction('config');
  tx.put(vimPath('quiet'), { 'vim-id': 'quiet', name: 'quiet', type: 'openstack', 'auth-url': 'http://127.0.0.1:9/', monitor: { 'monitor-enabled': false } });
  await tx.commit();
  t.equal(c.data.read('operational', statePath('quiet')), undefined, 'no state');
  const shown = await call('GET', '/v1.0/vims/quiet');
  t.match(shown.json.vim, { id: 'quiet', status: 'PENDING', tenant_id: 'sextant', auth_cred: { username: '', cert_verify: 'True' }, vim_project: { name: '', project_domain_name: '' } }, 'shown with PENDING and the defaults');
});

t.test('bad input: its status and Tacker error, and nothing written', async (t) => {
  const authUrl = await vimEndpoint(t);
  const { c, call } = await tacker(t);
  const existing = (await call('POST', '/v1.0/vims', registration('taken', authUrl, { is_default: true }))).json.vim;
  const other = (await call('POST', '/v1.0/vims', registration('other', authUrl))).json.vim;
  const good = registration('fresh', authUrl).vim;
  const longName = 'n'.repeat(256);

  const cases: [string, string, string, unknown, number, string, RegExp?, Record<string, string>?][] = [
    ['not JSON', 'POST', '/v1.0/vims', '{"vim": ', 400, 'InvalidInput', /not JSON/],
    ['no body', 'POST', '/v1.0/vims', '', 400, 'InvalidInput', /needs a JSON body/],
    ['a JSON array', 'POST', '/v1.0/vims', [good], 400, 'InvalidInput', /"vim" object/],
    ['no vim object', 'POST', '/v1.0/vims', { name: 'fresh' }, 400, 'InvalidInput', /"vim" object/],
    ['vim not an object', 'POST', '/v1.0/vims', { vim: 'fresh' }, 400, 'InvalidInput', /"vim" object/],
    ['an unsupported type', 'POST', '/v1.0/vims', { vim: { ...good, type: 'vmware' } }, 400, 'InvalidInput', /unsupported VIM type "vmware"/],
    ['no type', 'POST', '/v1.0/vims', { vim: { ...good, type: undefined } }, 400, 'InvalidInput', /type is required/],
    ['an auth_url that is not a URL', 'POST', '/v1.0/vims', { vim: { ...good, auth_url: 'keystone here' } }, 400, 'InvalidInput', /is not a URL/],
    ['an auth_url we cannot probe', 'POST', '/v1.0/vims', { vim: { ...good, auth_url: 'ftp://127.0.0.1/' } }, 400, 'InvalidInput', /scheme must be http, https or tcp/],
    ['no auth_url', 'POST', '/v1.0/vims', { vim: { ...good, auth_url: undefined } }, 400, 'InvalidInput', /auth_url is required/],
    ['no name', 'POST', '/v1.0/vims', { vim: { ...good, name: undefined } }, 400, 'InvalidInput', /name is required/],
    ['a name the YANG type refuses (too long)', 'POST', '/v1.0/vims', { vim: { ...good, name: longName } }, 400, 'InvalidInput', /length/],
    ['an empty name', 'POST', '/v1.0/vims', { vim: { ...good, name: '' } }, 400, 'InvalidInput', /length/],
    ['a name that is a number', 'POST', '/v1.0/vims', { vim: { ...good, name: 7 } }, 400, 'InvalidInput', /name must be a string/],
    ['an unknown attribute', 'POST', '/v1.0/vims', { vim: { ...good, colour: 'blue' } }, 400, 'InvalidInput', /Unrecognized attribute\(s\) 'colour'/],
    ['a read-only attribute', 'POST', '/v1.0/vims', { vim: { ...good, id: 'mine' } }, 400, 'InvalidInput', /'id' not allowed in POST/],
    ['no secret', 'POST', '/v1.0/vims', { vim: { ...good, auth_cred: { username: 'u' } } }, 400, 'InvalidInput', /password or a bearer_token/],
    ['a credential field the model cannot hold', 'POST', '/v1.0/vims', { vim: { ...good, auth_cred: { ...good.auth_cred, ssl_ca_cert: 'PEM' } } }, 400, 'InvalidInput', /'ssl_ca_cert' in auth_cred/],
    ['cert_verify neither True nor False', 'POST', '/v1.0/vims', { vim: { ...good, auth_cred: { ...good.auth_cred, cert_verify: 'maybe' } } }, 400, 'InvalidInput', /cert_verify must be True or False/],
    ['is_default not a boolean', 'POST', '/v1.0/vims', { vim: { ...good, is_default: 'yes' } }, 400, 'InvalidInput', /is_default must be True or False/],
    ['extra the model cannot hold', 'POST', '/v1.0/vims', { vim: { ...good, extra: { a: 1 } } }, 400, 'InvalidInput', /extra is not supported/],
    ['a name already registered', 'POST', '/v1.0/vims', registration('taken', authUrl), 409, 'DuplicateEntity', /share the unique values \(name\)/],
    ['a second default VIM', 'POST', '/v1.0/vims', registration('fresh', authUrl, { is_default: true }), 409, 'VimDefaultDuplicateException', new RegExp(`Default VIM already exists ${existing.id}`)],
    ['no token', 'POST', '/v1.0/vims', { vim: good }, 401, 'HTTPUnauthorized', /requires authentication/, {}],
    ['a wrong token', 'POST', '/v1.0/vims', { vim: good }, 401, 'HTTPUnauthorized', /requires authentication/, { 'x-auth-token': 'admin' }],
    ['a body over the limit', 'POST', '/v1.0/vims', { vim: { ...good, description: 'd'.repeat(1_100_000) } }, 413, 'HTTPRequestEntityTooLarge'],
    ['update: an unknown id', 'PUT', '/v1.0/vims/no-such-vim.json', { vim: { description: 'x' } }, 404, 'VimNotFoundException', /no-such-vim is invalid/],
    ['update: not JSON', 'PUT', `/v1.0/vims/${other.id}`, 'description=x', 400, 'InvalidInput', /not JSON/],
    ['update: another type', 'PUT', `/v1.0/vims/${other.id}`, { vim: { type: 'kubernetes' } }, 400, 'InvalidInput', /type of a VIM cannot be changed/],
    ['update: a read-only attribute', 'PUT', `/v1.0/vims/${other.id}`, { vim: { status: 'REACHABLE' } }, 400, 'InvalidInput', /'status' not allowed in PUT/],
    ['update: a bad auth_url', 'PUT', `/v1.0/vims/${other.id}`, { vim: { auth_url: 'nowhere' } }, 400, 'InvalidInput', /is not a URL/],
    ['update: the name of another VIM', 'PUT', `/v1.0/vims/${other.id}`, { vim: { name: 'taken' } }, 409, 'DuplicateEntity', /share the unique values/],
    ['update: made default while another is', 'PUT', `/v1.0/vims/${other.id}`, { vim: { is_default: true } }, 409, 'VimDefaultDuplicateException'],
    ['update: no token', 'PUT', `/v1.0/vims/${other.id}`, { vim: { description: 'x' } }, 401, 'HTTPUnauthorized', undefined, {}],
    ['show: an unknown id', 'GET', '/v1.0/vims/no-such-vim', undefined, 404, 'VimNotFoundException'],
    ['delete: an unknown id', 'DELETE', '/v1.0/vims/no-such-vim', undefined, 404, 'VimNotFoundException'],
    ['delete: no token', 'DELETE', `/v1.0/vims/${other.id}`, undefined, 401, 'HTTPUnauthorized', undefined, {}],
    ['an unknown path', 'GET', '/v1.0/vnfs', undefined, 404, 'HTTPNotFound'],
  ];
  for (const [what, method, path, body, status, type, message, headers] of cases) {
    const revision = c.data.revision('config');
    const before = JSON.stringify(c.data.read('config', VIMS));
    const r = await call(method, path, body, headers);
    t.equal(r.status, status, `${what}: ${status}`);
    t.match(r.json, { TackerError: { type, message: message ?? String, detail: '' } }, `${what}: TackerError ${type}`);
    t.equal(c.data.revision('config'), revision, `${what}: nothing committed`);
    t.equal(JSON.stringify(c.data.read('config', VIMS)), before, `${what}: the vims unchanged`);
  }
  t.same((await call('GET', '/v1.0/vims?fields=name')).json.vims.map((v: { name: string }) => v.name).sort(), ['other', 'taken'], 'still the two VIMs');
});

t.test('registrations racing to be the default: one wins, the others are 409', async (t) => {
  const authUrl = await vimEndpoint(t);
  const { c, call } = await tacker(t);
  // Slow commits, so every request reads the vims before any of the others has committed.
  c.data.registerPhases({ owner: 'test', store: 'config', path: VIMS.vim(ANY), validate: () => new Promise((resolve) => setTimeout(resolve, 50)) });
  const answers = await Promise.all(['d1', 'd2', 'd3'].map((name) => call('POST', '/v1.0/vims', registration(name, authUrl, { is_default: true }))));
  t.same(answers.map((a) => a.status).sort(), [201, 409, 409], 'one 201, two 409');
  t.equal((c.data.read('config', VIMS.vim()) ?? []).filter((v) => v['is-default']).length, 1, 'one default VIM');
  t.equal((c.data.read('config', VIMS.vim()) ?? []).length, 1, 'and only it registered');
});

t.test('registrations racing for one name: one wins, the others are 409', async (t) => {
  const authUrl = await vimEndpoint(t);
  const { c, call } = await tacker(t);
  c.data.registerPhases({ owner: 'test', store: 'config', path: VIMS.vim(ANY), validate: () => new Promise((resolve) => setTimeout(resolve, 50)) });
  const answers = await Promise.all([1, 2, 3].map(() => call('POST', '/v1.0/vims', registration('same', authUrl))));
  t.same(answers.map((a) => a.status).sort(), [201, 409, 409], 'one 201, two 409');
  t.match(answers.find((a) => a.status === 409)!.json, { TackerError: { type: 'DuplicateEntity' } }, 'DuplicateEntity');
  t.equal((c.data.read('config', VIMS.vim()) ?? []).length, 1, 'one VIM registered');
});

t.test("the commit's own errors: a validation veto is 400 with the YANG message, a failing phase 500", async (t) => {
  const authUrl = await vimEndpoint(t);
  const { c, call } = await tacker(t);
  const off = c.data.registerPhases({
    owner: 'test',
    store: 'config',
    path: VIMS.vim(ANY),
    validate: () => {
      throw new YangError({ tag: 'invalid-value', appTag: 'test-veto', message: 'VIM refused by a test rule' });
    },
  });
  const vetoed = await call('POST', '/v1.0/vims', registration('vetoed', authUrl));
  t.equal(vetoed.status, 400, 'a veto: 400');
  t.same(vetoed.json, { TackerError: { type: 'InvalidInput', message: 'VIM refused by a test rule', detail: '' } }, 'with the YANG message');
  off();
  c.data.registerPhases({ owner: 'test', store: 'config', path: VIMS.vim(ANY), validate: () => Promise.reject(new Error('disk on fire')) });
  const failed = await call('POST', '/v1.0/vims', registration('failed', authUrl));
  t.equal(failed.status, 500, 'a phase that fails: 500');
  t.match(failed.json, { TackerError: { type: 'HTTPInternalServerError', message: /disk on fire/, detail: '' } });
  t.same(c.data.read('config', VIMS.vim()) ?? [], [], 'nothing written either time');
});
