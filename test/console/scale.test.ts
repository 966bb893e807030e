/**
 * The console on a 1,000-compute store, in Debian's headless Chromium: 1,000 computes in 20
 * transport zones of 50 (each zone a full tunnel mesh), two VM ports per compute, 250 SNAT
 * routers and 250 subnet routes (500 designations), written in bulk as the elections
 * benchmark writes its world. The first paint (navigation start to the first render with the
 * whole state, the page's `sextant-console-ready` mark) is measured and printed; the assertion
 * is only a generous bound (speed is the benchmarks' business). The issue's budget is 1 s.
 */
import t from 'tap';
import { join } from 'node:path';
import { datapathIdOf } from '../../src/southbound/ovsdb/topology.ts';
import type { ElectionsState } from '../../plugins/elections/index.ts';
import { testController } from '../helpers/controller.ts';
import { artifactsDir, browserContext, launchBrowser } from '../helpers/browser.ts';

const COMPUTES = 1000;
const ZONE = 50;
const SUBNETS = 250;
const GENEROUS_MS = 5000;

const c = await testController(t, ['--datastore=memory']);
const data = c.data;
const uuid = (kind: number, n: number) => `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
const nodeId = (i: number) => `ovsdb://uuid/${uuid(9, i)}/bridge/br-int`;
const tep = (i: number) => `10.${Math.floor(i / 250)}.${i % 250}.1`;

async function commitChunks(store: 'config' | 'operational', writes: [string, unknown][], size = 1000): Promise<void> {
  for (let i = 0; i < writes.length; i += size) {
    const tx = data.transaction(store);
    for (const [p, v] of writes.slice(i, i + size)) tx.put(p, v);
    await tx.commit();
  }
}

