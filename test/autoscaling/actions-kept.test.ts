/**
 * Ended actions are kept to a bound (--autoscaling-actions-kept), the oldest removed as new ones
 * end, so a cluster scaled all day does not grow the operational store without limit; the newest
 * stay readable (and are the events the Senlin API lists).
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const c = await testController(t, ['--datastore=memory', '--plugins=cloudscaler,autoscaling', '--autoscaling-actions-kept=3']);
const http = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(c.restconf.url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, 'content-type': JSON_TYPE }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
};
type Action = { id: string; status: string; action: string; 'end-time'?: string };
const actions = () => (c.data.read('operational', '/sextant-clustering:clustering-state/action') as Action[] | undefined) ?? [];

t.test('at most the configured number of ended actions is kept, the newest', async (t) => {
  t.equal((await http('POST', '/rests/data', {
    'sextant-clustering:clustering': {
      profile: [{ id: 'p', name: 'p', type: 'sextant.ovs.port-1.0', network: '55555555-6666-4777-8888-999999999999' }],
      cluster: [{ id: 'k', name: 'k', profile: 'p', 'min-size': 0, 'max-size': 5, 'desired-capacity': 0 }],
    },
  })).status, 201);
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) {
    // Resizes to the size it has: each action runs and ends at once, no node is made.
    const r = await http('POST', '/rests/operations/sextant-clustering:cluster-resize', { input: { cluster: 'k', 'adjustment-type': 'EXACT_CAPACITY', number: 0 } });
    t.equal(r.status, 200, `resize ${i + 1} accepted`);
    const id = r.json['sextant-clustering:output'].action as string;
    ids.push(id);
    await waitUntil(`resize ${i + 1} ends`, () => actions().find((a) => a.id === id)?.status === 'SUCCEEDED', 10_000);
  }
  const left = actions().filter((a) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(a.status));
  t.equal(left.length, 3, 'three ended actions kept');
  t.same(left.map((a) => a.id).sort(), ids.slice(-3).sort(), 'the three newest');
});
