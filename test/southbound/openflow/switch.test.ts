/**
 * The OpenFlow southbound against a REAL ovs-vswitchd (dummy datapath): handshake and the
 * operational inventory, the config inventory's flows programmed and read back with ovs-ofctl,
 * changes, a flow the switch rejects, reconciliation after a reconnect with flows planted behind
 * the controller's back, and a switch that goes and comes back.
 */
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testController } from '../../helpers/controller.ts';
import { untilAsync } from '../../helpers/process.ts';
import { normaliseFlows, startSwitch, type OvsSwitch } from '../../helpers/vswitchd.ts';
import { flowJson, flowPath, inventoryNodePath, ofctlFlow, type FlowSpec } from '../../../src/southbound/openflow/flows.ts';
import type { Controller } from '../../../src/controller.ts';
import { parseExposition } from '../../helpers/prometheus.ts';
import type { Node } from '../../../src/bindings/opendaylight-inventory.ts';

const DPN = 161n; // datapath id 0xa1
const NET = 0x5e10000000000001n;

const specs = (): FlowSpec[] => [
  { table: 0, id: 'net.n1.port-in.p1', priority: 100, cookie: NET, match: { inPort: 1 }, instructions: { writeMetadata: { value: 1001n, mask: 0xffffffn }, goToTable: 17 } },
  { table: 0, id: 'net.n1.tunnel-in', priority: 50, cookie: NET, match: { tunnelId: 1001n }, instructions: { writeMetadata: { value: 1001n, mask: 0xffffffn }, goToTable: 17 } },
  { table: 17, id: 'net.n1.to-l2', priority: 10, cookie: NET, match: { metadata: { value: 1001n, mask: 0xffffffn } }, instructions: { goToTable: 51 } },
  { table: 21, id: 'subnet-route.s1.punt', priority: 124, cookie: 0x5e30000000000002n, match: { metadata: { value: 1001n, mask: 0xffffffn }, ipv4Dst: '10.0.0.0/24' }, instructions: { apply: [{ controller: 65535 }] } },
  { table: 51, id: 'net.n1.local.p1', priority: 90, cookie: NET, match: { metadata: { value: 1001n, mask: 0xffffffn }, ethDst: 'fa:16:3e:00:00:01' }, instructions: { apply: [{ output: 1 }] } },
  { table: 51, id: 'net.n1.remote.p9', priority: 90, cookie: NET, match: { metadata: { value: 1001n, mask: 0xffffffn }, ethDst: 'fa:16:3e:00:00:09' }, instructions: { apply: [{ setTunnelId: 1001n }, { output: 2 }] } },
];

async function writeFlows(c: Controller, put: FlowSpec[], remove: FlowSpec[] = []): Promise<void> {
  const tx = c.data.transaction('config');
  for (const f of put) tx.put(flowPath(DPN, f.table, f.id), flowJson(DPN, f) as never);
  for (const f of remove) tx.delete(flowPath(DPN, f.table, f.id));
  await tx.commit();
}

/**
 * What the switch must hold: the same flows given to Open vSwitch as ovs-ofctl text (another
 * path into the same switch: a reference bridge without a controller), dumped and normalised.
 */
async function expected(sw: OvsSwitch, flows: FlowSpec[]): Promise<string[]> {
  await sw.vsctl('--may-exist', 'add-br', 'br-ref', '--', 'set', 'bridge', 'br-ref', 'datapath_type=dummy', 'protocols=OpenFlow13', 'fail-mode=secure');
  const file = join(sw.dir, 'ref.flows');
  writeFileSync(file, flows.map((f) => ofctlFlow(flowJson(DPN, f))).join('\n') + '\n');
  await sw.ofctl('del-flows', 'br-ref');
  await sw.ofctl('add-flows', 'br-ref', file);
  return normaliseFlows(await sw.ofctl('dump-flows', 'br-ref'));
}

const opNode = (c: Controller) => c.data.read('operational', inventoryNodePath(DPN)) as Node | undefined;

