/**
 * scalein-computes-preview (issue 21) on the elections suite's world (lib/netvirt.ts
 * electionsWorld): for several sets of computes, the preview is taken, then start is called, and
 * what the datastore shows after the elections settle (designations moved, flows added, removed
 * and rewritten per switch) must be exactly what the preview said. The preview itself changes
 * nothing, and bad input fails it as it fails start.
 */
import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { startSuiteController } from './lib/env.ts';
import { NetVirt, electionsWorld, uuid } from './lib/netvirt.ts';
import { expectStatus } from './lib/requests.ts';
import { waitUntil } from './lib/wait.ts';

const sc = await startSuiteController(t);
const nv = new NetVirt(sc.session);
const RTR = (n: number) => uuid(4, n);
const SUB = (n: number) => uuid(2, n);

interface PreviewOutput {
  'config-revision': string;
  computes: { 'compute-name': string; 'dpn-id': string; tombstoned: boolean; 'vm-ports'?: string[]; tunnels?: string[]; 'cluster-nodes'?: string[]; vnfcs?: string[] }[];
  designations?: { 'service-type': string; 'service-id': string; 'from-dpn-id': string; 'to-dpn-id': string; 'to-compute': string; 'from-compute'?: string }[];
  'flow-changes'?: { 'dpn-id': string; added: number; removed: number; modified: number }[];
  stranded?: { 'service-type': string; 'service-id': string; computes: string[] }[];
}

const rpc = (name: string, ids: string[]) =>
  sc.session.postJson(`/rests/operations/scalein-api:${name}`, { input: { [name === 'scalein-computes-recover' ? 'recover-node-ids' : 'scalein-node-ids']: ids } });

async function preview(ids: string[]): Promise<PreviewOutput> {
  const r = expectStatus(await rpc('scalein-computes-preview', ids), [200]);
  return (r.json() as { 'scalein-api:output': PreviewOutput })['scalein-api:output'];
}

/** Stored designations, "type|id" -> DPN (config designated-switch:designations). */
async function designations(): Promise<Map<string, string>> {
  const r = await sc.session.getJson('/rests/data/designated-switch:designations?content=config');
  const list = r.status === 200 ? ((r.json() as { 'designated-switch:designations': { designation?: { 'service-type': string; 'service-id': string; 'dpn-id': string }[] } })['designated-switch:designations'].designation ?? []) : [];
  return new Map(list.map((d) => [`${d['service-type']}|${d['service-id']}`, d['dpn-id']]));
}

/** Per DPN, the flows that appeared, went and changed between two readings of the inventory. */
function flowDiff(before: Map<string, Record<string, unknown>[]>, after: Map<string, Record<string, unknown>[]>) {
  const out = new Map<string, { added: number; removed: number; modified: number }>();
  for (const dpn of new Set([...before.keys(), ...after.keys()])) {
    const b = new Map((before.get(dpn) ?? []).map((f) => [`${f.table_id}/${f.id}`, f]));
    const a = new Map((after.get(dpn) ?? []).map((f) => [`${f.table_id}/${f.id}`, f]));
    const c = { added: 0, removed: 0, modified: 0 };
    for (const [k, f] of a) {
      if (!b.has(k)) c.added++;
      else if (!isDeepStrictEqual(b.get(k), f)) c.modified++;
    }
    for (const k of b.keys()) if (!a.has(k)) c.removed++;
    if (c.added || c.removed || c.modified) out.set(dpn, c);
  }
  return out;
}

const revisions = () => [sc.controller!.data.revision('config'), sc.controller!.data.revision('operational')];

/** All four computes back in service and the elections settled. */
async function recoverAll() {
  expectStatus(await rpc('scalein-computes-recover', ['compute-1', 'compute-2', 'compute-3', 'compute-4']), [200]);
  await nv.settledFlows();
}

