/**
 * CSIT-style suite for designated-switch elections, the tunnel mesh and the flows that honour
 * tombstones (the scale-in seed's Testing section, made runnable). Everything goes over RESTCONF:
 * computes are reported through the operational topology as the OVSDB southbound would, Neutron
 * resources are written as networking-odl writes them, and the suite reads back designations,
 * napt-switches, tunnel ports and the flows in the config inventory.
 *
 * World: computes 1..4 report local_ip (they join the default transport zone by themselves).
 *   network 1 (VNI 1001) subnet 1 10.1.0.0/24: VMs on computes 1 and 2; subnet route enabled
 *   network 2 (VNI 1002) subnet 2 10.2.0.0/24: VMs on computes 2 and 3
 *   network 3 (VNI 1003) subnet 3 10.3.0.0/24: a VM on compute 1 only; subnet route enabled
 *   router 1 (SNAT, 172.24.4.10): interfaces on subnets 1 and 2
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSuiteController } from './lib/env.ts';
import { NetVirt, computeName, electionsWorld, tepIp, uuid } from './lib/netvirt.ts';
import { waitUntil } from './lib/wait.ts';

const sc = await startSuiteController(t);
if (sc.external) {
  t.comment('against an external controller: the suite assumes it holds no Neutron data and no computes named compute-1..9');
}
const nv = new NetVirt(sc.session);
const NET = (n: number) => uuid(1, n);
const SUB = (n: number) => uuid(2, n);
const RTR = (n: number) => uuid(4, n);

/** Polls until the designation of a service is the expected DPN (RESTCONF, as CSIT does). */
async function designatedTo(type: 'nat' | 'subnet-route', id: string, dpn: number | string) {
  return waitUntil(10_000, 50, async () => {
    const d = await nv.designation(type, id);
    if (d?.['dpn-id'] !== String(dpn)) throw new Error(`${type} ${id} is designated to ${d?.['dpn-id']} (${d?.reason}), want ${dpn}`);
    return d;
  });
}

/** Polls until a predicate on the flows holds. */
async function flowsWhere(what: string, check: (flows: Map<string, Record<string, unknown>[]>) => boolean) {
  return waitUntil(10_000, 50, async () => {
    const f = await nv.flows();
    if (!check(f)) throw new Error(`flows: ${what} does not hold yet`);
    return f;
  });
}