/** The connected-switch gauge as a Prometheus scraper reads it. */
async function openflowConnections(c: Controller): Promise<number | undefined> {
  const r = await fetch(`${c.restconf.url}/metrics`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
  return parseExposition(await r.text()).value('sextant_openflow_connections');
}

t.test('a real ovs-vswitchd: inventory, programming, changes, rejection, reconciliation, reconnect', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--plugins=none', '--openflow-stats-interval=1']);
  let flows = specs();
  await writeFlows(c, flows);
  const sw = await startSwitch(t, { dpid: DPN, controllerPort: c.openflow.port, ports: ['p1', 'p2'] });

  await untilAsync('the switch in the operational inventory with its ports', async () => (opNode(c)?.['node-connector']?.length ?? 0) >= 3);
  const node = opNode(c)!;
  t.equal(node.id, 'openflow:161', 'node id is openflow:<datapath id in decimal>');
  const p1 = node['node-connector']!.find((n) => n['flow-node-inventory:name'] === 'p1');
  const mac = (await sw.vsctl('get', 'interface', 'p1', 'mac_in_use')).trim().replace(/"/g, '');
  t.match(p1, { id: 'openflow:161:1', 'flow-node-inventory:port-number': 1, 'flow-node-inventory:hardware-address': mac, 'flow-node-inventory:state': { 'link-down': false } }, 'a port: number, name, MAC, state as OVS reports it');
  t.ok(node['node-connector']!.some((n) => n.id === 'openflow:161:LOCAL' && n['flow-node-inventory:name'] === 'br-int'), 'the bridge\'s LOCAL port');
  t.equal(await openflowConnections(c), 1, '/metrics: sextant_openflow_connections is 1');

  await c.openflow.synced(DPN);
  t.same(await sw.flows(), await expected(sw, flows), 'after initial programming the switch holds exactly the config inventory\'s flows');
  await untilAsync('the flows read back into the operational inventory', async () => {
    const ids = (opNode(c)?.['flow-node-inventory:table'] ?? []).flatMap((tb) => (tb.flow ?? []).map((f) => f.id));
    return flows.every((f) => ids.includes(f.id));
  });

  // A change: one flow's actions, one flow added, one deleted; and one the switch refuses
  // (goto_table must go forward, OF 1.3 §5.1), which must not hold up the others.
  const changed = { ...flows[4], instructions: { apply: [{ output: 2 }] } };
  const added: FlowSpec = { table: 51, id: 'net.n1.local.p2', priority: 90, cookie: NET, match: { metadata: { value: 1001n, mask: 0xffffffn }, ethDst: 'fa:16:3e:00:00:02' }, instructions: { apply: [{ output: 2 }] } };
  const refused: FlowSpec = { table: 51, id: 'net.n1.backwards', priority: 5, cookie: NET, match: {}, instructions: { goToTable: 17 } };
  await writeFlows(c, [changed, added, refused], [flows[5]]);
  flows = [flows[0], flows[1], flows[2], flows[3], changed, added];
  await c.openflow.synced(DPN);
  t.same(await sw.flows(), await expected(sw, flows), 'after a change (modify, add, delete) the switch matches the config inventory again');
  t.match(c.openflow.status(DPN)!.rejected.get('51/net.n1.backwards'), /BAD_TABLE_ID/, 'the refused flow is reported with the switch\'s error');

  // Behind the controller's back (ovs-ofctl straight to the switch): one of our flows removed,
  // a stale flow with our cookie and a foreign flow (another cookie) added; then the switch
  // drops its control connection and reconnects (bridge/reconnect: no reconfiguration, so
  // Open vSwitch keeps its table).
  const before = c.openflow.status(DPN)!.connection;
  await sw.ofctl('del-flows', '--strict', 'br-int', 'table=0,priority=50,tun_id=0x3e9');
  await sw.ofctl('add-flow', 'br-int', 'table=51,priority=77,cookie=0x5e10000000000099,dl_dst=fa:16:3e:00:00:77,actions=output:1');
  await sw.ofctl('add-flow', 'br-int', 'table=60,priority=1,cookie=0x1234,actions=drop');
  const planted = await sw.flows();
  t.equal(planted.filter((l) => l.includes('tun_id=0x3e9')).length, 0, 'planted: one of ours missing');
  t.equal(planted.filter((l) => l.includes('cookie=0x5e10000000000099')).length, 1, 'planted: a stale one with our cookie');
  const foreign = planted.filter((l) => l.includes('cookie=0x1234'));
  t.equal(foreign.length, 1, 'planted: a foreign one');
  await sw.appctl('bridge/reconnect', 'br-int');
  await untilAsync('the switch reconnected', async () => (c.openflow.status(DPN)?.connection ?? 0) > before);
  await c.openflow.synced(DPN);
  t.same(await sw.flows(), [...(await expected(sw, flows)), ...foreign].sort(), 'after reconnect: the missing flow is back, the stale one of ours gone, the foreign one left alone');

  // Its controller taken away: the switch leaves the operational inventory.
  await sw.vsctl('del-controller', 'br-int');
  await untilAsync('the switch gone from the operational inventory', async () => opNode(c) === undefined);
  t.equal(await openflowConnections(c), 0, '/metrics: sextant_openflow_connections back to 0');
  await sw.vsctl('set-controller', 'br-int', `tcp:127.0.0.1:${c.openflow.port}`);
  await untilAsync('the switch back', async () => opNode(c) !== undefined);

  // The switch dies (its flows with it) and comes back.
  await sw.killVswitchd();
  await untilAsync('the killed switch gone from the operational inventory', async () => opNode(c) === undefined);
  await sw.startVswitchd();
  await untilAsync('the restarted switch back in the operational inventory', async () => opNode(c) !== undefined, 30_000);
  await c.openflow.synced(DPN);
  t.same(await sw.flows(), await expected(sw, flows), 'after a restart of ovs-vswitchd every flow is programmed again');

  // The switch's whole config node removed (as scalein-computes-end does): every flow of it goes.
  const tx = c.data.transaction('config');
  tx.delete(inventoryNodePath(DPN));
  await tx.commit();
  await c.openflow.synced(DPN);
  t.same(await sw.flows(), [], 'the config node deleted: the switch holds no flow');
});
