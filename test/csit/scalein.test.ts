/**
 * CSIT-style scale-in suite: the operator workflow over RESTCONF with template folders
 * (test/csit/scalein/): topology injected through the legacy operational endpoint, the rpc
 * bodies, and the compute-nodes expected after each step.
 */
import t from 'tap';
import { join } from 'node:path';
import { startSuiteController } from './lib/env.ts';
import {
  ALLOWED_STATUS_CODES,
  deleteFromTemplate,
  expectError,
  getAsJsonAndCompare,
  getFromTemplate,
  postFromTemplate,
  putFromTemplate,
} from './lib/requests.ts';
import { waitUntil } from './lib/wait.ts';

const T = (p: string) => join(import.meta.dirname, 'scalein', p);
const sc = await startSuiteController(t);
if (sc.external) {
  t.comment('against an external controller: the suite assumes it holds no computes named compute-1..3');
}
const node = (n: number) => `ovsdb://uuid/csit-${n}/bridge/br-int`;

t.test('scale-in workflow', async (t) => {
  for (const n of [1, 2, 3]) {
    await putFromTemplate(T('topology/bridge'), { NODE_ID: node(n), DATAPATH_ID: `00:00:00:00:00:00:00:0${n}`, COMPUTE: `compute-${n}` });
    await putFromTemplate(T('topology/vm-port'), { NODE_ID: node(n), PORT: `tap${n}`, IFACE_ID: `0000000${n}-1111-2222-3333-444444444444` });
  }
  await putFromTemplate(T('itm/transport-zone'), { ZONE: 'default-transport-zone' });
  // The registry learns the computes from the topology (polling, as CSIT does).
  await waitUntil(10_000, 100, async () => {
    const r = await getFromTemplate(T('compute-nodes/two-tombstoned'), {}, { allowed: [200, 404, 409] });
    if (r.status !== 200 || (r.json() as { 'cloudscaler-rpc:compute-nodes': { 'compute-node': unknown[] } })['cloudscaler-rpc:compute-nodes']['compute-node'].length !== 3) {
      throw new Error('computes not registered yet');
    }
  });

  const start = await postFromTemplate(T('rpc/start'), { ID1: 'compute-1', ID2: 'openflow:2' });
  t.equal(start.status, 200, 'start by compute name and by openflow:N');
  await getAsJsonAndCompare(T('compute-nodes/two-tombstoned'));
  t.pass('compute-1 and compute-2 are tombstoned, compute-3 is not');

  const busy = await postFromTemplate(T('rpc/end'), { ID1: 'compute-1', ID2: 'compute-2' });
  t.match(busy.json(), { 'scalein-api:output': { status: 'INPROGRESS' } }, 'end waits while VMs are bound');

  // compute-1's VM migrates away; compute-2's fails to, so compute-2 is recovered.
  await deleteFromTemplate(T('topology/vm-port'), { NODE_ID: node(1), PORT: 'tap1' });
  const recover = await postFromTemplate(T('rpc/recover'), { ID1: node(2) });
  t.ok(ALLOWED_STATUS_CODES.includes(recover.status), 'recover by bridge node-id');
  const end = await postFromTemplate(T('rpc/end'), { ID1: '1', ID2: 'compute-1' });
  t.match(end.json(), { 'scalein-api:output': { status: 'DONE' } }, 'end by DPN id finishes');
  await getAsJsonAndCompare(T('compute-nodes/after-end'));
  t.pass('compute-1 is gone; compute-2 is back in service');
  const zone = (await getFromTemplate(T('itm/transport-zone'), { ZONE: 'default-transport-zone' })).json() as { 'itm:transport-zone': { vteps: { 'dpn-id': string }[] }[] };
  t.same(zone['itm:transport-zone'][0].vteps.map((v) => v['dpn-id']).sort(), ['2', '3'], "compute-1's tunnel endpoint left the transport zone");

  const genius = await postFromTemplate(T('rpc/genius-start'), { ID1: 'compute-1' }, { allowed: [400] });
  t.match(expectError(genius, 400, 'invalid-value')['error-message'], /"compute-1" names no known compute/, 'a removed compute cannot be tombstoned again');
});