t.before(async () => {
  await electionsWorld(nv);
  await waitUntil(15_000, 50, async () => {
    for (const n of [1, 2, 3, 4]) if ((await nv.tunnelPorts(n)).size !== 3) throw new Error(`compute ${n} has not 3 tunnels yet`);
    if ((await nv.designation('nat', RTR(1)))?.['dpn-id'] !== '1') throw new Error('router 1 not elected yet');
    if ((await nv.designation('subnet-route', SUB(3)))?.['dpn-id'] !== '1') throw new Error('subnet 3 not elected yet');
    return true;
  });
  await nv.settledFlows();
});

/** Runs preview then start on `ids` and proves the preview said what start did. */
async function previewThenStart(t: Test, ids: string[]) {
  const designationsBefore = await designations();
  const flowsBefore = await nv.settledFlows();
  const [configRev, operRev] = revisions();
  const p = await preview(ids);
  // Nothing written: both stores' revisions (every commit bumps them) and the data read back.
  await sc.controller!.data.settled();
  t.same(revisions(), [configRev, operRev], 'the preview commits nothing to either store');
  t.equal(p['config-revision'], String(configRev), 'the preview names the revision it planned from');
  t.same(await designations(), designationsBefore, 'designations unchanged by the preview');
  t.same([...(await nv.flows())], [...flowsBefore], 'flows unchanged by the preview');

  expectStatus(await rpc('scalein-computes-start', ids), [200]);
  const flowsAfter = await nv.settledFlows();
  const designationsAfter = await designations();
  const moved = [...designationsAfter].filter(([k, dpn]) => designationsBefore.get(k) !== dpn).map(([k, dpn]) => `${k}: ${designationsBefore.get(k)} -> ${dpn}`);
  const predicted = (p.designations ?? []).map((d) => `${d['service-type']}|${d['service-id']}: ${d['from-dpn-id']} -> ${d['to-dpn-id']}`);
  t.same(predicted.sort(), moved.sort(), `designations moved as previewed (${moved.length})`);
  const predictedFlows = Object.fromEntries((p['flow-changes'] ?? []).map((f) => [f['dpn-id'], { added: f.added, removed: f.removed, modified: f.modified }]));
  t.same(predictedFlows, Object.fromEntries(flowDiff(flowsBefore, flowsAfter)), 'flow counts per switch as previewed');
  return p;
}

t.test('preview == start: compute-1 (the NAT and both subnet routes move or strand)', async (t) => {
  const p = await previewThenStart(t, ['compute-1']);
  t.match(p.designations, [
    { 'service-type': 'nat', 'service-id': RTR(1), 'from-dpn-id': '1', 'from-compute': 'compute-1', 'to-dpn-id': '2', 'to-compute': 'compute-2' },
    { 'service-type': 'subnet-route', 'service-id': SUB(1), 'from-dpn-id': '1', 'to-dpn-id': '2' },
    { 'service-type': 'subnet-route', 'service-id': SUB(3), 'from-dpn-id': '1', 'to-dpn-id': '0', 'to-compute': 'none eligible' },
  ]);
  t.ok((p['flow-changes'] ?? []).length > 0, 'the moves rewrite flows');
  const c1 = p.computes[0];
  t.same(c1['vm-ports'], ['tap101', 'tap301'], 'the VM ports that must leave before end');
  t.equal(c1.tunnels?.length, 6, 'end would remove its 6 tunnels (3 out, 3 in)');
  t.equal(c1.tombstoned, false);
  t.same(p.stranded ?? [], [], 'subnet 3 has ports on compute-1 only: no other compute is left without it');
  await recoverAll();
});

t.test('preview == start: compute-2 and openflow:3 together', async (t) => {
  const p = await previewThenStart(t, ['compute-2', 'openflow:3']);
  t.same(
    p.computes.map((c) => c['compute-name']),
    ['compute-2', 'compute-3'],
  );
  t.ok((p.designations ?? []).length > 0, 'something moved (after the last recovery, compute-2 holds designations)');
  await recoverAll();
});