/** The output ports of a flow's apply-actions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const outputs = (f: Record<string, any>): string[] =>
  (f.instructions?.instruction ?? []).flatMap((i: any) => (i['apply-actions']?.action ?? []).map((a: any) => a['output-action']?.['output-node-connector']).filter(Boolean));
const ids = (flows: Map<string, Record<string, unknown>[]>, dpn: number) => (flows.get(String(dpn)) ?? []).map((f) => String(f.id));
const has = (flows: Map<string, Record<string, unknown>[]>, dpn: number, id: string) => ids(flows, dpn).includes(id);

t.before(() => electionsWorld(nv));

t.test('computes with local_ip join the default zone and get a full tunnel mesh', async (t) => {
  await waitUntil(10_000, 50, async () => {
    for (const n of [1, 2, 3, 4]) if ((await nv.tunnelPorts(n)).size !== 3) throw new Error(`compute ${n} has not 3 tunnels yet`);
    return true;
  });
  const ports = await nv.tunnelPorts(1);
  const remotes = [...ports.values()].map((o) => o.remote_ip).sort();
  t.same(remotes, [tepIp(2), tepIp(3), tepIp(4)], 'compute 1 tunnels to every other compute');
  for (const o of ports.values()) {
    t.equal(o.local_ip, tepIp(1), 'local_ip is its own TEP');
    t.equal(o.key, 'flow', 'the VNI is set per flow');
  }
  const back = [...(await nv.tunnelPorts(2)).entries()].find(([, o]) => o.remote_ip === tepIp(1));
  t.ok(back, 'and every other compute tunnels back to it');
  t.not(back![0], [...ports.entries()].find(([, o]) => o.remote_ip === tepIp(2))![0], 'the two directions have different names');
});

t.test('initial elections: least loaded, ties to the lowest DPN id', async (t) => {
  const nat = await designatedTo('nat', RTR(1), 1);
  t.same(nat.candidates, ['1', '2', '3'], 'NAT candidates are the DPNs with ports on the router subnets');
  t.equal(nat['compute-name'], computeName(1));
  t.equal(await nv.napt(1), '1', 'odl-nat napt-switches names the NAPT switch');
  await designatedTo('subnet-route', SUB(1), 1);
  await designatedTo('subnet-route', SUB(3), 1);
  const flows = await flowsWhere('NAT and subnet-route flows on DPN 1', (f) => has(f, 1, `nat.${RTR(1)}.snat.${SUB(1)}`) && has(f, 1, `subnet-route.${SUB(1)}.fib`));
  t.ok(has(flows, 2, `nat.${RTR(1)}.fib.${SUB(1)}`), 'DPN 2 sends subnet 1 SNAT traffic to the NAPT switch');
  t.ok(has(flows, 2, `subnet-route.${SUB(1)}.fib`), 'DPN 2 sends subnet 1 unknown destinations to the designated DPN');
  t.notOk(has(flows, 2, `nat.${RTR(1)}.snat.${SUB(1)}`), 'DPN 2 does no SNAT itself');
  t.ok(has(flows, 1, `net.${NET(1)}.local.${uuid(3, 101)}`), 'local delivery to the VM on DPN 1');
  t.ok(has(flows, 2, `net.${NET(1)}.remote.${uuid(3, 101)}`), 'remote delivery from DPN 2 over the tunnel');
});

t.test('least loaded first, then the lowest DPN id; a deleted router takes its designation along', async (t) => {
  await nv.router(5, '172.24.4.50');
  await nv.routerInterface(195, 5, 2, 2, '10.2.0.5');
  await nv.router(6, '172.24.4.60');
  await nv.routerInterface(196, 6, 2, 2, '10.2.0.6');
  const r5 = await designatedTo('nat', RTR(5), 2);
  t.same(r5.candidates, ['2', '3'], 'router 5 can only be served where subnet 2 has VMs');
  t.match(r5.reason, /lowest DPN id/, 'DPN 2 and 3 hold no NAT yet: the tie goes to the lowest id');
  const r6 = await designatedTo('nat', RTR(6), 3);
  t.match(r6.reason, /least loaded/, 'DPN 2 serves router 5 now, so router 6 goes to DPN 3');

  await nv.deleteRouter(6);
  await nv.deletePort(196);
  await waitUntil(10_000, 50, async () => (await nv.designation('nat', RTR(6))) === undefined || Promise.reject(new Error('still designated')));
  t.equal(await nv.napt(6), undefined, 'its napt-switches entry is gone');
  const flows = await nv.flows();
  t.notOk([...flows.values()].flat().some((f) => String(f.id).startsWith(`nat.${RTR(6)}.`)), 'and so are its flows');
  await nv.deleteRouter(5);
  await nv.deletePort(195);
  await waitUntil(10_000, 50, async () => (await nv.designation('nat', RTR(5))) === undefined || Promise.reject(new Error('still designated')));
});

/** Flow changes seen by a listener, one entry per commit (in-process controller only). */
function recordFlowCommits() {
  const commits: { type: string; path: string }[][] = [];
  const stop = sc.controller?.data.subscribe(
    'config',
    '/opendaylight-inventory:nodes/node=*/flow-node-inventory:table=*/flow=*',
    (changes) => void commits.push(changes.map((c) => ({ type: c.type, path: decodeURIComponent(c.path) }))),
    { replay: false },
  );
  return { commits, stop: () => stop?.() };
}

