/**
 * NETCONF filters on a decoded tree (RFC 6241 section 6): selection, containment and content
 * match nodes, several entries of one list, elements without a namespace, and the XPath subset
 * turned into the same filters. The results are shown as the XML a get-config reply would carry.
 */
import t from 'tap';
import { join } from 'node:path';
import { YangError } from '../../src/errors.ts';
import { subtreeFilter, xpathToSubtree } from '../../src/northbound/netconf/filter.ts';
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

t.test('XPath select: absolute paths, key predicates and unions become the same filters', async (t) => {
  const scope = new Map([['c', CAR], ['p', PEOPLE]]);
  const one = encodeXmlRoot(schema, subtreeFilter(schema, root, xpathToSubtree("/c:cars/c:car-entry[c:id='A']", scope)));
  t.match(one, /<id>A<\/id><model>Panda<\/model>/);
  t.notMatch(one, /<id>B<\/id>/);
  const leaf = encodeXmlRoot(schema, subtreeFilter(schema, root, xpathToSubtree('/c:cars/c:car-entry[c:id="C"]/c:year', scope)));
  t.equal(leaf, `<cars xmlns="${CAR}"><car-entry><id>C</id><year>2016</year></car-entry></cars>`, 'a leaf under a selected entry, with its key');
  const union = encodeXmlRoot(schema, subtreeFilter(schema, root, xpathToSubtree("/p:people | /c:cars/c:car-entry[c:id='B']", scope)));
  t.match(union, /<id>P1<\/id>/);
  t.match(union, /<id>B<\/id>/);
  t.notMatch(union, /<id>A<\/id>/);
  for (const bad of ['//c:cars', 'c:cars', "/c:cars/c:car-entry[position()=1]", '/x:cars']) {
    t.throws(() => xpathToSubtree(bad, scope), YangError, `unsupported or invalid: ${bad}`);
  }
});
