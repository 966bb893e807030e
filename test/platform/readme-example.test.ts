/**
 * The README's plugin example is a working plugin: its text is taken from README.md, loaded next
 * to the real plugins and driven over RESTCONF and its own HTTP listener.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir, writeFiles } from '../helpers/tmp.ts';
import { testController } from '../helpers/controller.ts';
import { computeName } from '../csit/lib/netvirt.ts';
import { waitUntil } from '../csit/lib/wait.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

t.test("the README's plugin example works as written", async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Writing a plugin'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  t.ok(code, 'the README has the example');
  // Its imports are written as from plugins/<name>/index.ts; here it lives in a temp folder.
  const dir = writeFiles(tempDir(t), { 'tombstone-watch/index.ts': code!.replaceAll("'../../src/", `'${ROOT}/src/`), 'package.json': '{"type": "module"}' });
  const c = await testController(t, ['--datastore=memory', `--plugins-dir=${dir}`, '--ops-port=0', '--tombstone-watch-keep=5']);
  t.same(c.plugins.loaded.map((p) => p.name), ['tombstone-watch']);
  const base = c.restconf.url;
  const put = (n: number, tombstoned: boolean) =>
    fetch(`${base}/rests/data/cloudscaler-rpc:compute-nodes/compute-node=${computeName(n)}`, {
      method: 'PUT',
      headers: { authorization: AUTH, 'content-type': 'application/yang-data+json' },
      body: JSON.stringify({ 'cloudscaler-rpc:compute-node': [{ 'compute-name': computeName(n), tombstoned }] }),
    });
  t.equal((await put(1, false)).status, 201);
  t.equal((await put(2, false)).status, 201);
  t.equal((await put(1, true)).status, 204, 'one of two computes may be tombstoned');
  const refused = await put(2, true);
  t.equal(refused.status, 500);
  t.match(await refused.json(), { errors: { error: [{ 'error-tag': 'operation-failed', 'error-app-tag': 'last-compute', 'error-message': 'refused: this would tombstone every compute' }] } }, 'the veto is the client error');
  const ops = c.http.listening().get('ops')!;
  const seen = await waitUntil(5000, 10, async () => {
    const r = (await (await fetch(`${ops.url}/tombstones`, { headers: { authorization: AUTH } })).json()) as { tombstones: { compute: string; tombstoned: boolean }[] };
    if (!r.tombstones.length) throw new Error('nothing seen yet');
    return r.tombstones;
  });
  t.match(seen, [{ compute: computeName(1), tombstoned: true }], 'its listener saw the tombstone, its HTTP route serves it');
  t.equal((await fetch(`${ops.url}/tombstones`)).status, 401, 'behind the platform auth');
});