t.test('scale-in of the compute designated for NAT and a subnet route moves both', async (t) => {
  const seen = recordFlowCommits();
  t.teardown(seen.stop);
  const start = await nv.rpc('scalein-computes-start', [computeName(1)]);
  t.equal(start.status, 200, 'scalein-computes-start');
  const nat = await designatedTo('nat', RTR(1), 2);
  t.match(nat.reason, /DPN 1 is tombstoned/, 'the reason names the tombstone');
  t.equal(await nv.napt(1), '2', 'napt-switches follows');
  await designatedTo('subnet-route', SUB(1), 2);
  const alone = await designatedTo('subnet-route', SUB(3), 0);
  t.match(alone.reason, /no eligible DPN: DPN 1 is tombstoned/, 'a service with no other candidate has no designated DPN, and says why');

  const flows = await flowsWhere('services moved to DPN 2', (f) => has(f, 2, `nat.${RTR(1)}.snat.${SUB(1)}`) && !has(f, 1, `nat.${RTR(1)}.snat.${SUB(1)}`));
  t.ok(has(flows, 2, `subnet-route.${SUB(1)}.fib`), 'the subnet route punts on DPN 2 now');
  const fibOn1 = (flows.get('1') ?? []).find((f) => f.id === `subnet-route.${SUB(1)}.fib`) as Record<string, any> | undefined;
  t.ok(fibOn1, 'DPN 1 still has VMs in subnet 1, so it keeps a redirect');
  const out = fibOn1?.instructions.instruction[0]['apply-actions'].action.map((a: any) => a['output-action']?.['output-node-connector']).filter(Boolean);
  t.notSame(out, ['CONTROLLER'], 'which no longer punts on DPN 1');
  t.notOk(ids(flows, 1).some((id) => id.startsWith(`subnet-route.${SUB(3)}.`)), 'the subnet route of subnet 3 is not served anywhere');
  t.ok(has(flows, 1, `net.${NET(1)}.local.${uuid(3, 101)}`), 'VMs still run on DPN 1: their delivery flows stay');

  if (sc.controller) {
    const move = seen.commits.find(
      (c) =>
        c.some((x) => x.type === 'deleted' && x.path.includes('node=openflow:1/') && x.path.endsWith(`flow=nat.${RTR(1)}.snat.${SUB(1)}`)) &&
        c.some((x) => x.type === 'created' && x.path.includes('node=openflow:2/') && x.path.endsWith(`flow=nat.${RTR(1)}.snat.${SUB(1)}`)),
    );
    t.ok(move, 'the SNAT flow left DPN 1 and arrived on DPN 2 in the same transaction');
  }
});

t.test('while a scale-in is in progress, new services do not pick the tombstoned compute', async (t) => {
  await nv.router(2, '172.24.4.20');
  await nv.routerInterface(193, 2, 1, 1, '10.1.0.2');
  const r2 = await designatedTo('nat', RTR(2), 2);
  t.same(r2.candidates, ['1', '2'], 'DPN 1 (no NAT load) is a candidate');
  t.match(r2.reason, /elected the least loaded eligible DPN/, 'but the tombstoned DPN is not eligible');

  await nv.network(4, 1004);
  await nv.subnet(4, 4, '10.4.0.0/24');
  await nv.port(401, 4, 4, '10.4.0.41');
  await nv.port(402, 4, 4, '10.4.0.42');
  await nv.plug(1, { port: 401, ofport: 3 });
  await nv.plug(3, { port: 402, ofport: 2 });
  await nv.subnetRoute(4);
  const s4 = await designatedTo('subnet-route', SUB(4), 3);
  t.same(s4.candidates, ['1', '3'], 'a new subnet route with VMs on DPN 1 and 3 goes to DPN 3');
  const flows = await nv.flows();
  t.ok(has(flows, 1, `net.${NET(4)}.local.${uuid(3, 401)}`), 'a VM plugged into the tombstoned compute still gets its port flows');
});

t.test('recover: orphaned services elect the compute again, existing designations stay', async (t) => {
  const r = await nv.rpc('scalein-computes-recover', [computeName(1)]);
  t.equal(r.status, 200, 'scalein-computes-recover');
  const s3 = await designatedTo('subnet-route', SUB(3), 1);
  t.match(s3.reason, /elected/, 'subnet 3 had no other candidate: DPN 1 serves it again');
  await flowsWhere('subnet 3 punt back on DPN 1', (f) => has(f, 1, `subnet-route.${SUB(3)}.fib`));
  t.equal((await nv.designation('nat', RTR(1)))?.['dpn-id'], '2', 'router 1 stays on DPN 2 though DPN 1 holds no NAT (sticky)');
  t.equal((await nv.designation('subnet-route', SUB(1)))?.['dpn-id'], '2', 'subnet 1 stays on DPN 2');
  t.equal((await nv.designation('subnet-route', SUB(4)))?.['dpn-id'], '3', 'subnet 4 stays on DPN 3');
  const flows = await nv.flows();
  for (const p of [101, 301, 401]) t.ok(ids(flows, 1).some((id) => id.endsWith(`.local.${uuid(3, p)}`)), `the recovered compute delivers to its port ${p}`);
});

