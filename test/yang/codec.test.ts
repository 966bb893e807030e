/**
 * RFC 7951 JSON and RFC 7950 XML codecs: both directions, the same internal tree from both, and
 * the encoding rules that clients depend on (64-bit as strings, identityref qualified, empty as
 * [null], module-qualified names only where the module changes, namespaces in XML).
 */
import t from 'tap';
import { throwsYang } from '../helpers/assert.ts';
import { fixtureSchema } from '../helpers/fixture.ts';
import { decodeObject, encodeRoot, readJson } from '../../src/yang/json.ts';
import { decodeXmlObject, encodeXmlRoot, readXml } from '../../src/yang/xml.ts';

const schema = await fixtureSchema();

const doc = `{
  "sextant-fixture:registry": {
    "host": [
      { "name": "a", "dpn": 18446744073709551615, "weight": 1.50, "colour": "sextant-fixture:red", "marker": [null], "tags": ["x", "y"],
        "port": [ { "id": 1, "peer": "b" } ] },
      { "name": "b", "dpn": "42", "colour": "red", "enabled": false }
    ],
    "ordered": ["z", "a"]
  }
}`;

t.test('JSON in, JSON out: canonical RFC 7951', async (t) => {
  const root = decodeObject(schema, undefined, readJson(doc), '');
  const out = JSON.parse(encodeRoot(schema, root));
  const hosts = out['sextant-fixture:registry'].host;
  t.equal(hosts[0].dpn, '18446744073709551615', 'uint64 keeps every digit, as a string');
  t.equal(hosts[0].weight, '1.5', 'decimal64 is a canonical string');
  t.equal(hosts[1].dpn, '42');
  t.equal(hosts[1].colour, 'sextant-fixture:red', 'identityref is module-qualified on output');
  t.same(hosts[0].marker, [null], 'empty is [null]');
  t.same(hosts[0].port, [{ id: 1, peer: 'b' }], 'uint32 stays a number');
  t.same(out['sextant-fixture:registry'].ordered, ['z', 'a'], 'leaf-list order is kept');
  t.equal(hosts[1].enabled, false);
});

t.test('JSON -> XML -> same tree', async (t) => {
  const root = decodeObject(schema, undefined, readJson(doc), '');
  const xml = encodeXmlRoot(schema, root);
  t.match(xml, /^<registry xmlns="urn:sextant:fixture"><host><name>a<\/name>/, 'namespace on the top element, keys first');
  t.match(xml, /<dpn>18446744073709551615<\/dpn>/);
  t.match(xml, /<colour xmlns:fx="urn:sextant:fixture">fx:red<\/colour>/, 'identityref with a declared prefix');
  t.match(xml, /<marker\/>/, 'empty leaf is an empty element');
  const back = decodeXmlObject(schema, undefined, readXml(`<data>${xml}</data>`)[0].children, '');
  t.same(JSON.parse(encodeRoot(schema, back)), JSON.parse(encodeRoot(schema, root)), 'XML decodes to the same data');
});

t.test('XML identityref resolves the prefix through the element namespace scope', async (t) => {
  const xml = '<registry xmlns="urn:sextant:fixture" xmlns:c="urn:sextant:fixture"><host><name>h</name><colour>c:green</colour></host></registry>';
  const root = decodeXmlObject(schema, undefined, readXml(xml), '');
  const out = JSON.parse(encodeRoot(schema, root));
  t.equal(out['sextant-fixture:registry'].host[0].colour, 'sextant-fixture:green');
});

t.test('bad JSON input: error-tag and path', async (t) => {
  const dec = (s: string) => decodeObject(schema, undefined, readJson(s), '');
  throwsYang(t, 'malformed JSON', () => dec('{"sextant-fixture:registry": {'), 'malformed-message');
  throwsYang(t, 'malformed JSON with a big number', () => dec('{"a": 12345678901234567890'), 'malformed-message');
  throwsYang(t, 'unknown top-level module', () => dec('{"nosuch:thing": {}}'), 'unknown-element', { path: '/nosuch:thing' });
  throwsYang(t, 'unqualified top level', () => dec('{"registry": {}}'), 'unknown-element', { path: '/registry', message: /module-qualified/ });
  throwsYang(t, 'unknown leaf', () => dec('{"sextant-fixture:registry": {"host": [{"name": "a", "nope": 1}]}}'), 'unknown-element', { path: '/sextant-fixture:registry/host/nope' });
  throwsYang(t, 'wrong type', () => dec('{"sextant-fixture:registry": {"host": [{"name": "a", "enabled": "yes"}]}}'), 'invalid-value', { path: /enabled$/ });
  throwsYang(t, 'uint64 out of range', () => dec('{"sextant-fixture:registry": {"host": [{"name": "a", "dpn": "18446744073709551616"}]}}'), 'invalid-value', { path: /dpn$/, message: /out of the range/ });
  throwsYang(t, 'uint64 as a lossy number', () => dec('{"sextant-fixture:registry": {"host": [{"name": "a", "dpn": 1e20}]}}'), 'invalid-value', { path: /dpn$/ });
  throwsYang(t, 'missing key', () => dec('{"sextant-fixture:registry": {"host": [{"address": "x"}]}}'), 'missing-element', { path: '/sextant-fixture:registry/host' });
  throwsYang(t, 'duplicate key', () => dec('{"sextant-fixture:registry": {"host": [{"name": "a"}, {"name": "a"}]}}'), 'invalid-value', { path: '/sextant-fixture:registry/host=a', message: /duplicate/ });
  throwsYang(t, 'identity from the wrong base', () => dec('{"sextant-fixture:registry": {"host": [{"name": "a", "colour": "sextant-fixture:colour"}]}}'), 'invalid-value', { path: /colour$/, message: /not derived/ });
  throwsYang(t, 'list given as an object', () => dec('{"sextant-fixture:registry": {"host": {"name": "a"}}}'), 'invalid-value', { path: /host$/ });
  throwsYang(t, 'state data in config', () => decodeObject(schema, undefined, readJson('{"sextant-fixture:counters": {"boots": 1}}'), '', { configOnly: true }), 'invalid-value', { path: '/sextant-fixture:counters', message: /config false/ });
});

