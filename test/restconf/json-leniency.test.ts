/**
 * The RESTCONF edge reads JSON as OpenDaylight's parser does: integers up to 32 bits may come as
 * JSON strings (`"remote-port": "6640"`), decoded to the canonical number. RFC 7951 to the letter
 * (the datastore's own reads, the yanglint corpus) still refuses them. The HTTP side of this is
 * test/csit/restconf-odl-leniency.test.ts.
 */
import t from 'tap';
import { compileSchema, loadSchema } from '../../src/yang/compiler.ts';
import { checkDecoded, decodeObject, encodeRoot, readJson } from '../../src/yang/json.ts';
import { RESTCONF_JSON_INPUT } from '../../src/northbound/restconf/body.ts';
import { YangError } from '../../src/errors.ts';
import { throwsYang } from '../helpers/assert.ts';
import { CORPUS_MODELS_DIR } from '../yang/yanglint.ts';

const corpus = await loadSchema(CORPUS_MODELS_DIR, { features: { 'sextant-test': ['extended'] } });

const lenient = (doc: string) => decodeObject(corpus, undefined, readJson(doc), '', { ...RESTCONF_JSON_INPUT, configOnly: true });
const strict = (doc: string) => decodeObject(corpus, undefined, readJson(doc), '', { configOnly: true });
const types = (v: Record<string, unknown>) => JSON.stringify({ 'sextant-test:types': v });

t.test('the corpus documents yanglint refuses for strings stay refused without the RESTCONF option', async (t) => {
  throwsYang(t, 'int32 as a string (46-bad-int32-as-string)', () => strict(types({ i32: '5' })), 'invalid-value');
  throwsYang(t, 'a union of int32 and non-numeric strings, "42" (63-bad-union-int-as-string)', () => strict(types({ mix: '42' })), 'invalid-value');
});

t.test('with it, each integer type takes a decimal string and decodes the canonical number', async (t) => {
  const cases: [string, string, number][] = [
    ['i8', '-128', -128],
    ['i16', '+7', 7],
    ['i32', '5', 5],
    ['u8', '255', 255],
    ['u16', '007', 7],
    ['u32', '4294967295', 4294967295],
  ];
  for (const [leaf, text, want] of cases) {
    const root = lenient(types({ [leaf]: text }));
    const value = (root['sextant-test:types'] as Record<string, unknown>)[leaf];
    t.equal(value, want, `${leaf} "${text}" is ${want}`);
    const node = corpus.roots.get('sextant-test:types')!.dataChildren.get(leaf)!;
    t.doesNotThrow(() => checkDecoded(corpus, node, value as number, `/sextant-test:types/${leaf}`), `${leaf}: the decoded value is canonical`);
    t.equal(JSON.parse(encodeRoot(corpus, root))['sextant-test:types'][leaf], want, `${leaf} goes out as a JSON number`);
  }
});

t.test('with it, what is not a number, or out of range, is still refused with the leaf path', async (t) => {
  const refused: [string, string, RegExp][] = [
    ['i32', 'five', /"five" is not a valid int32/],
    ['i32', '', /is not a valid int32/],
    ['i32', ' 5', /is not a valid int32/],
    ['i32', '5.0', /is not a valid int32/],
    ['i32', '0x10', /is not a valid int32/],
    ['i8', '128', /out of the range of int8/],
    ['u8', '-1', /out of the range of uint8/],
    ['u32', '4294967296', /out of the range of uint32/],
    // Range restrictions apply as to numbers: int16 narrowed to -100..100, uint32 1..max, and
    // the chained typedef small-percent (uint8 0..100, then 0..10).
    ['i16', '101', /out of range -100..100/],
    ['u32', '0', /out of range 1..4294967295/],
    ['pct', '11', /out of range/],
  ];
  for (const [leaf, text, message] of refused) {
    throwsYang(t, `${leaf} "${text}"`, () => lenient(types({ [leaf]: text })), 'invalid-value', { message, path: `/sextant-test:types/${leaf}` });
  }
  t.equal((lenient(types({ pct: '10' }))['sextant-test:types'] as Record<string, unknown>).pct, 10, 'pct "10", the top of its range, is accepted');
});

t.test('64-bit and decimal64 are unchanged: strings (RFC 7951) and numbers (ODL) alike', async (t) => {
  const asStrings = lenient(types({ i64: '-9', u64: '18446744073709551615', price: '1.50' }))['sextant-test:types'];
  const asNumbers = lenient(types({ i64: -9, u64: 42, price: 1.5 }))['sextant-test:types'];
  t.same(asStrings, { i64: '-9', u64: '18446744073709551615', price: '1.5' }, 'strings: canonical strings');
  t.same(asNumbers, { i64: '-9', u64: '42', price: '1.5' }, 'numbers: the same canonical strings');
  throwsYang(t, 'decimal64 "12.345" has too many digits', () => lenient(types({ price: '12.345' })), 'invalid-value');
});

t.test('unions: RFC 7951 chooses the member by the JSON type first; a numeric member takes a string only when no member takes it as one', async (t) => {
  const schema = compileSchema([
    {
      path: 'u@2026-12-02.yang',
      text: `module u { yang-version 1.1; namespace "urn:u"; prefix u; revision 2026-12-02;
        container c {
          leaf int-or-string { type union { type int32; type string; } }
          leaf int-or-keyword { type union { type uint16; type enumeration { enum auto; } } }
          leaf keyword-or-int { type union { type enumeration { enum auto; } type int8; } }
        } }`,
    },
  ]);
  const decode = (v: Record<string, unknown>) => decodeObject(schema, undefined, { 'u:c': v }, '', RESTCONF_JSON_INPUT)['u:c'] as Record<string, unknown>;
  t.equal(decode({ 'int-or-string': '13' })['int-or-string'], '13', '"13" is the string member (RFC 7951 6.10), not the int32 ODL would pick');
  t.equal(decode({ 'int-or-string': 13 })['int-or-string'], 13, '13 is the int32 member');
  t.equal(decode({ 'int-or-keyword': '6640' })['int-or-keyword'], 6640, '"6640": no member takes it as a string, so the uint16 member takes it as a number');
  t.equal(decode({ 'int-or-keyword': 'auto' })['int-or-keyword'], 'auto', '"auto" is the enumeration');
  t.equal(decode({ 'keyword-or-int': '-5' })['keyword-or-int'], -5, 'the numeric member need not come first');
  throwsYang(t, '"70000" fits no member', () => decode({ 'int-or-keyword': '70000' }), 'invalid-value', { message: /matches no member of union/ });
  t.throws(() => decodeObject(schema, undefined, { 'u:c': { 'int-or-keyword': '6640' } }, ''), YangError, 'and without the RESTCONF option "6640" is refused');
});
