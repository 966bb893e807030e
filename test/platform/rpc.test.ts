/**
 * RPC registry and notifications: input is validated before a handler runs and output after;
 * errors come back typed; notifications are validated, delivered and kept for replay.
 */
import t from 'tap';
import { fixtureSchema } from '../helpers/fixture.ts';
import { rejectsYang, throwsYang } from '../helpers/assert.ts';
import { RpcRegistry } from '../../src/rpc/registry.ts';
import { NotificationBus } from '../../src/rpc/notifications.ts';
import { YangError } from '../../src/errors.ts';

const schema = await fixtureSchema();

t.test('input is validated and canonical before the handler sees it; output after', async (t) => {
  const rpc = new RpcRegistry(schema);
  const seen: unknown[] = [];
  rpc.register('sextant-fixture:echo', (input) => {
    seen.push(input);
    return input;
  });
  const out = await rpc.invoke('sextant-fixture:echo', { message: 'hi', big: 18446744073709551615n.toString() });
  t.same(out, { message: 'hi', big: '18446744073709551615' });
  t.same(seen, [{ message: 'hi', big: '18446744073709551615' }]);
  const before = seen.length;
  await rejectsYang(t, 'wrong input type', rpc.invoke('sextant-fixture:echo', { big: 'lots' }), 'invalid-value', { path: '/sextant-fixture:echo/input/big' });
  await rejectsYang(t, 'unknown input leaf', rpc.invoke('sextant-fixture:echo', { nope: 1 }), 'unknown-element');
  t.equal(seen.length, before, 'the handler never ran for bad input');
});

t.test('a handler returning invalid output is an error, not a bad reply', async (t) => {
  const rpc = new RpcRegistry(schema);
  rpc.register('sextant-fixture:echo', () => ({ big: -1 }));
  await rejectsYang(t, 'invalid output', rpc.invoke('sextant-fixture:echo', {}), 'invalid-value', { path: /output\/big$/ });
});

t.test('handler errors: YangError passes through, anything else is operation-failed', async (t) => {
  const rpc = new RpcRegistry(schema);
  rpc.register('sextant-fixture:echo', (input) => {
    if (input.message === 'typed') throw new YangError({ tag: 'resource-denied', message: 'no' });
    throw new Error('kaboom');
  });
  await rejectsYang(t, 'typed error', rpc.invoke('sextant-fixture:echo', { message: 'typed' }), 'resource-denied');
  await rejectsYang(t, 'untyped error', rpc.invoke('sextant-fixture:echo', {}), 'operation-failed', { message: /kaboom/ });
});

t.test('unknown and unserved rpcs', async (t) => {
  const rpc = new RpcRegistry(schema);
  await rejectsYang(t, 'unknown rpc', rpc.invoke('sextant-fixture:nope', {}), 'unknown-element');
  await rejectsYang(t, 'rpc nobody serves', rpc.invoke('sextant-fixture:echo', {}), 'operation-not-supported');
  throwsYang(t, 'registering an rpc the schema lacks', () => rpc.register('sextant-fixture:nope', () => undefined), 'unknown-element');
  rpc.register('sextant-fixture:echo', () => undefined, 'one');
  throwsYang(t, 'a second owner of one rpc', () => rpc.register('sextant-fixture:echo', () => undefined, 'two'), 'in-use', { message: /already served by one/ });
  t.equal(await rpc.invoke('sextant-fixture:echo', {}), undefined, 'no output is undefined');
});

t.test('notifications are validated, delivered, isolated and replayable', async (t) => {
  const errors: unknown[] = [];
  const bus = new NotificationBus(schema, 2, (e) => errors.push(e));
  const got: string[] = [];
  bus.subscribe(() => {
    throw new Error('bad subscriber');
  });
  bus.subscribe((n) => got.push(`${n.name} ${String(n.json.what)}`));
  throwsYang(t, 'missing mandatory leaf', () => bus.emit('sextant-fixture:happened', {}), 'missing-element');
  throwsYang(t, 'unknown notification', () => bus.emit('sextant-fixture:nothing', {}), 'unknown-element');
  bus.emit('sextant-fixture:happened', { what: 'one' });
  bus.emit('sextant-fixture:happened', { what: 'two' });
  bus.emit('sextant-fixture:happened', { what: 'three' });
  t.same(got, ['sextant-fixture:happened one', 'sextant-fixture:happened two', 'sextant-fixture:happened three']);
  t.equal(errors.length, 3, 'a throwing subscriber does not stop delivery');
  t.same(bus.replay().map((n) => n.json.what), ['two', 'three'], 'the replay log is bounded');
  t.ok(bus.replay()[0].eventTime instanceof Date);
});