t.test('bad XML input: refused before it can do harm', async (t) => {
  throwsYang(t, 'malformed XML', () => readXml('<registry xmlns="urn:sextant:fixture"><host>'), 'malformed-message');
  throwsYang(t, 'DOCTYPE (XXE) refused', () => readXml('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'), 'malformed-message', { message: /DOCTYPE/ });
  throwsYang(t, 'billion laughs refused', () => readXml('<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>'), 'malformed-message');
  throwsYang(t, 'undeclared entity', () => readXml('<r>&nope;</r>'), 'malformed-message');
  throwsYang(t, 'too big', () => readXml('<r>' + 'x'.repeat(2000) + '</r>', { maxLength: 1000 }), 'too-big');
  throwsYang(t, 'unknown namespace', () => decodeXmlObject(schema, undefined, readXml('<thing xmlns="urn:nope"/>'), ''), 'unknown-namespace');
  throwsYang(t, 'unknown element', () => decodeXmlObject(schema, undefined, readXml('<registry xmlns="urn:sextant:fixture"><hostx/></registry>'), ''), 'unknown-element', { path: /hostx$/ });
  throwsYang(t, 'bad number', () => decodeXmlObject(schema, undefined, readXml('<registry xmlns="urn:sextant:fixture"><host><name>a</name><dpn>-1</dpn></host></registry>'), ''), 'invalid-value', { path: /dpn$/ });
  throwsYang(t, 'missing key', () => decodeXmlObject(schema, undefined, readXml('<registry xmlns="urn:sextant:fixture"><host><address>a</address></host></registry>'), ''), 'missing-element');
});

t.test('rpc input/output and notifications encode and decode in both encodings', async (t) => {
  const { encodeXmlChildren } = await import('../../src/yang/xml.ts');
  const { toJsonValue } = await import('../../src/yang/json.ts');
  const rpc = schema.rpcs.get('sextant-fixture:echo')!;
  const output = rpc.children.find((c) => c.kind === 'output')!;
  const out = decodeObject(schema, output, { message: 'hi', big: '18446744073709551615' }, '/sextant-fixture:echo/output');
  const xml = `<output xmlns="urn:sextant:fixture">${encodeXmlChildren(schema, output, out)}</output>`;
  t.equal(xml, '<output xmlns="urn:sextant:fixture"><message>hi</message><big>18446744073709551615</big></output>');
  const back = decodeXmlObject(schema, output, readXml(xml)[0].children, '/sextant-fixture:echo/output');
  t.same(toJsonValue(output, back), { message: 'hi', big: '18446744073709551615' });
  const note = schema.notifications.get('sextant-fixture:happened')!;
  const body = decodeXmlObject(schema, note, readXml('<happened xmlns="urn:sextant:fixture"><what>boom</what></happened>')[0].children, '/sextant-fixture:happened');
  t.same(toJsonValue(note, body), { what: 'boom' });
  throwsYang(t, 'bad rpc input in XML', () => decodeXmlObject(schema, rpc.children[0], readXml('<input xmlns="urn:sextant:fixture"><big>x</big></input>')[0].children, '/sextant-fixture:echo/input'), 'invalid-value', { path: '/sextant-fixture:echo/input/big' });
});

t.test('readJson keeps every digit of a long integer wherever a number can start, and reads long digit runs in strings as strings', async (t) => {
  const exact = '18446744073709551615';
  for (const text of [exact, ` ${exact}`, `{"a":${exact}}`, `{"a": ${exact}}`, `{"a":\n${exact}}`, `[${exact}]`, `[1,${exact}]`, `[1, -${exact}]`, `{"a":"x","b":${exact}}`]) {
    const v = JSON.stringify(readJson(text), (_k, x: unknown) => (typeof x === 'object' && x !== null && 'text' in x ? `text:${String(x.text)}` : x));
    t.match(v, new RegExp(`text:-?${exact}`), `${text}: the number's text is kept`);
  }
  t.same(readJson(`{"dpn":"${exact}","id":"x${exact}"}`), { dpn: exact, id: `x${exact}` }, 'digit runs inside strings stay strings');
  t.same(readJson(`{"n":123456789012345}`), { n: 123456789012345 }, '15 digits are a plain number');
});
