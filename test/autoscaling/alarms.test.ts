/**
 * Threshold alarms on pushed metrics, on real Open vSwitch databases: samples above the threshold
 * put the scale-out alarm in alarm and the cluster grows by one node (an OVS interface appears,
 * read back with ovs-vsctl); while the scale-out policy cools down the alarm fires without
 * scaling; samples below the other threshold scale in by one; without samples both alarms have
 * insufficient data. push-metrics refuses bad input whole, and a TOSCA template's alarms are
 * stored on ingest.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync as until, waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const NETWORK = '11111111-2222-4333-8444-555555555555';
const STATE = '/sextant-clustering:clustering-state';

const c = await testController(t, ['--datastore=memory', '--autoscaling-port-wait-ms=10000', '--autoscaling-alarm-evaluation-interval=1']);
const sims = await computesForTest(t, { count: 3, controller: `127.0.0.1:${c.ovsdb.port}` });

async function http(method: string, path: string, body?: unknown) {
  const r = await fetch(c.restconf.url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}
const rpc = (name: string, input: Record<string, unknown>) => http('POST', `/rests/operations/${name}`, { input });
const push = (sample: Record<string, unknown>[]) => rpc('sextant-clustering:push-metrics', { sample });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Node = { id: string; status: string; compute?: string; port?: string };
type Action = { id: string; action: string; cause: string; status: string; 'status-reason'?: string };
type AlarmState = { state?: string; 'state-reason'?: string; 'last-fired'?: string };
type Bucket = { series: string; 'period-start': string; member: string; count: number };
const nodes = (cluster: string) => ((c.data.read('operational', `${STATE}/cluster=${cluster}`) as { node?: Node[] } | undefined)?.node ?? []);
const actions = () => (c.data.read('operational', `${STATE}/action`) as Action[] | undefined) ?? [];
const alarm = (id: string) => (c.data.read('operational', `${STATE}/alarm=${id}`) as AlarmState | undefined) ?? {};
const buckets = () => (c.data.read('operational', `${STATE}/metric-bucket`) as Bucket[] | undefined) ?? [];

const allIfaceIds = async () => (await Promise.all(sims.computes.map(ifaceIds))).flat();


/** Pushes one sample per node of c1 (by node, and one for the cluster by name) every 200 ms until stopped. */
function pushing(value: string): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    while (on) {
      const r = await push([...nodes('c1').map((n) => ({ meter: 'cpu_util', value, node: n.id })), { meter: 'cpu_util', value, cluster: 'web-cluster' }]);
      if (r.status !== 200) throw new Error(`push-metrics: ${r.status} ${JSON.stringify(r.json)}`);
      await sleep(200);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

await waitUntil('the three computes are registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 3, 15_000);

t.test('alarms on pushed cpu_util scale the cluster out and in, once per cooldown; no samples: insufficient data', async (t) => {
  t.equal((await http('POST', '/rests/data', {
    'sextant-clustering:clustering': {
      profile: [{ id: 'web', name: 'web', type: 'os.nova.server-1.0', network: NETWORK }],
      policy: [
        { id: 'out', name: 'out', scaling: { event: 'CLUSTER_SCALE_OUT', number: 1, cooldown: 5 } },
        { id: 'in', name: 'in', scaling: { event: 'CLUSTER_SCALE_IN', number: 1, cooldown: 1 } },
      ],
      cluster: [{ id: 'c1', name: 'web-cluster', profile: 'web', 'min-size': 1, 'max-size': 4, 'desired-capacity': 2, policy: [{ policy: 'out' }, { policy: 'in' }] }],
      receiver: [
        { id: 'r-out', name: 'r-out', cluster: 'c1', action: 'CLUSTER_SCALE_OUT' },
        { id: 'r-in', name: 'r-in', cluster: 'c1', action: 'CLUSTER_SCALE_IN' },
      ],
      alarm: [
        { id: 'high', name: 'cpu-high', meter: 'cpu_util', statistic: 'avg', period: 1, 'evaluation-periods': 1, threshold: '50', 'comparison-operator': 'gt', 'repeat-actions': true, 'alarm-actions': ['r-out'], cluster: 'c1' },
        { id: 'low', name: 'cpu-low', meter: 'cpu_util', statistic: 'avg', period: 1, 'evaluation-periods': 1, threshold: '20', 'comparison-operator': 'lt', 'alarm-actions': ['r-in'], cluster: 'c1' },
      ],
    },
  })).status, 201, 'profile, policies, cluster, receivers and alarms created over RESTCONF');
  await waitUntil('two ACTIVE nodes', () => nodes('c1').filter((n) => n.status === 'ACTIVE').length === 2, 20_000);

  await waitUntil('both alarms evaluated', () => alarm('high').state !== undefined && alarm('low').state !== undefined, 5000);
  t.equal(alarm('high').state, 'insufficient-data', 'nothing pushed yet: insufficient data');
  t.match(alarm('low')['state-reason'], /datapoints are unknown: no cpu_util sample/, 'and the reason says so');

  const before = new Set(await allIfaceIds());
  const stopHigh = pushing('80');
  await waitUntil('the high alarm goes to alarm', () => alarm('high').state === 'alarm', 10_000);
  t.match(alarm('high')['state-reason'], /Transition to alarm due to 1 samples outside threshold, most recent: 80/, "Aodh's reason");
  await waitUntil('a scale-out action caused by the alarm', () => actions().some((a) => a.cause === 'alarm cpu-high'), 5000);
  const out = actions().find((a) => a.cause === 'alarm cpu-high')!;
  t.equal(out.action, 'CLUSTER_SCALE_OUT', 'the receiver\'s action, caused by "alarm cpu-high"');
  await waitUntil('it ends', () => ['SUCCEEDED', 'FAILED'].includes(actions().find((a) => a.id === out.id)?.status ?? ''), 20_000);
  t.equal(actions().find((a) => a.id === out.id)!.status, 'SUCCEEDED', 'scale-out SUCCEEDED');
  t.equal(nodes('c1').length, 3, 'three nodes in the operational state');
  const added = nodes('c1').find((n) => !before.has(n.port!))!;
  t.ok(added, 'one new node');
  const sw = sims.computes.find((s) => s.name === added.compute)!;
  await until('its interface is in OVS', async () => (await ifaceIds(sw)).includes(added.port!));
  t.pass(`its OVS interface (iface-id ${added.port}) is on ${sw.name} (ovs-vsctl)`);

  // Still above: repeat-actions fires again, inside the scale-out policy's cooldown.
  await waitUntil('the alarm fires again without scaling', () => /fired without scaling: .*cooldown still in progress/.test(alarm('high')['state-reason'] ?? ''), 4000);
  t.pass(`the alarm fired again inside the cooldown: ${alarm('high')['state-reason']}`);
  await stopHigh();
  t.equal(actions().filter((a) => a.cause === 'alarm cpu-high').length, 1, 'no second scale-out');

  const stopLow = pushing('10');
  await waitUntil('the low alarm goes to alarm', () => alarm('low').state === 'alarm', 10_000);
  await waitUntil('a scale-in action caused by the low alarm', () => actions().some((a) => a.cause === 'alarm cpu-low'), 5000);
  const inAction = actions().find((a) => a.cause === 'alarm cpu-low')!;
  t.equal(inAction.action, 'CLUSTER_SCALE_IN');
  await waitUntil('it ends', () => ['SUCCEEDED', 'FAILED'].includes(actions().find((a) => a.id === inAction.id)?.status ?? ''), 20_000);
  t.equal(actions().find((a) => a.id === inAction.id)!.status, 'SUCCEEDED', 'scale-in SUCCEEDED');
  t.equal(nodes('c1').length, 2, 'two nodes again');
  await waitUntil('the high alarm is ok', () => alarm('high').state === 'ok', 5000);
  t.match(alarm('high')['state-reason'], /Transition to ok due to 1 samples inside threshold|Remaining as ok/, 'the high alarm is ok below its threshold');
  await stopLow();
  await until('one VM interface fewer in OVS', async () => (await allIfaceIds()).length === before.size);
  t.pass('the removed node\'s interface left OVS (ovs-vsctl)');
  t.equal(actions().filter((a) => a.cause === 'alarm cpu-high').length, 1, 'still one scale-out: the cooldown held');

  await waitUntil('no samples: insufficient data again', () => alarm('high').state === 'insufficient-data' && alarm('low').state === 'insufficient-data', 5000);
  t.pass('samples stopped: both alarms have insufficient data');
  const mine = buckets().filter((b) => b.series.startsWith('cpu_util|'));
  t.ok(mine.length > 0 && mine.every((b) => b.member === mine[0].member && b.member.length > 0), `buckets are kept under this member's id (${mine[0]?.member})`);
  t.ok(mine.some((b) => b.series.startsWith('cpu_util|node=')) && mine.some((b) => b.series === 'cpu_util|cluster=c1|1s'), 'per series: of a node, or of the cluster');
});

t.test('push-metrics: bad input is refused whole, nothing stored', async (t) => {
  const FUTURE = '2100-01-01T00:00:00Z';
  const stored = (prefix: string) => buckets().filter((b) => b['period-start'].startsWith(prefix));
  const good = { meter: 'cpu_util', value: '30', cluster: 'c1', timestamp: FUTURE };
  const cases: [string, Record<string, unknown>[], number, RegExp][] = [
    ['a value that is no number', [good, { meter: 'cpu_util', value: 'high', cluster: 'c1', timestamp: FUTURE }], 400, /high/],
    ['a sample of neither cluster nor node', [good, { meter: 'cpu_util', value: '1', timestamp: FUTURE }], 400, /neither cluster nor node/],
    ['an unknown cluster', [good, { meter: 'cpu_util', value: '1', cluster: 'nope', timestamp: FUTURE }], 400, /no cluster 'nope'/],
    ['a node in no cluster', [good, { meter: 'cpu_util', value: '1', node: 'nope', timestamp: FUTURE }], 400, /node 'nope' is in no cluster/],
    ['a bad timestamp', [good, { meter: 'cpu_util', value: '1', cluster: 'c1', timestamp: 'yesterday' }], 400, /yesterday/],
    ['10,001 samples', Array.from({ length: 10_001 }, () => good), 400, /at most 10000/],
  ];
  for (const [what, sample, status, message] of cases) {
    const r = await push(sample);
    t.equal(r.status, status, `${what}: ${status}`);
    t.match(r.json?.errors?.error?.[0]?.['error-message'], message, `${what}: says why`);
  }
  const big = await http('POST', '/rests/operations/sextant-clustering:push-metrics', JSON.stringify({ input: { sample: [{ ...good, meter: 'x'.repeat(2_000_000) }] } }));
  t.equal(big.status, 413, 'a body over the RESTCONF limit: 413');
  await sleep(1500); // a flush
  t.equal(stored('2100').length, 0, 'none of them stored anything');

  const any = await push([{ meter: 'my.own.meter', value: '7.5', cluster: 'web-cluster' }, { ...good, timestamp: '2100-01-01T00:00:05Z' }]);
  t.equal(any.status, 200, 'any meter name is accepted');
  t.equal(any.json['sextant-clustering:output'].accepted, 2, 'accepted: 2');
  await waitUntil('flushed', () => stored('2100').length === 1, 3000);
  t.match(stored('2100')[0], { series: 'cpu_util|cluster=c1|1s', 'period-start': '2100-01-01T00:00:05.000Z', member: String, count: 1, sum: /^30(\.0+)?$/ }, 'a good batch is stored (the control)');
});

t.test("a TOSCA template's alarms are stored on ingest, its actions the receivers made, and go with the cluster", async (t) => {
  const NET1 = '22222222-3333-4444-8555-666666666666';
  t.equal((await http('PUT', `/rests/data/neutron:neutron/networks/network=${NET1}`, { 'neutron:network': [{ uuid: NET1, name: 'net1' }] })).status, 201);
  const template = readFileSync(join(import.meta.dirname, 'fixtures/senlin-spec-example.yaml'), 'utf8');
  const r = await rpc('sextant-clustering:ingest-template', { template, name: 'vnf1' });
  t.equal(r.status, 200, 'ingest-template');
  const out = r.json['sextant-clustering:output'];
  t.notOk((out.warning ?? []).some((w: string) => /not stored/.test(w)), 'no "not stored" warning');
  const stored = ((c.data.read('config', '/sextant-clustering:clustering/alarm') as Record<string, unknown>[]) ?? []).filter((a) => a.cluster === out.cluster);
  t.equal(stored.length, 1, 'one alarm for the one trigger');
  t.match(stored[0], { meter: 'cpu_util', statistic: 'avg', period: 60, 'evaluation-periods': 1, 'comparison-operator': 'gt', 'repeat-actions': true, 'alarm-actions': [out.receiver[0]], description: 'utilization greater_than 50%' }, 'the trigger as an alarm, driving the scale-out receiver');
  t.equal(Number(stored[0].threshold), 50, 'threshold 50');
  t.equal((await http('DELETE', `/rests/data/sextant-clustering:clustering/cluster=${out.cluster}`)).status, 204, 'the cluster deleted');
  t.equal(((c.data.read('config', '/sextant-clustering:clustering/alarm') as Record<string, unknown>[]) ?? []).filter((a) => a.cluster === out.cluster).length, 0, 'its alarm went with it');
  await waitUntil('its nodes are gone', () => nodes(out.cluster).length === 0 && !c.data.read('operational', `${STATE}/cluster=${out.cluster}`), 20_000);
});
