/**
 * npm run bench:autoscaling — autoscaling on real ovsdb-server computes (scripts/sim-computes),
 * one in-process controller (what `npm start` runs, LevelDB). JSON lines:
 *
 * 1. autoscaling.scale-out: one cluster from 0 to BENCH_NODES (1,000, Senlin's default max per
 *    cluster) nodes on BENCH_COMPUTES (50) computes, one cluster-resize request, until every node
 *    is ACTIVE (its port present in the compute's OVS). Peer, in the same run: the same number of
 *    plain VM ports (a Neutron port and an OVS interface each) created through RESTCONF, 16
 *    requests at a time, until all are present in OVS. Target: ratio <= 2.
 * 2. autoscaling.webhook: a webhook POST (no credentials, V=2) of a 1-node scale-out receiver to
 *    its action SUCCEEDED (the node's port in OVS), p50/p99 over BENCH_WEBHOOKS (100) triggers, one
 *    after the other. Target: p99 < 100 ms.
 * 3. autoscaling.alarms: 100 clusters x 2 threshold alarms, evaluated every 10 s, with 1,000
 *    metric samples/s pushed (push-metrics over RESTCONF, 100 per request): CPU of the controller
 *    process next to an idle one in the same window. Target: < 20 % of one core.
 */
import { randomUUID } from 'node:crypto';
import { startComputes } from '../sim-computes.ts';
import { benchController } from './controller.ts';
import { cpuMs, spawnController } from './process.ts';

const NODES = Number(process.env.BENCH_NODES ?? 1000);
const COMPUTES = Number(process.env.BENCH_COMPUTES ?? 50);
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const NETWORK = '44444444-5555-4666-8777-888888888888';
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const round = (x: number, d = 3) => Number(x.toFixed(d));

