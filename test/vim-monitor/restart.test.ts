/**
 * A restart (LevelDB): the registered VIMs come back from storage and monitoring resumes for each
 * with a new action id; the previous actions' ids are bad_action from then on, and no VIM is
 * probed twice per interval (one action per VIM, not one per restart).
 */
import t from 'tap';
import pino from 'pino';
import { startController, type Controller } from '../../src/controller.ts';
import { testConfig } from '../helpers/controller.ts';
import { startVimServer } from '../helpers/vim-server.ts';
import { waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const config = testConfig(t, ['--datastore=level']);
let running: Controller | undefined;
t.teardown(() => running?.stop());

const call = (c: Controller, method: string, path: string, body?: unknown) =>
  fetch(c.restconf.url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, 'content-type': JSON_TYPE }, body: body ? JSON.stringify(body) : undefined }).then(async (r) => {
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  });
const state = (c: Controller, id: string) => c.data.read('operational', `/sextant-nfv-vim:vim-states/vim-state=${id}`) as { status?: string; 'action-id'?: string } | undefined;

t.test('monitoring resumes after a restart with new action ids, one action per VIM', async (t) => {
  const server = await startVimServer(t);
  const ids = ['r1', 'r2', 'r3'];
  running = await startController(config, pino({ level: 'silent' }));
  const vims = ids.map((id) => ({ 'vim-id': id, name: id, type: 'openstack', 'auth-url': server.url(`/${id}`), monitor: { interval: '0.5', timeout: '0.2' } }));
  t.equal((await call(running, 'POST', '/rests/data', { 'sextant-nfv-vim:vims': { vim: vims } })).status, 201, 'registered');
  await waitUntil('all REACHABLE', () => ids.every((id) => state(running!, id)?.status === 'REACHABLE'), 5000);
  const before = ids.map((id) => state(running!, id)!['action-id']!);
  await running.stop();
  const stoppedAt = Date.now();
  running = await startController(config, pino({ level: 'silent' }));
  await waitUntil('monitored again', () => ids.every((id) => state(running!, id)?.status === 'REACHABLE'), 5000);
  const after = ids.map((id) => state(running!, id)!['action-id']!);
  t.ok(after.every((a, i) => a && a !== before[i]), 'each VIM has a new action id');
  for (const [i, id] of ids.entries()) {
    const r = await call(running, 'POST', '/rests/operations/sextant-nfv-vim:update-vim', { input: { 'vim-id': id, status: 'UNREACHABLE', 'action-id': before[i] } });
    t.same(r.json, { 'sextant-nfv-vim:output': { status: 'bad_action' } }, `${id}: the action from before the restart gets bad_action`);
  }
  // Six more rounds: the gaps between probes of each VIM stay about one interval.
  await waitUntil('six more rounds', () => ids.every((id) => server.times(`/${id}`).filter((x) => x > stoppedAt).length >= 7), 10_000);
  for (const id of ids) {
    const times = server.times(`/${id}`).filter((x) => x > stoppedAt);
    const gaps = times.slice(1).map((x, i) => x - times[i]);
    t.ok(Math.min(...gaps) >= 400, `${id}: probed once per interval after the restart (smallest gap ${Math.min(...gaps)} ms over ${gaps.length})`);
  }
  t.equal(config.datastore, 'level', 'the VIMs came back from LevelDB');
});
