import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CORPUS_DIR, CORPUS_MODELS_DIR, CORPUS_MODULES, yanglintModule, yanglintValidate } from './yanglint.ts';

const DOC_RE = /^\d{2,}-(good|bad)-[a-z0-9-]+\.json$/;

t.test('corpus models compile cleanly', async (t) => {
  for (const m of CORPUS_MODULES) {
    const r = await yanglintModule(path.join(CORPUS_MODELS_DIR, m), CORPUS_MODELS_DIR);
    t.ok(r.ok, m, { message: r.message });
  }
});

t.test('yanglint verdicts match expected.json', async (t) => {
  const expected = JSON.parse(await readFile(path.join(CORPUS_DIR, 'expected.json'), 'utf8')) as Record<
    string,
    'valid' | 'invalid'
  >;
  const docs = (await readdir(CORPUS_DIR)).filter((f) => f.endsWith('.json') && /^\d/.test(f)).sort();
  t.ok(docs.length >= 46, `at least 46 documents (${docs.length})`);
  t.same(Object.keys(expected).sort(), docs, 'expected.json lists exactly the corpus documents');
  for (const doc of docs) {
    const m = DOC_RE.exec(doc);
    t.ok(m, `${doc} is named NN-good-… or NN-bad-…`);
    const intent = m?.[1] === 'good' ? 'valid' : 'invalid';
    t.equal(expected[doc], intent, `${doc}: expected.json agrees with the file name`);
    // Every document must at least be well-formed JSON: bad cases are bad by schema, not syntax.
    const text = await readFile(path.join(CORPUS_DIR, doc), 'utf8');
    t.doesNotThrow(() => JSON.parse(text), `${doc} is well-formed JSON`);
    const r = await yanglintValidate(path.join(CORPUS_DIR, doc));
    t.equal(r.valid ? 'valid' : 'invalid', expected[doc], `${doc}: yanglint verdict`, { message: r.message });
  }
});
