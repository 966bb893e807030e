/**
 * The shared tree selection (src/yang/select.ts): RESTCONF `fields` and the NETCONF subtree filter
 * compile to one SelectionTree and one walk applies it. Proven here on the fixture model: the same
 * selection spelled both ways gives the same tree, content match with several leaves, identities
 * and leaf-lists, nested lists, several filter entries for one list, selections that match
 * nothing, keyless lists, and that the data are shared, never written to.
 */
import t from 'tap';
import { compileSubtreeFilter, subtreeFilter } from '../../src/northbound/netconf/filter.ts';
import { compileSchema } from '../../src/yang/compiler.ts';
import { decodeObject } from '../../src/yang/json.ts';
import type { DataObject, DataValue, SchemaNode } from '../../src/yang/schema.ts';
import { compileFields, parseFields, selectRoot, selectTree, type SelectionTree } from '../../src/yang/select.ts';
import { readXml } from '../../src/yang/xml.ts';
import { fixtureSchema } from '../helpers/fixture.ts';

const schema = await fixtureSchema();
const FX = 'urn:sextant:fixture';
const registry = schema.roots.get('sextant-fixture:registry')!;

const root = deepFreeze(
  decodeObject(schema, undefined, {
    'sextant-fixture:registry': {
      host: [
        { name: 'a', address: '10.0.0.1', colour: 'sextant-fixture:red', tags: ['x', 'y', 'z'], port: [{ id: 1 }, { id: 2, peer: 'b' }] },
        { name: 'b', address: '10.0.0.2', colour: 'sextant-fixture:green', tags: ['y'], enabled: false, port: [{ id: 1, peer: 'a' }] },
        { name: 'c', address: '10.0.0.3', colour: 'sextant-fixture:red' },
      ],
      link: [
        { src: 'a', dst: 'b', cost: 3 },
        { src: 'b', dst: 'a', cost: 3 },
        { src: 'a', dst: 'c', cost: 7 },
      ],
    },
    'sextant-fixture:counters': { boots: 2 },
  }, ''),
);
const before = JSON.stringify(plain(root));

/** The subtree filter `xml` (the children of `<filter>`) on the whole root. */
function filter(xml: string): DataObject {
  return subtreeFilter(schema, root, readXml(xml, { fragment: true }));
}

/** The filter elements inside `<registry>`, compiled below the registry container. */
function registryFilter(inner: string): SelectionTree {
  return compileSubtreeFilter(schema, registry, readXml(`<registry xmlns="${FX}">${inner}</registry>`, { fragment: true })[0]!.children);
}

/** Internal values as plain JSON-able values (lists as [key, entry] pairs), to compare and print. */
function plain(v: DataValue | undefined): unknown {
  if (v instanceof Map) return [...v].map(([k, e]) => [k, plain(e)]);
  if (Array.isArray(v) || typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([m, x]) => [m, plain(x)]));
}

/** A selection tree with schema nodes replaced by their names, to compare two trees. */
function shape(tree: SelectionTree | undefined): unknown {
  if (!tree) return undefined;
  const name = (n: SchemaNode) => n.jsonName;
  return {
    matches: tree.matches.map((m) => ({ leaves: m.leaves.map(name), value: m.value })),
    members: tree.members?.map((m) => ({ node: name(m.node), below: shape(m.below) })),
  };
}

function deepFreeze<T extends DataValue>(v: T): T {
  if (v instanceof Map) for (const e of v.values()) deepFreeze(e);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) deepFreeze(x as DataValue);
  return Object.freeze(v);
}

const hosts = (out: DataValue | undefined) => (out as DataObject)['host'] as Map<string, DataObject>;

t.test('a fields tree and a subtree filter that mean the same selection compile to the same tree and give the same result', async (t) => {
  const byFields = compileFields(registry, parseFields('host(name;address;port/id)'));
  const bySubtree = registryFilter('<host><name/><address/><port><id/></port></host>');
  t.same(shape(byFields), shape(bySubtree), 'one tree');
  const data = root['sextant-fixture:registry']!;
  t.same(plain(selectTree(registry, data, byFields, 'keep')), plain(selectTree(registry, data, bySubtree, 'omit')), 'one walk, either mode');
  const whole = selectRoot(schema, root, { fields: parseFields('sextant-fixture:registry/host(name;address;port/id)') });
  t.same(plain(whole), plain(filter(`<registry xmlns="${FX}"><host><name/><address/><port><id/></port></host></registry>`)), 'RESTCONF selectRoot and NETCONF subtreeFilter');
  t.same(plain(hosts(whole['sextant-fixture:registry']).get('a')), { name: 'a', address: '10.0.0.1', port: [['1', { id: 1 }], ['2', { id: 2 }]] }, 'keys stay, in the data order');
});

