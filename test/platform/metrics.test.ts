/**
 * Prometheus metrics at /metrics on the RESTCONF port: every scrape is read through a strict
 * text-format parser (test/helpers/prometheus.ts, itself tested here on malformed expositions),
 * and the values move as the test acts: a commit, a conflict, an rpc and its error, RESTCONF
 * statuses, a NETCONF session, a real ovsdb-server connecting, the plugins' computes,
 * designations and VIM status. Auth on and off; two controllers in one process apart.
 */
import t from 'tap';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';
import type { Controller } from '../../src/controller.ts';
import { MetricDefinitionError, Metrics } from '../../src/telemetry/metrics.ts';
import { testController } from '../helpers/controller.ts';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { connect } from '../helpers/netconf.ts';
import { computesForTest } from '../helpers/ovs.ts';
import { ExpositionError, parseExposition, type Exposition } from '../helpers/prometheus.ts';
import { defaultVim } from '../helpers/vnf.ts';
import { NetVirt, computeName } from '../csit/lib/netvirt.ts';
import { Session } from '../csit/lib/requests.ts';

const YANG = `--yang-dir=${join(import.meta.dirname, '../../yang')},${FIXTURE_YANG}`;
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
const JSON_BODY = { ...AUTH, 'content-type': 'application/yang-data+json' };

async function scrape(c: Controller): Promise<Exposition> {
  const r = await fetch(`${c.restconf.url}/metrics`, { headers: AUTH });
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${await r.text()}`);
  return parseExposition(await r.text());
}

/** Scrapes until `check` holds (the plugins' counts follow their listeners, a moment later). */
async function scrapeUntil(c: Controller, what: string, check: (e: Exposition) => boolean, ms = 20_000): Promise<Exposition> {
  const end = Date.now() + ms;
  for (;;) {
    const e = await scrape(c);
    if (check(e)) return e;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const v = (e: Exposition, name: string, labels: Record<string, string> = {}) => e.value(name, labels) ?? 0;

t.test('the exposition parser refuses what Prometheus would refuse', async (t) => {
  const good = [
    '# HELP a_total Things.',
    '# TYPE a_total counter',
    'a_total{x="1"} 3',
    '# TYPE h_seconds histogram',
    'h_seconds_bucket{le="0.1"} 1',
    'h_seconds_bucket{le="+Inf"} 2',
    'h_seconds_sum 0.3',
    'h_seconds_count 2',
    'g{path="a\\"b\\\\c\\nd"} -1.5e3',
    '',
  ].join('\n');
  const parsed = parseExposition(good);
  t.equal(parsed.value('a_total', { x: '1' }), 3);
  t.equal(parsed.value('g'), -1500);
  t.same(parsed.samples('g')[0].labels, { path: 'a"b\\c\nd' }, 'label escapes decoded');
  const bad: [string, string][] = [
    ['no final line feed', 'a 1'],
    ['an unknown escape in a label value', 'a{x="\\t"} 1\n'],
    ['an unclosed label value', 'a{x="1} 1\n'],
    ['a label given twice', 'a{x="1",x="2"} 1\n'],
    ['a value that is no number', 'a 1,5\n'],
    ['a metric name with a dash', 'a-b 1\n'],
    ['a series twice', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['TYPE after the samples', 'a 1\n# TYPE a gauge\n'],
    ['a family split in two blocks', 'a 1\nb 1\na{x="2"} 1\n'],
    ['an unknown type', '# TYPE a meter\na 1\n'],
    ['a bare sample in a histogram', '# TYPE h histogram\nh 1\n'],
    ['a negative counter', '# TYPE a_total counter\na_total -1\n'],
    ['a bucket without le', '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    ['+Inf differing from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
    ['trailing garbage', 'a 1 2 3\n'],
  ];
  for (const [what, text] of bad) t.throws(() => parseExposition(text), ExpositionError, what);
});

t.test('metric definitions that break the conventions are refused; a failing collect leaves the rest served', async (t) => {
  const m = new Metrics();
  t.throws(() => m.counter({ name: 'sextant_requests', help: 'h' }), MetricDefinitionError, 'a counter must end in _total');
  t.throws(() => m.gauge({ name: 'sextant_things_total', help: 'h', collect: () => 1 }), MetricDefinitionError, 'a gauge must not end in _total');
  t.throws(() => m.gauge({ name: 'vendor_things', help: 'h', collect: () => 1 }), MetricDefinitionError, 'the sextant_ prefix');
  t.throws(() => m.histogram({ name: 'sextant_x_seconds', help: 'h', labelNames: ['le'] }), MetricDefinitionError, 'le is reserved');
  m.gauge({ name: 'sextant_ok', help: 'fine', collect: () => 7 });
  m.gauge({ name: 'sextant_broken', help: 'throws', collect: () => { throw new Error('boom'); } });
  const e = parseExposition(await m.exposition());
  t.equal(e.value('sextant_ok'), 7);
  t.ok(Number.isNaN(e.value('sextant_broken')), 'the broken gauge is NaN (unknown), not a made-up 0; the scrape still succeeds');
  m.gauge({ name: 'sextant_broken_labelled', help: 'throws', labelNames: ['x'], collect: () => { throw new Error('boom'); } });
  t.equal(parseExposition(await m.exposition()).samples('sextant_broken_labelled').length, 0, 'a labelled one has no samples');
  t.throws(() => m.gauge({ name: 'sextant_ok', help: 'again', collect: () => 1 }), /already been registered/, 'a name is registered once');
});

t.test('/metrics takes the northbound credentials by default; --metrics-auth=none opens it alone; a bad value stops start-up', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--plugins=toaster']);
  const anonymous = await fetch(`${c.restconf.url}/metrics`, { headers: { accept: 'application/yang-data+json' } });
  t.equal(anonymous.status, 401, 'no credentials: 401');
  t.match(anonymous.headers.get('www-authenticate'), /^Basic /);
  t.match(JSON.parse(await anonymous.text()), { errors: { error: [{ 'error-tag': 'access-denied' }] } }, 'the same RESTCONF error as every route of the port');
  const wrong = await fetch(`${c.restconf.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
  t.equal(wrong.status, 401, 'a wrong password: 401');
  const ok = await fetch(`${c.restconf.url}/metrics`, { headers: AUTH });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  parseExposition(await ok.text());

  const open = await testController(t, ['--datastore=memory', '--plugins=toaster', '--metrics-auth=none']);
  const scraped = await fetch(`${open.restconf.url}/metrics`);
  t.equal(scraped.status, 200, 'none: served without credentials');
  t.ok(parseExposition(await scraped.text()).families.has('sextant_datastore_commits_total'));
  t.equal((await fetch(`${open.restconf.url}/rests/data`)).status, 401, 'RESTCONF itself still needs them');
  t.throws(() => loadConfig(['--metrics-auth=token']), ConfigError, 'metrics-auth must be "basic" or "none"');
  t.throws(() => loadConfig(['--metrics-auth=token']), /metrics-auth must be "basic" or "none", got "token"/);
});

