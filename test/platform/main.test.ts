/**
 * `npm start` as an operator sees it: one ready line saying where the data is, a clean stop on
 * SIGTERM, a clear refusal for a second instance on the same data dir, for a broken YANG module
 * and for a bad flag.
 */
import t from 'tap';
import { join } from 'node:path';
import { readyOf, startMain, waitUntil } from '../helpers/process.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';

t.test('starts, says it is ready, refuses a second instance, stops on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const first = startMain(t, [`--data-dir=${dir}`, '--restconf-port=0']);
  t.match((await readyOf(first)).msg, new RegExp(`datastore LevelDB at ${dir}, \\d+ YANG modules, plugins: cloudscaler, autoscaling, elections, neutron-northbound, toaster, tunnels, vim-monitor, vnf, RESTCONF at http://127\\.0\\.0\\.1:\\d+, NETCONF \\(SSH\\) at 127\\.0\\.0\\.1:\\d+, OVSDB manager at 127\\.0\\.0\\.1:\\d+, OpenFlow at 127\\.0\\.0\\.1:\\d+(, clustering API at http://127\\.0\\.0\\.1:\\d+)?(, neutron API at http://127\\.0\\.0\\.1:\\d+)?(, tacker API at http://127\\.0\\.0\\.1:\\d+)?$`), 'the ready line says where the data is, what runs and where RESTCONF, NETCONF and the plugin APIs listen');
  t.match(first.stdout(), /default credentials admin\/admin/, 'unchanged default credentials are warned about');

  const second = startMain(t, [`--data-dir=${dir}`, '--restconf-port=0']);
  t.equal(await second.exited, 1, 'a second instance on the same data dir exits with 1');
  t.match(second.stderr(), /cannot open the datastore: data dir .* is in use by another process/);
  t.notMatch(second.stderr(), /\n\s+at /, 'no stack trace');

  first.child.kill('SIGTERM');
  t.equal(await first.exited, 0, 'SIGTERM stops it cleanly');
  t.match(first.stdout(), /SIGTERM received, stopping/);
  t.match(first.stdout(), /sextant stopped/);

  const third = startMain(t, [`--data-dir=${dir}`, '--restconf-port=0']);
  await waitUntil('the ready line after restart', () => /sextant ready/.test(third.stdout()));
  t.pass('the lock was released: the same data dir opens again');
  third.child.kill('SIGINT');
  t.equal(await third.exited, 0, 'SIGINT stops it too');
});

t.test('a broken YANG module stops start-up with file and line', async (t) => {
  const yang = writeFiles(tempDir(t), { 'bad@2026-01-01.yang': 'module bad {\n  namespace "urn:bad";\n  prefix b;\n  revision 2026-01-01;\n  leaf x { type nosuch; }\n}\n' });
  const p = startMain(t, [`--data-dir=${tempDir(t)}`, `--yang-dir=${yang}`, '--restconf-port=0']);
  t.equal(await p.exited, 1);
  t.match(p.stderr(), new RegExp(`YANG error: ${join(yang, 'bad@2026-01-01.yang')}:5: typedef "nosuch" not found`));
});

t.test('a bad flag is refused with exit 2', async (t) => {
  const p = startMain(t, ['--no-such-flag']);
  t.equal(await p.exited, 2);
  t.match(p.stderr(), /unknown option --no-such-flag/);
});