t.test('preview == start: compute-1, compute-2 and 3 leave subnet 1 with no eligible peer', async (t) => {
  // Subnet 1's VMs are on computes 1 and 2; router 1 spans computes 1..3.
  const p = await previewThenStart(t, ['compute-1', '2']);
  const sub1 = (p.designations ?? []).find((d) => d['service-id'] === SUB(1));
  t.match(sub1, { 'to-dpn-id': '0', 'to-compute': 'none eligible' }, 'subnet 1 has no eligible DPN left');
  const nat = (p.designations ?? []).find((d) => d['service-id'] === RTR(1));
  t.equal(nat?.['to-dpn-id'] ?? (await designations()).get(`nat|${RTR(1)}`), '3', 'the NAPT switch ends on compute-3');
  await recoverAll();
});

t.test('preview == start: a compute already tombstoned and one that holds nothing', async (t) => {
  expectStatus(await rpc('scalein-computes-start', ['compute-3']), [200]);
  await nv.settledFlows();
  const p = await previewThenStart(t, ['compute-3', 'compute-4']);
  t.same(
    p.computes.map((c) => [c['compute-name'], c.tombstoned]),
    [
      ['compute-3', true],
      ['compute-4', false],
    ],
    'compute-3 is reported as already tombstoned',
  );
  t.same(p.designations ?? [], [], 'compute-4 hosts no ports: nothing moves');
  t.same(p['flow-changes'] ?? [], [], 'and no flow changes');
  await recoverAll();
});

t.test('preview == start: with compute-2 already tombstoned, compute-1 strands subnet 1 for compute-2', async (t) => {
  expectStatus(await rpc('scalein-computes-start', ['compute-2']), [200]);
  await nv.settledFlows();
  const p = await previewThenStart(t, ['compute-1']);
  t.match(
    (p.designations ?? []).find((d) => d['service-id'] === SUB(1)),
    { 'service-type': 'subnet-route', 'from-compute': 'compute-1', 'to-dpn-id': '0', 'to-compute': 'none eligible' },
    'subnet 1 would have no eligible DPN',
  );
  t.same(
    (p.stranded ?? []).find((s) => s['service-id'] === SUB(1)),
    { 'service-type': 'subnet-route', 'service-id': SUB(1), computes: ['compute-2'] },
    'compute-2 (not in this call) keeps VMs of subnet 1 with no eligible peer for its route',
  );
  await recoverAll();
});

t.test('bad input: the preview fails as start fails, and changes nothing', async (t) => {
  const cases: [string, string[]][] = [
    ['unknown compute', ['compute-1', 'compute-99']],
    ['empty list', []],
  ];
  for (const [what, ids] of cases) {
    const before = revisions();
    const pr = await rpc('scalein-computes-preview', ids);
    const st = await rpc('scalein-computes-start', ids);
    t.equal(pr.status, 400, `${what}: 400`);
    t.equal(pr.status, st.status, `${what}: same status as start`);
    t.same(pr.json(), st.json(), `${what}: same error body as start`);
    t.same(revisions(), before, `${what}: nothing written by either`);
  }
  // Ambiguous: a fifth compute whose DPN is 1, like compute-1's.
  await nv.addCompute({ n: 5, dpn: 1 });
  await waitUntil(10_000, 50, async () => (await sc.session.getJson('/rests/data/cloudscaler-rpc:compute-nodes/compute-node=compute-5')).status === 200);
  const pr = await rpc('scalein-computes-preview', ['openflow:1']);
  const st = await rpc('scalein-computes-start', ['openflow:1']);
  t.equal(pr.status, 400);
  t.match(JSON.stringify(pr.json()), /ambiguous/, 'openflow:1 is ambiguous');
  t.same(pr.json(), st.json(), 'ambiguous: same error body as start');
});