t.test('commits, conflicts, rpc calls and errors, RESTCONF statuses: each counted as it happens', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG]);
  await c.data.settled();
  const before = await scrape(c);

  const put = await fetch(`${c.restconf.url}/rests/data/sextant-fixture:registry/host=h1`, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify({ 'sextant-fixture:host': [{ name: 'h1' }] }) });
  t.equal(put.status, 201);
  let e = await scrape(c);
  t.equal(v(e, 'sextant_datastore_commits_total', { store: 'config' }), v(before, 'sextant_datastore_commits_total', { store: 'config' }) + 1, 'the PUT is one config commit');
  t.equal(v(e, 'sextant_datastore_commit_duration_seconds_count', { store: 'config' }), v(before, 'sextant_datastore_commit_duration_seconds_count', { store: 'config' }) + 1, 'and one observation of the commit latency');
  t.equal(v(e, 'sextant_http_requests_total', { listener: 'restconf', method: 'PUT', route: '/rests/data/*', status: '201' }), 1, 'the PUT counted under its route and status');

  // Two transactions on the same entry: the second to commit loses.
  const first = c.data.transaction('config');
  const second = c.data.transaction('config');
  first.put('/sextant-fixture:registry/host=h2', { name: 'h2' });
  second.put('/sextant-fixture:registry/host=h2', { name: 'h2' });
  await first.commit();
  await t.rejects(second.commit(), /retry/, 'the second commit is a conflict');
  const afterConflict = await scrape(c);
  t.equal(v(afterConflict, 'sextant_datastore_conflicts_total', { store: 'config' }), v(e, 'sextant_datastore_conflicts_total', { store: 'config' }) + 1, 'one conflict counted');
  t.equal(v(afterConflict, 'sextant_datastore_commits_total', { store: 'config' }), v(e, 'sextant_datastore_commits_total', { store: 'config' }) + 1, 'and one more commit');
  e = afterConflict;

  // A commit the schema refuses (a leafref to no host) is counted apart, under its error-tag.
  const dangling = c.data.transaction('config');
  dangling.put('/sextant-fixture:registry/host=h3', { name: 'h3', backup: 'nobody' });
  const refusal = (await dangling.commit().then(() => undefined, (err: unknown) => err)) as { tag?: string } | undefined;
  t.ok(refusal?.tag, `the dangling leafref is refused (${refusal?.tag})`);
  const afterRefusal = await scrape(c);
  t.equal(v(afterRefusal, 'sextant_datastore_commit_errors_total', { store: 'config', error_tag: String(refusal?.tag) }), 1, 'one refused commit under its error-tag');
  t.equal(v(afterRefusal, 'sextant_datastore_commits_total', { store: 'config' }), v(e, 'sextant_datastore_commits_total', { store: 'config' }), 'and no commit more');
  t.equal(v(afterRefusal, 'sextant_datastore_conflicts_total', { store: 'config' }), v(e, 'sextant_datastore_conflicts_total', { store: 'config' }), 'nor a conflict');
  e = afterRefusal;

  const restock = await fetch(`${c.restconf.url}/rests/operations/toaster:restock-toaster`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ 'toaster:input': { amountOfBreadToStock: 0 } }) });
  t.equal(restock.status, 204);
  const toast = await fetch(`${c.restconf.url}/rests/operations/toaster:make-toast`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ 'toaster:input': { toasterDoneness: 1 } }) });
  t.ok(toast.status >= 400, `make-toast without bread fails (${toast.status})`);
  const missing = await fetch(`${c.restconf.url}/restconf/config/sextant-fixture:registry/host/nobody`, { headers: AUTH });
  t.equal(missing.status, 404);
  await fetch(`${c.restconf.url}/rests/data`);
  e = await scrape(c);
  t.equal(v(e, 'sextant_rpc_calls_total', { rpc: 'toaster:restock-toaster' }), 1, 'the rpc call is counted per rpc');
  t.equal(v(e, 'sextant_rpc_duration_seconds_count', { rpc: 'toaster:restock-toaster' }), 1, 'and its latency observed');
  t.equal(e.samples('sextant_rpc_errors_total', { rpc: 'toaster:restock-toaster' }).length, 0, 'it did not fail');
  t.equal(v(e, 'sextant_rpc_calls_total', { rpc: 'toaster:make-toast' }), 1);
  t.equal(v(e, 'sextant_rpc_errors_total', { rpc: 'toaster:make-toast', error_tag: 'resource-denied' }), 1, 'the failed rpc counted under its error-tag');
  t.equal(v(e, 'sextant_http_requests_total', { listener: 'restconf', method: 'GET', route: '/restconf/config/*', status: '404' }), 1, 'the 404 counted under its route');
  t.equal(v(e, 'sextant_http_requests_total', { listener: 'restconf', method: 'GET', route: '/rests/data', status: '401' }), 1, 'the refused request counted as 401');
  t.ok(v(e, 'sextant_http_requests_total', { listener: 'restconf', method: 'GET', route: '/metrics', status: '200' }) >= 3, 'scrapes are requests too');
});

