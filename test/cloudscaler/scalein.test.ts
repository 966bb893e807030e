/**
 * Compute scale-in over real RESTCONF against a started controller, topology injected through
 * the legacy operational endpoint as OpenDaylight suites do. Covers the behaviours of genius'
 * CloudScalerServiceTest, the seed workflow with every identifier form through every URL family
 * and module name in JSON and XML, end with ports bound, every bad input, and restart.
 */
import t from 'tap';
import pino from 'pino';
import { startController } from '../../src/controller.ts';
import { testConfig, testController } from '../helpers/controller.ts';
import { bridgeJson, legacyBridgePath, nodeIdOf, restconf } from './helpers.ts';
import type { Controller } from '../../src/controller.ts';
import type { YangNotification } from '../../src/rpc/notifications.ts';

const COMPUTES = '/rests/data/cloudscaler-rpc:compute-nodes';

async function withComputes(c: Controller, specs: [number, string, number, string[]?][]) {
  const rc = restconf(c);
  for (const [n, name, dpn, ports] of specs) {
    const r = await rc.put(legacyBridgePath(n), bridgeJson(n, name, dpn, ports ?? []));
    if (r.status !== 201 && r.status !== 200) throw new Error(`injecting bridge ${n}: ${r.status} ${r.body}`);
  }
  await c.data.settled();
  return rc;
}

async function computes(c: Controller): Promise<Record<string, { tombstoned: boolean; dpnid: string; nodeid: string }>> {
  const r = await restconf(c).get(COMPUTES);
  if (r.status !== 200) return {};
  const out: Record<string, { tombstoned: boolean; dpnid: string; nodeid: string }> = {};
  for (const e of r.json()['cloudscaler-rpc:compute-nodes']['compute-node']) out[e['compute-name']] = e;
  return out;
}

const tombstoneOf = (c: Controller, n: number) => {
  const node = c.data.read('config', `/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(nodeIdOf(n))}`) as
    | { 'ovsdb:bridge-external-ids'?: { 'bridge-external-id-key': string; 'bridge-external-id-value': string }[] }
    | undefined;
  return node?.['ovsdb:bridge-external-ids']?.find((e) => e['bridge-external-id-key'] === 'tombstoned')?.['bridge-external-id-value'];
};

t.test('a bridge with dp-desc registers its compute (dpnid from datapath-id)', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  await withComputes(c, [[1, 'compute-1', 161]]);
  t.same(await computes(c), { 'compute-1': { 'compute-name': 'compute-1', nodeid: nodeIdOf(1), dpnid: '161', tombstoned: false } });
});

t.test('a second bridge claiming a registered name is refused and reported, never overwrites', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  await withComputes(c, [[1, 'compute-1', 1], [2, 'compute-1', 2]]);
  t.same((await computes(c))['compute-1'].nodeid, nodeIdOf(1), 'the first bridge keeps the name');
  const conflicts = await restconf(c).get('/rests/data/scalein-api:compute-registry');
  t.equal(conflicts.status, 200);
  t.match(conflicts.json()['scalein-api:compute-registry'].conflict, [
    { 'node-id': nodeIdOf(2), 'compute-name': 'compute-1', 'claimed-dpn-id': '2', 'registered-node-id': nodeIdOf(1), 'registered-dpn-id': '1' },
  ]);
});

