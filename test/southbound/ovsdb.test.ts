/**
 * The OVSDB southbound against real Open vSwitch databases: three simulated computes (each a
 * real ovsdb-server with its own database, manager set to the controller) connect; the suite
 * reads back what a user sees with ovs-vsctl: computes registered, the tunnel mesh as real vxlan
 * interfaces, the tombstone external-id, tunnels removed after scale-in end, drift repaired after
 * a reconnect, an operator's own port and external-id left alone, hostile peers cut off alone.
 */
import t from 'tap';
import { connect } from 'node:net';
import { testController } from '../helpers/controller.ts';
import { computesForTest, killCompute, restartCompute, setManager, vsctl, type SimCompute } from '../helpers/ovs.ts';
import { waitUntil } from '../csit/lib/wait.ts';
import { conflict } from '../../plugins/cloudscaler/model.ts';

const c = await testController(t, ['--datastore=memory']);
const manager = `127.0.0.1:${c.ovsdb.port}`;
const sims = await computesForTest(t, { count: 3, controller: manager, vms: 1 });
const [c1, c2, c3] = sims.computes;

const computeNodes = () => (c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as { 'compute-name': string; dpnid: string; nodeid: string; tombstoned: boolean }[] | undefined) ?? [];
const rpc = (name: string, ids: string[]) => c.rpc.invoke(`scalein-api:${name}`, { [name.endsWith('recover') ? 'recover-node-ids' : 'scalein-node-ids']: ids });

