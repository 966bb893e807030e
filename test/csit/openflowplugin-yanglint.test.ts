/**
 * The openflowplugin CSIT bodies (test/csit/openflowplugin/, provenance in openflowplugin.test.ts)
 * as whole config documents, judged by our codec and by yanglint (libyang) over the same yang/
 * directory: OpenDaylight's flow-node-inventory with its import-only type modules. Both accept
 * every body the suites send and both refuse the unused ones that break OpenDaylight's own model
 * and the Nicira extension body whose module we do not serve.
 *
 * One known difference: 31 flow bodies write numbers in hexadecimal (`<type>0x800</type>`,
 * `<out_port>0xffffffff</out_port>`). OpenDaylight's integer codec reads them, and so does ours
 * (XmlComparator.py compares `type` and `out_port` as numbers for that reason); libyang follows
 * RFC 7950 section 9.2.1, which allows hexadecimal only in a module's defaults, and refuses them.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadSchema } from '../../src/yang/compiler.ts';
import { validateTree } from '../../src/yang/validate.ts';
import { decodeXmlObject, readXml } from '../../src/yang/xml.ts';
import { YANGLINT } from '../yang/yanglint.ts';
import { childText, parseXml } from './lib/xml.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const YANG = path.join(ROOT, 'yang');
const BODIES = path.join(import.meta.dirname, 'openflowplugin');
const schema = await loadSchema(YANG);
const implemented = (await readdir(YANG)).filter((f) => f.endsWith('.yang')).map((f) => path.join(YANG, f));
const tmp = await mkdtemp(path.join(os.tmpdir(), 'sextant-ofp-yanglint-'));
t.teardown(() => rm(tmp, { recursive: true, force: true }));

/** Refused by OpenDaylight's model (or needing a module we do not serve); see openflowplugin.test.ts. */
const REFUSED = ['xmls/g1.xml', 'xmls/g2.xml', 'xmls/m1.xml', 'xmls/m2.xml', 'xmls/m3.xml', 'xmls/f550.xml'];

const files: string[] = [];
for (const dir of ['xmls', 'variables', 'frm']) {
  for (const f of (await readdir(path.join(BODIES, dir))).filter((n) => n.endsWith('.xml'))) files.push(`${dir}/${f}`);
}

/** The body without its XML declaration, under node openflow:1 (a flow inside its table). */
async function nodeContent(file: string): Promise<string> {
  const text = (await readFile(path.join(BODIES, file), 'utf8')).replace(/^<\?xml[^>]*\?>\s*/, '');
  const root = parseXml(text);
  if (root.name !== 'flow') return text;
  return `<table xmlns="urn:opendaylight:flow:inventory"><id>${childText(root, 'table_id')}</id>${text}</table>`;
}

const document = (content: string[]) =>
  `<nodes xmlns="urn:opendaylight:inventory"><node><id>openflow:1</id>${content.join('')}</node></nodes>`;

function ours(text: string): string | undefined {
  try {
    const tree = decodeXmlObject(schema, undefined, readXml(text, { fragment: true }), '', { configOnly: true });
    validateTree(schema, tree, { configOnly: true });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

let n = 0;
async function yanglint(text: string): Promise<string | undefined> {
  const file = path.join(tmp, `doc${++n}.xml`);
  await writeFile(file, text);
  return new Promise((resolve, reject) => {
    execFile(YANGLINT, ['-p', YANG, '-t', 'config', ...implemented, file], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      const message = (String(stderr) + String(stdout)).trim();
      resolve(!err && message === '' ? undefined : message || `exit ${String(err?.code)}`);
    });
  });
}

t.test('every body the suites send, one document each: accepted by both', async (t) => {
  // Bodies reuse ids (several flows are flow 1 of table 0): one document per body keeps keys unique.
  const accepted = files.filter((f) => !REFUSED.includes(f));
  t.ok(accepted.length >= 100, `${accepted.length} bodies`);
  for (const file of accepted) {
    const doc = document([await nodeContent(file)]);
    const mine = ours(doc);
    t.notOk(mine, `${file}: our codec accepts it`, { error: mine });
    const theirs = await yanglint(doc);
    if (/>\s*0x[0-9a-fA-F]+\s*</.test(doc)) {
      t.match(theirs ?? '', /Invalid type u?int\d+ value "0x[0-9a-fA-F]+"/, `${file}: yanglint refuses only its hexadecimal number`);
      const decimal = doc.replace(/>\s*(0x[0-9a-fA-F]+)\s*</g, (_, hex: string) => `>${BigInt(hex)}<`);
      const again = await yanglint(decimal);
      t.notOk(again, `${file}: written in decimal, yanglint accepts it`, { error: again });
    } else {
      t.notOk(theirs, `${file}: yanglint accepts it`, { error: theirs });
    }
  }
});

t.test('the bodies refused: refused by both', async (t) => {
  for (const file of REFUSED) {
    const doc = document([await nodeContent(file)]);
    const mine = ours(doc);
    t.ok(mine, `${file}: our codec refuses it: ${mine}`);
    const theirs = await yanglint(doc);
    t.ok(theirs, `${file}: yanglint refuses it: ${theirs?.split('\n')[0]}`);
  }
});