t.test('NETCONF sessions, a real ovsdb-server connection, the cluster, listener lag', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  let e = await scrape(c);
  t.equal(v(e, 'sextant_netconf_sessions'), 0);
  t.equal(e.value('sextant_ovsdb_connections'), 0);
  t.equal(e.value('sextant_cluster_leader'), 1, 'a single instance leads');
  t.equal(e.value('sextant_cluster_members'), 1);
  t.ok(e.samples('sextant_datastore_listener_backlog', { store: 'config', pattern: '/cloudscaler-rpc:compute-nodes/compute-node=*' }).length >= 1, 'a plugin listener reports its backlog');
  t.ok(e.samples('sextant_datastore_listener_lag_seconds').every((s) => s.value >= 0));

  const session = await connect(c.netconf.port, { t });
  await scrapeUntil(c, 'one NETCONF session', (x) => x.value('sextant_netconf_sessions') === 1);
  await session.close();
  await scrapeUntil(c, 'no NETCONF session', (x) => x.value('sextant_netconf_sessions') === 0);

  const sims = await computesForTest(t, { count: 1, controller: `127.0.0.1:${c.ovsdb.port}` });
  e = await scrapeUntil(c, 'the ovsdb-server connected', (x) => x.value('sextant_ovsdb_connections') === 1);
  await sims.stop();
  await scrapeUntil(c, 'the ovsdb-server gone', (x) => x.value('sextant_ovsdb_connections') === 0);
});

