/**
 * Commit phases: prepare adds derived writes atomically, validate vetoes with the plugin's own
 * error, apply follows a durable commit, abort a failed one; a callback that throws or hangs
 * fails only that commit, with operation-failed naming its owner, and the store keeps serving.
 */
import t, { type Test } from 'tap';
import { YangError } from '../../src/errors.ts';
import { Datastore, type Change } from '../../src/datastore/datastore.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { fixtureSchema } from '../helpers/fixture.ts';

const schema = await fixtureSchema();
const HOSTS = '/sextant-fixture:registry/host=*';
const host = (name: string) => `/sextant-fixture:registry/host=${name}`;

async function open(t: Test, phaseTimeoutMs = 2000): Promise<{ ds: Datastore; reported: string[] }> {
  const reported: string[] = [];
  const ds = await Datastore.open({
    schema,
    config: new MemoryBackend(),
    operational: new MemoryBackend(),
    phaseTimeoutMs,
    phaseError: (e, owner, phase) => reported.push(`${owner}/${phase}: ${(e as Error).message}`),
  });
  t.teardown(() => ds.close());
  return { ds, reported };
}

const created = (changes: Change[]) => changes.filter((c) => c.type === 'created').map((c) => (c.after as { name: string }).name);

t.test('prepare: derived writes are part of the same commit', async (t) => {
  const { ds } = await open(t);
  ds.registerPhases({
    owner: 'shadow',
    store: 'config',
    path: HOSTS,
    prepare(changes, tx) {
      for (const name of created(changes)) if (!name.endsWith('-shadow')) tx.put(host(`${name}-shadow`), { name: `${name}-shadow`, address: `shadow of ${name}` });
    },
  });
  const seen: string[][] = [];
  ds.subscribe('config', HOSTS, (changes) => void seen.push(created(changes).sort()), { replay: false });
  const rev = await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  await ds.settled();
  t.same(ds.read('config', host('a-shadow')), { name: 'a-shadow', address: 'shadow of a' }, 'the derived entry is there');
  t.equal(ds.revision('config'), rev, 'in the same revision');
  t.same(seen, [['a', 'a-shadow']], 'listeners hear one commit holding both');
});

t.test('validate: a veto is the commit error and nothing is written', async (t) => {
  const { ds } = await open(t);
  ds.registerPhases({
    owner: 'gatekeeper',
    store: 'config',
    path: HOSTS,
    validate(changes, view) {
      for (const c of changes) {
        const h = c.after as { name: string; address?: string } | undefined;
        if (h && !h.address) throw new YangError({ tag: 'invalid-value', message: `host ${h.name} needs an address`, path: c.path, appTag: 'address-required' });
        t.ok(view.exists(c.path) === (c.after !== undefined), 'the view is the tree the commit would leave');
      }
    },
  });
  const before = ds.revision('config');
  await t.rejects(ds.transaction('config').put(host('x'), { name: 'x' }).commit(), { tag: 'invalid-value', message: 'host x needs an address', appTag: 'address-required' });
  t.equal(ds.read('config', host('x')), undefined, 'not written');
  t.equal(ds.revision('config'), before, 'no revision made');
  await ds.transaction('config').put(host('y'), { name: 'y', address: 'here' }).commit();
  t.ok(ds.read('config', host('y')), 'a good commit passes');
});

t.test('validate sees what prepare derived; abort hears the failure; apply hears success', async (t) => {
  const { ds } = await open(t);
  const log: string[] = [];
  ds.registerPhases({
    owner: 'deriver',
    store: 'config',
    path: HOSTS,
    priority: 0,
    prepare(changes, tx) {
      for (const name of created(changes)) if (name === 'bad') tx.put(host('derived-bad'), { name: 'derived-bad' });
    },
    apply: (changes) => void log.push(`deriver apply ${created(changes).join(',')}`),
    abort: (changes, e) => void log.push(`deriver abort ${e.tag}`),
  });
  ds.registerPhases({
    owner: 'checker',
    store: 'config',
    path: HOSTS,
    priority: 10,
    validate(changes) {
      if (created(changes).includes('derived-bad')) throw new YangError({ tag: 'invalid-value', message: 'derived-bad refused' });
    },
    abort: () => void log.push('checker abort'),
  });
  await t.rejects(ds.transaction('config').put(host('bad'), { name: 'bad' }).commit(), { message: 'derived-bad refused' });
  t.equal(ds.read('config', host('bad')), undefined, 'the original write is not kept either');
  await ds.transaction('config').put(host('good'), { name: 'good' }).commit();
  t.same(log, ['deriver abort invalid-value', 'checker abort', 'deriver apply good']);
});

