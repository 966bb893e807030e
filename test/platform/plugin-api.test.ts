/**
 * Plugin API v2: start's state reaches the handlers and stop; options come from flags, the
 * environment and the config file as `--<plugin>-<option>`; plugins start after the providers of
 * the modules they use; timers, outbound requests and subscriptions made through the context end
 * when the plugin stops; notifications are subscribed to by name.
 */
import t from 'tap';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { FIXTURE_YANG } from '../helpers/fixture.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testConfig, testController } from '../helpers/controller.ts';
import { startController } from '../../src/controller.ts';
import { ConfigError, loadConfig, usage } from '../../src/config.ts';
import { declaredOptions, discoverPlugins } from '../../src/plugin/loader.ts';
import pino from 'pino';

const g = globalThis as unknown as { sextantTest: Record<string, unknown[]> };
g.sextantTest = {};
const record = (key: string): unknown[] => (g.sextantTest[key] = []);

const greeter = `export default {
  name: 'greeter',
  yang: ['sextant-fixture'],
  provides: ['sextant-fixture'],
  options: {
    greeting: { kind: 'string', default: 'hello', help: 'what the greeter says' },
    repeat: { kind: 'int', default: 1, help: 'how often' },
  },
  start(ctx) {
    globalThis.sextantTest.order?.push('greeter');
    return { greeting: ctx.options.greeting, repeat: ctx.options.repeat, calls: 0 };
  },
  rpcs: {
    'sextant-fixture:echo': (input, ctx, state) => {
      state.calls++;
      return { message: Array(state.repeat).fill(state.greeting + ' ' + input.message).join(', ') + ' #' + state.calls };
    },
  },
  stop(ctx, state) { globalThis.sextantTest.stopped?.push(state.calls); },
};
`;
// Folder name sorts first, but it uses what greeter provides: greeter must start first.
const consumer = `export default {
  name: 'consumer',
  yang: ['sextant-fixture'],
  uses: ['sextant-fixture'],
  start() { globalThis.sextantTest.order?.push('consumer'); },
};
`;