const c = await benchController('autoscaling', [`--autoscaling-port-wait-ms=600000`, `--autoscaling-max-nodes-per-cluster=${2 * NODES}`]);
const sims = await startComputes({ count: COMPUTES, controller: `127.0.0.1:${c.ovsdb.port}` });
const http = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(c.restconf.url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, 'content-type': JSON_TYPE }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
};
const until = async (what: string, check: () => boolean, ms = 600_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
/** VM interfaces the computes' OVS report (operational topology), by iface-id. */
const reported = () => {
  const ids = new Set<string>();
  for (const n of (c.data.read('operational', '/network-topology:network-topology/topology=ovsdb%3A1/node') as { 'termination-point'?: { 'ovsdb:interface-external-ids'?: { 'external-id-key': string; 'external-id-value': string }[] }[] }[] | undefined) ?? []) {
    for (const tp of n['termination-point'] ?? []) for (const e of tp['ovsdb:interface-external-ids'] ?? []) if (e['external-id-key'] === 'iface-id') ids.add(e['external-id-value']);
  }
  return ids;
};
try {
  await until('the computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === COMPUTES, 120_000);
  const computes = (c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as { 'compute-name': string; nodeid: string }[]).map((x) => ({ name: x['compute-name'], bridge: x.nodeid }));

  // The peer first: plain VM ports through RESTCONF, as an orchestrator without autoscaling would.
  const ports = Array.from({ length: NODES }, (_, i) => ({ port: randomUUID(), at: computes[i % computes.length] }));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < ports.length; i = next++) {
        const { port, at } = ports[i];
        const tap = `tap${port.replace(/-/g, '').slice(0, 11)}`;
        await http('PUT', `/rests/data/neutron:neutron/ports/port=${port}`, { 'neutron:port': [{ uuid: port, 'network-id': NETWORK, 'device-owner': 'compute:nova', 'neutron-binding:host-id': at.name }] });
        await http('PUT', `/rests/data/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(at.bridge)}/termination-point=${tap}`, {
          'network-topology:termination-point': [{ 'tp-id': tap, 'ovsdb:name': tap, 'ovsdb:interface-type': 'ovsdb:interface-type-internal', 'ovsdb:interface-external-ids': [{ 'external-id-key': 'iface-id', 'external-id-value': port }] }],
        });
      }
    }),
  );
  await until('the plain ports in OVS', () => {
    const r = reported();
    return ports.every((p) => r.has(p.port));
  });
  const plain = (performance.now() - t0) / 1000;
  // Clean them away before the cluster's turn.
  const tx = c.data.transaction('config');
  for (const { port, at } of ports) {
    tx.remove(`/neutron:neutron/ports/port=${port}`);
    tx.remove(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(at.bridge)}/termination-point=tap${port.replace(/-/g, '').slice(0, 11)}`);
  }
  await tx.commit();
  await until('the plain ports gone', () => reported().size === 0);

  await http('POST', '/rests/data', {
    'sextant-clustering:clustering': {
      profile: [{ id: 'bench', name: 'bench', type: 'sextant.ovs.port-1.0', network: NETWORK }],
      cluster: [{ id: 'big', name: 'big', profile: 'bench', 'min-size': 0, 'max-size': NODES, 'desired-capacity': 0 }],
    },
  });
  await until('the cluster created', () => (c.data.read('operational', '/sextant-clustering:clustering-state/cluster=big') as { status?: string } | undefined)?.status === 'ACTIVE', 60_000);
  const t1 = performance.now();
  const out = await http('POST', '/rests/operations/sextant-clustering:cluster-resize', { input: { cluster: 'big', 'adjustment-type': 'EXACT_CAPACITY', number: NODES } });
  const action = out['sextant-clustering:output'].action as string;
  await until('the resize ends', () => ['SUCCEEDED', 'FAILED'].includes((c.data.read('operational', `/sextant-clustering:clustering-state/action=${action}`) as { status?: string } | undefined)?.status ?? ''));
  const scaled = (performance.now() - t1) / 1000;
  const state = c.data.read('operational', `/sextant-clustering:clustering-state/action=${action}`) as { status: string; 'status-reason'?: string };
  const active = ((c.data.read('operational', '/sextant-clustering:clustering-state/cluster=big') as { node?: { status: string }[] }).node ?? []).filter((n) => n.status === 'ACTIVE').length;
  if (state.status !== 'SUCCEEDED' || active !== NODES) throw new Error(`the resize ${state.status} (${state['status-reason']}), ${active} ACTIVE nodes`);
  // Webhooks: a receiver of the same cluster, each trigger one more node.
  const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 100);
  await http('POST', '/rests/data/sextant-clustering:clustering', { 'sextant-clustering:receiver': [{ id: 'hook-bench-0123456789abcdef0123456789abcdef', name: 'hook', cluster: 'big', action: 'CLUSTER_SCALE_OUT' }] });
  await http('PATCH', '/rests/data/sextant-clustering:clustering/cluster=big', { 'sextant-clustering:cluster': [{ id: 'big', 'max-size': NODES + WEBHOOKS }] });
  const clustering = c.http.listening().get('clustering')!.url;
  const lat: number[] = [];
  for (let i = 0; i < WEBHOOKS; i++) {
    const t2 = performance.now();
    const r = await fetch(`${clustering}/v1/webhooks/hook-bench-0123456789abcdef0123456789abcdef/trigger?V=2`, { method: 'POST' });
    const { action: id } = (await r.json()) as { action: string };
    if (r.status !== 202) throw new Error(`webhook: ${r.status}`);
    await until('the webhook action ends', () => ['SUCCEEDED', 'FAILED'].includes((c.data.read('operational', `/sextant-clustering:clustering-state/action=${id}`) as { status?: string } | undefined)?.status ?? ''), 30_000);
    lat.push(performance.now() - t2);
    const st = (c.data.read('operational', `/sextant-clustering:clustering-state/action=${id}`) as { status: string; 'status-reason'?: string });
    if (st.status !== 'SUCCEEDED') throw new Error(`webhook action ${st.status}: ${st['status-reason']}`);
  }
  lat.sort((x, y) => x - y);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((lat.length * p) / 100))];
  line({ bench: 'autoscaling.webhook', metric: 'p99_ms', value: round(pct(99)), p50_ms: round(pct(50)), peer: 'target', peer_value: 100, ratio: round(pct(99) / 100), target: '<1', detail: `${WEBHOOKS} webhook triggers (POST /v1/webhooks/<id>/trigger?V=2, no credentials), one after the other, each a 1-node scale-out of a ${NODES}-node cluster, to the action SUCCEEDED with the node's port in OVS; ${COMPUTES} real ovsdb-server computes; LevelDB` });
  line({ bench: 'autoscaling.scale-out', metric: 'seconds', value: round(scaled), peer: `${NODES} plain VM ports through RESTCONF (16 at a time)`, peer_value: round(plain), ratio: round(scaled / plain), target: '<=2', detail: `one cluster 0 -> ${NODES} nodes (cluster-resize EXACT_CAPACITY) on ${COMPUTES} real ovsdb-server computes, until every node is ACTIVE (its port in OVS); LevelDB` });
} finally {
  await c.stop();
  await sims.stop();
}