t.test('the plugins\' metrics: computes in service and tombstoned, designations per service, VIM status', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const nv = new NetVirt(new Session(c.restconf.url));
  await nv.addCompute({ n: 1, vms: [{ port: 101, ofport: 1 }] });
  await nv.addCompute({ n: 2, vms: [{ port: 102, ofport: 1 }] });
  await nv.network(1, 1001);
  await nv.subnet(1, 1, '10.1.0.0/24');
  await nv.port(101, 1, 1, '10.1.0.11', computeName(1));
  await nv.port(102, 1, 1, '10.1.0.12', computeName(2));
  await nv.subnetRoute(1);
  let e = await scrapeUntil(c, 'two computes and a designated subnet route', (x) => v(x, 'sextant_computes', { state: 'in_service' }) === 2 && v(x, 'sextant_designations', { service_type: 'subnet-route', state: 'designated' }) === 1);
  t.equal(e.value('sextant_computes', { state: 'tombstoned' }), 0, 'nothing tombstoned yet (the series is there at 0)');

  const start = async (name: string) => {
    const r = await fetch(`${c.restconf.url}/rests/operations/scalein-api:scalein-computes-start`, { method: 'POST', headers: JSON_BODY, body: JSON.stringify({ 'scalein-api:input': { 'scalein-node-ids': [name] } }) });
    t.ok(r.status < 300, `start ${name}: ${r.status}`);
  };
  await start(computeName(1));
  e = await scrapeUntil(c, 'compute-1 tombstoned', (x) => v(x, 'sextant_computes', { state: 'tombstoned' }) === 1);
  t.equal(e.value('sextant_computes', { state: 'in_service' }), 1);
  t.equal(v(e, 'sextant_rpc_calls_total', { rpc: 'scalein-api:scalein-computes-start' }), 1);
  // The designation moves to compute 2: still one designated subnet route.
  await scrapeUntil(c, 'the subnet route still designated', (x) => v(x, 'sextant_designations', { service_type: 'subnet-route', state: 'designated' }) === 1);
  await start(computeName(2));
  e = await scrapeUntil(c, 'no eligible DPN left for the subnet route', (x) => v(x, 'sextant_designations', { service_type: 'subnet-route', state: 'none_eligible' }) === 1);
  t.equal(v(e, 'sextant_designations', { service_type: 'subnet-route', state: 'designated' }), 0, 'none designated any more');
  t.equal(e.value('sextant_computes', { state: 'tombstoned' }), 2);

  t.same(
    ['PENDING', 'REACHABLE', 'UNREACHABLE'].map((status) => e.value('sextant_vims', { status })),
    [0, 0, 0],
    'every VIM status is reported, at 0 before any VIM',
  );
  await defaultVim(t, c);
  e = await scrapeUntil(c, 'the VIM counted as REACHABLE', (x) => x.value('sextant_vims', { status: 'REACHABLE' }) === 1);
  t.equal(e.value('sextant_vims', { status: 'PENDING' }), 0, 'it left PENDING');
  t.same(
    e.samples('sextant_vnf_lcm_op_occs').map((s) => s.labels.operation_state).sort(),
    ['COMPLETED', 'FAILED', 'FAILED_TEMP', 'PROCESSING', 'ROLLED_BACK', 'ROLLING_BACK', 'STARTING'],
    'VNF operations are reported per state (each at 0 here)',
  );
});

t.test('two controllers in one process keep separate metrics', async (t) => {
  const a = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG]);
  const b = await testController(t, ['--datastore=memory', '--plugins=toaster', YANG]);
  t.not(a.metrics, b.metrics);
  const write = async (c: Controller, host: string) => {
    const r = await fetch(`${c.restconf.url}/rests/data/sextant-fixture:registry/host=${host}`, { method: 'PUT', headers: JSON_BODY, body: JSON.stringify({ 'sextant-fixture:host': [{ name: host }] }) });
    t.equal(r.status, 201);
  };
  const commits = async (c: Controller) => v(await scrape(c), 'sextant_datastore_commits_total', { store: 'config' });
  const [a0, b0] = [await commits(a), await commits(b)];
  await write(a, 'x1');
  await write(a, 'x2');
  await write(b, 'y1');
  t.equal(await commits(a), a0 + 2, 'A counts its own two commits');
  t.equal(await commits(b), b0 + 1, 'B counts its one, none of A\'s');
  const puts = async (c: Controller) => v(await scrape(c), 'sextant_http_requests_total', { listener: 'restconf', method: 'PUT', route: '/rests/data/*', status: '201' });
  t.equal(await puts(a), 2);
  t.equal(await puts(b), 1);
});
