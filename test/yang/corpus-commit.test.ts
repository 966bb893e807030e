/**
 * The yanglint corpus through the commit path: every document gets, from a datastore commit, the
 * verdict the whole-tree decoder and validator give (which corpus-crosscheck.test.ts holds equal
 * to yanglint's). Three ways in, each a different code path of the datastore:
 *  - put of each top-level member into an empty store (creations: decode + change validation);
 *  - put of the same members over a valid baseline (updates: containers compared with what they
 *    were, only what differs re-checked, dependents found from the changed leaves);
 *  - putDecoded of the members decoded beforehand (the protocol edges' path, checked for
 *    canonical form instead of decoded again).
 */
import t, { type Test } from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, decodeValue, readJson } from '../../src/yang/json.ts';
import { parsePath } from '../../src/yang/path.ts';
import { JsonNumberText } from '../../src/yang/types.ts';
import { validateTree } from '../../src/yang/validate.ts';
import { YangError } from '../../src/errors.ts';
import { memoryDatastore } from '../helpers/datastore.ts';
import { CORPUS_DIR, CORPUS_MODELS_DIR } from './yanglint.ts';

const schema = await loadSchema(CORPUS_MODELS_DIR, { features: { 'sextant-test': ['extended'] } });
const docs = (await readdir(CORPUS_DIR)).filter((f) => /^\d\d-(good|bad)-.*\.json$/.test(f)).sort();
const read = async (doc: string) => (await readFile(path.join(CORPUS_DIR, doc), 'utf8'));

/**
 * The whole-tree verdict: decode then validate the document as one tree. `strict`: 64-bit numbers
 * only as JSON strings, as yanglint reads them; a datastore put is lenient there (OpenDaylight's
 * clients send numbers), so its verdicts are compared with the lenient whole-tree one.
 */
function fullVerdict(text: string, strict = false): string | undefined {
  try {
    const root = decodeObject(schema, undefined, readJson(text), '', { configOnly: true, strictNumbers: strict });
    validateTree(schema, root, { configOnly: true });
    return undefined;
  } catch (e) {
    if (e instanceof YangError) return `${e.tag}: ${e.message}`;
    throw e;
  }
}

type Tx = { put(p: string, v: unknown): unknown; putDecoded(p: never, v: never): unknown; commit(): Promise<number> };

/** Commits the document's top-level members with `write`; the error's text, or undefined. */
async function commitVerdict(t: Test, members: Record<string, unknown>, write: (tx: Tx, member: string, value: unknown) => void, baseline?: Record<string, unknown>): Promise<string | undefined> {
  const ds = await memoryDatastore(t, schema);
  if (baseline) {
    const tx = ds.transaction('config');
    for (const [m, v] of Object.entries(baseline)) tx.put(`/${m}`, v);
    await tx.commit();
  }
  const before = ds.read('config', '/');
  try {
    const tx = ds.transaction('config') as unknown as Tx;
    for (const [m, v] of Object.entries(members)) write(tx, m, v);
    await tx.commit();
    return undefined;
  } catch (e) {
    if (!(e instanceof YangError)) throw e;
    t.same(ds.read('config', '/'), before, 'a refused commit leaves the store as it was');
    return `${e.tag}: ${e.message}`;
  } finally {
    await ds.close();
  }
}

/** JSON text of what readJson gave, numbers beyond a double's precision written as they came. */
const jsonText = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof JsonNumberText ? `#num#${x.text}` : x)).replace(/"#num#([^"]*)"/g, '$1');

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// A valid baseline with content in the corpus' containers: every good document whose members
// do not overlap an earlier one's, so the whole is valid (checked below).
const baseline: Record<string, unknown> = {};
for (const doc of docs.filter((d) => d.includes('-good-'))) {
  const json = readJson(await read(doc));
  if (!isObject(json)) continue;
  const members = Object.entries(json);
  if (!members.length || members.some(([m]) => m in baseline)) continue;
  const candidate = { ...baseline, ...json };
  if (fullVerdict(jsonText(candidate)) === undefined) Object.assign(baseline, json);
}

t.ok(Object.keys(baseline).length >= 2, `the baseline has content in several containers (${Object.keys(baseline).join(', ')})`);

for (const doc of docs) {
  t.test(doc, async (t) => {
    const text = await read(doc);
    const json = readJson(text);
    const expected = fullVerdict(text);
    const expectedStrict = fullVerdict(text, true);
    // Documents that are not an object of top-level members (or carry unknown ones) fail before
    // any commit: decoding the path or the member refuses them, which the put cases show.
    const members = isObject(json) ? json : {};
    const put = (tx: Tx, m: string, v: unknown) => tx.put(`/${m}`, v);

    const created = await commitVerdict(t, members, put);
    t.equal(created === undefined, expected === undefined, `into an empty store: ${created ?? 'valid'} (whole tree: ${expected ?? 'valid'})`);

    // Over the baseline, the expected verdict is that of the baseline with these members replaced.
    const replaced = fullVerdict(jsonText({ ...baseline, ...members }));
    const updated = await commitVerdict(t, members, put, baseline);
    t.equal(updated === undefined, replaced === undefined, `over the baseline: ${updated ?? 'valid'} (whole tree: ${replaced ?? 'valid'})`);

    // Decoded beforehand (where decoding succeeds), then through putDecoded.
    let decoded: [string, unknown][] | undefined;
    try {
      decoded = Object.entries(members).map(([m, v]) => {
        const node = schema.roots.get(m);
        if (!node) throw new YangError({ tag: 'unknown-element', message: m });
        return [m, decodeValue(schema, node, v, `/${m}`, { configOnly: true, strictNumbers: true })];
      });
    } catch (e) {
      if (!(e instanceof YangError)) throw e;
      t.ok(expectedStrict !== undefined, 'what decoding refuses, the whole-tree check refuses too');
    }
    if (decoded) {
      const viaDecoded = await commitVerdict(t, Object.fromEntries(decoded), (tx, m, v) => tx.putDecoded(parsePath(schema, `/${m}`) as never, v as never));
      t.equal(viaDecoded === undefined, expectedStrict === undefined, `decoded, then putDecoded: ${viaDecoded ?? 'valid'} (whole tree: ${expectedStrict ?? 'valid'})`);
    }
  });
}