t.test('content match with several leaves: an entry is kept only if every one matches; selection siblings say what is returned', async (t) => {
  const both = filter(`<registry xmlns="${FX}"><link><src>a</src><cost>3</cost></link></registry>`);
  t.same(plain(both), { 'sextant-fixture:registry': { link: [['a,b', { src: 'a', dst: 'b', cost: 3 }]] } }, 'only content matches: the whole entry');
  t.same(filter(`<registry xmlns="${FX}"><link><src>b</src><cost>7</cost></link></registry>`), {}, 'each leaf matches some entry, none matches both');
  const withSelection = filter(`<registry xmlns="${FX}"><host><colour>red</colour><address>10.0.0.1</address><port/></host></registry>`);
  t.same(plain(withSelection), { 'sextant-fixture:registry': { host: [['a', { name: 'a', address: '10.0.0.1', colour: 'sextant-fixture:red', port: [['1', { id: 1 }], ['2', { id: 2, peer: 'b' }]] }]] } }, 'the key, the matched leaves and the selected member');
  const noPort = filter(`<registry xmlns="${FX}"><host><colour>red</colour><address>10.0.0.3</address><port/></host></registry>`);
  t.same(noPort, {}, 'a matching entry in which no selection node has data is left out');
  const selected = filter(`<registry xmlns="${FX}"><host><colour>sextant-fixture:red</colour><address/></host></registry>`);
  t.same([...hosts(selected['sextant-fixture:registry']).keys()], ['a', 'c'], 'an identity matches with its prefix, too');
  t.same(plain(hosts(selected['sextant-fixture:registry']).get('a')), { name: 'a', address: '10.0.0.1', colour: 'sextant-fixture:red' });
  const tag = filter(`<registry xmlns="${FX}"><host><tags>y</tags><name/></host></registry>`);
  t.same(plain(tag), { 'sextant-fixture:registry': { host: [['a', { name: 'a', tags: ['y'] }], ['b', { name: 'b', tags: ['y'] }]] } }, 'a leaf-list matches by one value, and only it is returned');
});

t.test('nested lists: a content match deep down keeps the entries above it with their keys', async (t) => {
  const out = filter(`<registry xmlns="${FX}"><host><port><peer>b</peer></port></host></registry>`);
  t.same(plain(out), { 'sextant-fixture:registry': { host: [['a', { name: 'a', port: [['2', { id: 2, peer: 'b' }]] }]] } });
  const fields = selectRoot(schema, root, { fields: parseFields('registry/host(port/peer)') });
  t.same(plain(hosts(fields['sextant-fixture:registry'])), [
    ['a', { name: 'a', port: [['1', { id: 1 }], ['2', { id: 2, peer: 'b' }]] }],
    ['b', { name: 'b', port: [['1', { id: 1, peer: 'a' }]] }],
    ['c', { name: 'c' }],
  ], 'fields keeps every entry, with its keys, whatever is below it');
});

t.test('two filter entries for one list give the union of what each selects, in the data order', async (t) => {
  const out = filter(`<registry xmlns="${FX}"><host><name>c</name><address/></host><host><name>a</name><tags/></host><host><name>c</name><colour/></host></registry>`);
  t.same(plain(out), { 'sextant-fixture:registry': { host: [
    ['a', { name: 'a', tags: ['x', 'y', 'z'] }],
    ['c', { name: 'c', address: '10.0.0.3', colour: 'sextant-fixture:red' }],
  ] } });
});

t.test('a selection that matches nothing gives nothing', async (t) => {
  const data = root['sextant-fixture:registry']!;
  t.equal(selectTree(registry, data, registryFilter('<host><name>zz</name></host>'), 'omit'), undefined, 'a failed content match');
  t.equal(selectTree(registry, data, registryFilter('<host><nosuch>1</nosuch></host>'), 'omit'), undefined, 'a content match on a leaf the schema does not have');
  t.equal(selectTree(registry, data, registryFilter('<host><nosuch/></host>'), 'omit'), undefined, 'a selection node the schema does not have');
  t.same(filter(`<registry xmlns="${FX}"><host><name>zz</name></host></registry>`), {}, 'the subtree filter answers an empty tree');
  t.same(filter(''), {}, 'an empty filter selects nothing');
  t.same(plain(selectTree(registry, data, compileFields(registry, parseFields('host/nosuch')), 'keep')), { host: [['a', { name: 'a' }], ['b', { name: 'b' }], ['c', { name: 'c' }]] }, 'fields: the entries stay, with their keys only');
});

t.test('entries of a keyless list keep their own keys, so none is lost', async (t) => {
  const keyless = compileSchema([{ path: 'log.yang', text: `module log { yang-version 1.1; namespace "urn:log"; prefix log;
    container log { config false; list event { leaf what { type string; } leaf severity { type string; } } } }` }]);
  const data = decodeObject(keyless, undefined, { 'log:log': { event: [{ what: 'a', severity: 'high' }, { what: 'b', severity: 'low' }, { what: 'c', severity: 'high' }] } }, '');
  const out = subtreeFilter(keyless, data, readXml('<log xmlns="urn:log"><event><severity>high</severity></event></log>', { fragment: true }));
  t.same(plain(out), { 'log:log': { event: [['#0', { what: 'a', severity: 'high' }], ['#2', { what: 'c', severity: 'high' }]] } });
});

t.test('the input data is not modified, and what is kept whole is shared, not copied', async (t) => {
  const out = filter(`<registry xmlns="${FX}"><host><name>a</name></host><host><name>b</name><port/></host><link><src>a</src></link></registry><counters xmlns="${FX}"/>`);
  selectRoot(schema, root, { fields: parseFields('registry/host(address;port/peer);counters'), content: 'config', depth: 3 });
  t.equal(JSON.stringify(plain(root)), before, 'the data are as they were (and frozen, so a write would have thrown)');
  const data = root['sextant-fixture:registry'] as DataObject;
  t.equal(hosts(out['sextant-fixture:registry']).get('a'), hosts(data).get('a'), 'an entry taken whole is the data entry itself');
  t.equal(hosts(out['sextant-fixture:registry']).get('b')!['port'], hosts(data).get('b')!['port'], 'a member kept whole is shared');
  t.equal(out['sextant-fixture:counters'], root['sextant-fixture:counters']);
});
