/**
 * npm run bench:openflow — the OpenFlow southbound against a real ovs-vswitchd (dummy datapath).
 *
 *  openflow.install: 20,000 flows committed to the config inventory until all are present in the
 *    switch (BARRIER replied), next to `ovs-ofctl -O OpenFlow13 add-flows` of the same flows
 *    from a file into another bridge of the same ovs-vswitchd, measured in the same run.
 *    ratio = ovs-ofctl seconds / ours, commit included (>= 1: we are at least as fast);
 *    southbound_ratio the same from the commit's return (what the OpenFlow southbound adds). Target >= 1.
 *  openflow.reconcile: with those flows installed, 1% changed behind the controller's back
 *    (100 deleted, 100 stale ones of ours added with ovs-ofctl), the switch reconnects
 *    (bridge/reconnect): seconds until its table equals the config inventory again. Target < 2 s.
 *
 * BENCH_FLOWS changes the count; BENCH_DATASTORE=memory runs on the memory datastore (default: LevelDB, as npm start).
 * reconnect_seconds (Open vSwitch's own reconnect delay after bridge/reconnect) is reported apart.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchController } from './controller.ts';
import { normaliseFlows, startSwitch } from '../../test/helpers/vswitchd.ts';
import { flowJson, flowPath, ofctlFlow, type FlowSpec } from '../../src/southbound/openflow/flows.ts';

const FLOWS = Number(process.env.BENCH_FLOWS ?? 20_000);
const DPN = 0xbe1n;
const round = (x: number) => Number(x.toFixed(3));
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const teardowns: (() => unknown)[] = [];
const lifetime = { teardown: (fn: () => unknown) => void teardowns.push(fn) };

const mac = (i: number) => `fa:16:3e:${((i >> 16) & 0xff).toString(16).padStart(2, '0')}:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
const spec = (i: number): FlowSpec => ({
  table: 51,
  id: `net.bench.local.${i}`,
  priority: 90,
  cookie: 0x5e10000000000001n,
  match: { metadata: { value: BigInt(1000 + (i % 50)), mask: 0xffffffn }, ethDst: mac(i) },
  instructions: { apply: [{ output: 1 + (i % 2) }] },
});

const c = await benchController('openflow', ['--plugins=none', '--openflow-stats-interval=0', ...(process.env.BENCH_DATASTORE ? [`--datastore=${process.env.BENCH_DATASTORE}`] : [])]);
try {
  const sw = await startSwitch(lifetime, { dpid: DPN, controllerPort: c.openflow.port, ports: ['p1', 'p2'] });
  await c.openflow.synced(DPN);
  const specs = Array.from({ length: FLOWS }, (_, i) => spec(i));

  // ours: one commit of every flow, until the switch has confirmed all of them
  const t0 = performance.now();
  const tx = c.data.transaction('config');
  for (const f of specs) tx.put(flowPath(DPN, f.table, f.id), flowJson(DPN, f) as never);
  await tx.commit();
  const committed = performance.now();
  await c.openflow.synced(DPN);
  const ours = (performance.now() - t0) / 1000;
  const southbound = (performance.now() - committed) / 1000;
  const installed = normaliseFlows(await sw.ofctl('dump-flows', 'br-int'));
  if (installed.length !== FLOWS) throw new Error(`the switch holds ${installed.length} flows, not ${FLOWS}`);

  // the peer: ovs-ofctl add-flows of the same flows, from a file, into a bridge of its own
  await sw.vsctl('add-br', 'br-ref', '--', 'set', 'bridge', 'br-ref', 'datapath_type=dummy', 'protocols=OpenFlow13', 'fail-mode=secure');
  const file = join(sw.dir, 'flows.txt');
  writeFileSync(file, specs.map((f) => ofctlFlow(flowJson(DPN, f))).join('\n') + '\n');
  const p0 = performance.now();
  await sw.ofctl('add-flows', 'br-ref', file);
  const ofctl = (performance.now() - p0) / 1000;
  const reference = normaliseFlows(await sw.ofctl('dump-flows', 'br-ref'));
  if (reference.join('\n') !== installed.join('\n')) throw new Error('br-int and br-ref do not hold the same flows');
  line({ bench: 'openflow.install', flows: FLOWS, seconds: round(ours), flows_per_s: Math.round(FLOWS / ours), southbound_seconds: round(southbound), ofctl_seconds: round(ofctl), ofctl_flows_per_s: Math.round(FLOWS / ofctl), ratio: round(ofctl / ours), southbound_ratio: round(ofctl / southbound), target_ratio: 1 });

  // reconcile: 1% differs behind the controller's back, then the switch reconnects
  const changed = Math.max(1, Math.floor(FLOWS / 100));
  const drift = join(sw.dir, 'drift.txt');
  const lines: string[] = [];
  for (let i = 0; i < changed / 2; i++) lines.push(`delete_strict table=51,priority=90,metadata=${1000 + (i % 50)}/0xffffff,dl_dst=${mac(i)}`);
  for (let i = 0; i < changed / 2; i++) lines.push(`add table=51,priority=91,cookie=0x5e10000000000077,dl_dst=${mac(FLOWS + i)},actions=output:1`);
  writeFileSync(drift, lines.join('\n') + '\n');
  // add-flows takes a command per line (add, delete_strict...)
  await sw.ofctl('add-flows', 'br-int', drift);
  if (normaliseFlows(await sw.ofctl('dump-flows', 'br-int')).join('\n') === installed.join('\n')) throw new Error('the drift did not change the switch');
  const before = c.openflow.status(DPN)!.connection;
  const r0 = performance.now();
  await sw.appctl('bridge/reconnect', 'br-int');
  while ((c.openflow.status(DPN)?.connection ?? 0) <= before) await new Promise((r) => setTimeout(r, 5));
  const connected = performance.now();
  await c.openflow.synced(DPN);
  const reconcile = (performance.now() - connected) / 1000;
  const reconnect = (connected - r0) / 1000;
  const after = normaliseFlows(await sw.ofctl('dump-flows', 'br-int'));
  if (after.join('\n') !== installed.join('\n')) throw new Error(`after reconcile the switch holds ${after.length} flows, not the ${FLOWS} intended`);
  line({ bench: 'openflow.reconcile', flows: FLOWS, differing: changed, seconds: round(reconcile), reconnect_seconds: round(reconnect), target_seconds: 2 });
} finally {
  await c.stop();
  for (const fn of teardowns.reverse()) await fn();
}
