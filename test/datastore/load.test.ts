/**
 * Reading a store back: the incremental key parser (PathScanner) against parsePath, and the tree
 * a streamed LevelDB scan rebuilds against the one from list(), with the cases a full-store start
 * relies on (shared key prefixes, units the schema does not know, LevelDB's byte order).
 */
import t from 'tap';
import { fixtureSchema } from '../helpers/fixture.ts';
import { levelDatastore } from '../helpers/datastore.ts';
import { tempDir } from '../helpers/tmp.ts';
import { LevelBackend } from '../../src/datastore/backends/level.ts';
import { loadStore, loadTree } from '../../src/datastore/persist.ts';
import { formatPath, parsePath, PathScanner, type InstanceStep } from '../../src/yang/path.ts';
import type { SchemaNode } from '../../src/yang/schema.ts';

const schema = await fixtureSchema();
const REG = '/sextant-fixture:registry';

/** Schema nodes by identity, as numbers t.same can compare. */
const ids = new Map<SchemaNode, number>();
const id = (n: SchemaNode) => ids.get(n) ?? (ids.set(n, ids.size), ids.size - 1);

/** What a parse answers, comparable: each step's schema node, member, key and key values; or the error. */
function outcome(parse: () => readonly InstanceStep[]): unknown {
  try {
    return parse().map((s) => ({ schema: id(s.schema), member: s.member, key: s.key, keyValues: s.keyValues }));
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const PATHS = [
  `${REG}`,
  `${REG}/`,
  `${REG}/host=a`,
  `${REG}/host=a/port=1`,
  `${REG}/host=a/port=01`,
  `${REG}/host=a/port=10`,
  `${REG}/host=a/port=x`,
  `${REG}/host=a/port=2`,
  `${REG}/host=a,b`,
  `${REG}/host=a%2Fb`,
  `${REG}/host=a%2Fb/port=7`,
  `${REG}/host=a%2Fb/port=7/peer`,
  `${REG}/host=a%2Fb/nosuch`,
  `${REG}/host=a%2Fb/port=8`,
  `${REG}/host=a%2Fb//port=8`,
  `${REG}/host=a0`,
  `${REG}/host=a0/stats`,
  `${REG}/host=a0/stats/packets`,
  `${REG}/link=a,b`,
  `${REG}/link=a,b/cost`,
  `${REG}/ordered=3`,
  `${REG}/registry`,
  `${REG}/step=z`,
  `/sextant-fixture:counters`,
  `/sextant-fixture:counters/boots`,
  `/nosuch:thing/x`,
  `/nosuch:thing/y`,
  `/`,
  `//sextant-fixture:counters`,
];

t.test('PathScanner answers what parsePath answers, path by path, sorted or not', async (t) => {
  const sorted = [...PATHS].sort();
  const shuffled = [...PATHS].sort((a, b) => (a.length * 7919) % 13 - (b.length * 7919) % 13);
  for (const order of [sorted, shuffled, [...sorted].reverse()]) {
    const scanner = new PathScanner(schema);
    for (const p of order) t.same(outcome(() => scanner.parse(p)), outcome(() => parsePath(schema, p)), p);
  }
  const scanner = new PathScanner(schema);
  scanner.parse(`${REG}/host=a/port=1`);
  scanner.parse(`${REG}/host=a/port=2`);
  t.equal(scanner.shared, 2, 'a sibling takes over the steps above it');
  scanner.parse(`${REG}/host=a/port=2/peer`);
  t.equal(scanner.shared, 3, 'a child takes over its parent');
  scanner.parse(`${REG}/host=a0`);
  t.equal(scanner.shared, 1, 'a key that only starts like the previous one is parsed again');
  t.throws(() => scanner.parse(`${REG}/host=a0/nosuch`));
  scanner.parse(`${REG}/host=a0/port=3`);
  t.equal(scanner.shared, 0, 'nothing is taken over from a path that failed');
  t.equal(formatPath(parsePath(schema, `${REG}/host=a0/port=3`)), formatPath([...scanner.parse(`${REG}/host=a0/port=3`)]));
});

t.test('a LevelDB store loads by scan into the tree list() gives, with unknown units skipped', async (t) => {
  const dir = tempDir(t);
  const ds = await levelDatastore(schema, dir);
  const tx = ds.transaction('config');
  // Enough entries for several scan chunks, and names that share prefixes unevenly.
  for (let i = 0; i < 2500; i++) {
    const name = `h${i % 7}-${i}`;
    tx.put(`${REG}/host=${name}`, { name, dpn: String(i), tags: ['x'] });
    if (i % 3 === 0) tx.put(`${REG}/host=${name}/port=${i}`, { id: i });
  }
  tx.put(`${REG}/step`, [{ n: 'z' }, { n: 'a' }, { n: 'm' }]);
  tx.put(`${REG}/ordered`, ['3', '1', '2']);
  await tx.commit();
  type Reg = { host: { name: string }[]; step: unknown[]; ordered: unknown[] };
  const before = ds.read('config', REG) as Reg;
  await ds.close();
  const again = await levelDatastore(schema, dir);
  const after = again.read('config', REG) as Reg;
  await again.close();
  // Entries of a system-ordered list come back in key order; within an entry, nothing moves.
  const byName = (r: Reg) => new Map(r.host.map((h) => [h.name, JSON.stringify(h)]));
  t.same([...byName(after)].sort(), [...byName(before)].sort(), 'reopened, every entry the same JSON, member order included');
  t.same([after.step, after.ordered], [before.step, before.ordered]);
  // Units written by an older model or damaged: they are skipped, and their neighbours load.
  const raw = new LevelBackend(dir);
  await raw.open();
  await raw.write([
    { type: 'put', key: `${REG}/host=h1-1/gone=1`, value: '{}' },
    { type: 'put', key: `${REG}/host=h1-1/port=999`, value: '{not json' },
    { type: 'put', key: `${REG}/host=h1-1/port=1000`, value: '{"id":1000}' },
    // Written by hand, key leaf last or missing: the entry still starts with its keys.
    { type: 'put', key: `${REG}/host=late`, value: '{"address":"x","name":"late"}' },
    { type: 'put', key: `${REG}/host=keyless`, value: '{"address":"y"}' },
  ]);
  const skipped: string[] = [];
  const scanned = await loadStore(schema, raw, (key) => skipped.push(key));
  const listed = loadTree(schema, await raw.list('/'), () => undefined);
  t.same(scanned, listed, 'the same tree, list order included');
  t.same(skipped, [`${REG}/host=h1-1/gone=1`, `${REG}/host=h1-1/port=999`]);
  const host = (scanned['sextant-fixture:registry'] as Record<string, Map<string, Record<string, unknown>>>).host.get('h1-1')!;
  t.same([...(host.port as unknown as Map<string, unknown>).keys()], ['1000'], 'the entry after a skipped one is in place');
  const hosts = (scanned['sextant-fixture:registry'] as Record<string, Map<string, Record<string, unknown>>>).host;
  t.same(Object.entries(hosts.get('late')!), [['name', 'late'], ['address', 'x']]);
  t.same(Object.entries(hosts.get('keyless')!), [['name', 'keyless'], ['address', 'y']]);
  const step = (scanned['sextant-fixture:registry'] as Record<string, Map<string, unknown>>).step;
  t.same([...step.keys()], ['z', 'a', 'm'], 'user order from the parent unit');
  await raw.close();
});

t.test('keys LevelDB orders otherwise than UTF-16 load as list() gives them', async (t) => {
  // The datastore writes keys percent-encoded (ASCII, the same order either way); a key written
  // otherwise, unencoded, still loads. U+E000.. sorts before astral characters in UTF-8 (LevelDB's
  // order), after them in UTF-16 (list()'s): the scan sees that and reads by list() instead.
  const b = new LevelBackend(tempDir(t));
  await b.open();
  t.teardown(() => b.close());
  const names = ['a', '\uE000', '😀', '\uFFFD', 'z'];
  await b.write(names.map((name) => ({ type: 'put' as const, key: `${REG}/host=${name}`, value: JSON.stringify({ name }) })));
  const tree = await loadStore(schema, b, () => t.fail('nothing skipped'));
  t.same(tree, loadTree(schema, await b.list('/'), () => undefined));
  const hosts = (tree['sextant-fixture:registry'] as Record<string, Map<string, unknown>>).host;
  t.same([...hosts.keys()], [...names].sort().map(encodeURIComponent), 'entries in UTF-16 order of the stored keys');
});
