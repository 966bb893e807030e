/**
 * The VIM monitor on one instance, against real HTTP servers on loopback: a registered VIM goes
 * PENDING -> REACHABLE; a stopped server (connection refused) makes it UNREACHABLE within interval
 * + timeout + 1 s, a server that accepts and never answers by the timeout; back again, REACHABLE.
 * Each change is one event in the VIM's state and one vim-status-changed notification, seen over
 * RESTCONF and NETCONF. update-vim answers bad_action to any action but the wanted one.
 * Deregistration and a new auth-url stop the old action (its server sees no more probes).
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { connect, childOf, parseXml, textOf } from '../helpers/netconf.ts';
import { startVimServer } from '../helpers/vim-server.ts';
import { waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const NS = 'urn:sextant:params:xml:ns:yang:sextant-nfv-vim';
const VIMS = '/rests/data/sextant-nfv-vim:vims';

const c = await testController(t, ['--datastore=memory']);
const base = c.restconf.url;

async function http(method: string, path: string, body?: unknown) {
  const r = await fetch(base + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

type State = { status?: string; 'action-id'?: string; owner?: string; 'last-error'?: string; event?: { seq: string; status?: string; 'action-id'?: string; detail?: string }[] };
const state = (id: string) => c.data.read('operational', `/sextant-nfv-vim:vim-states/vim-state=${id}`) as State | undefined;
const statusOf = (id: string) => state(id)?.status;

function vim(id: string, url: string, monitor: Record<string, unknown> = { interval: '0.5', timeout: '0.2' }, extra: Record<string, unknown> = {}) {
  return { 'vim-id': id, name: `vim-${id}`, type: 'openstack', 'auth-url': url, monitor, ...extra };
}

async function register(v: ReturnType<typeof vim>) {
  const r = await http('POST', VIMS, { 'sextant-nfv-vim:vim': [v] });
  if (r.status !== 201) throw new Error(`register ${v['vim-id']}: ${r.status} ${JSON.stringify(r.json)}`);
}

t.test('register -> PENDING -> REACHABLE; refused, hung, back: one event and one notification per change', async (t) => {
  const server = await startVimServer(t);
  const sub = await connect(c.netconf.port, { t });
  t.ok((await sub.rpc('<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>')).ok, 'NETCONF create-subscription');
  const heard: { status: string; previous?: string }[] = [];
  const reading = (async () => {
    for (;;) {
      let text: string;
      try {
        text = await sub.read(60_000);
      } catch {
        return;
      }
      const n = parseXml(text);
      const body = childOf(n, 'vim-status-changed', NS);
      if (body && textOf(body, 'vim-id') === 'v1') heard.push({ status: textOf(body, 'status')!, previous: textOf(body, 'previous-status') });
    }
  })();
  await register(vim('v1', server.url('/identity/v3')));
  t.equal(statusOf('v1') ?? 'PENDING', 'PENDING', 'PENDING at once');
  await waitUntil('REACHABLE', () => statusOf('v1') === 'REACHABLE', 5000);
  t.match(state('v1'), { 'action-id': /^[0-9a-f-]{36}$/, owner: c.config.memberId }, 'the wanted action id and its owner are recorded');

  await server.stop();
  const stopped = Date.now();
  await waitUntil('UNREACHABLE after the server stopped', () => statusOf('v1') === 'UNREACHABLE', 5000);
  const took = Date.now() - stopped;
  t.ok(took <= 500 + 200 + 1000, `UNREACHABLE ${took} ms after the server stopped (interval 0.5 s + timeout 0.2 s + 1 s)`);
  t.match(state('v1')?.['last-error'], /ECONNREFUSED/, 'last-error says why');

  await server.start();
  await waitUntil('REACHABLE again', () => statusOf('v1') === 'REACHABLE', 5000);
  t.equal(state('v1')?.['last-error'], undefined, 'last-error cleared');
  server.hang();
  const hung = Date.now();
  await waitUntil('UNREACHABLE by timeout', () => statusOf('v1') === 'UNREACHABLE', 5000);
  t.ok(Date.now() - hung <= 500 + 200 + 1000, `a server that accepts and never answers: UNREACHABLE in ${Date.now() - hung} ms`);
  t.match(state('v1')?.['last-error'], /no answer within 200 ms/);
  server.answer();
  await waitUntil('REACHABLE at last', () => statusOf('v1') === 'REACHABLE', 5000);

  const r = await http('GET', '/rests/data/sextant-nfv-vim:vim-states/vim-state=v1');
  t.equal(r.status, 200, 'the state over RESTCONF');
  const events = r.json['sextant-nfv-vim:vim-state'][0].event as State['event'];
  t.same(events!.map((e) => e.status), ['PENDING', 'REACHABLE', 'UNREACHABLE', 'REACHABLE', 'UNREACHABLE', 'REACHABLE'], 'one event per change, in order');
  t.ok(events!.slice(1).every((e) => e['action-id'] === state('v1')!['action-id']), 'each reported by the wanted action');
  await waitUntil('five notifications', () => heard.length >= 5, 5000);
  t.same(heard, [
    { status: 'REACHABLE', previous: 'PENDING' },
    { status: 'UNREACHABLE', previous: 'REACHABLE' },
    { status: 'REACHABLE', previous: 'UNREACHABLE' },
    { status: 'UNREACHABLE', previous: 'REACHABLE' },
    { status: 'REACHABLE', previous: 'UNREACHABLE' },
  ], 'one NETCONF notification per change');
  sub.abort();
  const getter = await connect(c.netconf.port, { t });
  const nc = await getter.rpc(`<get><filter type="subtree"><vim-states xmlns="${NS}"><vim-state><vim-id>v1</vim-id><status/></vim-state></vim-states></filter></get>`);
  t.equal(textOf(childOf(childOf(nc.data, 'vim-states', NS), 'vim-state', NS), 'status'), 'REACHABLE', 'NETCONF get shows the status');
  await getter.close();
  await reading;
  await http('DELETE', `${VIMS}/vim=v1`);
});

t.test('update-vim: the wanted action is stored, any other gets bad_action and changes nothing', async (t) => {
  const server = await startVimServer(t);
  // A long interval: after its first report the action stays quiet, so the test's calls decide.
  await register(vim('v2', server.url('/v2'), { interval: '3600', timeout: '1' }));
  await waitUntil('REACHABLE', () => statusOf('v2') === 'REACHABLE', 5000);
  const wanted = state('v2')!['action-id']!;
  const call = (input: Record<string, unknown>) => http('POST', '/rests/operations/sextant-nfv-vim:update-vim', { input });
  const stale = await call({ 'vim-id': 'v2', status: 'UNREACHABLE', 'action-id': '00000000-0000-4000-8000-000000000000' });
  t.equal(stale.status, 200);
  t.same(stale.json, { 'sextant-nfv-vim:output': { status: 'bad_action' } }, 'a stale action id: bad_action');
  t.equal(statusOf('v2'), 'REACHABLE', 'status unchanged');
  const current = await call({ 'vim-id': 'v2', status: 'UNREACHABLE', 'action-id': wanted, error: 'probe from a script' });
  t.same(current.json, { 'sextant-nfv-vim:output': { status: 'UNREACHABLE' } }, 'the wanted action: its status is stored and answered');
  t.equal(statusOf('v2'), 'UNREACHABLE');
  t.equal(state('v2')!['last-error'], 'probe from a script');
  const unknown = await call({ 'vim-id': 'nope', status: 'REACHABLE', 'action-id': wanted });
  t.equal(unknown.status, 409, 'an unknown VIM: 409, as RFC 8040 maps data-missing');
  t.match(unknown.json, { errors: { error: [{ 'error-tag': 'data-missing', 'error-message': /no VIM nope/ }] } });
  const badStatus = await call({ 'vim-id': 'v2', status: 'SORT-OF', 'action-id': wanted });
  t.equal(badStatus.status, 400, 'an unknown status value: 400');
  t.match(badStatus.json, { errors: { error: [{ 'error-tag': 'invalid-value' }] } });
  t.equal(statusOf('v2'), 'UNREACHABLE', 'nothing written by the refused calls');
  const s = await connect(c.netconf.port, { t });
  const nc = await s.rpc(`<update-vim xmlns="${NS}"><vim-id>v2</vim-id><status>REACHABLE</status><action-id>not-the-one</action-id></update-vim>`);
  t.equal(textOf(nc.root, 'status'), 'bad_action', 'over NETCONF too');
  await s.close();
  await http('DELETE', `${VIMS}/vim=v2`);
});

t.test('deregistered: the action stops; a new auth-url: the old server sees no more probes, the new one does', async (t) => {
  const a = await startVimServer(t);
  const b = await startVimServer(t);
  await register(vim('v3', a.url('/v3')));
  await register(vim('sentinel', a.url('/sentinel')));
  await waitUntil('both REACHABLE', () => statusOf('v3') === 'REACHABLE' && statusOf('sentinel') === 'REACHABLE', 5000);
  const first = state('v3')!['action-id'];
  t.equal((await http('PATCH', `${VIMS}/vim=v3`, { 'sextant-nfv-vim:vim': [{ 'vim-id': 'v3', 'auth-url': b.url('/v3') }] })).status, 200, 'auth-url changed');
  await waitUntil('the new server is probed', () => b.probes('/v3') > 0, 5000);
  t.not(state('v3')!['action-id'], first, 'a new action id');
  t.ok(state('v3')!.event!.some((e) => e.status === 'PENDING' && e.detail === 'auth-url changed'), 'the new action starts from PENDING');
  await waitUntil('REACHABLE through the new URL', () => statusOf('v3') === 'REACHABLE', 5000);
  const oldCount = a.probes('/v3');
  const sentinelAt = a.probes('/sentinel');
  // Three more rounds of the sentinel on the old server: had the old action lived, it would have probed too.
  await waitUntil('three more rounds', () => a.probes('/sentinel') >= sentinelAt + 3, 5000);
  t.equal(a.probes('/v3'), oldCount, 'the old server saw no more probes of the VIM');

  t.equal((await http('DELETE', `${VIMS}/vim=v3`)).status, 204, 'deregistered');
  const newCount = b.probes('/v3');
  await register(vim('sentinel-b', b.url('/sentinel-b')));
  await waitUntil('three rounds of a sentinel on the same server', () => b.probes('/sentinel-b') >= 3, 5000);
  t.equal(b.probes('/v3'), newCount, 'no more probes after deregistration');
  t.equal(state('v3'), undefined, 'and its state is gone');
  for (const id of ['sentinel', 'sentinel-b']) await http('DELETE', `${VIMS}/vim=${id}`);
});

t.test('monitoring disabled: the action stops and reports get bad_action; enabled again: a new action', async (t) => {
  const server = await startVimServer(t);
  await register(vim('v4', server.url('/v4')));
  await waitUntil('REACHABLE', () => statusOf('v4') === 'REACHABLE', 5000);
  const old = state('v4')!['action-id']!;
  t.equal((await http('PATCH', `${VIMS}/vim=v4`, { 'sextant-nfv-vim:vim': [{ 'vim-id': 'v4', monitor: { 'monitor-enabled': false } }] })).status, 200);
  await waitUntil('no wanted action', () => state('v4')?.['action-id'] === undefined, 5000);
  const r = await http('POST', '/rests/operations/sextant-nfv-vim:update-vim', { input: { 'vim-id': 'v4', status: 'UNREACHABLE', 'action-id': old } });
  t.same(r.json, { 'sextant-nfv-vim:output': { status: 'bad_action' } }, "the old action's report: bad_action");
  t.equal((await http('PATCH', `${VIMS}/vim=v4`, { 'sextant-nfv-vim:vim': [{ 'vim-id': 'v4', monitor: { 'monitor-enabled': true } }] })).status, 200);
  await waitUntil('a new action', () => (state('v4')?.['action-id'] ?? old) !== old, 5000);
  await http('DELETE', `${VIMS}/vim=v4`);
});

t.test('bad input: the right error, nothing written', async (t) => {
  const cases: [string, Record<string, unknown>, number, RegExp | string][] = [
    ['an auth-url that is not a URL', vim('b1', 'not a url'), 400, /not a URL/],
    ['a scheme we cannot probe', vim('b2', 'ftp://127.0.0.1:1/x'), 400, /scheme must be http, https or tcp/],
    ['an unsupported type', { ...vim('b3', 'http://127.0.0.1:1/'), type: 'vmware' }, 400, 'invalid-value'],
    ['interval 0', vim('b4', 'http://127.0.0.1:1/', { interval: '0' }), 400, 'invalid-value'],
    ['a negative interval', vim('b5', 'http://127.0.0.1:1/', { interval: '-5' }), 400, 'invalid-value'],
    ['timeout not below the interval', vim('b6', 'http://127.0.0.1:1/', { interval: '2', timeout: '2' }), 400, /must be shorter than the interval/],
  ];
  for (const [what, body, status, expect] of cases) {
    const r = await http('POST', VIMS, { 'sextant-nfv-vim:vim': [body] });
    t.equal(r.status, status, `${what}: ${status}`);
    const err = r.json?.errors?.error?.[0];
    if (typeof expect === 'string') t.equal(err?.['error-tag'], expect, `${what}: ${expect}`);
    else t.match(err?.['error-message'], expect, `${what}: says why`);
    t.equal(c.data.read('config', `/sextant-nfv-vim:vims/vim=${body['vim-id']}`), undefined, `${what}: nothing written`);
  }
  const server = await startVimServer(t);
  await register(vim('named', server.url('/named')));
  const dup = await http('POST', VIMS, { 'sextant-nfv-vim:vim': [{ ...vim('other', server.url('/other')), name: 'vim-named' }] });
  // RFC 7950 15.1: operation-failed with app-tag data-not-unique; RFC 8040 maps that tag to 500.
  t.equal(dup.status, 500, 'a duplicate name: operation-failed (500, as RFC 8040 maps it)');
  t.match(dup.json, { errors: { error: [{ 'error-app-tag': 'data-not-unique' }] } });
  t.equal(c.data.read('config', '/sextant-nfv-vim:vims/vim=other'), undefined, 'nothing written');
  // One default VIM at most, whichever northbound writes it.
  await register(vim('default-1', server.url('/d1'), undefined, { 'is-default': true }));
  const second = await http('POST', VIMS, { 'sextant-nfv-vim:vim': [vim('default-2', server.url('/d2'), undefined, { 'is-default': true })] });
  t.equal(second.status, 400, 'a second default VIM: 400');
  t.match(second.json, { errors: { error: [{ 'error-tag': 'invalid-value', 'error-app-tag': 'default-vim-exists', 'error-message': /only one VIM can be the default/ }] } });
  t.equal(c.data.read('config', '/sextant-nfv-vim:vims/vim=default-2'), undefined, 'nothing written');
  await http('DELETE', `${VIMS}/vim=default-1`);
  // A secret is write-only.
  await register(vim('secret', server.url('/secret'), undefined, { 'auth-cred': { username: 'admin', password: 'hunter2' } }));
  const got = await http('GET', `${VIMS}/vim=secret`);
  t.notMatch(JSON.stringify(got.json), /hunter2/, 'the password is never shown');
  t.match(got.json['sextant-nfv-vim:vim'][0]['auth-cred'], { username: 'admin', 'encrypted-secret': /^v1:/ }, 'it is stored encrypted');
  const nc = await connect(c.netconf.port, { t });
  const cfg = await nc.rpc(`<get-config><source><running/></source><filter type="subtree"><vims xmlns="${NS}"/></filter></get-config>`);
  t.notMatch(cfg.text, /hunter2/, 'nor in NETCONF get-config');
  await nc.close();
  t.notMatch(JSON.stringify(c.data.read('config', '/sextant-nfv-vim:vims')), /hunter2/, 'nor stored in clear');
  for (const id of ['named', 'secret']) await http('DELETE', `${VIMS}/vim=${id}`);
});

t.test('racing reports of the old and the new action: none of the old one is accepted once the new one is wanted', async (t) => {
  const a = await startVimServer(t);
  const b = await startVimServer(t);
  // Long intervals: the real actions report once, then the test's reports decide.
  await register(vim('race', a.url('/race'), { interval: '3600', timeout: '1' }));
  await waitUntil('REACHABLE', () => statusOf('race') === 'REACHABLE', 5000);
  const old = state('race')!['action-id']!;
  const answers: { status: string; at: number }[] = [];
  let n = 0;
  const report = async (actionId: string) => {
    const status = n++ % 2 ? 'REACHABLE' : 'UNREACHABLE';
    const out = (await c.rpc.invoke('sextant-nfv-vim:update-vim', { 'vim-id': 'race', status, 'action-id': actionId })) as { status: string };
    answers.push({ status: out.status, at: Date.now() });
  };
  // The old action keeps reporting, two reports in flight, while the auth-url changes under it
  // (a new wanted action), until it has been told bad_action a few times.
  const reporting = Array.from({ length: 2 }, async () => {
    const until = Date.now() + 5000;
    while (answers.filter((x) => x.status === 'bad_action').length < 4 && Date.now() < until) {
      await report(old);
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  await new Promise((r) => setTimeout(r, 20));
  const change = http('PATCH', `${VIMS}/vim=race`, { 'sextant-nfv-vim:vim': [{ 'vim-id': 'race', 'auth-url': b.url('/race') }] });
  await Promise.all([...reporting, change]);
  await waitUntil('the new action is wanted', () => (state('race')?.['action-id'] ?? old) !== old, 5000);
  const events = state('race')!.event!.sort((x, y) => Number(x.seq) - Number(y.seq));
  const started = events.findIndex((e) => e.detail === 'auth-url changed');
  t.ok(started >= 0, 'the new action is in the log');
  t.same(events.slice(started + 1).filter((e) => e['action-id'] === old), [], 'no change of the old action was stored after it');
  t.ok(answers.some((x) => x.status === 'bad_action'), 'the old action got bad_action once the new one was wanted');
  const late = (await c.rpc.invoke('sextant-nfv-vim:update-vim', { 'vim-id': 'race', status: 'UNREACHABLE', 'action-id': old })) as { status: string };
  t.equal(late.status, 'bad_action', 'and from then on');
  await http('DELETE', `${VIMS}/vim=race`);
});

t.test('a tcp:// auth-url is probed by connecting only', async (t) => {
  const server = await startVimServer(t);
  await register(vim('tcp', `tcp://127.0.0.1:${server.port}`));
  await waitUntil('REACHABLE by connecting', () => statusOf('tcp') === 'REACHABLE', 5000);
  t.equal(server.total(), 0, 'no HTTP request was sent');
  await server.stop();
  await waitUntil('UNREACHABLE once nothing listens', () => statusOf('tcp') === 'UNREACHABLE', 5000);
  t.match(state('tcp')?.['last-error'], /ECONNREFUSED/);
  const bad = await http('POST', VIMS, { 'sextant-nfv-vim:vim': [vim('tcp-http', `tcp://127.0.0.1:${server.port}`, { interval: '1', timeout: '0.5', probe: 'http' })] });
  t.equal(bad.status, 400, 'an http probe of a tcp:// URL is refused');
  await http('DELETE', `${VIMS}/vim=tcp`);
});
