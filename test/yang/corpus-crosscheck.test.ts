/**
 * The yanglint cross-check: every corpus document gets the same verdict (valid or invalid) from
 * Sextant's decoder + validator as from yanglint, both run here on the same file.
 */
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, readJson } from '../../src/yang/json.ts';
import { validateTree } from '../../src/yang/validate.ts';
import { YangError } from '../../src/errors.ts';
import { CORPUS_DIR, CORPUS_MODELS_DIR, yanglintValidate } from './yanglint.ts';

const schema = await loadSchema(CORPUS_MODELS_DIR, { features: { 'sextant-test': ['extended'] } });
const docs = (await readdir(CORPUS_DIR)).filter((f) => /^\d\d-(good|bad)-.*\.json$/.test(f)).sort();

t.ok(docs.length >= 40, `the corpus has at least 40 documents (${docs.length})`);

function ours(text: string): { valid: boolean; error?: YangError } {
  try {
    // The corpus is RFC 7951 to the letter, as yanglint reads it: 64-bit numbers only as strings.
    const root = decodeObject(schema, undefined, readJson(text), '', { configOnly: true, strictNumbers: true });
    validateTree(schema, root, { configOnly: true });
    return { valid: true };
  } catch (e) {
    if (e instanceof YangError) return { valid: false, error: e };
    throw e;
  }
}

for (const doc of docs) {
  t.test(doc, async (t) => {
    const text = await readFile(path.join(CORPUS_DIR, doc), 'utf8');
    const theirs = await yanglintValidate(path.join(CORPUS_DIR, doc));
    const mine = ours(text);
    t.equal(mine.valid, theirs.valid, `sextant says ${mine.valid ? 'valid' : `invalid (${mine.error?.tag}: ${mine.error?.message} at ${mine.error?.path})`}, yanglint says ${theirs.valid ? 'valid' : `invalid (${theirs.message.split('\n')[0]})`}`);
    if (!mine.valid) {
      t.ok(mine.error?.tag, 'the error carries a YANG error-tag');
      t.ok(mine.error?.path, 'the error carries the instance path');
    }
  });
}