t.test('a sole candidate scaled in: start then recover brings it back; start, end removes everything', async (t) => {
  await nv.network(5, 1005);
  await nv.subnet(5, 5, '10.5.0.0/24');
  await nv.port(501, 5, 5, '10.5.0.51');
  await nv.plug(4, { port: 501, ofport: 1 });
  await nv.subnetRoute(5);
  await nv.router(7, '172.24.4.70');
  await nv.routerInterface(197, 7, 5, 5, '10.5.0.1');
  await designatedTo('subnet-route', SUB(5), 4);
  await designatedTo('nat', RTR(7), 4);
  t.equal(await nv.napt(7), '4', 'router 7 is served by its only candidate');
  await flowsWhere('subnet 5 served on DPN 4', (f) => has(f, 4, `subnet-route.${SUB(5)}.fib`));

  await nv.rpc('scalein-computes-start', [computeName(4)]);
  const down = await designatedTo('subnet-route', SUB(5), 0);
  t.match(down.reason, /DPN 4 is tombstoned/, 'designation 0 with the reason recorded');
  await designatedTo('nat', RTR(7), 0);
  t.equal(await nv.napt(7), '0', 'napt-switches says 0: no NAPT switch');
  await flowsWhere('subnet 5 and router 7 flows gone', (f) => !has(f, 4, `subnet-route.${SUB(5)}.fib`) && !ids(f, 4).some((id) => id.startsWith(`nat.${RTR(7)}.`)));
  await nv.rpc('scalein-computes-recover', [computeName(4)]);
  await designatedTo('subnet-route', SUB(5), 4);
  await designatedTo('nat', RTR(7), 4);
  t.equal(await nv.napt(7), '4', 'recovered: router 7 is served there again');
  await flowsWhere('subnet 5 punt back', (f) => has(f, 4, `subnet-route.${SUB(5)}.fib`));
  t.pass('start then recover: the designation and its flows come back');

  // The OpenFlow ports of the tunnels towards compute 4, per compute.
  const tunnelsTo4 = new Map<number, string>();
  for (const n of [1, 2, 3]) tunnelsTo4.set(n, [...(await nv.tunnelPorts(n)).values()].find((o) => o.remote_ip === tepIp(4))!.ofport);
  await nv.port(104, 1, 1, '10.1.0.14');
  await nv.plug(4, { port: 104, ofport: 2 });
  const before = await flowsWhere('remote delivery to the VM on compute 4', (f) => has(f, 1, `net.${NET(1)}.remote.${uuid(3, 104)}`));
  t.ok(
    [1, 2, 3].some((n) => (before.get(String(n)) ?? []).some((f) => outputs(f).includes(tunnelsTo4.get(n)!))),
    'before: some flow sends traffic into a tunnel to compute 4',
  );
  t.ok(before.has('4'), 'DPN 4 has flows before the end');
  await nv.rpc('scalein-computes-start', [computeName(4)]);
  await designatedTo('subnet-route', SUB(5), 0);
  await nv.unplug(4, 501);
  await nv.unplug(4, 104);
  const end = await nv.rpc('scalein-computes-end', [computeName(4)]);
  t.match(end.json(), { 'scalein-api:output': { status: 'DONE' } }, 'end finishes once the VM left');
  for (const n of [1, 2, 3]) {
    const ports = await waitUntil(10_000, 50, async () => {
      const p = await nv.tunnelPorts(n);
      if ([...p.values()].some((o) => o.remote_ip === tepIp(4))) throw new Error(`compute ${n} still tunnels to compute 4`);
      return p;
    });
    t.equal(ports.size, 2, `compute ${n} keeps its tunnels to the two others`);
  }
  t.notOk(await nv.configNodeExists(4), "compute 4's config topology node is gone");
  const after = await nv.flows();
  t.notOk(after.has('4'), "compute 4's inventory node and flows are gone");
  for (const n of [1, 2, 3]) {
    t.notOk((after.get(String(n)) ?? []).some((f) => outputs(f).includes(tunnelsTo4.get(n)!)), `no flow on DPN ${n} outputs to its old tunnel to compute 4`);
  }
  const text = JSON.stringify([...after.values()]);
  t.notOk(text.includes(tepIp(4)), 'no flow anywhere matches the TEP address of compute 4');
  const cn = await sc.session.getJson(`/rests/data/cloudscaler-rpc:compute-nodes/compute-node=${computeName(4)}`);
  t.equal(cn.status, 409, 'the compute-node entry is gone (data-missing)');
  const s5 = await nv.designation('subnet-route', SUB(5));
  t.equal(s5?.['dpn-id'], '0', 'subnet 5 stays without a designated DPN');
});