/** Tunnel ports in a compute's OVS: name -> remote_ip (what ovs-vsctl reports). */
async function tunnelsIn(sim: SimCompute): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const name of (await vsctl(sim, 'list-ports', 'br-int')).split('\n').filter((p) => /^tun[0-9a-f]{11}$/.test(p))) {
    const type = await vsctl(sim, 'get', 'interface', name, 'type');
    if (type !== 'vxlan') continue;
    out.set(name, (await vsctl(sim, 'get', 'interface', name, 'options:remote_ip')).replace(/"/g, ''));
  }
  return out;
}

async function meshComplete(sims: SimCompute[]) {
  return waitUntil(20_000, 100, async () => {
    for (const s of sims) {
      const want = sims.filter((o) => o !== s).map((o) => o.localIp).sort();
      const have = [...(await tunnelsIn(s)).values()].sort();
      if (JSON.stringify(have) !== JSON.stringify(want)) throw new Error(`${s.name} has tunnels to ${have.join(',')}, want ${want.join(',')}`);
    }
    return true;
  });
}

t.before(async () => {
  // An operator's own ports and bridge external-id: they must survive every reconciliation. On c1
  // the controller writes both the bridge's external_ids (the tombstone, set then cleared) and its
  // ports (the tunnel to c3 removed at scale-in end); on c2 it recreates a tunnel deleted by hand.
  // A controller that replaced either column whole would take the operator's entries with it.
  await vsctl(c1, 'add-port', 'br-int', 'ops-port');
  await vsctl(c1, 'br-set-external-id', 'br-int', 'owner', 'operations');
  await vsctl(c2, 'add-port', 'br-int', 'ops-port');
});

t.test('three computes connect: registered with their names and DPNs, full tunnel mesh in every OVS', async (t) => {
  const nodes = await waitUntil(15_000, 100, () => (computeNodes().length === 3 ? computeNodes() : Promise.reject(new Error(`${computeNodes().length} computes`))));
  t.same(nodes.map((n) => [n['compute-name'], n.dpnid]).sort(), sims.computes.map((s) => [s.name, String(BigInt(`0x${s.datapathId}`))]).sort(), 'names from dp-desc, DPNs from the datapath id');
  t.ok(nodes.every((n) => n.nodeid.startsWith('ovsdb://uuid/') && n.nodeid.endsWith('/bridge/br-int')), 'bridge node-ids as OpenDaylight names them');
  await meshComplete(sims.computes);
  t.pass('every OVS has a vxlan interface to each of the two others');
  const name = [...(await tunnelsIn(c1)).keys()][0];
  t.equal(await vsctl(c1, 'get', 'interface', name, 'options:key'), 'flow', 'key=flow');
  t.match(await vsctl(c1, 'get', 'port', name, 'external_ids:opendaylight-iid'), /termination-point=tun/, 'the controller marks the rows it owns');
  // ofport_request from 32768 up, counted per bridge: each compute's two tunnels get 32768 and 32769.
  for (const sim of sims.computes) {
    const requests = await Promise.all([...(await tunnelsIn(sim)).keys()].map((n) => vsctl(sim, 'get', 'interface', n, 'ofport_request')));
    t.same(requests.map(Number).sort(), [32768, 32769], `${sim.name}: tunnel ofport_request 32768 and 32769`);
  }
});

t.test('scalein-computes-start writes the tombstone into OVS; recover clears it', async (t) => {
  await rpc('scalein-computes-start', [c1.name]);
  await waitUntil(5_000, 50, async () => ((await vsctl(c1, 'br-get-external-id', 'br-int', 'tombstoned')) === 'true' ? true : Promise.reject(new Error('not yet'))));
  t.pass('ovs-vsctl br-get-external-id br-int tombstoned says true');
  await rpc('scalein-computes-recover', [c1.name]);
  await waitUntil(5_000, 50, async () => ((await vsctl(c1, 'br-get-external-id', 'br-int', 'tombstoned')) === 'false' ? true : Promise.reject(new Error('not yet'))));
  t.pass('and false after recover');
});

t.test('kill and restart an ovsdb-server: the controller notices, re-learns and repairs drift', async (t) => {
  const bridgeOf = (sim: SimCompute) => computeNodes().find((n) => n['compute-name'] === sim.name)!.nodeid;
  const reported = (sim: SimCompute) => c.data.read('operational', `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(bridgeOf(sim))}`) !== undefined;
  await killCompute(c2);
  await waitUntil(20_000, 100, () => (!reported(c2) ? true : Promise.reject(new Error('still reported'))));
  t.pass('a dead switch leaves the operational topology (its compute is not connected)');
  await restartCompute(c2);
  await waitUntil(20_000, 100, () => (reported(c2) ? true : Promise.reject(new Error('not back'))));
  t.pass('it reconnects by itself (manager_options) and is reported again');

  // Drift while disconnected: the manager is removed, a tunnel port is deleted by hand.
  await vsctl(c2, 'del-manager');
  await waitUntil(20_000, 100, () => (!reported(c2) ? true : Promise.reject(new Error('still reported'))));
  const victim = [...(await tunnelsIn(c2)).keys()][0];
  const victimOfport = await vsctl(c2, 'get', 'interface', victim, 'ofport_request');
  await vsctl(c2, 'del-port', 'br-int', victim);
  t.notOk((await tunnelsIn(c2)).has(victim), `tunnel ${victim} deleted by hand`);
  await setManager(c2, manager);
  await waitUntil(20_000, 100, async () => ((await tunnelsIn(c2)).has(victim) ? true : Promise.reject(new Error('not repaired'))));
  t.pass('on reconnect the controller recreates it');
  t.equal(await vsctl(c2, 'get', 'interface', victim, 'ofport_request'), victimOfport, `with the ofport_request it had (${victimOfport}): kept, so flows naming the port stay right`);
  await meshComplete(sims.computes);
});

t.test('scalein-computes-end removes the tunnels to the compute from every other OVS, and nothing it did not create', async (t) => {
  const c3Bridge = computeNodes().find((n) => n['compute-name'] === c3.name)!.nodeid;
  await rpc('scalein-computes-start', [c3.name]);
  for (const vm of c3.vms) await vsctl(c3, 'del-port', 'br-int', vm.name);
  await waitUntil(10_000, 100, async () => {
    const r = (await rpc('scalein-computes-end', [c3.name])) as { status: string };
    return r.status === 'DONE' || Promise.reject(new Error(r.status));
  });
  for (const s of [c1, c2]) {
    await waitUntil(15_000, 100, async () => ([...(await tunnelsIn(s)).values()].includes(c3.localIp) ? Promise.reject(new Error(`${s.name} still tunnels to ${c3.name}`)) : true));
  }
  t.pass('no OVS has a tunnel to the removed compute');
  await waitUntil(15_000, 100, async () => ((await tunnelsIn(c3)).size === 0 ? true : Promise.reject(new Error('tunnels left on c3'))));
  t.pass("the removed compute's own tunnel ports (the controller's) are gone");
  t.equal(await vsctl(c3, 'br-exists', 'br-int').then(() => 'yes'), 'yes', 'its bridge, which the controller did not create, is still there');
  t.equal((await vsctl(c3, 'get', 'bridge', 'br-int', 'other-config:dp-desc')).replace(/"/g, ''), c3.name, 'with its own settings');
  // Not registered again while its switch stays connected: its bridge changes (a port added),
  // which is when a registry would re-register it; then a later change on the same switch that the
  // registry does answer (a second bridge claiming c1's name, refused and reported), so the first
  // was handled by then (the registry sees changes in order).
  await vsctl(c3, 'add-port', 'br-int', 'after-end');
  const dupBridge = c3Bridge.replace(/\/bridge\/br-int$/, '/bridge/br-dup');
  await vsctl(c3, 'add-br', 'br-dup', '--', 'set', 'bridge', 'br-dup', `other-config:dp-desc=${c1.name}`, 'other_config:datapath-id=00000000000000d3');
  await waitUntil(15_000, 100, () => (c.data.read('operational', conflict(dupBridge)) ? true : Promise.reject(new Error('the duplicate claim is not reported'))));
  t.notOk(computeNodes().some((n) => n['compute-name'] === c3.name), 'and it is not registered again while its switch stays connected (its bridge changed since)');
  await vsctl(c3, 'del-br', 'br-dup');
  await waitUntil(15_000, 100, () => (c.data.read('operational', conflict(dupBridge)) ? Promise.reject(new Error('conflict still reported')) : true));
});

t.test("an operator's own port and external-id survive every reconciliation", async (t) => {
  t.match(await vsctl(c1, 'list-ports', 'br-int'), /ops-port/, "c1's port is there (its bridge's ports were rewritten at scale-in end)");
  t.equal(await vsctl(c1, 'br-get-external-id', 'br-int', 'owner'), 'operations', "c1's external-id is there (the controller set and cleared the tombstone beside it)");
  t.equal(await vsctl(c1, 'br-get-external-id', 'br-int', 'tombstoned'), 'false', 'beside the external-id the controller wrote');
  t.match(await vsctl(c2, 'list-ports', 'br-int'), /ops-port/, "c2's port is there (a tunnel was recreated beside it)");
});

t.test('garbage, a 64 MB message and an unknown method close only that connection', async (t) => {
  const probe = (payload: Buffer | string) =>
    new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: c.ovsdb.port });
      s.on('error', () => undefined);
      s.resume(); // read (and drop) what the manager sends, so the end of the stream is seen
      s.on('close', () => resolve('closed'));
      s.on('connect', () => {
        s.write(payload);
      });
      setTimeout(() => {
        resolve('still open');
        s.destroy();
      }, 10_000).unref();
    });
  // The control: the well-behaved switches' sessions, and what the controller reports of them.
  const sessionOf = (sim: SimCompute) => {
    const nodeId = computeNodes().find((n) => n['compute-name'] === sim.name)!.nodeid.replace(/\/bridge\/br-int$/, '');
    return c.ovsdb.sessions.get(nodeId);
  };
  const bridgeState = (sim: SimCompute) => c.data.read('operational', `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(computeNodes().find((n) => n['compute-name'] === sim.name)!.nodeid)}`);
  const controls = [c1, c2].map((sim) => ({ sim, session: sessionOf(sim), state: JSON.stringify(bridgeState(sim)), tunnels: [] as string[] }));
  for (const x of controls) x.tunnels = [...(await tunnelsIn(x.sim)).keys()].sort();
  t.ok(controls.every((x) => x.session && !x.session.closed), 'the well-behaved switches have live sessions before the probes');

  t.equal(await probe('this is not JSON\r\n'), 'closed', 'garbage');
  t.equal(await probe(Buffer.concat([Buffer.from('{"method":"echo","params":["'), Buffer.alloc(64 * 1024 * 1024, 0x61), Buffer.from('"],"id":1}')])), 'closed', 'a 64 MB message');
  t.equal(await probe('{"method":"drop_tables","params":[],"id":7}'), 'closed', 'an unknown method');
  for (const x of controls) {
    // Compared by identity: a diff of two sessions (sockets, replicas) would be unreadable.
    t.ok(sessionOf(x.sim) === x.session, `${x.sim.name}: the same session, never dropped or reconnected`);
    t.notOk(x.session!.closed, `${x.sim.name}: still open`);
    t.equal(JSON.stringify(bridgeState(x.sim)), x.state, `${x.sim.name}: its bridge as reported in the operational topology is unchanged`);
    t.same([...(await tunnelsIn(x.sim)).keys()].sort(), x.tunnels, `${x.sim.name}: its tunnel ports are intact`);
  }
  await rpc('scalein-computes-start', [c1.name]);
  await waitUntil(5_000, 50, async () => ((await vsctl(c1, 'br-get-external-id', 'br-int', 'tombstoned')) === 'true' ? true : Promise.reject(new Error('not yet'))));
  t.pass('and still served: a tombstone reaches OVS');
});

