/**
 * The generated bindings (src/bindings/, scripts/gen-bindings.ts): the committed files are what
 * the generator writes now, builder paths are the paths parsePath gives for the same text, ANY
 * makes subscription patterns, and a memory datastore reads and writes through them.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadSchema } from '../../src/yang/compiler.ts';
import { formatPath, parseApiPath, parsePath } from '../../src/yang/path.ts';
import { ANY, DataPath, ROOT, uint64, resolveDataPath } from '../../src/yang/binding.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import { networkTopology, type Node, type TerminationPoint } from '../../src/bindings/network-topology.ts';
import { nodes } from '../../src/bindings/opendaylight-inventory.ts';
import { transportZones } from '../../src/bindings/itm.ts';
import { computeNodes, RPCS as CLOUDSCALER_RPCS } from '../../src/bindings/cloudscaler-rpc.ts';
import { neutron } from '../../src/bindings/neutron.ts';
import { designations } from '../../src/bindings/designated-switch.ts';
import { scaleinHistory } from '../../src/bindings/scalein-api.ts';
import { designatedSwitches } from '../../src/bindings/designated-switch.ts';
import { naptSwitches } from '../../src/bindings/odl-nat.ts';
import { computeRegistry } from '../../src/bindings/scalein-api.ts';
import { tunnelsState } from '../../src/bindings/itm-state.ts';
import { terminationPointPath, topologyNodePath } from '../../src/southbound/ovsdb/topology.ts';
import { flowPath, inventoryNodePath } from '../../src/southbound/openflow/flows.ts';
import * as cloudscaler from '../../plugins/cloudscaler/model.ts';
import * as elections from '../../plugins/elections/model.ts';
import { memoryDatastore } from '../helpers/datastore.ts';
import { tempDir } from '../helpers/tmp.ts';

const REPO = join(import.meta.dirname, '../..');
const schema = await loadSchema(join(REPO, 'yang'));
const ovsdbNode = (id: string) => networkTopology().topology('ovsdb:1').node(id);

t.test('the committed bindings are what npm run gen writes: none differs, none is missing or extra', async (t) => {
  const out = tempDir(t);
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/gen-bindings.ts'), out], { cwd: REPO });
  const committedDir = join(REPO, 'src/bindings');
  const generated = (await readdir(out)).sort();
  const committed = (await readdir(committedDir)).sort();
  t.same(committed, generated, 'the same files (run npm run gen and commit)');
  for (const name of generated) {
    const fresh = await readFile(join(out, name), 'utf8');
    const kept = await readFile(join(committedDir, name), 'utf8').catch(() => '');
    t.ok(fresh === kept, `src/bindings/${name} is up to date (run npm run gen and commit)`);
  }
});

t.test('builder paths are the steps and canonical text parsePath gives', async (t) => {
  const cases: [DataPath<unknown>, string][] = [
    [networkTopology(), '/network-topology:network-topology'],
    [networkTopology().topology(), '/network-topology:network-topology/topology'],
    [ovsdbNode('ovsdb://uuid/1234/bridge/br-int'), '/network-topology:network-topology/topology=ovsdb%3A1/node=ovsdb%3A%2F%2Fuuid%2F1234%2Fbridge%2Fbr-int'],
    [ovsdbNode('ovsdb://uuid/1234/bridge/br-int').terminationPoint('tap 1/x'), '/network-topology:network-topology/topology=ovsdb%3A1/node=ovsdb%3A%2F%2Fuuid%2F1234%2Fbridge%2Fbr-int/termination-point=tap%201%2Fx'],
    [ovsdbNode('n1').bridgeName(), '/network-topology:network-topology/topology=ovsdb%3A1/node=n1/ovsdb:bridge-name'],
    [ovsdbNode('n1').bridgeExternalIds('tombstoned').bridgeExternalIdValue(), '/network-topology:network-topology/topology=ovsdb%3A1/node=n1/ovsdb:bridge-external-ids=tombstoned/bridge-external-id-value'],
    [ovsdbNode('n1').terminationPoint('t1').options('remote_ip'), '/network-topology:network-topology/topology=ovsdb%3A1/node=n1/termination-point=t1/ovsdb:options=remote_ip'],
    [nodes().node('openflow:161').table(0).flow('tun/in'), '/opendaylight-inventory:nodes/node=openflow%3A161/flow-node-inventory:table=0/flow=tun%2Fin'],
    [nodes().node('openflow:161').table('21').flow('f').priority(), '/opendaylight-inventory:nodes/node=openflow%3A161/flow-node-inventory:table=21/flow=f/priority'],
    [transportZones().transportZone('default-transport-zone').vteps(18446744073709551615n), '/itm:transport-zones/transport-zone=default-transport-zone/vteps=18446744073709551615'],
    [transportZones().transportZone('z').vteps('0007'), '/itm:transport-zones/transport-zone=z/vteps=7'],
    [transportZones().transportZone('z').vteps(161).ipAddress(), '/itm:transport-zones/transport-zone=z/vteps=161/ip-address'],
    [computeNodes().computeNode('compute 1'), '/cloudscaler-rpc:compute-nodes/compute-node=compute%201'],
    [neutron().ports().port('3d5f0c4e-1b1a-4c7e-9f00-0a0b0c0d0e0f'), '/neutron:neutron/ports/port=3d5f0c4e-1b1a-4c7e-9f00-0a0b0c0d0e0f'],
    [neutron().ports().port('3d5f0c4e-1b1a-4c7e-9f00-0a0b0c0d0e0f').hostId(), '/neutron:neutron/ports/port=3d5f0c4e-1b1a-4c7e-9f00-0a0b0c0d0e0f/neutron-binding:host-id'],
    [designations().designation('nat', 'router/1'), '/designated-switch:designations/designation=nat,router%2F1'],
    [scaleinHistory().removedCompute('c1'), '/scalein-api:scalein-history/removed-compute=c1'],
  ];
  for (const [path, text] of cases) {
    const parsed = parsePath(schema, text);
    t.equal(path.text, formatPath(parsed), `${text}: text is canonical`);
    t.equal(path.text, text);
    t.equal(String(path), text, 'toString is the text');
    t.same(path.steps, parseApiPath(text), `${text}: steps are what parseApiPath gives`);
    t.same(resolveDataPath(schema, path), parsed, `${text}: resolves to what parsePath gives`);
  }
  t.equal(ROOT.text, '/');
});

t.test('the builders spell the paths OpenDaylight clients send (the strings plugins used to write by hand)', async (t) => {
  const dpn = cloudscaler.dpnOf('18446744073709551615');
  const bridge = 'ovsdb://uuid/5f0c/bridge/br-int';
  const enc = encodeURIComponent;
  const same: [DataPath<unknown, 'exact' | 'pattern'>, string][] = [
    [topologyNodePath(bridge), `/network-topology:network-topology/topology=ovsdb%3A1/node=${enc(bridge)}`],
    [terminationPointPath(bridge, 'tun0a1b2c3d4e5'), `/network-topology:network-topology/topology=ovsdb%3A1/node=${enc(bridge)}/termination-point=tun0a1b2c3d4e5`],
    [inventoryNodePath(dpn), `/opendaylight-inventory:nodes/node=openflow%3A${dpn}`],
    [flowPath(dpn, 21, 'snat/r1'), `/opendaylight-inventory:nodes/node=openflow%3A${dpn}/flow-node-inventory:table=21/flow=snat%2Fr1`],
    [cloudscaler.computeNode('compute 1'), '/cloudscaler-rpc:compute-nodes/compute-node=compute%201'],
    [cloudscaler.vtep('default-transport-zone', dpn), `/itm:transport-zones/transport-zone=default-transport-zone/vteps=${dpn}`],
    [cloudscaler.removedCompute('c/1'), '/scalein-api:scalein-history/removed-compute=c%2F1'],
    [cloudscaler.conflict(bridge), `/scalein-api:compute-registry/conflict=${enc(bridge)}`],
    [elections.designationPath('nat', 'r 1'), '/designated-switch:designations/designation=nat,r%201'],
    [elections.designatedSwitchPath('subnet-route', 's1'), '/designated-switch:designated-switches/designated-switch=subnet-route,s1'],
    [elections.naptSwitchPath('r1'), '/odl-nat:napt-switches/router-to-napt-switch=r1'],
    [elections.NEUTRON, '/neutron:neutron'],
    [tunnelsState().stateTunnelList('tun0a1b2c3d4e5'), '/itm-state:tunnels_state/state-tunnel-list=tun0a1b2c3d4e5'],
    [cloudscaler.ovsdbTopology.node(ANY), '/network-topology:network-topology/topology=ovsdb%3A1/node=*'],
  ];
  for (const [built, byHand] of same) t.equal(built.text, byHand);
});

t.test('builders refuse what the path cannot be', async (t) => {
  t.throws(() => designations().child(DataPath, { name: 'designation', keys: ['string', 'string'] }, ['nat']), /takes 2 key value\(s\), got 1/, 'too few keys');
  t.throws(() => resolveDataPath(schema, nodes().node('openflow:1').table(256)), /key "id" of "table"/, 'a uint8 key out of range fails when resolved');
  t.throws(() => resolveDataPath(schema, ovsdbNode('n1').terminationPoint(ANY)), /subscription pattern/, 'a pattern is not a path to one node');
});

t.test('ANY gives =* patterns that subscribe takes, with typed changes', async (t) => {
  const ds = await memoryDatastore(t, schema);
  const pattern = networkTopology().topology('ovsdb:1').node(ANY).terminationPoint(ANY);
  t.equal(pattern.text, '/network-topology:network-topology/topology=ovsdb%3A1/node=*/termination-point=*');
  t.equal(pattern.pattern, true);
  t.equal(designations().designation(ANY).text, '/designated-switch:designations/designation=*', 'ANY stands for all the keys of a list');
  const seen: Change<TerminationPoint>[] = [];
  const off = ds.subscribe('config', pattern, (changes) => {
    seen.push(...changes);
  });
  t.teardown(off);
  const tx = ds.transaction('config');
  tx.put(ovsdbNode('ovsdb://uuid/1/bridge/br-int'), {
    'node-id': 'ovsdb://uuid/1/bridge/br-int',
    'ovsdb:bridge-name': 'br-int',
    'termination-point': [{ 'tp-id': 'tun1', 'ovsdb:interface-type': 'ovsdb:interface-type-vxlan', 'ovsdb:options': [{ option: 'remote_ip', value: '10.0.0.2' }] }],
  });
  await tx.commit();
  await ds.settled();
  t.equal(seen.length, 1);
  t.equal(seen[0].type, 'created');
  t.equal(seen[0].path, ovsdbNode('ovsdb://uuid/1/bridge/br-int').terminationPoint('tun1').text);
  t.same(seen[0].keys, [['ovsdb://uuid/1/bridge/br-int'], ['tun1']]);
  t.equal(seen[0].after?.['ovsdb:options']?.[0].value, '10.0.0.2');
});