t.test('scale-out: a new compute with local_ip gets tunnels to and from every compute and becomes eligible', async (t) => {
  await nv.addCompute({ n: 5 });
  const ports = await waitUntil(10_000, 50, async () => {
    const p = await nv.tunnelPorts(5);
    if (p.size !== 3) throw new Error(`compute 5 has ${p.size} tunnels`);
    return p;
  });
  t.same([...ports.values()].map((o) => o.remote_ip).sort(), [tepIp(1), tepIp(2), tepIp(3)], 'to every other compute in the zone');
  for (const n of [1, 2, 3]) {
    const back = await waitUntil(10_000, 50, async () => [...(await nv.tunnelPorts(n)).values()].find((o) => o.remote_ip === tepIp(5)) ?? Promise.reject(new Error('no tunnel yet')));
    t.equal(back.local_ip, tepIp(n), `compute ${n} tunnels to it`);
  }
  const zone = await sc.session.getJson('/rests/data/itm:transport-zones/transport-zone=default-transport-zone/vteps=5');
  t.match(zone.json(), { 'itm:vteps': [{ 'dpn-id': '5', 'ip-address': tepIp(5) }] }, 'it joined default-transport-zone with its local_ip');
  // Subnet 5 lost its only compute at scale-in; a VM of it on the new compute lets it elect.
  await nv.port(502, 5, 5, '10.5.0.52');
  await nv.plug(5, { port: 502, ofport: 1 });
  await designatedTo('subnet-route', SUB(5), 5);
});

t.test('disconnect of the designated DPN moves its services; it is not elected while away', async (t) => {
  t.equal((await nv.designation('nat', RTR(1)))?.['dpn-id'], '2', 'router 1 is on DPN 2');
  await nv.disconnect(2);
  const r1 = await designatedTo('nat', RTR(1), 1);
  t.match(r1.reason, /DPN 2 .*is disconnected/, 'the reason says why');
  await nv.addCompute({ n: 2, vms: [{ port: 102, ofport: 1 }, { port: 201, ofport: 2 }] });
  await waitUntil(10_000, 50, async () => ((await nv.designation('nat', RTR(1)))?.candidates?.includes('2') ? true : Promise.reject(new Error('not back'))));
  t.equal((await nv.designation('nat', RTR(1)))?.['dpn-id'], '1', 'coming back does not steal it back');
});

t.test('the last port of a service leaving its designated DPN moves the service', async (t) => {
  t.equal((await nv.designation('subnet-route', SUB(4)))?.['dpn-id'], '3', 'subnet 4 is on DPN 3');
  await nv.unplug(3, 402);
  const s4 = await designatedTo('subnet-route', SUB(4), 1);
  t.match(s4.reason, /DPN 3 hosts no port of the service/, 'the reason says why');
  t.same(s4.candidates, ['1'], 'DPN 3 is no candidate any more');
});

