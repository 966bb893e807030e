/**
 * A VNF's whole life with Debian's real `openstack` CLI (python-tackerclient, no Keystone) on real
 * Open vSwitch computes: onboard a SOL004 package, create, instantiate (the VNFCs appear as OVS
 * interfaces, read back with ovs-vsctl, on distinct computes), scale out and in by aspect
 * (scaleLevel follows), heal one VNFC (a new port elsewhere, the old one gone), terminate (every
 * port gone), delete; every occurrence COMPLETED with its timestamps in order, and an LCCN
 * subscriber (a real HTTP server) receiving START/PROCESSING/COMPLETED of each, in order.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { json, openstackCli } from '../helpers/openstack-cli.ts';
import { connect } from '../helpers/netconf.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { untilAsync, waitUntil } from '../helpers/process.ts';
import { tempDir } from '../helpers/tmp.ts';
import { ASPECT, csarOf, defaultVim, FLAVOUR, instance, occIn, tackerApi, VNFD_ID, VNFD_TEXT, vnfcs } from '../helpers/vnf.ts';

const TOKEN = 'vnf-lifecycle-token-7f3a';
const c = await testController(t, ['--datastore=memory', `--api-token=${TOKEN}`, '--autoscaling-port-wait-ms=10000']);
const sims = await computesForTest(t, { count: 3, controller: `127.0.0.1:${c.ovsdb.port}` });
await waitUntil('three computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 3, 15_000);
await defaultVim(t, c);
const endpoint = c.http.listening().get('tacker')!.url;
const api = tackerApi(endpoint, TOKEN);
const home = tempDir(t, 'sextant-vnf-cli-');
const openstack = openstackCli(home, ['--os-auth-type', 'admin_token', '--os-token', TOKEN, '--os-endpoint', endpoint]);

/** Every iface-id in every compute's OVS, by compute name (ovs-vsctl). */
async function portsInOvs(): Promise<Map<string, string[]>> {
  return new Map(await Promise.all(sims.computes.map(async (s) => [s.name, await ifaceIds(s)] as [string, string[]])));
}
const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();
const allPorts = async () => [...(await portsInOvs()).values()].flat();

/** The LCCN subscriber: a real HTTP server answering 204 to the test GET and to each notification. */
type Lccn = { notificationType: string; operation?: string; operationState?: string; notificationStatus?: string; vnfLcmOpOccId?: string; vnfInstanceId?: string };
const received: Lccn[] = [];
const subscriber = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.method === 'POST') received.push(JSON.parse(body) as Lccn);
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => subscriber.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise((r) => subscriber.close(r)));
const callback = `http://127.0.0.1:${(subscriber.address() as { port: number }).port}/lccn`;

const accepted = (r: { code: number; stdout: string; stderr: string }, what: RegExp) => {
  t.equal(r.code, 0, `exit 0 ${r.stderr}`);
  t.match(r.stdout + r.stderr, what, 'the CLI confirms');
};
/** The newest occurrence of the instance (op list through the CLI), waited until it ends. */
async function lastOcc(vnf: string, operation: string) {
  let id = '';
  await waitUntil(`a ${operation} occurrence of ${vnf}`, () => {
    const all = (c.data.read('config', '/sextant-vnflcm:vnflcm/vnf-lcm-op-occ') as { id: string; operation: string; 'vnf-instance': string; 'start-time': string }[] | undefined) ?? [];
    const mine = all.filter((o) => o['vnf-instance'] === vnf && o.operation === operation).sort((a, b) => (a['start-time'] < b['start-time'] ? 1 : -1));
    id = mine[0]?.id ?? '';
    return !!id;
  }, 10_000);
  return occIn(c, id, ['COMPLETED', 'FAILED_TEMP', 'FAILED', 'ROLLED_BACK']);
}

