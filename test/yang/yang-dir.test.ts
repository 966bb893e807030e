import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IMPORT_ONLY_DIR } from '../../src/yang/compiler.ts';
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

/**
 * yanglint on an import-only module: loaded the way a server loads it, as the import of a module
 * that implements nothing of it (implemented alone, OpenDaylight's openflowplugin type modules
 * would add their protocol-message containers, some with keyless config lists).
 */
async function yanglintImported(name: string, tmp: string): Promise<{ ok: boolean; message: string }> {
  const wrapper = path.join(tmp, `imports-${name}.yang`);
  await writeFile(wrapper, `module imports-${name} { yang-version 1.1; namespace "urn:sextant:test:imports:${name}"; prefix w; import ${name} { prefix x; } }\n`);
  return yanglintModule(wrapper, yangDir);
}

t.test('yang/ directory', async (t) => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sextant-yang-dir-'));
  t.teardown(() => rm(tmp, { recursive: true, force: true }));
  const entries = (await readdir(yangDir)).filter((f) => !f.startsWith('.') && f !== IMPORT_ONLY_DIR).sort();
  const importOnly = (await readdir(path.join(yangDir, IMPORT_ONLY_DIR))).filter((f) => !f.startsWith('.')).sort();
  const files = [...entries, ...importOnly.map((f) => path.join(IMPORT_ONLY_DIR, f))];
  t.ok(entries.length > 0, 'yang/ is not empty');
  for (const file of files) {
    t.test(file, async (t) => {
      const m = NAME_RE.exec(path.basename(file));
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
      const lint = file.startsWith(IMPORT_ONLY_DIR)
        ? await yanglintImported(name, tmp)
        : await yanglintModule(path.join(yangDir, file), yangDir);
      t.ok(lint.ok, `yanglint accepts ${file} without diagnostics`, { message: lint.message });
    });
  }
});
