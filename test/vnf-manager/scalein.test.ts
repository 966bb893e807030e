/**
 * Compute scale-in with VNFs on the compute (the seed's cooperation): scalein-computes-start
 * tombstones it; the VNF manager heals the VNFCs on it elsewhere (an automatic HEAL occurrence,
 * never onto a tombstoned compute; the autoscaler does not move them a second time); while they
 * are there, vnflcm-state/scale-in-blocker names them and scalein-computes-end is INPROGRESS;
 * once they have moved it is DONE. Real OVS computes, read back with ovs-vsctl.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { endUntilDone } from '../helpers/scalein.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync, waitUntil } from '../helpers/process.ts';
import { csarOf, defaultVim, FLAVOUR, instance, occIn, occOf, onboard, tackerApi, VNFD_ID, VNFD_TEXT, vnfcs } from '../helpers/vnf.ts';

const TOKEN = 'vnf-scalein-token-91c0';
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const c = await testController(t, ['--datastore=memory', `--api-token=${TOKEN}`, '--autoscaling-port-wait-ms=2000']);
const sims = await computesForTest(t, { count: 4, controller: `127.0.0.1:${c.ovsdb.port}` });
await waitUntil('four computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 4, 15_000);
await defaultVim(t, c);
const api = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
await onboard(api, csarOf(VNFD_TEXT));

async function rpc(name: string, input: Record<string, unknown>) {
  const r = await fetch(`${c.restconf.url}/rests/operations/${name}`, { method: 'POST', headers: { authorization: AUTH, accept: JSON_TYPE, 'content-type': JSON_TYPE }, body: JSON.stringify({ input }) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}
const occs = () => (c.data.read('config', '/sextant-vnflcm:vnflcm/vnf-lcm-op-occ') as { id: string; operation: string; 'vnf-instance': string; 'operation-state': string; 'is-automatic-invocation'?: boolean; 'operation-params'?: string }[] | undefined) ?? [];
const blockers = () => (c.data.read('operational', '/sextant-vnflcm:vnflcm-state/scale-in-blocker') as { compute: string; 'vnf-instance'?: string[]; vnfc?: string[] }[] | undefined) ?? [];

t.test('a compute being scaled in: its VNFCs move (automatic HEAL), the blockers say why end waits, then end is DONE', async (t) => {
  const vnfs: string[] = [];
  for (let i = 0; i < 2; i++) {
    const id = (await api('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID, vnfInstanceName: `vnf-${i}` })).json.id as string;
    const r = await api('POST', `/vnflcm/v2/vnf_instances/${id}/instantiate`, { flavourId: FLAVOUR });
    t.equal((await occIn(c, occOf(r), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', `VNF ${i} instantiated`);
    vnfs.push(id);
  }
  const placed = vnfs.flatMap((v) => vnfcs(c, v).map((x) => ({ vnf: v, ...x })));
  const victim = placed[0].compute;
  const onVictim = placed.filter((p) => p.compute === victim);
  const other = sims.computes.map((s) => s.name).find((n) => n !== victim)!;
  t.ok(onVictim.length >= 1, `${onVictim.length} VNFC(s) on ${victim}`);

  const start = await rpc('scalein-api:scalein-computes-start', { 'scalein-node-ids': [victim, other] });
  t.equal(start.status, 200, `scalein-computes-start of ${victim} and ${other}`);
  const gone = new Set([victim, other]);
  await waitUntil('no VNFC left on the tombstoned computes', () => vnfs.every((v) => instance(c, v)?.['current-operation'] === undefined && vnfcs(c, v).length === 2 && vnfcs(c, v).every((x) => !gone.has(x.compute))), 30_000);
  t.pass(`every VNFC left ${victim} and ${other}, none went to either`);
  const heals = occs().filter((o) => o.operation === 'HEAL');
  t.ok(heals.length >= 1, `${heals.length} automatic HEAL occurrence(s)`);
  t.ok(heals.every((h) => h['is-automatic-invocation'] === true && h['operation-state'] === 'COMPLETED'), 'each automatic and COMPLETED');
  t.match(JSON.parse(heals[0]['operation-params']!), { cause: new RegExp(`compute .*being scaled in`) }, 'its cause names the scale-in');
  const clusterActions = (c.data.read('operational', '/sextant-clustering:clustering-state/action') as { action: string; cause?: string }[] | undefined) ?? [];
  t.equal(clusterActions.filter((a) => a.action === 'CLUSTER_REPLACE_NODES' && /being scaled in/.test(a.cause ?? '')).length, 0, 'the autoscaler did not move them a second time on its own');

  const sw = sims.computes.find((s) => s.name === victim)!;
  await untilAsync(`no VM interface left in ${victim}'s OVS`, async () => (await ifaceIds(sw)).length === 0, 20_000);
  t.pass(`no VM interface left in ${victim}'s OVS (ovs-vsctl)`);
  await waitUntil('no scale-in blocker left', () => blockers().length === 0, 10_000);
  t.pass('vnflcm-state/scale-in-blocker is empty once they moved');
  t.equal(await endUntilDone(rpc, [victim]), 'DONE', 'scalein-computes-end reaches DONE without an operator moving anything');
  await rpc('scalein-api:scalein-computes-recover', { 'recover-node-ids': [other] });
});

t.test('a VNF held by a failed operation blocks end, and the blocker says so, until the operation ends and its VNFCs move', async (t) => {
  const vnf = (await api('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID })).json.id as string;
  const r = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR });
  t.equal((await occIn(c, occOf(r), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'COMPLETED', 'instantiated');
  const victim = vnfcs(c, vnf).find((v) => v['vdu-id'] === 'VDU1')!.compute;
  // A scale-out whose new VNFC goes to a compute that does not answer: FAILED_TEMP, holding the VNF.
  const others = sims.computes.filter((s) => s.name !== victim);
  for (const s of others) process.kill(s.pid, 'SIGSTOP');
  t.teardown(() => others.forEach((s) => process.kill(s.pid, 'SIGCONT')));
  const scale = await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/scale`, { type: 'SCALE_OUT', aspectId: 'worker_instance' });
  t.equal((await occIn(c, occOf(scale), ['COMPLETED', 'FAILED_TEMP']))['operation-state'], 'FAILED_TEMP', 'the scale-out is FAILED_TEMP');
  for (const s of others) process.kill(s.pid, 'SIGCONT');
  t.equal((await rpc('scalein-api:scalein-computes-start', { 'scalein-node-ids': [victim] })).status, 200, `scalein-computes-start of ${victim}`);
  await waitUntil(`a blocker for ${victim} naming the VNF`, () => blockers().some((b) => b.compute === victim && (b['vnf-instance'] ?? []).includes(vnf)), 10_000);
  t.pass(`vnflcm-state/scale-in-blocker names the VNF on ${victim}`);
  const end = await rpc('scalein-api:scalein-computes-end', { 'scalein-node-ids': [victim] });
  t.equal(end.json?.['scalein-api:output']?.status, 'INPROGRESS', 'end: INPROGRESS while its VNFC is there');
  t.ok(vnfcs(c, vnf).some((v) => v.compute === victim), 'its VNFC has not moved while the VNF is held');
  t.equal((await api('POST', `/vnflcm/v2/vnf_lcm_op_occs/${occOf(scale)}/fail`)).status, 200, 'the operator fails the scale-out');
  await waitUntil('its VNFCs left the compute', () => instance(c, vnf)?.['current-operation'] === undefined && vnfcs(c, vnf).length > 0 && vnfcs(c, vnf).every((x) => x.compute !== victim), 30_000);
  t.pass('moved by a HEAL started once the VNF was free');
  await waitUntil('the blocker is gone', () => !blockers().some((b) => b.compute === victim), 10_000);
  t.pass('and the blocker with them');
});