t.test('deleting the TEP of the designated DPN moves the service and its tunnels', async (t) => {
  // Compute 6 reports no local_ip: an operator gives it a vtep by hand.
  await nv.addCompute({ n: 6, localIp: null, vms: [{ port: 601, ofport: 1 }] });
  await nv.network(6, 1006);
  await nv.subnet(6, 6, '10.6.0.0/24');
  await nv.port(601, 6, 6, '10.6.0.61');
  await nv.subnetRoute(6);
  const none = await designatedTo('subnet-route', SUB(6), 0);
  t.match(none.reason, /DPN 6 has no tunnel endpoint/, 'without a TEP it is not eligible');
  await nv.vtep('default-transport-zone', 6, '192.168.9.6');
  await designatedTo('subnet-route', SUB(6), 6);
  await waitUntil(10_000, 50, async () => ((await nv.tunnelPorts(6)).size === 4 ? true : Promise.reject(new Error('mesh not grown'))));
  await nv.deleteVtep('default-transport-zone', 6);
  const gone = await designatedTo('subnet-route', SUB(6), 0);
  t.match(gone.reason, /DPN 6 has no tunnel endpoint/, 'TEP deleted: the designation goes, with the reason');
  await waitUntil(10_000, 50, async () => ((await nv.tunnelPorts(6)).size === 0 ? true : Promise.reject(new Error('tunnels left'))));
  for (const n of [1, 2, 3, 5]) t.notOk([...(await nv.tunnelPorts(n)).values()].some((o) => o.remote_ip === '192.168.9.6'), `compute ${n} has no tunnel to it`);
});

t.test('bad input', async (t) => {
  const bad = await sc.session.putJson(`/rests/data/neutron:neutron/subnets/subnet=${SUB(7)}`, {
    'neutron:subnet': [{ uuid: SUB(7), 'network-id': NET(1), cidr: '10.7.0.0/33' }],
  });
  t.equal(bad.status, 400, 'a subnet with a bad prefix is refused');
  t.match(bad.json(), { errors: { error: [{ 'error-tag': 'invalid-value' }] } }, 'as invalid-value');
  const badUuid = await sc.session.putJson('/rests/data/designated-switch:subnet-routes/subnet-route=not-a-uuid', {
    'designated-switch:subnet-route': [{ 'subnet-id': 'not-a-uuid' }],
  });
  t.equal(badUuid.status, 400, 'a subnet route for something that is no UUID is refused');
  const view = await sc.session.putJson(`/rests/data/designated-switch:designated-switches/designated-switch=nat,${RTR(1)}`, {
    'designated-switch:designated-switch': [{ 'service-type': 'nat', 'service-id': RTR(1), 'dpn-id': '3' }],
  });
  t.ok(view.status >= 400, 'the election view is state, not something a client writes');
  t.equal((await nv.designation('nat', RTR(1)))?.['dpn-id'], '1', 'and it is unchanged');
  const badType = await sc.session.putJson(`/rests/data/designated-switch:designations/designation=dhcp,x`, {
    'designated-switch:designation': [{ 'service-type': 'dhcp', 'service-id': 'x', 'dpn-id': '1' }],
  });
  t.equal(badType.status, 400, 'an unknown service type is refused');

  // Inputs that are valid YANG but name no service: nothing is elected for them.
  await nv.subnetRoute(8); // no such subnet
  await nv.router(9, undefined, false); // SNAT disabled
  await nv.routerInterface(199, 9, 1, 1, '10.1.0.9');
  await nv.network(9); // no segmentation id
  await nv.subnet(9, 9, '10.9.0.0/24');
  await nv.port(901, 9, 9, '10.9.0.91');
  await nv.plug(1, { port: 901, ofport: 9 });
  // A later service settling proves the earlier changes were worked through.
  await nv.subnetRoute(2);
  await waitUntil(10_000, 50, async () => ((await nv.designation('subnet-route', SUB(2)))?.['dpn-id'] ?? '0') !== '0' || Promise.reject(new Error('not yet')));
  t.equal(await nv.designation('subnet-route', SUB(8)), undefined, 'a subnet route for an unknown subnet elects nothing');
  t.equal(await nv.designation('nat', RTR(9)), undefined, 'a router with SNAT disabled has no NAPT switch');
  t.equal(await nv.napt(9), undefined, 'and no napt-switches entry');
  t.notOk(JSON.stringify([...(await nv.flows()).values()]).includes(NET(9)), 'a network without a VXLAN segment gets no flows');
});