t.test('a memory datastore reads and writes through DataPaths', async (t) => {
  const ds = await memoryDatastore(t, schema);
  const zone = transportZones().transportZone('default-transport-zone');
  const dpn = 18446744073709551615n;
  let tx = ds.transaction('config');
  tx.put(zone, { 'zone-name': 'default-transport-zone', 'tunnel-type': 'odl-interface:tunnel-type-vxlan', vteps: [{ 'dpn-id': uint64(dpn), 'ip-address': '10.0.0.1' }] });
  tx.put(computeNodes().computeNode('c1'), { 'compute-name': 'c1', nodeid: 'n1', dpnid: uint64(dpn) });
  t.equal(tx.read(zone.vteps(dpn).ipAddress()), '10.0.0.1', 'the transaction sees its own write');
  await tx.commit();

  const vtep = ds.read('config', zone.vteps(dpn));
  t.same(vtep, { 'dpn-id': '18446744073709551615', 'ip-address': '10.0.0.1' }, 'uint64 comes back as its decimal string');
  t.equal(BigInt(ds.read('config', computeNodes().computeNode('c1'))!.dpnid!), dpn);
  t.same(ds.read('config', zone.vteps())?.map((v) => v['dpn-id']), ['18446744073709551615'], 'the whole list is an array');

  tx = ds.transaction('config');
  tx.merge(computeNodes().computeNode('c1'), { tombstoned: true });
  tx.merge(ovsdbNode('n1'), { 'ovsdb:bridge-external-ids': [{ 'bridge-external-id-key': 'tombstoned', 'bridge-external-id-value': 'true' }] });
  await tx.commit();
  t.same(ds.read('config', computeNodes().computeNode('c1')), { 'compute-name': 'c1', nodeid: 'n1', dpnid: '18446744073709551615', tombstoned: true }, 'merge keeps what it leaves out');
  t.equal(ds.read('config', ovsdbNode('n1').bridgeExternalIds('tombstoned').bridgeExternalIdValue()), 'true');

  tx = ds.transaction('config');
  t.equal(tx.exists(zone.vteps(dpn)), true);
  tx.delete(zone.vteps(dpn));
  tx.remove(zone.vteps(1));
  t.throws(() => tx.create(computeNodes().computeNode('c1'), { 'compute-name': 'c1' }), /already exists/);
  t.throws(() => tx.read(zone.vteps(ANY) as unknown as DataPath<unknown>), /subscription pattern/, 'a pattern is refused at run time too');
  await tx.commit();
  t.equal(ds.read('config', zone.vteps(dpn)), undefined);
  t.equal(ds.read('config', '/cloudscaler-rpc:compute-nodes/compute-node=c1/nodeid'), 'n1', 'string paths still work');
  t.equal(CLOUDSCALER_RPCS.scaleinComputesStart, 'cloudscaler-rpc:scalein-computes-start');
});

t.test('the same DataPath object resolves once per schema', async (t) => {
  const path = ovsdbNode('n1');
  t.equal(resolveDataPath(schema, path), resolveDataPath(schema, path));
  const node: Node = { 'node-id': 'n1' };
  t.ok(node);
});
