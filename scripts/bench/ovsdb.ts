/**
 * npm run bench:ovsdb — 100 simulated computes (real ovsdb-servers, scripts/sim-computes) connect
 * to the controller at once. Measures the time until all are registered and the full tunnel mesh
 * (100 x 99 vxlan ports) is present in every OVS — counted from what the switches report back
 * through their monitors, i.e. rows that exist in each ovsdb-server — and the controller's RSS;
 * then scalein-computes-start of 10 computes and the time until every tombstone is visible in
 * OVS. Targets: mesh < 30 s, tombstones visible < 1 s.
 */
import { benchController } from './controller.ts';
import { startComputes, vsctl } from '../sim-computes.ts';

const COMPUTES = Number(process.env.BENCH_COMPUTES ?? 100);
const SCALE_IN = Number(process.env.BENCH_SCALE_IN ?? 10);
const round = (x: number) => Number(x.toFixed(3));
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const TOPOLOGY = '/network-topology:network-topology/topology=ovsdb%3A1';

const c = await benchController('ovsdb');
const data = c.data;

// What the switches report: tunnel ports per bridge node, and tombstones per bridge node.
const tunnels = new Set<string>();
const tombstoned = new Set<string>();
data.subscribe('operational', `${TOPOLOGY}/node=*/termination-point=*`, (changes) => {
  for (const ch of changes) {
    const key = `${ch.keys[0][0]}|${ch.keys[1][0]}`;
    if (!/^tun[0-9a-f]{11}$/.test(String(ch.keys[1][0]))) continue;
    if (ch.after) tunnels.add(key);
    else tunnels.delete(key);
  }
});
data.subscribe('operational', `${TOPOLOGY}/node=*/ovsdb:bridge-external-ids=tombstoned`, (changes) => {
  for (const ch of changes) {
    const v = (ch.after as { 'bridge-external-id-value'?: string } | undefined)?.['bridge-external-id-value'];
    if (v === 'true') tombstoned.add(String(ch.keys[0][0]));
    else tombstoned.delete(String(ch.keys[0][0]));
  }
});

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  // The checks read sets the listeners above keep current (and the config store): looking every
  // 10 ms costs nothing and, unlike waiting for all listeners to settle, is not held up by the
  // rest of the pipeline still working.
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let sims: Awaited<ReturnType<typeof startComputes>> | undefined;
try {
  const s0 = performance.now();
  sims = await startComputes({ count: COMPUTES, controller: `127.0.0.1:${c.ovsdb.port}`, first: 1 });
  const started = performance.now();
  const registered = () => ((data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === COMPUTES;
  await until('registration', 120_000, registered);
  const reg = performance.now();
  await until('full mesh', 300_000, () => tunnels.size === COMPUTES * (COMPUTES - 1));
  const meshed = performance.now();
  // Cross-check one switch with ovs-vsctl itself.
  const ports = (await vsctl(sims.computes[0], 'list-ports', 'br-int')).split('\n').filter((p) => p.startsWith('tun')).length;
  if (ports !== COMPUTES - 1) throw new Error(`compute-1 has ${ports} tunnel ports in OVS, want ${COMPUTES - 1}`);
  const mesh = (meshed - started) / 1000;
  line({ bench: 'ovsdb.mesh', metric: 'seconds', value: round(mesh), limit: 30, ratio: round(mesh / 30), target: '<=1', computes: COMPUTES, tunnel_ports: tunnels.size, registered_after_s: round((reg - started) / 1000), sim_start_s: round((started - s0) / 1000) });
  (globalThis as { gc?: () => void }).gc?.();
  line({ bench: 'ovsdb.rss', metric: 'MB', value: Math.round(process.memoryUsage().rss / 2 ** 20), target: 'report', peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) });

  const victims = sims.computes.slice(0, SCALE_IN).map((s) => s.name);
  const nodes = new Set(
    ((data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as { 'compute-name': string; nodeid: string }[]) ?? []).filter((n) => victims.includes(n['compute-name'])).map((n) => n.nodeid),
  );
  const t0 = performance.now();
  await c.rpc.invoke('scalein-api:scalein-computes-start', { 'scalein-node-ids': victims });
  await until('tombstones', 30_000, () => [...nodes].every((n) => tombstoned.has(n)));
  const visible = (performance.now() - t0) / 1000;
  const check = await vsctl(sims.computes[0], 'br-get-external-id', 'br-int', 'tombstoned');
  if (check !== 'true') throw new Error(`ovs-vsctl says tombstoned=${check} on compute-1`);
  line({ bench: 'ovsdb.tombstones', metric: 'seconds', value: round(visible), limit: 1, ratio: round(visible / 1), target: '<=1', computes: SCALE_IN });
} finally {
  await sims?.stop();
  await c.stop();
}