const t0 = performance.now();
// Ports of subnet s on two computes of zone s % 20; every compute gets two.
const zones = COMPUTES / ZONE;
const hostOf = (s: number, k: number) => (s % zones) * ZONE + ((Math.floor(s / zones) * 4 + k) % ZONE);
const taps = new Map<number, number[]>();
const config: [string, unknown][] = [];
for (let z = 0; z < zones; z++) {
  const vteps = [];
  for (let i = z * ZONE; i < (z + 1) * ZONE; i++) vteps.push({ 'dpn-id': String(i + 1), 'ip-address': tep(i) });
  config.push([`/itm:transport-zones/transport-zone=zone-${z}`, { 'zone-name': `zone-${z}`, 'tunnel-type': 'odl-interface:tunnel-type-vxlan', vteps }]);
}
for (let s = 0; s < SUBNETS; s++) {
  const net = uuid(1, s);
  const sub = uuid(2, s);
  const cidr = `10.${100 + Math.floor(s / 256)}.${s % 256}.0/24`;
  config.push([`/neutron:neutron/networks/network=${net}`, { uuid: net, 'neutron-provider-ext:network-type': 'neutron-provider-ext:network-type-vxlan', 'neutron-provider-ext:segmentation-id': String(1000 + s) }]);
  config.push([`/neutron:neutron/subnets/subnet=${sub}`, { uuid: sub, 'network-id': net, cidr }]);
  for (let k = 0; k < 4; k++) {
    const p = s * 4 + k;
    config.push([`/neutron:neutron/ports/port=${uuid(3, p)}`, { uuid: uuid(3, p), 'network-id': net, 'fixed-ips': [{ 'subnet-id': sub, 'ip-address': cidr.replace(/0\/24$/, String(10 + k)) }], 'device-owner': 'compute:nova' }]);
    const h = hostOf(s, k);
    taps.set(h, [...(taps.get(h) ?? []), p]);
  }
  const ri = 1_000_000 + s;
  config.push([`/neutron:neutron/ports/port=${uuid(3, ri)}`, { uuid: uuid(3, ri), 'network-id': net, 'fixed-ips': [{ 'subnet-id': sub, 'ip-address': cidr.replace(/0\/24$/, '1') }], 'device-owner': 'network:router_interface', 'device-id': uuid(4, s) }]);
  config.push([`/neutron:neutron/routers/router=${uuid(4, s)}`, { uuid: uuid(4, s), external_gateway_info: { 'external-network-id': uuid(1, 999999), 'enable-snat': true } }]);
  config.push([`/designated-switch:subnet-routes/subnet-route=${sub}`, { 'subnet-id': sub }]);
}
const oper: [string, unknown][] = [];
for (let i = 0; i < COMPUTES; i++) {
  oper.push([`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeId(i))}`, {
    'node-id': nodeId(i),
    'ovsdb:bridge-name': 'br-int',
    'ovsdb:datapath-id': datapathIdOf(i + 1),
    'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': `compute-${i}` }],
    'termination-point': (taps.get(i) ?? []).map((p, n) => ({ 'tp-id': `tap${p}`, 'ovsdb:name': `tap${p}`, 'ovsdb:ofport': n + 1, 'ovsdb:interface-external-ids': [{ 'external-id-key': 'iface-id', 'external-id-value': uuid(3, p) }] })),
  }]);
}
await commitChunks('operational', oper, 200);
await commitChunks('config', config);
// Converged: every compute registered, every service elected, nothing left to do.
for (;;) {
  await data.settled();
  await c.plugins.state<ElectionsState>('elections')?.queue.idle();
  await data.settled();
  const computes = (data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0;
  const status = data.read('operational', '/designated-switch:elections-status') as { 'pending-services'?: number } | undefined;
  const designated = (data.read('operational', '/designated-switch:designated-switches/designated-switch') as unknown[] | undefined)?.length ?? 0;
  if (computes === COMPUTES && designated === 2 * SUBNETS && status?.['pending-services'] === 0) break;
  await new Promise((r) => setTimeout(r, 100));
}
t.comment(`store built and converged in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const browser = await launchBrowser(t);

t.test(`a ${COMPUTES}-compute store renders within a generous bound (first paint measured)`, async (t) => {
  const context = await browserContext(browser, t, { username: 'admin', password: 'admin' });
  const page = await context.newPage();
  const figures: number[] = [];
  // Twice: the first load also pays for Chromium's cold start of this context; both are reported.
  for (let run = 0; run < 2; run++) {
    await page.goto(`${c.restconf.url}/console`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name.replace('sextant-console-', ''), Math.round(m.startTime)])));
    t.comment(`load ${run + 1}: marks (ms from navigation start) ${JSON.stringify(marks)}`);
    figures.push(marks.ready ?? -1);
  }
  const rows = await page.locator('#panel-computes tbody tr').count();
  t.equal(rows, COMPUTES, 'every compute has its row');
  t.match(await page.locator('#panel-computes .count').textContent(), `${COMPUTES} (0 tombstoned, ${COMPUTES} connected)`, 'counted, all connected');
  // The 20 zones and the default one (empty: no compute reports local_ip here).
  t.equal(await page.locator('#panel-topology .count').textContent(), `${zones + 1} zone(s), ${zones * ZONE * (ZONE - 1)} tunnels`, 'the mesh is summarised per zone');
  t.match(await page.locator('#panel-designations .count').textContent(), new RegExp(`^${2 * SUBNETS} `), 'every designation is counted');
  const bytes = await page.evaluate(() => (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => r.name.includes('/console/events')).map((r) => r.transferSize)[0] ?? 0);
  t.comment(`console first paint on ${COMPUTES} computes: cold ${figures[0].toFixed(0)} ms, warm ${figures[1].toFixed(0)} ms (issue budget 1000 ms)${bytes ? `, events ${bytes} bytes` : ''}`);
  console.log(JSON.stringify({ bench: 'console.first_paint', metric: 'ms', value: Math.round(figures[1]), cold: Math.round(figures[0]), computes: COMPUTES, limit: 1000, ratio: Number((figures[1] / 1000).toFixed(3)), target: '<=1' }));
  t.ok(figures.every((ms) => ms > 0 && ms < GENEROUS_MS), `first paint under ${GENEROUS_MS} ms (${figures.map((f) => f.toFixed(0)).join(', ')} ms)`);
  await page.screenshot({ path: join(artifactsDir('console'), '10-1000-computes.png') });
});
