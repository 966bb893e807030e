/**
 * NETCONF filters on a decoded tree (RFC 6241 section 6): selection, containment and content
 * match nodes, several entries of one list, elements without a namespace; and XPath filters
 * (section 8.9) evaluated over the same tree, with their rpc-errors. The results are shown as the
 * XML a get-config reply would carry.
 */
import t from 'tap';
import { join } from 'node:path';
import { YangError } from '../../src/errors.ts';
import { applyFilter, notificationFilter, parseXPathFilter, subtreeFilter } from '../../src/northbound/netconf/filter.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject } from '../../src/yang/json.ts';
import { encodeXmlRoot, readXml } from '../../src/yang/xml.ts';

const schema = await loadSchema([join(import.meta.dirname, '../../yang'), join(import.meta.dirname, 'yang')]);
const CAR = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const PEOPLE = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:people';

const root = decodeObject(schema, undefined, {
  'car:cars': {
    'car-entry': [
      { id: 'A', model: 'Panda', manufacturer: 'FIAT', year: 2003 },
      { id: 'B', model: 'Corolla', manufacturer: 'Toyota', year: 2016 },
      { id: 'C', model: 'Prius', manufacturer: 'Toyota', year: 2016 },
    ],
  },
  'people:people': { person: [{ id: 'P1', age: 32 }] },
}, '');

function apply(filterXml: string): string {
  return encodeXmlRoot(schema, subtreeFilter(schema, root, readXml(filterXml, { fragment: true })));
}

t.test('a selection node returns the whole subtree; other top-level nodes are left out', async (t) => {
  const out = apply(`<people xmlns="${PEOPLE}"/>`);
  t.match(out, /<person><id>P1<\/id><age>32<\/age><\/person>/);
  t.notMatch(out, /cars/);
});

t.test('a content match on the key selects one entry, whole', async (t) => {
  const out = apply(`<cars xmlns="${CAR}"><car-entry><id>B</id></car-entry></cars>`);
  t.match(out, /<car-entry><id>B<\/id><model>Corolla<\/model><manufacturer>Toyota<\/manufacturer><year>2016<\/year><\/car-entry>/);
  t.notMatch(out, /<id>A<\/id>|<id>C<\/id>/);
});

t.test('content match on a non-key leaf plus a selection node: matching entries, keys and selected leaves only', async (t) => {
  const out = apply(`<cars xmlns="${CAR}"><car-entry><manufacturer>Toyota</manufacturer><model/></car-entry></cars>`);
  t.equal(out, `<cars xmlns="${CAR}"><car-entry><id>B</id><model>Corolla</model><manufacturer>Toyota</manufacturer></car-entry><car-entry><id>C</id><model>Prius</model><manufacturer>Toyota</manufacturer></car-entry></cars>`);
});

t.test('a failed content match selects nothing; an unknown element selects nothing', async (t) => {
  t.equal(apply(`<cars xmlns="${CAR}"><car-entry><id>Z</id></car-entry></cars>`), '');
  t.equal(apply(`<nothing xmlns="urn:example:none"/>`), '');
});

t.test('two filter entries for the same list give both entries; no namespace matches any module', async (t) => {
  const out = apply(`<cars xmlns="${CAR}"><car-entry><id>A</id></car-entry><car-entry><id>C</id></car-entry></cars>`);
  t.match(out, /<id>A<\/id>.*<id>C<\/id>/);
  t.notMatch(out, /<id>B<\/id>/);
  t.match(apply('<people/>'), /<id>P1<\/id>/, 'an element without namespace');
});

const scope = new Map([['c', CAR], ['p', PEOPLE]]);
const car = (id: string, model: string, manufacturer: string, year: number) =>
  `<car-entry><id>${id}</id><model>${model}</model><manufacturer>${manufacturer}</manufacturer><year>${year}</year></car-entry>`;
const A = car('A', 'Panda', 'FIAT', 2003);
const B = car('B', 'Corolla', 'Toyota', 2016);
const C = car('C', 'Prius', 'Toyota', 2016);
const cars = (...entries: string[]) => `<cars xmlns="${CAR}">${entries.join('')}</cars>`;

function select(expr: string, prefixes: Map<string, string> = scope): string {
  return encodeXmlRoot(schema, applyFilter(schema, root, parseXPathFilter(schema, expr, prefixes)));
}

function selectError(expr: string, prefixes: Map<string, string> = scope): YangError {
  try {
    select(expr, prefixes);
  } catch (e) {
    if (e instanceof YangError) return e;
    throw e;
  }
  throw new Error(`xpath filter "${expr}" was accepted`);
}

t.test('XPath: an absolute path with a key predicate selects that entry whole; a leaf below it comes with the key', async (t) => {
  t.equal(select("/c:cars/c:car-entry[c:id='A']"), cars(A));
  t.equal(select('/c:cars/c:car-entry[c:id="C"]/c:year'), cars('<car-entry><id>C</id><year>2016</year></car-entry>'));
  t.equal(select('/c:cars'), cars(A, B, C), 'a container with all it holds');
});

