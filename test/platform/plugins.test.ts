/**
 * Plugin loading: plugins are discovered in their folder, their modules checked, their rpcs and
 * listeners wired; one that fails is reported by name and does not take the others down.
 */
import t from 'tap';
import pino from 'pino';
import { Writable } from 'node:stream';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testConfig, testController } from '../helpers/controller.ts';
import { startController } from '../../src/controller.ts';

const good = `export default {
  name: 'greeter',
  yang: ['sextant-fixture'],
  rpcs: { 'sextant-fixture:echo': (input) => ({ message: 'hello ' + input.message }) },
  listeners: [{ store: 'config', path: '/sextant-fixture:registry/host=*', async handler(changes, ctx) {
    for (const c of changes) if (c.type === 'created') await ctx.data.transaction('operational').merge('/sextant-fixture:counters', { boots: changes.length }).commit();
  } }],
  start(ctx) { ctx.log.info('greeter up'); },
};
`;
const throwsAtStart = `export default { name: 'grumpy', start() { throw new Error('no coffee'); } };`;
const missingModule = `export default { name: 'lost', yang: ['no-such-module'], rpcs: {} };`;
const brokenImport = `import './does-not-exist.ts'; export default { name: 'broken' };`;
const noName = `export default { start() {} };`;

t.test('a failing plugin is reported by name; the others run', async (t) => {
  const plugins = writeFiles(tempDir(t), {
    'a-greeter/index.ts': good,
    'b-grumpy/index.ts': throwsAtStart,
    'c-lost/index.ts': missingModule,
    'd-broken/index.ts': brokenImport,
    'e-noname/index.ts': noName,
    'f-not-a-plugin/README.md': 'no index.ts here',
    'package.json': '{"type": "module"}',
  });
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } }));
  const c = await startController(testConfig(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory']), log);
  t.teardown(() => c.stop());
  t.same(c.plugins.loaded.map((p) => p.name), ['greeter']);
  t.same(c.plugins.failed.map((f) => f.name).sort(), ['d-broken', 'e-noname', 'grumpy', 'lost'], 'every failure is named (by folder when there is no name)');
  t.match(c.plugins.failed.find((f) => f.name === 'grumpy')?.error, /no coffee/);
  t.match(c.plugins.failed.find((f) => f.name === 'lost')?.error, /needs YANG module "no-such-module"/);
  t.match(c.plugins.failed.find((f) => f.name === 'd-broken')?.error, /cannot be imported/);
  t.match(c.plugins.failed.find((f) => f.name === 'e-noname')?.error, /default-export a plugin object with a name/);
  t.ok(lines.some((l) => /plugin grumpy failed to start: no coffee/.test(l)), 'the failure is logged with the plugin name');
  t.same(await c.rpc.invoke('sextant-fixture:echo', { message: 'you' }), { message: 'hello you' }, 'the good plugin serves its rpc');
  await c.data.transaction('config').put('/sextant-fixture:registry/host=h', { name: 'h' }).commit();
  await c.data.settled();
  t.same(c.data.read('operational', '/sextant-fixture:counters'), { boots: 1 }, 'and its listener runs');
});

t.test('--plugins selects plugins by name', async (t) => {
  const plugins = writeFiles(tempDir(t), { 'a-greeter/index.ts': good, 'b-grumpy/index.ts': throwsAtStart, 'package.json': '{"type": "module"}' });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory', '--plugins=greeter']);
  t.same(c.plugins.loaded.map((p) => p.name), ['greeter']);
  t.same(c.plugins.failed, []);
});

t.test('the toaster plugin: rpcs, both stores, notifications', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--plugins=toaster']);
  t.same(c.plugins.loaded.map((p) => p.name), ['toaster']);
  const events: string[] = [];
  c.notifications.subscribe((n) => events.push(`${n.name}${n.json.amountOfBread !== undefined ? ` ${String(n.json.amountOfBread)}` : ''}`));
  t.match(c.data.read('operational', '/toaster:toaster'), { toasterStatus: 'up', amountOfBreadInStock: 0 });
  const empty = await c.rpc.invoke('toaster:make-toast', {}).then(() => undefined, (e: unknown) => e);
  t.match(empty, { tag: 'resource-denied' }, 'no bread, no toast');
  await c.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 2 });
  await c.data.transaction('config').put('/toaster:toaster', { darknessFactor: 200 }).commit();
  const first = c.rpc.invoke('toaster:make-toast', { toasterDoneness: 10 });
  await new Promise((r) => setTimeout(r, 5));
  const busy = await c.rpc.invoke('toaster:make-toast', {}).then(() => undefined, (e: unknown) => e);
  t.match(busy, { tag: 'in-use' }, 'one slice at a time');
  t.same(await first, { 'toast-id': '1' });
  await c.rpc.invoke('toaster:make-toast', { toasterDoneness: 1, toasterToastType: 'toaster:frozen-waffle' });
  t.same(events, ['toaster:toasterOutOfBread', 'toaster:toasterRestocked 2', 'toaster:toasterOutOfBread']);
  t.match(c.data.read('operational', '/toaster:toaster'), { amountOfBreadInStock: 0, toasterStatus: 'up' });
  const bad = await c.rpc.invoke('toaster:make-toast', { toasterDoneness: 11 }).then(() => undefined, (e: unknown) => e);
  t.match(bad, { tag: 'invalid-value' }, 'doneness is range-checked by the schema');

  await c.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 1 });
  const slow = c.rpc.invoke('toaster:make-toast', {}).then(() => undefined, (e: unknown) => e);
  await new Promise((r) => setTimeout(r, 5));
  await c.rpc.invoke('toaster:cancel-toast', {});
  t.match(await slow, { tag: 'operation-failed', message: /cancelled/ }, 'cancel-toast stops the job in progress');
});