t.test('onboard, create, instantiate, scale out and in, heal, terminate, delete: with the openstack CLI', async (t) => {
  const sub = await api('POST', '/vnflcm/v2/subscriptions', { callbackUri: callback, filter: { notificationTypes: ['VnfLcmOperationOccurrenceNotification'] } });
  t.equal(sub.status, 201, `an LCCN subscription ${sub.text}`);

  const created = await openstack('vnf', 'package', 'create', '-f', 'json');
  t.equal(created.code, 0, `vnf package create ${created.stderr}`);
  const pkg = json(created).ID as string;
  const zipPath = join(home, 'worker.zip');
  writeFileSync(zipPath, csarOf(VNFD_TEXT));
  accepted(await openstack('vnf', 'package', 'upload', '--path', zipPath, pkg), /Upload request for VNF package .* has been accepted/);
  const shown = json(await openstack('vnf', 'package', 'show', pkg, '-f', 'json'));
  t.match(shown, { 'Onboarding State': 'ONBOARDED', 'Operational State': 'ENABLED' }, 'the package is ONBOARDED and ENABLED');

  const made = await openstack('vnflcm', 'create', VNFD_ID, '--name', 'worker-vnf', '-f', 'json');
  t.equal(made.code, 0, `vnflcm create ${made.stderr}`);
  const vnf = json(made).ID as string;
  t.equal(instance(c, vnf)?.['instantiation-state'], 'NOT_INSTANTIATED', 'a NOT_INSTANTIATED instance');

  const file = join(home, 'instantiate.json');
  writeFileSync(file, JSON.stringify({ flavourId: FLAVOUR }));
  accepted(await openstack('vnflcm', 'instantiate', vnf, file), new RegExp(`Instantiate request for VNF Instance ${vnf} has been accepted`));
  const inst = await lastOcc(vnf, 'INSTANTIATE');
  t.equal(inst['operation-state'], 'COMPLETED', 'INSTANTIATE COMPLETED');
  const first = vnfcs(c, vnf);
  t.equal(first.length, 2, 'two VNFCs (VDU1 and VDU2 at their initial delta)');
  t.equal(new Set(first.map((v) => v.compute)).size, 2, `on two distinct computes (${first.map((v) => v.compute).join(', ')})`);
  const ovs = await portsInOvs();
  for (const v of first) t.ok(ovs.get(v.compute)?.includes(v.port), `VNFC ${v['vdu-id']}: an OVS interface with iface-id ${v.port} on ${v.compute} (ovs-vsctl)`);

  // The same objects over RESTCONF and NETCONF.
  const rc = await fetch(`${c.restconf.url}/rests/data/sextant-vnflcm:vnflcm/vnf-instance=${vnf}`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`, accept: 'application/yang-data+json' } });
  t.match((await rc.json())['sextant-vnflcm:vnf-instance'][0], { id: vnf, name: 'worker-vnf', 'instantiation-state': 'INSTANTIATED', 'instantiated-vnf-info': { 'vnfc-resource-info': first.map((v) => ({ id: v.id })) } }, 'RESTCONF shows the instance and its VNFCs');
  const nc = await connect(c.netconf.port, { t });
  const cfg = await nc.rpc(`<get-config><source><running/></source><filter type="subtree"><vnflcm xmlns="urn:sextant:params:xml:ns:yang:sextant-vnflcm"><vnf-instance><id>${vnf}</id></vnf-instance></vnflcm></filter></get-config>`);
  t.match(cfg.text, new RegExp(`<instantiation-state>INSTANTIATED</instantiation-state>`), 'NETCONF get-config shows it INSTANTIATED');
  for (const v of first) t.match(cfg.text, new RegExp(`<port>${v.port}</port>`), `and VNFC ${v['vdu-id']}'s port`);
  await nc.close();

  const showVnf = json(await openstack('vnflcm', 'show', vnf, '-f', 'json'));
  t.equal(showVnf['Instantiation State'], 'INSTANTIATED', 'vnflcm show: INSTANTIATED');

  accepted(await openstack('vnflcm', 'scale', '--type', 'SCALE_OUT', '--aspect-id', ASPECT, vnf), /Scale request for VNF Instance .* has been accepted/);
  t.equal((await lastOcc(vnf, 'SCALE'))['operation-state'], 'COMPLETED', 'SCALE_OUT COMPLETED');
  t.same(instance(c, vnf)?.['instantiated-vnf-info']?.['scale-status'], [{ 'aspect-id': ASPECT, 'scale-level': 1 }], 'scaleLevel 1');
  const out = vnfcs(c, vnf);
  t.equal(out.filter((v) => v['vdu-id'] === 'VDU1').length, 2, 'two VDU1 VNFCs');
  t.equal(new Set(out.map((v) => v.compute)).size, 3, 'the new one on the third compute');
  await untilAsync('OVS holds exactly the three VNFCs', async () => sameSet(await allPorts(), out.map((v) => v.port)));
  t.pass('OVS holds exactly the three VNFCs');

  accepted(await openstack('vnflcm', 'scale', '--type', 'SCALE_IN', '--aspect-id', ASPECT, vnf), /Scale request for VNF Instance .* has been accepted/);
  t.equal((await lastOcc(vnf, 'SCALE'))['operation-state'], 'COMPLETED', 'SCALE_IN COMPLETED');
  t.same(instance(c, vnf)?.['instantiated-vnf-info']?.['scale-status'], [{ 'aspect-id': ASPECT, 'scale-level': 0 }], 'scaleLevel 0');
  const back = vnfcs(c, vnf);
  t.equal(back.length, 2, 'two VNFCs again');

  const sick = back.find((v) => v['vdu-id'] === 'VDU1')!;
  accepted(await openstack('vnflcm', 'heal', vnf, '--vnfc-instance', sick.id), /Heal request for VNF Instance .* has been accepted/);
  t.equal((await lastOcc(vnf, 'HEAL'))['operation-state'], 'COMPLETED', 'HEAL COMPLETED');
  const healed = vnfcs(c, vnf);
  t.notOk(healed.some((v) => v.id === sick.id), 'the healed VNFC is replaced');
  t.equal(healed.filter((v) => v['vdu-id'] === 'VDU1').length, 1, 'by one new VDU1 VNFC');
  await untilAsync('OVS holds exactly the healed VNFCs', async () => sameSet(await allPorts(), healed.map((v) => v.port)));
  t.notOk((await allPorts()).includes(sick.port), 'the old port is gone from OVS, the new one is there');

  accepted(await openstack('vnflcm', 'terminate', vnf), /Terminate request for VNF Instance .* has been accepted/);
  t.equal((await lastOcc(vnf, 'TERMINATE'))['operation-state'], 'COMPLETED', 'TERMINATE COMPLETED');
  t.equal(instance(c, vnf)?.['instantiation-state'], 'NOT_INSTANTIATED', 'NOT_INSTANTIATED');
  await untilAsync('every port gone from OVS', async () => (await allPorts()).length === 0);
  t.pass('every port gone from OVS');
  t.same(c.data.read('config', '/sextant-clustering:clustering/cluster') ?? [], [], 'no cluster left');

  const ops = json(await openstack('vnflcm', 'op', 'list', '-f', 'json')) as Record<string, string>[];
  t.equal(ops.length, 5, 'vnflcm op list: five occurrences');
  t.ok(ops.every((o) => o['Operation State'] === 'COMPLETED'), 'all COMPLETED');
  for (const o of ops) {
    const full = (await api('GET', `/vnflcm/v2/vnf_lcm_op_occs/${o.ID}`)).json;
    t.ok(Date.parse(full.startTime) <= Date.parse(full.stateEnteredTime), `${full.operation}: startTime <= stateEnteredTime`);
  }

  const del = await openstack('vnflcm', 'delete', vnf);
  t.equal(del.code, 0, `vnflcm delete ${del.stderr}`);
  t.equal(instance(c, vnf), undefined, 'the instance is gone');

  await waitUntil('15 notifications (3 per occurrence)', () => received.filter((n) => n.notificationType === 'VnfLcmOperationOccurrenceNotification').length >= 15, 15_000);
  const byOcc = new Map<string, string[]>();
  for (const n of received) if (n.vnfLcmOpOccId) byOcc.set(n.vnfLcmOpOccId, [...(byOcc.get(n.vnfLcmOpOccId) ?? []), `${n.notificationStatus}:${n.operationState}`]);
  t.equal(byOcc.size, 5, 'notifications for each of the five occurrences');
  for (const [id, seq] of byOcc) t.same(seq, ['START:STARTING', 'RESULT:PROCESSING', 'RESULT:COMPLETED'], `occurrence ${id}: STARTING, PROCESSING, COMPLETED in order`);
});