t.test('XPath: // finds nodes at any depth, each with its ancestors and their list keys', async (t) => {
  t.equal(select('//c:model'), cars('<car-entry><id>A</id><model>Panda</model></car-entry>', '<car-entry><id>B</id><model>Corolla</model></car-entry>', '<car-entry><id>C</id><model>Prius</model></car-entry>'));
  t.equal(select('//p:age'), `<people xmlns="${PEOPLE}"><person><id>P1</id><age>32</age></person></people>`);
  t.equal(select('//c:car-entry[c:id="B"]//c:year'), cars('<car-entry><id>B</id><year>2016</year></car-entry>'));
});

t.test('XPath: predicates on non-key leaves, and/or/not(), numeric comparison', async (t) => {
  t.equal(select("//c:car-entry[c:manufacturer='Toyota']"), cars(B, C), 'a non-key leaf');
  t.equal(select("//c:car-entry[c:manufacturer='Toyota' and c:model='Prius']"), cars(C), 'and');
  t.equal(select("//c:car-entry[c:model='Panda' or c:model='Prius']"), cars(A, C), 'or, in the data order');
  t.equal(select("//c:car-entry[not(c:manufacturer='Toyota')]"), cars(A), 'not()');
  t.equal(select('//c:car-entry[c:year < 2010]/c:model'), cars('<car-entry><id>A</id><model>Panda</model></car-entry>'), 'a number comparison on a uint32');
});

t.test('XPath: unions, .. and positions; overlapping selections are given once, in the data order', async (t) => {
  t.equal(select("/c:cars/c:car-entry[c:id='C'] | /c:cars/c:car-entry[c:id='A']"), cars(A, C), 'the data order, not the order in the union');
  t.equal(select("/p:people | //c:car-entry[c:id='B']"), cars(B) + `<people xmlns="${PEOPLE}"><person><id>P1</id><age>32</age></person></people>`);
  t.equal(select("//c:year[. = 2016]/.."), cars(B, C), '.. from a leaf is its entry');
  t.equal(select('/c:cars/c:car-entry[2]'), cars(B), 'a position predicate');
  t.equal(select('/c:cars/c:car-entry[last()]/c:id'), cars('<car-entry><id>C</id></car-entry>'), 'last()');
  t.equal(select("/c:cars/c:car-entry[c:id='A'] | /c:cars/c:car-entry[c:id='A']/c:model | //c:car-entry[c:id='B']/c:year"), cars(A, '<car-entry><id>B</id><year>2016</year></car-entry>'), 'a node below one selected whole adds nothing');
  t.equal(select('/'), select('/c:cars | /p:people'), '/ is the whole tree');
});

t.test('XPath: names without a prefix match in any module; a declared namespace no module has selects nothing', async (t) => {
  t.equal(select("/cars/car-entry[id='A']", new Map()), cars(A));
  t.equal(select("//car-entry[manufacturer='FIAT']/model", new Map()), cars('<car-entry><id>A</id><model>Panda</model></car-entry>'));
  t.equal(select('/u:cars', new Map([['u', 'urn:example:unknown']])), '');
  t.equal(select("//c:car-entry[c:id='Z']"), '', 'nothing selected is an empty tree');
});

t.test('XPath: the selection does not write to the data it shares', async (t) => {
  const before = encodeXmlRoot(schema, root);
  select("/c:cars | //c:car-entry[c:id='B']/c:year | //c:model");
  t.equal(encodeXmlRoot(schema, root), before);
});

t.test('XPath errors: syntax, unknown prefix or function, and results that are not node-sets are invalid-value', async (t) => {
  for (const [expr, why] of [
    ['/c:cars/c:car-entry[', /xpath filter "\/c:cars\/c:car-entry\[": .*position/],
    ['/x:cars', /unknown prefix "x"/],
    ['nosuch(/c:cars)', /unknown function "nosuch\(\)"/],
    ['count(//c:car-entry)', /yields a number, not a node-set/],
    ["//c:car-entry[c:id='A']/c:model = 'Panda'", /yields a boolean, not a node-set/],
    ["'x' | /c:cars", /node-sets/],
  ] as const) {
    const e = selectError(expr);
    t.equal(e.tag, 'invalid-value', `${expr}: invalid-value`);
    t.match(e.message, why, `${expr}: ${e.message}`);
  }
});

t.test('XPath on a notification: it stands at the top; a selection below it filters the body, none drops it', async (t) => {
  const SCALEIN = 'urn:opendaylight:netvirt:scalein-api';
  const node = schema.notifications.get('scalein-api:compute-tombstoned')!;
  const body = { 'compute-name': 'cmp-1', 'dpn-id': '7', 'node-id': 'ovsdb://1' };
  const prefixes = new Map([['s', SCALEIN]]);
  const filter = (expr: string) => notificationFilter(schema, node, body, parseXPathFilter(schema, expr, prefixes));
  t.same(filter('/s:compute-tombstoned'), body);
  t.same(filter("/s:compute-tombstoned[s:compute-name='cmp-1']/s:dpn-id"), { 'dpn-id': '7' });
  t.equal(filter("/s:compute-tombstoned[s:compute-name='other']"), undefined);
});
