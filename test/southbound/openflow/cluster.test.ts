/**
 * The OpenFlow southbound in cluster mode: one real ovs-vswitchd connected to two instances on
 * one etcd. The owner of `openflow/openflow:<dpid>` (rendezvous, as src/cluster decides) asks to
 * be MASTER, the other SLAVE, as Open vSwitch reports in its Controller table; the flows any
 * instance commits reach the switch through the owner; when the owner leaves, the other becomes
 * MASTER and the switch still holds exactly the config inventory's flows.
 */
import t from 'tap';
import { testController } from '../../helpers/controller.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../../helpers/etcd.ts';
import { untilAsync } from '../../helpers/process.ts';
import { startSwitch } from '../../helpers/vswitchd.ts';
import { flowJson, flowPath, inventoryNodePath, type FlowSpec } from '../../../src/southbound/openflow/flows.ts';
import { openflowEntity } from '../../../src/southbound/openflow/server.ts';
import type { Controller } from '../../../src/controller.ts';

const DPN = 0xc1n;
const NODE = `openflow:${DPN}`;
const etcd = await startEtcd(t, { members: 1 });
const flags = (id: string) => [
  `--datastore=etcd://${etcd.endpoints.map((e) => e.replace('http://', '')).join(',')}`,
  '--cluster-name=ofcl',
  `--member-id=${id}`,
  `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
  `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
  '--plugins=toaster',
  '--openflow-stats-interval=0',
];

const flow = (n: number): FlowSpec => ({ table: 51, id: `net.n.local.${n}`, priority: 90, cookie: 0x5e10000000000001n, match: { metadata: { value: 7n, mask: 0xffffffn }, ethDst: `fa:16:3e:00:00:0${n}` }, instructions: { apply: [{ output: 1 }] } });

async function commit(c: Controller, flows: FlowSpec[]): Promise<void> {
  const tx = c.data.transaction('config');
  for (const f of flows) tx.put(flowPath(DPN, f.table, f.id), flowJson(DPN, f) as never);
  await tx.commit();
}

t.test('MASTER on the owner, SLAVE elsewhere; the owner programs; a leaving owner hands over', async (t) => {
  const a = await testController(t, flags('a'));
  const b = await testController(t, flags('b'));
  const byPort = new Map([a, b].map((c) => [`tcp:127.0.0.1:${c.openflow.port}`, c]));
  await a.plugins.loaded[0].ctx.cluster.joined();
  await untilAsync('both members known to each other', async () => a.plugins.loaded[0].ctx.cluster.members().length === 2 && b.plugins.loaded[0].ctx.cluster.members().length === 2);
  const ownerId = a.plugins.loaded[0].ctx.cluster.ownerOf(openflowEntity(NODE));
  const owner = ownerId === 'a' ? a : b;
  const other = owner === a ? b : a;
  await commit(other, [flow(1)]);

  const sw = await startSwitch(t, { dpid: DPN, controllerPort: [a.openflow.port, b.openflow.port], ports: ['p1'] });
  let seen = '';
  const roles = async () => {
    const rows = JSON.parse(await sw.vsctl('--format=json', '--columns=target,role,is_connected', 'list', 'controller')) as { data: [string, string, boolean][] };
    return new Map(rows.data.map(([target, role, connected]) => [byPort.get(target)?.config.memberId, connected ? role : 'not connected']));
  };
  await untilAsync('OVS reporting both connections with their roles', async () => {
    const r = await roles();
    seen = JSON.stringify([...r]);
    return r.get(owner.config.memberId) === 'master' && r.get(other.config.memberId) === 'slave';
  }, 20_000).catch((e) => {
    throw new Error(`${(e as Error).message}; OVS says ${seen}; owner status ${JSON.stringify(owner.openflow.status(DPN), (_, v) => (typeof v === 'bigint' ? String(v) : v instanceof Map ? [...v] : v))}, other ${JSON.stringify(other.openflow.status(DPN), (_, v) => (v instanceof Map ? [...v] : v))}`);
  });
  t.pass(`Open vSwitch: ${owner.config.memberId} (the owner) is master, ${other.config.memberId} slave`);
  await owner.openflow.synced(DPN);
  t.match(await sw.flows(), [/dl_dst=fa:16:3e:00:00:01 actions=output:1/], 'a flow committed on the non-owner is programmed by the owner');
  t.equal(other.openflow.status(DPN)?.flowMods, 0, 'the slave sent no FLOW_MOD');
  await untilAsync('the switch in the shared operational inventory', async () => other.data.read('operational', inventoryNodePath(DPN)) !== undefined);

  await owner.stop();
  await untilAsync('the remaining instance master', async () => (await roles()).get(other.config.memberId) === 'master', 20_000);
  await commit(other, [flow(2)]);
  await other.openflow.synced(DPN);
  t.equal((await sw.flows()).length, 2, 'the new master programs the switch');
  t.ok((await sw.flows()).some((l) => l.includes('fa:16:3e:00:00:02')), 'including the flow committed after the hand-over');
  await untilAsync('the switch published by the new owner', async () => other.data.read('operational', inventoryNodePath(DPN)) !== undefined);
});
