/**
 * Operations that fail, and what a client can do then (SOL003 5.4.14-16), on real OVS computes:
 * a compute that stops answering while a VNF is instantiated onto it (its ovsdb-server stopped
 * with SIGSTOP: still registered and connected, so placement picks it, but its port never
 * appears) makes the occurrence FAILED_TEMP
 * with a ProblemDetails; once it is back, retry ends COMPLETED; rollback ends ROLLED_BACK with
 * nothing left behind (no cluster, no Neutron port, no OVS interface); fail ends FAILED and frees
 * the instance. A VIM the VIM monitor reports UNREACHABLE fails the instantiation, saying so.
 */
import t from 'tap';
import type { Test } from 'tap';
import { testController } from '../helpers/controller.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync, waitUntil } from '../helpers/process.ts';
import { startVimServer } from '../helpers/vim-server.ts';
import { csarOf, FLAVOUR, instance, occ, occIn, occOf, onboard, tackerApi, VNFD_ID, VNFD_TEXT, vnfcs } from '../helpers/vnf.ts';

const TOKEN = 'vnf-failure-token-2b9e';
const c = await testController(t, ['--datastore=memory', `--api-token=${TOKEN}`, '--autoscaling-port-wait-ms=1500']);
// Two computes: VDU1 goes to compute-1, VDU2 to compute-2 (placement spreads a VNF).
const sims = await computesForTest(t, { count: 2, controller: `127.0.0.1:${c.ovsdb.port}` });
await waitUntil('two computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 2, 15_000);
const vimServer = await startVimServer(t);
{
  const tx = c.data.transaction('config');
  tx.put('/sextant-nfv-vim:vims/vim=v1', { 'vim-id': 'v1', name: 'v1', type: 'openstack', 'auth-url': vimServer.url('/identity/v3'), 'is-default': true, monitor: { interval: '0.5', timeout: '0.25' } });
  await tx.commit();
}
const vimStatus = () => (c.data.read('operational', '/sextant-nfv-vim:vim-states/vim-state=v1') as { status?: string } | undefined)?.status;
await waitUntil('the VIM is REACHABLE', () => vimStatus() === 'REACHABLE', 15_000);
const api = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
await onboard(api, csarOf(VNFD_TEXT));
const compute2 = sims.computes.find((s) => s.name === 'compute-2')!;
// A stopped ovsdb-server would not stop on SIGTERM at teardown.
t.teardown(() => void process.kill(compute2.pid, 'SIGCONT'));

const newVnf = async () => (await api('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID })).json.id as string;
const neutronPorts = () => ((c.data.read('config', '/neutron:neutron/ports/port') as unknown[] | undefined) ?? []).length;
const clusters = () => ((c.data.read('config', '/sextant-clustering:clustering/cluster') as unknown[] | undefined) ?? []).length;

/** Instantiates while compute-2 does not answer: FAILED_TEMP. */
async function failedInstantiation(t: Test, vnf: string): Promise<string> {
  process.kill(compute2.pid, 'SIGSTOP');
  const r = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR });
  const id = occOf(r);
  const failed = await occIn(c, id, ['FAILED_TEMP', 'COMPLETED']);
  t.equal(failed['operation-state'], 'FAILED_TEMP', 'the instantiation is FAILED_TEMP');
  t.match(failed.error, { status: 500, title: 'Operation failed', detail: /VDU\d: VNFC .* is ERROR: the port did not appear in Open vSwitch on compute-2/ }, `a ProblemDetails says why: ${failed.error?.detail}`);
  const shown = (await api('GET', `/vnflcm/v2/vnf_lcm_op_occs/${id}`)).json;
  t.match(shown, { operationState: 'FAILED_TEMP', error: { status: 500, detail: /compute-2/ } }, 'and the API shows it');
  t.equal(instance(c, vnf)?.['current-operation'], id, 'the instance stays held by it');
  const busy = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/terminate`, { terminationType: 'FORCEFUL' });
  t.equal(busy.status, 409, 'another operation meanwhile is 409');
  return id;
}

async function computeBack(): Promise<void> {
  process.kill(compute2.pid, 'SIGCONT');
  await waitUntil('compute-2 connected again', () => !!c.data.read('operational', `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node=compute-2') as { nodeid: string }).nodeid)}`), 15_000);
}



t.test('a compute lost during instantiate: FAILED_TEMP; retry once it is back: COMPLETED', async (t) => {
  const vnf = await newVnf();
  const id = await failedInstantiation(t, vnf);
  await computeBack();
  const retry = await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${id}/retry`);
  t.equal(retry.status, 202, 'retry accepted');
  t.equal(retry.text, '', 'with an empty body');
  const done = await occIn(c, id, ['COMPLETED', 'FAILED_TEMP']);
  t.equal(done['operation-state'], 'COMPLETED', `retry: COMPLETED ${done.error?.detail ?? ''}`);
  t.notOk(done.error, 'the error is cleared');
  t.equal(instance(c, vnf)?.['instantiation-state'], 'INSTANTIATED', 'INSTANTIATED');
  t.equal(instance(c, vnf)?.['current-operation'], undefined, 'the instance is free');
  for (const v of vnfcs(c, vnf)) {
    const sw = sims.computes.find((s) => s.name === v.compute)!;
    await untilAsync(`${v['vdu-id']}'s port in ${v.compute}'s OVS`, async () => (await ifaceIds(sw)).includes(v.port));
    t.pass(`${v['vdu-id']}: its interface is in ${v.compute}'s OVS (ovs-vsctl)`);
  }
  // Clean up for the next test.
  const term = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/terminate`, { terminationType: 'FORCEFUL' });
  t.equal((await occIn(c, occOf(term), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'terminated');
});

t.test('rollback of a FAILED_TEMP instantiation: ROLLED_BACK, nothing left behind', async (t) => {
  const vnf = await newVnf();
  const id = await failedInstantiation(t, vnf);
  const rb = await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${id}/rollback`);
  t.equal(rb.status, 202, 'rollback accepted');
  const done = await occIn(c, id, ['ROLLED_BACK', 'FAILED_TEMP']);
  t.equal(done['operation-state'], 'ROLLED_BACK', `ROLLED_BACK ${done.error?.detail ?? ''}`);
  t.equal(instance(c, vnf)?.['instantiation-state'], 'NOT_INSTANTIATED', 'NOT_INSTANTIATED');
  t.equal(instance(c, vnf)?.['instantiated-vnf-info'], undefined, 'no instantiated info');
  t.equal(clusters(), 0, 'no cluster left');
  t.equal(neutronPorts(), 0, 'no Neutron port left');
  await computeBack();
  await untilAsync('no interface left in either OVS', async () => (await Promise.all(sims.computes.map(ifaceIds))).flat().length === 0);
  t.pass('no interface in either compute OVS (ovs-vsctl)');
  const again = await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${id}/rollback`);
  t.equal(again.status, 409, 'a second rollback: 409');
  t.equal(again.json?.status, 409, 'as a ProblemDetails');
});

t.test('fail of a FAILED_TEMP instantiation: FAILED (final), the instance freed', async (t) => {
  const vnf = await newVnf();
  const id = await failedInstantiation(t, vnf);
  const failed = await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${id}/fail`);
  t.equal(failed.status, 200, 'fail answers 200');
  t.match(failed.json, { id, operationState: 'FAILED', operation: 'INSTANTIATE' }, 'with the occurrence');
  t.equal(occ(c, id)?.['operation-state'], 'FAILED', 'FAILED in the datastore');
  t.equal(instance(c, vnf)?.['current-operation'], undefined, 'the instance is free');
  const retry = await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${id}/retry`);
  t.equal(retry.status, 409, 'a FAILED occurrence cannot be retried: 409');
  await computeBack();
  // Free again: an instantiation runs (and reuses what the failed one made).
  const r = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR });
  t.equal((await occIn(c, occOf(r), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'a new instantiation COMPLETED');
  const term = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/terminate`, { terminationType: 'FORCEFUL' });
  t.equal((await occIn(c, occOf(term), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'terminated');
});

t.test('instantiation on a VIM the VIM monitor reports UNREACHABLE: FAILED_TEMP saying so', async (t) => {
  const vnf = await newVnf();
  await vimServer.stop();
  t.teardown(() => vimServer.start());
  await waitUntil('the VIM is UNREACHABLE', () => vimStatus() === 'UNREACHABLE', 15_000);
  const r = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR });
  const failed = await occIn(c, occOf(r), ['FAILED_TEMP', 'COMPLETED']);
  t.equal(failed['operation-state'], 'FAILED_TEMP', 'FAILED_TEMP');
  t.match(failed.error, { status: 503, title: 'VIM unreachable', detail: /VIM v1 is UNREACHABLE/ }, `ProblemDetails: ${failed.error?.detail}`);
  t.equal(clusters(), 0, 'nothing was made');
  await vimServer.start();
  await waitUntil('the VIM is REACHABLE again', () => vimStatus() === 'REACHABLE', 15_000);
  t.equal((await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${failed.id}/retry`)).status, 202, 'retry accepted');
  t.equal((await occIn(c, failed.id, ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'and COMPLETED once the VIM is reachable');
});
