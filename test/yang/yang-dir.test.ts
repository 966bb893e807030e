import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { yanglintModule } from './yanglint.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const yangDir = path.join(root, 'yang');
const NAME_RE = /^([A-Za-z_][A-Za-z0-9_.-]*)@(\d{4}-\d{2}-\d{2})\.yang$/;

/** Strip YANG comments so that commented-out statements are not matched. */
function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = c === "'" ? text.indexOf("'", i + 1) : findDquoteEnd(text, i + 1);
      const stop = end < 0 ? text.length : end + 1;
      out += text.slice(i, stop);
      i = stop;
    } else if (text.startsWith('//', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function findDquoteEnd(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j;
  }
  return -1;
}

t.test('yang/ directory', async (t) => {
  const files = (await readdir(yangDir)).filter((f) => !f.startsWith('.')).sort();
  t.ok(files.length > 0, 'yang/ is not empty');
  for (const file of files) {
    t.test(file, async (t) => {
      const m = NAME_RE.exec(file);
      t.ok(m, `${file} is named <module>@<YYYY-MM-DD>.yang`);
      if (!m) return;
      const [, name, date] = m;
      const text = stripComments(await readFile(path.join(yangDir, file), 'utf8'));
      const head = /^\s*(module|submodule)\s+("?)([A-Za-z_][A-Za-z0-9_.-]*)\2\s*\{/.exec(text);
      t.ok(head, 'file starts with a module statement');
      t.equal(head?.[3], name, `module name equals the file name`);
      const revisions = [...text.matchAll(/(?:^|[\s;{}])revision\s+("?)(\d{4}-\d{2}-\d{2})\1\s*[;{]/g)].map((r) => r[2]);
      t.ok(revisions.length > 0, 'has a revision statement');
      const newest = revisions.slice().sort().at(-1);
      t.equal(newest, date, 'newest revision equals the file date');
      const lint = await yanglintModule(path.join(yangDir, file), yangDir);
      t.ok(lint.ok, `yanglint accepts ${file} without diagnostics`, { message: lint.message });
    });
  }
});