t.test("genius' CloudScalerServiceTest behaviours", async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const events: YangNotification[] = [];
  c.notifications.subscribe((n) => events.push(n));
  const rc = await withComputes(c, [[1, 'c1', 1], [2, 'c2', 2], [3, 'c3', 3], [4, 'c4', 4]]);
  const start = await rc.post('/rests/operations/cloudscaler-rpc:scalein-computes-start', { input: { 'scalein-compute-names': ['c1', 'c2'] } });
  t.equal(start.status, 204, 'genius start has no output');
  let all = await computes(c);
  t.same(['c1', 'c2', 'c3', 'c4'].map((n) => all[n].tombstoned), [true, true, false, false], 'start tombstones two');
  // The filtering genius offers other modules is a read of compute-nodes.
  const untombstoned = [1n, 2n, 3n, 4n].filter((dpn) => !Object.values(all).find((x) => BigInt(x.dpnid) === dpn)?.tombstoned);
  t.same(untombstoned, [3n, 4n], 'filtering [1,2,3,4] leaves 3 and 4');
  const recover = await rc.post('/rests/operations/cloudscaler-rpc:scalein-computes-recover', { input: { 'recover-compute-names': ['c1'] } });
  t.equal(recover.status, 204);
  all = await computes(c);
  t.same([all.c1.tombstoned, all.c2.tombstoned], [false, true], 'recovering one leaves the other tombstoned');
  t.equal(tombstoneOf(c, 1), 'false');
  t.equal(tombstoneOf(c, 2), 'true', 'the bridge external-id follows in the config topology');
  const recovered = events.filter((e) => e.name === 'scalein-api:compute-recovered');
  t.same(recovered.map((e) => e.json), [{ 'compute-name': 'c1', 'dpn-id': '1', 'node-id': nodeIdOf(1) }], 'the recovery notification names the recovered DPN');
  t.same(events.filter((e) => e.name === 'scalein-api:compute-tombstoned').map((e) => e.json['compute-name']), ['c1', 'c2']);
});

t.test('the seed workflow: start A,B,C; B fails to migrate; end A,C; recover B', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const rc = await withComputes(c, [[1, 'A', 10, ['vm-a']], [2, 'B', 20, ['vm-b']], [3, 'C', 30, ['vm-c']], [4, 'D', 40]]);
  // Flows and tunnel endpoints that end must remove.
  await c.data
    .transaction('config')
    .put('/itm:transport-zones/transport-zone=default-transport-zone', {
      'zone-name': 'default-transport-zone',
      'tunnel-type': 'odl-interface:tunnel-type-vxlan',
      vteps: [10, 20, 30, 40].map((d, i) => ({ 'dpn-id': String(d), 'ip-address': `127.0.0.${i + 11}` })),
    })
    .put('/opendaylight-inventory:nodes/node=openflow%3A10', { id: 'openflow:10', 'flow-node-inventory:table': [{ id: 0, flow: [{ id: 'f1', priority: 10, table_id: 0 }] }] })
    .put('/opendaylight-inventory:nodes/node=openflow%3A30', { id: 'openflow:30' })
    .commit();

  // Every identifier form: compute name (XML body, legacy URL, scalein-rpc), DPN id, openflow:N, node-id.
  const startXml = await rc.post(
    '/restconf/operations/scalein-rpc:scalein-computes-start',
    `<input xmlns="urn:opendaylight:netvirt:scalein-rpc"><scalein-node-ids>A</scalein-node-ids><scalein-node-ids>20</scalein-node-ids><scalein-node-ids>openflow:30</scalein-node-ids></input>`,
    'application/yang-data+xml',
    'application/yang-data+xml',
  );
  t.equal(startXml.status, 200, startXml.body);
  t.match(startXml.body, /<output xmlns="urn:opendaylight:netvirt:scalein-rpc"><computes><compute-name>A<\/compute-name>/);
  const all = await computes(c);
  t.same(['A', 'B', 'C', 'D'].map((n) => all[n].tombstoned), [true, true, true, false]);
  const again = await rc.post('/rests/operations/scalein-api:scalein-computes-start', { 'scalein-api:input': { 'scalein-node-ids': [nodeIdOf(1)] } });
  t.same(again.json()['scalein-api:output'].computes, [{ 'compute-name': 'A', 'dpn-id': '10', 'node-id': nodeIdOf(1), changed: false }], 'starting a tombstoned compute is a no-op');

  // A and C still host VMs: end answers INPROGRESS, names the ports and removes nothing.
  const early = await rc.post('/rests/operations/scalein-api:scalein-computes-end', { input: { 'scalein-node-ids': ['A', 'C'] } });
  t.equal(early.status, 200);
  t.match(early.json()['scalein-api:output'], { status: 'INPROGRESS', pending: [{ 'compute-name': 'A', ports: ['vm-a'] }, { 'compute-name': 'C', ports: ['vm-c'] }] });
  t.ok((await computes(c)).A, 'nothing was removed');
  t.ok(c.data.read('config', '/opendaylight-inventory:nodes/node=openflow%3A10'));

  // VMs migrate off A and C (their ports go), not off B.
  for (const n of [1, 3]) {
    const del = await rc.del(`${legacyBridgePath(n)}/termination-point/${n === 1 ? 'vm-a' : 'vm-c'}`);
    t.equal(del.status, 200);
  }
  const end = await rc.post('/restconf/operations/cloudscaler-rpc:scalein-computes-end', { input: { 'scalein-compute-names': ['A', 'openflow:30'] } });
  t.same(end.json(), { output: { status: 'DONE' } }, 'genius end answers DONE');
  const left = await computes(c);
  t.same(Object.keys(left).sort(), ['B', 'D'], 'the compute-node entries are gone');
  t.equal(c.data.read('config', '/opendaylight-inventory:nodes/node=openflow%3A10'), undefined, 'the flows (inventory node) are gone');
  t.equal(c.data.read('config', '/opendaylight-inventory:nodes/node=openflow%3A30'), undefined);
  t.equal(tombstoneOf(c, 1), undefined, 'the config topology node is gone');
  const vteps = (c.data.read('config', '/itm:transport-zones/transport-zone=default-transport-zone/vteps') as { 'dpn-id': string }[]).map((v) => v['dpn-id']);
  t.same(vteps, ['20', '40'], 'their tunnel endpoints left every transport zone');
  const repeat = await rc.post('/rests/operations/scalein-api:scalein-computes-end', { input: { 'scalein-node-ids': ['A', 'C'] } });
  t.match(repeat.json()['scalein-api:output'], { status: 'DONE', removed: ['A', 'C'] }, 'ending them again is harmless');

  const recover = await rc.post('/rests/operations/scalein-api:scalein-computes-recover', { input: { 'recover-node-ids': ['B'] } });
  t.match(recover.json()['scalein-api:output'].computes, [{ 'compute-name': 'B', changed: true }]);
  t.equal((await computes(c)).B.tombstoned, false);
  t.equal(tombstoneOf(c, 2), 'false');
});