t.test('state, options and start order', async (t) => {
  const plugins = writeFiles(tempDir(t), { 'a-consumer/index.ts': consumer, 'b-greeter/index.ts': greeter, 'package.json': '{"type": "module"}' });
  const order = record('order');
  const stopped = record('stopped');
  const c = await startController(
    loadConfig([`--data-dir=${tempDir(t)}`, '--log-level=silent', '--restconf-port=0', '--netconf-port=0', '--ovsdb-port=0', '--openflow-port=0', `--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory', '--greeter-greeting=hi'], { SEXTANT_GREETER_REPEAT: '2' }, { deferUnknown: true }),
    pino({ level: 'silent' }),
  );
  t.same(order, ['greeter', 'consumer'], 'the provider of a used module starts first');
  t.same(c.plugins.loaded.map((p) => p.name), ['greeter', 'consumer']);
  t.same(await c.rpc.invoke('sextant-fixture:echo', { message: 'you' }), { message: 'hi you, hi you #1' }, 'flag and environment options reach the plugin, coerced');
  t.same(await c.rpc.invoke('sextant-fixture:echo', { message: 'again' }), { message: 'hi again, hi again #2' }, 'handlers share the state start returned');
  t.same(c.plugins.state<{ calls: number }>('greeter')?.calls, 2, 'the platform hands the state out by plugin name');
  await c.stop();
  t.same(stopped, [2], 'stop gets the same state');
});

t.test('plugin options: the config file, defaults, --help, and bad values', async (t) => {
  const plugins = writeFiles(tempDir(t), { 'b-greeter/index.ts': greeter, 'package.json': '{"type": "module"}' });
  const file = writeFiles(tempDir(t), { 'sextant.json': JSON.stringify({ 'greeter-greeting': 'hey' }) });
  const base = [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory'];
  const c = await testController(t, [...base, `--config=${file}/sextant.json`]);
  t.same(await c.rpc.invoke('sextant-fixture:echo', { message: 'x' }), { message: 'hey x #1' }, 'file value, default repeat');
  const help = usage(declaredOptions(await discoverPlugins(plugins)));
  t.match(help, /--greeter-greeting\s+what the greeter says \(env SEXTANT_GREETER_GREETING, default hello\)/, '--help lists plugin options');
  t.match(help, /--greeter-repeat/);
  await t.rejects(startController(testConfig(t, [...base, '--greeter-colour=blue']), pino({ level: 'silent' })), ConfigError);
  await t.rejects(startController(testConfig(t, [...base, '--greeter-colour=blue']), pino({ level: 'silent' })), /unknown option --greeter-colour/, 'a misspelt plugin option stops start-up');
  await t.rejects(startController(testConfig(t, [...base, '--greeter-repeat=often']), pino({ level: 'silent' })), /greeter-repeat must be a whole number/, 'a bad value names the option');
  t.throws(() => loadConfig(['--greeter-greeting=hi'], {}), /unknown option --greeter-greeting/, 'without plugins to ask, unknown flags are refused at once');
});

t.test('a cycle of uses fails the plugins in it, by name', async (t) => {
  const plugins = writeFiles(tempDir(t), {
    'a/index.ts': `export default { name: 'a', provides: ['sextant-fixture'], uses: ['toaster'] };`,
    'b/index.ts': `export default { name: 'b', provides: ['toaster'], uses: ['sextant-fixture'] };`,
    'c/index.ts': `export default { name: 'c' };`,
    'package.json': '{"type": "module"}',
  });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG},yang`, `--plugins-dir=${plugins}`, '--datastore=memory']);
  t.same(c.plugins.loaded.map((p) => p.name), ['c']);
  t.same(c.plugins.failed.map((f) => f.name).sort(), ['a', 'b']);
  t.match(c.plugins.failed[0].error, /cycle/);
});

t.test('timers, outbound requests and subscriptions end with the plugin', async (t) => {
  // An HTTP server that never answers: the plugin's request to it must be aborted at stop.
  const closed: string[] = [];
  const received: string[] = [];
  const server = createServer((req) => {
    received.push(req.url ?? '');
    req.socket.on('close', () => closed.push(req.url ?? ''));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hang`;
  const ticks = record('ticks');
  const fetched = record('fetched');
  const heard = record('heard');
  const plugins = writeFiles(tempDir(t), {
    'busy/index.ts': `export default {
      name: 'busy',
      yang: ['sextant-fixture'],
      rpcs: { 'sextant-fixture:echo': () => ({ message: 'busy' }) },
      start(ctx) {
        ctx.timers.setInterval(() => globalThis.sextantTest.ticks.push(1), 2);
        ctx.timers.setTimeout(() => globalThis.sextantTest.ticks.push('never'), 60000);
        ctx.fetch(${JSON.stringify(url)}).then(() => globalThis.sextantTest.fetched.push('answered'), (e) => globalThis.sextantTest.fetched.push('aborted: ' + e.message));
        ctx.notifications.subscribe('sextant-fixture:happened', (n) => globalThis.sextantTest.heard.push(n.json.what));
        ctx.data.subscribe('config', '/sextant-fixture:registry/host=*', (changes) => globalThis.sextantTest.heard.push('host ' + changes.length));
      },
    };`,
    'package.json': '{"type": "module"}',
  });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory']);
  await new Promise<void>((r) => {
    // Running: the timer ticked, and the request reached the server (and hangs there).
    const wait = setInterval(() => ticks.length >= 3 && received.length === 1 && closed.length === 0 && (clearInterval(wait), r()), 2);
  });
  c.notifications.emit('sextant-fixture:happened', { what: 'first' });
  await c.data.transaction('config').put('/sextant-fixture:registry/host=h1', { name: 'h1' }).commit();
  await c.data.settled();
  t.same(heard, ['first', 'host 1'], 'notification by name and data subscription delivered while running');
  t.same(await c.rpc.invoke('sextant-fixture:echo', { message: 'x' }), { message: 'busy' });
  // Stop only the plugins, so the controller's own machinery can still be driven afterwards.
  await c.plugins.stop();
  await new Promise<void>((r) => {
    const wait = setInterval(() => closed.length && fetched.length && (clearInterval(wait), r()), 5);
  });
  t.match(fetched, [/^aborted/], 'the outbound request was aborted');
  t.same(closed, ['/hang'], 'and its connection closed');
  const after = ticks.length;
  // The test's own interval at the same period: had the plugin's still run, it would have ticked.
  await new Promise<void>((r) => {
    let n = 0;
    const wait = setInterval(() => ++n >= 10 && (clearInterval(wait), r()), 2);
  });
  t.equal(ticks.length, after, 'the interval no longer fires');
  t.notOk(ticks.includes('never'));
  c.notifications.emit('sextant-fixture:happened', { what: 'second' });
  await c.data.transaction('config').put('/sextant-fixture:registry/host=h2', { name: 'h2' }).commit();
  await c.data.settled();
  t.same(heard, ['first', 'host 1'], 'no notification or change reaches a stopped plugin');
  t.same(await c.rpc.invoke('sextant-fixture:echo', { message: 'x' }).catch((e: { tag: string }) => e.tag), 'operation-not-supported', "a stopped plugin's rpcs are gone");
});

t.test('subscribing to a notification no module defines fails the plugin with a clear error', async (t) => {
  const plugins = writeFiles(tempDir(t), {
    'deaf/index.ts': `export default { name: 'deaf', start(ctx) { ctx.notifications.subscribe('sextant-fixture:nothing', () => {}); } };`,
    'package.json': '{"type": "module"}',
  });
  const c = await testController(t, [`--yang-dir=${FIXTURE_YANG}`, `--plugins-dir=${plugins}`, '--datastore=memory']);
  t.match(c.plugins.failed, [{ name: 'deaf', error: /subscribes to "sextant-fixture:nothing", which no loaded YANG module defines/ }]);
});
