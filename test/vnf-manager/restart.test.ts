/**
 * A single controller on LevelDB restarted under an instantiated VNF (its operational store does
 * not survive a restart, its config does): afterwards the VNF is as it was (INSTANTIATED, the
 * same VNFCs), the autoscaler knows the same nodes again instead of making new ones, OVS holds
 * exactly the same interfaces (read back with ovs-vsctl), and the VNF scales out as before.
 */
import t from 'tap';
import { freePort } from '../../scripts/free-port.ts';
import { testController } from '../helpers/controller.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync, waitUntil } from '../helpers/process.ts';
import { tempDir } from '../helpers/tmp.ts';
import { ASPECT, csarOf, defaultVim, FLAVOUR, instance, occIn, occOf, onboard, tackerApi, VNFD_ID, VNFD_TEXT, vnfcs } from '../helpers/vnf.ts';

const TOKEN = 'vnf-restart-token-e61b';

t.test('a restart keeps an instantiated VNF, its VNFCs and their ports, and it scales on', async (t) => {
  const dir = tempDir(t);
  const ovsdbPort = await freePort();
  const flags = [`--data-dir=${dir}`, `--ovsdb-port=${ovsdbPort}`, '--openflow-port=0', `--api-token=${TOKEN}`, '--autoscaling-port-wait-ms=10000'];
  let c = await testController(t, flags);
  const sims = await computesForTest(t, { count: 3, controller: `127.0.0.1:${ovsdbPort}` });
  await waitUntil('three computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 3, 15_000);
  await defaultVim(t, c);
  let api = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
  await onboard(api, csarOf(VNFD_TEXT));
  const vnf = (await api('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID })).json.id as string;
  t.equal((await occIn(c, occOf(await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR })), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'instantiated');
  const before = vnfcs(c, vnf);
  const allPorts = async () => (await Promise.all(sims.computes.map(ifaceIds))).flat().sort();
  await untilAsync('both ports in OVS', async () => (await allPorts()).length === 2);

  await c.stop();
  c = await testController(t, flags);
  api = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
  await waitUntil('the computes reconnected', () => ((c.data.read('operational', '/network-topology:network-topology/topology=ovsdb%3A1/node') as unknown[] | undefined)?.length ?? 0) >= 6, 30_000);
  t.equal(instance(c, vnf)?.['instantiation-state'], 'INSTANTIATED', 'still INSTANTIATED after the restart');
  const byId = (l: typeof before) => [...l].sort((x, y) => (x.id < y.id ? -1 : 1));
  t.same(byId(vnfcs(c, vnf)), byId(before), 'the same VNFCs');
  const nodes = () => before.map((v) => v['vdu-id']).flatMap((vdu) => {
    const cluster = instance(c, vnf)!['instantiated-vnf-info']!['vdu-cluster']!.find((x) => x['vdu-id'] === vdu)!.cluster;
    return ((c.data.read('operational', `/sextant-clustering:clustering-state/cluster=${cluster}`) as { node?: { id: string; status: string }[] } | undefined)?.node ?? []);
  });
  await waitUntil('the autoscaler knows the nodes again, ACTIVE', () => nodes().length === 2 && nodes().every((n) => n.status === 'ACTIVE'), 20_000);
  t.same(nodes().map((n) => n.id).sort(), before.map((v) => v.id).sort(), 'the same node ids, no new ones');
  t.same(await allPorts(), before.map((v) => v.port).sort(), 'OVS holds exactly the same two interfaces (ovs-vsctl)');
  t.equal(((c.data.read('config', '/neutron:neutron/ports/port') as unknown[] | undefined) ?? []).length, 2, 'two Neutron ports, as before');

  const scaled = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/scale`, { type: 'SCALE_OUT', aspectId: ASPECT });
  t.equal((await occIn(c, occOf(scaled), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'a scale-out after the restart COMPLETED');
  t.equal(vnfcs(c, vnf).length, 3, 'three VNFCs');
  await untilAsync('three interfaces in OVS', async () => (await allPorts()).length === 3);
  t.pass('and three interfaces in OVS');
});