t.test('bad input: the right error each time, and nothing changes', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  // "2" is the name of one compute and the DPN id of another: ambiguous.
  const rc = await withComputes(c, [[1, '2', 1], [2, 'two', 2]]);
  const before = await computes(c);
  const cases: [string, string, unknown, string | undefined, number, string, RegExp][] = [
    ['unknown name', '/rests/operations/scalein-api:scalein-computes-start', { input: { 'scalein-node-ids': ['two', 'nobody'] } }, undefined, 400, 'invalid-value', /"nobody" names no known compute/],
    ['ambiguous name', '/rests/operations/scalein-api:scalein-computes-start', { input: { 'scalein-node-ids': ['2'] } }, undefined, 400, 'invalid-value', /"2" is ambiguous/],
    ['empty list', '/rests/operations/scalein-api:scalein-computes-start', { input: {} }, undefined, 400, 'invalid-value', /at least one compute/],
    ['wrong JSON type', '/rests/operations/scalein-api:scalein-computes-start', { input: { 'scalein-node-ids': 5 } }, undefined, 400, 'invalid-value', /leaf-list/],
    ['end of a compute that is not tombstoned', '/rests/operations/scalein-api:scalein-computes-end', { input: { 'scalein-node-ids': ['two'] } }, undefined, 409, 'in-use', /not tombstoned/],
    ['malformed body', '/rests/operations/scalein-api:scalein-computes-start', '{"input": {"scalein-node-ids": [', undefined, 400, 'malformed-message', /malformed JSON/],
    ['malformed XML', '/rests/operations/scalein-api:scalein-computes-recover', '<input xmlns="urn:opendaylight:netvirt:scalein-api"><recover-node-ids>two', 'application/yang-data+xml', 400, 'malformed-message', /malformed XML/],
  ];
  for (const [what, path, body, type, status, tag, message] of cases) {
    const r = await rc.post(path, body, type);
    t.equal(r.status, status, `${what}: status`);
    const err = r.body.startsWith('<') ? { 'error-tag': /<error-tag>([^<]+)/.exec(r.body)?.[1], 'error-message': /<error-message>([^<]+)/.exec(r.body)?.[1] } : r.json().errors.error[0];
    t.equal(err['error-tag'], tag, `${what}: error-tag`);
    t.match(err['error-message'], message, `${what}: message`);
    t.same(await computes(c), before, `${what}: nothing changed`);
  }
  t.equal(tombstoneOf(c, 2), undefined, 'no tombstone reached the topology');
});

