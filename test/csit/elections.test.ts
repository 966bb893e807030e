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
import { startSuiteController } from './lib/env.ts';
import { NetVirt, computeName, tepIp, uuid } from './lib/netvirt.ts';
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

const ids = (flows: Map<string, Record<string, unknown>[]>, dpn: number) => (flows.get(String(dpn)) ?? []).map((f) => String(f.id));
const has = (flows: Map<string, Record<string, unknown>[]>, dpn: number, id: string) => ids(flows, dpn).includes(id);

t.before(async () => {
  await nv.addCompute({ n: 1, vms: [{ port: 101, ofport: 1 }, { port: 301, ofport: 2 }] });
  await nv.addCompute({ n: 2, vms: [{ port: 102, ofport: 1 }, { port: 201, ofport: 2 }] });
  await nv.addCompute({ n: 3, vms: [{ port: 202, ofport: 1 }] });
  await nv.addCompute({ n: 4 });
  await nv.network(1, 1001);
  await nv.network(2, 1002);
  await nv.network(3, 1003);
  await nv.subnet(1, 1, '10.1.0.0/24');
  await nv.subnet(2, 2, '10.2.0.0/24');
  await nv.subnet(3, 3, '10.3.0.0/24');
  await nv.port(101, 1, 1, '10.1.0.11', computeName(1));
  await nv.port(102, 1, 1, '10.1.0.12', computeName(2));
  await nv.port(201, 2, 2, '10.2.0.21', computeName(2));
  await nv.port(202, 2, 2, '10.2.0.22', computeName(3));
  await nv.port(301, 3, 3, '10.3.0.31', computeName(1));
  await nv.router(1, '172.24.4.10');
  await nv.routerInterface(191, 1, 1, 1, '10.1.0.1');
  await nv.routerInterface(192, 1, 2, 2, '10.2.0.1');
  await nv.subnetRoute(1);
  await nv.subnetRoute(3);
});

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
