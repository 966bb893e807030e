/**
 * The command line as the README describes it: `--help` lists the options (the platform's and
 * the plugins') and starts nothing; `./sextant.json` is read when present in the working
 * directory (and only then); `--bind-address` is where every server listens.
 */
import t from 'tap';
import { readyOf, startMain } from '../helpers/process.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';


t.test('--help lists the platform and plugin options with their defaults, exits 0 and starts nothing', async (t) => {
  const p = startMain(t, ['--help', `--data-dir=${tempDir(t)}`]);
  t.equal(await p.exited, 0, 'exit 0');
  const out = p.stdout() + p.stderr();
  t.match(out, /--bind-address\s+address the northbound and southbound servers listen on \(env SEXTANT_BIND_ADDRESS, default 127\.0\.0\.1\)/, 'a platform option, with its variable and default');
  t.match(out, /--replay-log-size/, 'the replay log size');
  t.match(out, /--elections-restart-hold-ms/, "a plugin's option");
  t.notMatch(out, /sextant ready/, 'nothing was started');
});

t.test('./sextant.json is read when present in the working directory, and not otherwise', async (t) => {
  // bind-address from the file: the ready line shows every server on it.
  const withFile = writeFiles(tempDir(t), { 'sextant.json': JSON.stringify({ 'bind-address': '127.0.0.2' }) });
  // The port as a flag: if the file were not read, no default port is taken on a shared machine.
  const a = startMain(t, [`--data-dir=${tempDir(t)}`, '--restconf-port=0'], {}, withFile);
  const line = (await readyOf(a)).msg;
  t.match(line, /RESTCONF at http:\/\/127\.0\.0\.2:\d+, NETCONF \(SSH\) at 127\.0\.0\.2:\d+, OVSDB manager at 127\.0\.0\.2:\d+/, 'the file in the working directory set bind-address');
  const url = /RESTCONF at (http:\/\/[0-9.:]+)/.exec(line)![1];
  const r = await fetch(`${url}/rests/data/toaster:toaster?content=nonconfig`, { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } });
  t.equal(r.status, 200, 'and RESTCONF answers there');
  a.child.kill('SIGTERM');
  t.equal(await a.exited, 0, 'SIGTERM stops it cleanly');

  // The same directory without the file: the default address.
  const without = tempDir(t);
  const b = startMain(t, [`--data-dir=${tempDir(t)}`, '--restconf-port=0'], {}, without);
  t.match((await readyOf(b)).msg, /RESTCONF at http:\/\/127\.0\.0\.1:\d+/, 'without ./sextant.json the default bind-address');
  b.child.kill('SIGTERM');
  t.equal(await b.exited, 0, 'SIGTERM stops it cleanly');
});

t.test('--bind-address given as a flag moves every server, and nothing listens on the default address', async (t) => {
  const p = startMain(t, [`--data-dir=${tempDir(t)}`, '--restconf-port=0', '--bind-address=127.0.0.3']);
  const line = (await readyOf(p)).msg;
  t.match(line, /RESTCONF at http:\/\/127\.0\.0\.3:\d+, NETCONF \(SSH\) at 127\.0\.0\.3:\d+, OVSDB manager at 127\.0\.0\.3:\d+/, 'every server on 127.0.0.3');
  const port = /RESTCONF at http:\/\/127\.0\.0\.3:(\d+)/.exec(line)![1];
  const auth = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
  t.equal((await fetch(`http://127.0.0.3:${port}/rests/data/toaster:toaster?content=nonconfig`, { headers: auth })).status, 200, 'RESTCONF answers on 127.0.0.3');
  await t.rejects(fetch(`http://127.0.0.1:${port}/rests/data/toaster:toaster?content=nonconfig`, { headers: auth }), { cause: { code: 'ECONNREFUSED' } }, 'and not on 127.0.0.1');
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0, 'SIGTERM stops it cleanly');
});