t.test('abort is called when YANG validation fails after the phases', async (t) => {
  const { ds } = await open(t);
  const aborted: string[] = [];
  ds.registerPhases({
    owner: 'p',
    store: 'config',
    path: HOSTS,
    prepare(changes, tx) {
      // A derived write that breaks the model (name longer than 64): the commit must fail whole.
      for (const name of created(changes)) tx.put(host('z'.repeat(70)), { name: 'z'.repeat(70) });
    },
    abort: (_c, e) => void aborted.push(e.tag),
  });
  await t.rejects(ds.transaction('config').put(host('h'), { name: 'h' }).commit(), { tag: 'invalid-value', message: /length/ });
  t.same(aborted, ['invalid-value']);
  t.equal(ds.read('config', host('h')), undefined);
});

t.test('a callback that throws fails that commit with operation-failed naming its owner; the store keeps serving', async (t) => {
  const { ds, reported } = await open(t);
  let fail = true;
  ds.registerPhases({
    owner: 'clumsy',
    store: 'config',
    path: HOSTS,
    validate() {
      if (fail) throw new TypeError('cannot read properties of undefined');
    },
  });
  await t.rejects(ds.transaction('config').put(host('a'), { name: 'a' }).commit(), {
    tag: 'operation-failed',
    message: /plugin "clumsy" failed in validate on \/sextant-fixture:registry\/host=\*: cannot read properties of undefined/,
  });
  t.match(reported, [/clumsy\/validate/], 'the failure is reported with the owner');
  fail = false;
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  t.ok(ds.read('config', host('a')), 'the next commit goes through');
});

t.test('a callback that hangs fails that commit within the bound; a late write does not leak into any commit', async (t) => {
  const { ds } = await open(t, 150);
  let wake: (() => void) | undefined;
  let lateWrite: unknown;
  let hang = true;
  ds.registerPhases({
    owner: 'sleepy',
    store: 'config',
    path: HOSTS,
    async prepare(_changes, tx) {
      if (!hang) return;
      await new Promise<void>((r) => (wake = r));
      try {
        tx.put(host('late'), { name: 'late' });
      } catch (e) {
        lateWrite = e;
      }
    },
  });
  const started = Date.now();
  await t.rejects(ds.transaction('config').put(host('a'), { name: 'a' }).commit(), { tag: 'operation-failed', message: /plugin "sleepy" did not finish prepare .* within 150 ms/ });
  t.ok(Date.now() - started < 2000, 'bounded by the phase timeout');
  hang = false;
  await ds.transaction('config').put(host('b'), { name: 'b' }).commit();
  wake!();
  await new Promise((r) => setImmediate(r));
  t.match(lateWrite, { tag: 'operation-failed' }, 'the woken callback cannot write any more');
  t.equal(ds.read('config', host('late')), undefined);
  t.equal(ds.read('config', host('a')), undefined);
  t.ok(ds.read('config', host('b')));
});

t.test('priorities order the callbacks; a phase writer cannot commit on its own; removal stops the calls', async (t) => {
  const { ds } = await open(t);
  const order: string[] = [];
  let commitError: unknown;
  const off = ds.registerPhases({ owner: 'late', store: 'config', path: HOSTS, priority: 5, prepare: () => void order.push('late') });
  ds.registerPhases({
    owner: 'early',
    store: 'config',
    path: HOSTS,
    priority: -5,
    async prepare(_c, tx) {
      order.push('early');
      try {
        await (tx as unknown as { commit(): Promise<number> }).commit();
      } catch (e) {
        commitError = e;
      }
    },
  });
  ds.registerPhases({ owner: 'other-store', store: 'operational', path: '/sextant-fixture:counters', prepare: () => void order.push('operational') });
  await ds.transaction('config').put(host('a'), { name: 'a' }).commit();
  t.same(order, ['early', 'late'], 'lower priority first; other stores and paths not called');
  t.match(commitError, { tag: 'operation-failed', message: /does not commit/ });
  off();
  await ds.transaction('config').put(host('b'), { name: 'b' }).commit();
  t.same(order, ['early', 'late', 'early']);
});