t.test('a switch named in the config topology with connection-info is connected to, and reconnected after it restarts', async (t) => {
  const passive = await computesForTest(t, { count: 1, first: 7 }); // no manager: only we can reach it
  const sw = passive.computes[0];
  const nodeId = `ovsdb://127.0.0.1:${sw.port}`;
  const tx = c.data.transaction('config');
  tx.put(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeId)}`, {
    'node-id': nodeId,
    'ovsdb:connection-info': { 'remote-ip': '127.0.0.1', 'remote-port': sw.port },
  });
  await tx.commit();
  const bridge = `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(`${nodeId}/bridge/br-int`)}`;
  await waitUntil(15_000, 100, () => (c.data.read('operational', bridge) ? true : Promise.reject(new Error('not connected'))));
  t.pass('the switch is reported under the configured node-id');
  await waitUntil(15_000, 100, () => (computeNodes().some((n) => n['compute-name'] === sw.name && n.nodeid === `${nodeId}/bridge/br-int`) ? true : Promise.reject(new Error('not registered'))));
  t.pass('and registered as a compute');
  await killCompute(sw);
  await waitUntil(15_000, 100, () => (!c.data.read('operational', bridge) ? true : Promise.reject(new Error('still reported'))));
  await restartCompute(sw);
  await waitUntil(20_000, 100, () => (c.data.read('operational', bridge) ? true : Promise.reject(new Error('not reconnected'))));
  t.pass('after the switch restarts, the controller connects again (backoff)');
  const rm = c.data.transaction('config');
  rm.remove(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeId)}`);
  await rm.commit();
  await waitUntil(15_000, 100, () => (!c.data.read('operational', bridge) ? true : Promise.reject(new Error('still connected'))));
  t.pass('removing the node from the config topology disconnects it');
});