t.test('disabling a subnet route takes its designation and flows away', async (t) => {
  await designatedTo('subnet-route', SUB(3), 1);
  await nv.deleteSubnetRoute(3);
  await waitUntil(10_000, 50, async () => (await nv.designation('subnet-route', SUB(3))) === undefined || Promise.reject(new Error('still there')));
  const stored = await sc.session.getJson(`/rests/data/designated-switch:designations/designation=subnet-route,${SUB(3)}`);
  t.equal(stored.status, 409, 'the stored designation is gone too');
  const flows = await flowsWhere('no subnet 3 route flows', (f) => ![...f.values()].flat().some((x) => String(x.id).startsWith(`subnet-route.${SUB(3)}.`)));
  t.ok(has(flows, 1, `net.${NET(3)}.local.${uuid(3, 301)}`), 'the VM of subnet 3 keeps its delivery flows');
});

t.test('every programmed flow is one ovs-ofctl accepts, with a cookie that names its service', async (t) => {
  const { ofctlFlow } = await import('../../src/southbound/openflow/flows.ts');
  const { COOKIE_CODE } = await import('../../plugins/elections/pipeline.ts');
  const all = [...(await nv.flows()).values()].flat();
  t.ok(all.length > 40, `${all.length} flows programmed`);
  const lines = all.map((f) => ofctlFlow(f));
  const dir = mkdtempSync(join(tmpdir(), 'sextant-flows-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'flows.txt'), `${lines.join('\n')}\n`);
  const r = spawnSync('ovs-ofctl', ['-O', 'OpenFlow13', 'parse-flows', join(dir, 'flows.txt')], { encoding: 'utf8' });
  t.equal(r.status, 0, `ovs-ofctl parses them all${r.status ? `: ${r.stderr}` : ''}`);
  t.equal((r.stdout.match(/OFPT_FLOW_MOD/g) ?? []).length, all.length, 'one flow-mod per flow');
  for (const f of all) {
    const kind = String(f.id).split('.')[0] as keyof typeof COOKIE_CODE;
    if (BigInt(String(f.cookie)) >> 48n !== COOKIE_CODE[kind]) t.fail(`flow ${f.id} has cookie ${f.cookie}`);
  }
  t.pass('cookies carry the service code of their flow');
});

t.test('tunnel state follows what Open vSwitch reports', async (t) => {
  const state = await sc.session.getJson('/rests/data/itm-state:tunnels_state');
  const list = (state.json() as { 'itm-state:tunnels_state': { 'state-tunnel-list': Record<string, any>[] } })['itm-state:tunnels_state']['state-tunnel-list'];
  let configured = 0;
  for (const n of [1, 2, 3, 5]) configured += (await nv.tunnelPorts(n)).size;
  t.equal(list.length, configured, 'one state entry per tunnel port');
  const [name, options] = [...(await nv.tunnelPorts(1)).entries()][0];
  const entry = list.find((e) => e['tunnel-interface-name'] === name);
  t.match(entry, { 'src-info': { 'tep-device-id': '1', 'tep-ip': tepIp(1) }, 'dst-info': { 'tep-ip': options.remote_ip }, 'oper-state': 'down' }, 'down until OVS reports the port');
  const tp = `/restconf/operational/network-topology:network-topology/topology/ovsdb:1/node/${encodeURIComponent(`ovsdb://uuid/${uuid(9, 1)}/bridge/br-int`)}/termination-point/${name}`;
  const put = await sc.session.putJson(tp, { 'termination-point': [{ 'tp-id': name, 'ovsdb:name': name, 'ovsdb:ofport': Number(options.ofport) }] });
  t.ok([200, 201, 204].includes(put.status), 'OVS reports the tunnel port');
  await waitUntil(10_000, 50, async () => {
    const s = await sc.session.getJson(`/rests/data/itm-state:tunnels_state/state-tunnel-list=${name}`);
    return (s.json() as any)['itm-state:state-tunnel-list'][0]['oper-state'] === 'up' || Promise.reject(new Error('not up'));
  });
  t.pass('then it is up');
});
