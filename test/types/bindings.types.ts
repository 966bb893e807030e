/**
 * Type-level test of the generated bindings, checked by `tsc --noEmit -p .` (part of npm test),
 * never run. The plain lines must compile; every `@ts-expect-error` line must fail to, so a
 * binding that loses its types (a key that takes anything, a member that accepts any name, a
 * uint64 that takes a JS number) breaks the build.
 */
import type { Datastore, Transaction } from '../../src/datastore/datastore.ts';
import { ANY, uint64, type DataPath, type Uint64 } from '../../src/yang/binding.ts';
import { networkTopology, type Node, type TerminationPoint } from '../../src/bindings/network-topology.ts';
import { nodes, type Flow } from '../../src/bindings/opendaylight-inventory.ts';
import { transportZones, type Vteps } from '../../src/bindings/itm.ts';
import { computeNodes, RPCS, type ComputeNode, type Rpcs } from '../../src/bindings/cloudscaler-rpc.ts';
import { designations } from '../../src/bindings/designated-switch.ts';
import { neutron, type Port } from '../../src/bindings/neutron.ts';

declare const ds: Datastore;
declare const tx: Transaction;
declare const dpn: bigint;

export function typeChecks(): void {
  const ovsdb = networkTopology().topology('ovsdb:1');

  // Reads are typed by the path.
  const node: Node | undefined = ds.read('operational', ovsdb.node('n1'));
  const bridgeName: string | undefined = ds.read('operational', ovsdb.node('n1').bridgeName());
  const tps: TerminationPoint[] | undefined = tx.read(ovsdb.node('n1').terminationPoint());
  const vtep: Vteps | undefined = ds.read('config', transportZones().transportZone('z').vteps(dpn));
  const flow: Flow | undefined = ds.read('config', nodes().node('openflow:1').table(0).flow('f'));
  const port: Port | undefined = ds.read('config', neutron().ports().port('p'));
  const untyped: unknown = ds.read('config', '/itm:transport-zones');
  void [node, bridgeName, tps, vtep, flow, port, untyped];

  // @ts-expect-error a read gives T | undefined, not T
  const sure: Node = ds.read('operational', ovsdb.node('n1'));
  // @ts-expect-error a bridge name is a string
  const wrong: number | undefined = ds.read('operational', ovsdb.node('n1').bridgeName());
  void [sure, wrong];

  // Keys: strings for string keys, string | number | bigint for integer keys, literals for enums.
  transportZones().transportZone('z').vteps(161n);
  transportZones().transportZone('z').vteps(161);
  transportZones().transportZone('z').vteps('161');
  nodes().node('openflow:1').table(0);
  designations().designation('subnet-route', 's1');
  // @ts-expect-error a string key takes no number
  ovsdb.node(42);
  // @ts-expect-error an enumeration key takes only its literals
  designations().designation('bgp', 's1');
  // @ts-expect-error a list's keys come all together
  designations().designation('nat');
  // @ts-expect-error no such child
  ovsdb.node('n1').bridgeNam();

  // Writes take the JSON type of the node.
  tx.put(computeNodes().computeNode('c1'), { 'compute-name': 'c1', nodeid: 'n1', dpnid: uint64(dpn), tombstoned: false });
  tx.put(computeNodes().computeNode('c1'), { 'compute-name': 'c1', dpnid: `${dpn}` });
  tx.put(ovsdb.node('n1'), {
    'node-id': 'n1',
    'ovsdb:bridge-name': 'br-int',
    'ovsdb:bridge-external-ids': [{ 'bridge-external-id-key': 'tombstoned', 'bridge-external-id-value': 'true' }],
    'termination-point': [{ 'tp-id': 'tun1', 'ovsdb:interface-type': 'ovsdb:interface-type-vxlan' }],
  });
  tx.create(transportZones().transportZone('z'), { 'zone-name': 'z', 'tunnel-type': 'odl-interface:tunnel-type-vxlan' });
  tx.put(ovsdb.node('n1').bridgeName(), 'br-int');
  tx.merge(computeNodes().computeNode('c1'), { tombstoned: true });
  tx.merge(ovsdb.node('n1'), { 'termination-point': [{ 'ovsdb:ofport': 5 }] });
  tx.delete(ovsdb.node('n1').terminationPoint('tun1'));
  tx.remove(transportZones().transportZone('z').vteps(dpn));
  tx.put('/itm:transport-zones', { anything: 'goes' });

  // @ts-expect-error uint64 is a decimal string, never a JS number
  tx.put(computeNodes().computeNode('c1'), { 'compute-name': 'c1', dpnid: 161 });
  // @ts-expect-error unknown member
  tx.put(computeNodes().computeNode('c1'), { 'compute-name': 'c1', nodeId: 'n1' });
  // @ts-expect-error a list entry needs its keys
  tx.put(computeNodes().computeNode('c1'), { nodeid: 'n1' });
  // @ts-expect-error the member is qualified where an augment adds it
  tx.put(ovsdb.node('n1'), { 'node-id': 'n1', 'bridge-name': 'br-int' });
  // @ts-expect-error wrong identity literal
  tx.create(transportZones().transportZone('z'), { 'zone-name': 'z', 'tunnel-type': 'odl-interface:tunnel-type-vxlan-typo' });
  // @ts-expect-error wrong enum literal
  tx.merge(ovsdb.node('n1').terminationPoint('t'), { 'ovsdb:vlan-mode': 'trunked' });
  // @ts-expect-error a merge is partial but still typed
  tx.merge(computeNodes().computeNode('c1'), { tombstoned: 'yes' });
  // @ts-expect-error a uint64 member is not a bigint either
  const badVtep: Vteps = { 'dpn-id': 161n };
  void badVtep;

  // Patterns: ANY in place of keys; subscribe takes them and types the changes.
  const pattern = networkTopology().topology('ovsdb:1').node(ANY).terminationPoint(ANY);
  ds.subscribe('operational', pattern, (changes) => {
    for (const c of changes) {
      const ofport: number | undefined = c.after?.['ovsdb:ofport'];
      // @ts-expect-error changes carry the pattern's type
      const name: number | undefined = c.before?.['ovsdb:name'];
      void [ofport, name];
    }
  });
  ds.subscribe('config', '/cloudscaler-rpc:compute-nodes/compute-node=*', (changes) => void changes[0]?.after);
  ds.subscribe('config', computeNodes().computeNode(ANY), (changes) => {
    const entry: ComputeNode | undefined = changes[0]?.after;
    void entry;
  });
  const exactToo: DataPath<Node, 'exact' | 'pattern'> = ovsdb.node('n1');
  void exactToo;
  // @ts-expect-error a pattern names many nodes: it cannot be read
  ds.read('operational', pattern);
  // @ts-expect-error nor written
  tx.put(computeNodes().computeNode(ANY), { 'compute-name': 'c1' });
  // @ts-expect-error ANY stands for all keys, not one of several
  designations().designation(ANY, 's1');

  // RPC names and payloads.
  const name: 'cloudscaler-rpc:scalein-computes-start' = RPCS.scaleinComputesStart;
  const input: Rpcs['cloudscaler-rpc:scalein-computes-start']['input'] = { 'scalein-compute-names': ['c1'] };
  // @ts-expect-error rpc input members are typed
  const badInput: Rpcs['cloudscaler-rpc:scalein-computes-start']['input'] = { 'scalein-compute-names': 'c1' };
  const id: Uint64 = '18446744073709551615';
  void [name, input, badInput, id];
}