// ---- alarms ----------------------------------------------------------------------------------
const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 100);
const RATE = Number(process.env.BENCH_SAMPLES_PER_S ?? 1000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 30);
const busy = await spawnController('alarms', ['--plugins=cloudscaler,autoscaling']);
const idle = await spawnController('idle', ['--plugins=cloudscaler,autoscaling']);
try {
  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, 'content-type': JSON_TYPE }, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : undefined;
  };
  const ids = Array.from({ length: CLUSTERS }, (_, i) => `c${i}`);
  await call(busy.url, 'POST', '/rests/data', {
    'sextant-clustering:clustering': {
      profile: [{ id: 'p', name: 'p', type: 'sextant.ovs.port-1.0', network: NETWORK }],
      cluster: ids.map((id) => ({ id, name: id, profile: 'p', 'min-size': 0, 'max-size': 10, 'desired-capacity': 0 })),
      receiver: ids.flatMap((id) => [
        { id: `${id}-out`, name: `${id}-out`, cluster: id, action: 'CLUSTER_SCALE_OUT' },
        { id: `${id}-in`, name: `${id}-in`, cluster: id, action: 'CLUSTER_SCALE_IN' },
      ]),
      // Samples stay between the thresholds: the bench measures evaluation, not scaling.
      alarm: ids.flatMap((id) => [
        { id: `${id}-high`, name: `${id}-high`, meter: 'cpu_util', statistic: 'avg', period: 10, 'evaluation-periods': 1, threshold: '80', 'comparison-operator': 'gt', 'alarm-actions': [`${id}-out`], cluster: id },
        { id: `${id}-low`, name: `${id}-low`, meter: 'cpu_util', statistic: 'avg', period: 10, 'evaluation-periods': 1, threshold: '5', 'comparison-operator': 'lt', 'alarm-actions': [`${id}-in`], cluster: id },
      ]),
    },
  });
  let pushed = 0;
  let stop = false;
  const perRequest = 100;
  const pushing = (async () => {
    const started = performance.now();
    while (!stop) {
      const sample = Array.from({ length: perRequest }, () => ({ meter: 'cpu_util', value: (30 + Math.random() * 30).toFixed(2), cluster: ids[Math.floor(Math.random() * ids.length)] }));
      await call(busy.url, 'POST', '/rests/operations/sextant-clustering:push-metrics', { input: { sample } });
      pushed += perRequest;
      const due = started + (pushed / RATE) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
  })();
  // Warm up one evaluation interval, then measure.
  await new Promise((r) => setTimeout(r, 12_000));
  const b0 = cpuMs(busy.child.pid!);
  const i0 = cpuMs(idle.child.pid!);
  const p0 = pushed;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const secs = (performance.now() - t0) / 1000;
  const busyPct = ((cpuMs(busy.child.pid!) - b0) / 1000 / secs) * 100;
  const idlePct = ((cpuMs(idle.child.pid!) - i0) / 1000 / secs) * 100;
  const rate = (pushed - p0) / secs;
  stop = true;
  await pushing;
  const states = ((await call(busy.url, 'GET', '/rests/data/sextant-clustering:clustering-state?fields=alarm(id;state)'))['sextant-clustering:clustering-state']?.alarm ?? []) as { state?: string }[];
  const evaluated = states.filter((a) => a.state === 'ok').length;
  line({ bench: 'autoscaling.alarms', metric: 'cpu_pct_of_one_core', value: round(busyPct, 1), peer: 'idle controller, same window', peer_value: round(idlePct, 1), ratio: round(busyPct / 20), target: '<1 (of 20 %)', detail: `${CLUSTERS} clusters x 2 threshold alarms evaluated every 10 s, ${round(rate, 0)} samples/s pushed (push-metrics, ${perRequest} per request) over ${round(secs, 1)} s; ${evaluated} of ${states.length} alarms ok; memory datastore` });
} finally {
  busy.child.kill('SIGKILL');
  idle.child.kill('SIGKILL');
}
