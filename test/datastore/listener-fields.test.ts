/**
 * Listener subscriptions that select fields of each instance (what the console's change stream
 * asks for), and the present instances read in the same turn as a subscription without replay.
 */
import t from 'tap';
import { fixtureSchema } from '../helpers/fixture.ts';
import { memoryDatastore } from '../helpers/datastore.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import { throwsYang } from '../helpers/assert.ts';

const schema = await fixtureSchema();
const REG = '/sextant-fixture:registry';
const host = (name: string) => `${REG}/host=${encodeURIComponent(name)}`;

async function put(ds: Awaited<ReturnType<typeof memoryDatastore>>, path: string, value: unknown, how: 'put' | 'merge' = 'put') {
  const tx = ds.transaction('config');
  tx[how](path, value);
  await tx.commit();
}

t.test('fields: instances carry only the selected members (keys kept); updates outside them are not reported', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await put(ds, host('a'), { name: 'a', address: '10.0.0.1', tags: ['x'] });
  const seen: Change[][] = [];
  ds.subscribe('config', `${REG}/host=*`, (changes) => void seen.push(changes), { fields: 'address' });
  await ds.settled();
  t.same(seen.map((b) => b.map((c) => [c.type, c.after])), [[['created', { name: 'a', address: '10.0.0.1' }]]], 'the replay selects address (and the key)');
  await put(ds, host('a'), { tags: ['y'] }, 'merge');
  await put(ds, host('b'), { name: 'b', address: '10.0.0.2', tags: ['z'] });
  await ds.settled();
  t.same(seen.slice(1).map((b) => b.map((c) => [c.type, c.path, c.after])), [[['created', host('b'), { name: 'b', address: '10.0.0.2' }]]], 'the tags change on a went unreported; b came with its address only');
  await put(ds, host('a'), { address: '10.0.0.9' }, 'merge');
  const tx = ds.transaction('config');
  tx.delete(host('b'));
  await tx.commit();
  await ds.settled();
  t.same(
    seen.slice(2).map((b) => b.map((c) => [c.type, c.before, c.after])),
    [[['updated', { name: 'a', address: '10.0.0.1' }, { name: 'a', address: '10.0.0.9' }]], [['deleted', { name: 'b', address: '10.0.0.2' }, undefined]]],
    'a selected change and a deletion are reported, projected on both sides',
  );
});

t.test('present: what exists now, projected, consistent with a subscription made in the same turn', async (t) => {
  const ds = await memoryDatastore(t, schema);
  await put(ds, host('a'), { name: 'a', address: '10.0.0.1' });
  const later: string[] = [];
  ds.subscribe('config', `${REG}/host=*`, (changes) => void later.push(...changes.map((c) => `${c.type} ${c.path}`)), { replay: false });
  const now = ds.present('config', `${REG}/host=*`, { fields: 'name' });
  t.same(now.map((c) => [c.type, c.path, c.after]), [['created', host('a'), { name: 'a' }]], 'the present instance, projected');
  await put(ds, host('b'), { name: 'b' });
  await ds.settled();
  t.same(later, [`created ${host('b')}`], 'the subscription without replay sees only what came after');
  t.same(ds.present('config', `${REG}/host=none`), [], 'an instance that does not exist: nothing');
  throwsYang(t, 'a wildcard on a container', () => ds.present('config', `${REG}=*`), 'invalid-value');
  throwsYang(t, 'malformed fields', () => ds.present('config', `${REG}/host=*`, { fields: 'name(' }), 'invalid-value');
});