t.test('tombstones survive a controller restart (LevelDB)', async (t) => {
  const config = testConfig(t, ['--datastore=level']);
  let c = await startController(config, pino({ level: 'silent' }));
  try {
    const rc = await withComputes(c, [[1, 'c1', 1]]);
    t.equal((await rc.post('/rests/operations/scalein-api:scalein-computes-start', { input: { 'scalein-node-ids': ['c1'] } })).status, 200);
  } finally {
    await c.stop();
  }
  c = await startController(config, pino({ level: 'silent' }));
  t.teardown(() => c.stop());
  t.equal((await computes(c)).c1?.tombstoned, true, 'still tombstoned after the restart');
  t.equal(tombstoneOf(c, 1), 'true', 'and so is the bridge external-id intent');
});

t.test('every module name, URL family and encoding tombstones and recovers', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const rc = await withComputes(c, [[1, 'c1', 1]]);
  const modules = [
    { module: 'scalein-api', ns: 'urn:opendaylight:netvirt:scalein-api', start: 'scalein-node-ids', recover: 'recover-node-ids' },
    { module: 'scalein-rpc', ns: 'urn:opendaylight:netvirt:scalein-rpc', start: 'scalein-node-ids', recover: 'recover-node-ids' },
    { module: 'cloudscaler-rpc', ns: 'urn:opendaylight:genius:cloudscaler:rpcs', start: 'scalein-compute-names', recover: 'recover-compute-names' },
  ];
  for (const m of modules) {
    for (const base of ['/rests/operations', '/restconf/operations']) {
      for (const enc of ['json', 'xml'] as const) {
        const call = (rpc: 'start' | 'recover', id: string) => {
          const leaf = rpc === 'start' ? m.start : m.recover;
          const name = rpc === 'start' ? 'scalein-computes-start' : 'scalein-computes-recover';
          return enc === 'json'
            ? rc.post(`${base}/${m.module}:${name}`, { input: { [leaf]: [id] } })
            : rc.post(`${base}/${m.module}:${name}`, `<input xmlns="${m.ns}"><${leaf}>${id}</${leaf}></input>`, 'application/yang-data+xml', 'application/yang-data+xml');
        };
        const what = `${m.module} via ${base} in ${enc}`;
        const s = await call('start', 'openflow:1');
        t.ok(s.status === 200 || s.status === 204, `${what}: start answers ${s.status}`);
        t.equal((await computes(c)).c1.tombstoned, true, `${what}: tombstoned`);
        const r = await call('recover', nodeIdOf(1));
        t.ok(r.status === 200 || r.status === 204, `${what}: recover answers ${r.status}`);
        t.equal((await computes(c)).c1.tombstoned, false, `${what}: recovered`);
      }
    }
  }
});

t.test('tep-delete removes the tunnel endpoints and nothing else', async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const rc = await withComputes(c, [[1, 'c1', 1], [2, 'c2', 2]]);
  await c.data
    .transaction('config')
    .put('/itm:transport-zones/transport-zone=z1', { 'zone-name': 'z1', 'tunnel-type': 'odl-interface:tunnel-type-vxlan', vteps: [{ 'dpn-id': '1', 'ip-address': '127.0.0.11' }, { 'dpn-id': '2', 'ip-address': '127.0.0.12' }] })
    .put('/itm:transport-zones/transport-zone=z2', { 'zone-name': 'z2', 'tunnel-type': 'odl-interface:tunnel-type-vxlan', vteps: [{ 'dpn-id': '1', 'ip-address': '127.0.0.11' }] })
    .commit();
  const r = await rc.post('/rests/operations/cloudscaler-rpc:scalein-computes-tep-delete', { input: { 'scalein-compute-names': ['c1'] } });
  t.equal(r.status, 204);
  t.same((c.data.read('config', '/itm:transport-zones/transport-zone=z1/vteps') as { 'dpn-id': string }[]).map((v) => v['dpn-id']), ['2'], 'gone from z1');
  t.equal(c.data.read('config', '/itm:transport-zones/transport-zone=z2/vteps'), undefined, 'and from z2');
  t.same(Object.keys(await computes(c)).sort(), ['c1', 'c2'], 'the compute itself stays');
  t.equal((await computes(c)).c1.tombstoned, false, 'and is not tombstoned by it');
});
