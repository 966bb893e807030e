/**
 * The `sextant` CLI against a started controller with two simulated computes (real
 * ovsdb-servers): each command's stdout and exit code, run in-process through runCli (one spawn
 * of bin/sextant.js proves the launcher). `scalein end --wait` returns only once the test has
 * removed the compute's last port with ovs-vsctl; a wrong password is exit 3 with a clear message.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { testController } from '../helpers/controller.ts';
import { computesForTest, vsctl } from '../helpers/ovs.ts';
import { ROOT, waitUntil } from '../helpers/process.ts';
import { csarOf, onboard, tackerApi, VNFD_ID, VNFD_TEXT } from '../helpers/vnf.ts';

const TOKEN = 'cli-test-token-5e21';
const c = await testController(t, ['--datastore=memory', `--api-token=${TOKEN}`]);
const sims = await computesForTest(t, { count: 2, vms: 1, controller: `127.0.0.1:${c.ovsdb.port}` });
const URL = c.restconf.url;

interface Run {
  code: number;
  out: string;
  err: string;
}

/** One command line, in this process, against the test controller (unless --url is given). */
async function sextant(args: string[], env: NodeJS.ProcessEnv = {}, signal?: AbortSignal): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args[0]?.startsWith('--url') ? args : ['--url', URL, ...args], { out: (s) => (out += s), err: (s) => (err += s), env, signal });
  return { code, out, err };
}
const json = (r: Run) => JSON.parse(r.out);
const computeNodes = () => (c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as { 'compute-name': string }[] | undefined) ?? [];

await waitUntil('both computes registered with their VM port reported', () => {
  const topo = c.data.read('operational', '/network-topology:network-topology/topology=ovsdb%3A1') as { node?: { 'termination-point'?: unknown[] }[] } | undefined;
  return computeNodes().length === 2 && (topo?.node ?? []).filter((n) => (n['termination-point'] ?? []).length >= 1).length === 2;
}, 20_000);

t.test('status and computes: tables and --json', async (t) => {
  const status = await sextant(['status']);
  t.equal(status.code, EXIT.OK, 'status exits 0');
  t.match(status.out, /^computes\s+2 \(0 tombstoned\)$/m, 'two computes, none tombstoned');
  t.match(status.out, /^members\s+\S+ \(leader\)$/m, 'this instance, the leader');
  t.match(json(await sextant(['--json', 'status'])), { url: URL, computes: 2, tombstoned: 0 }, '--json status');

  const computes = await sextant(['computes']);
  t.equal(computes.code, EXIT.OK);
  t.match(computes.out, /^NAME\s+DPN\s+CONNECTED\s+TOMBSTONED\s+PORTS\s+SERVICES\s+NODE$/m, 'a header row');
  t.match(computes.out, /^compute-1\s+1\s+yes\s+no\s+1\s+0\s+ovsdb:/m, 'compute-1: DPN 1, connected, one VM port');
  t.match(computes.out, /^compute-2\s+2\s+yes\s+no\s+1\s+0\s+ovsdb:/m);
  const rows = json(await sextant(['computes', '--json']));
  t.same(rows.map((r: { ports: string[] }) => r.ports), [['tap1-1'], ['tap2-1']], '--json names the ports');
});

t.test('credentials: a wrong password is exit 3 with a clear message; env and flags both work', async (t) => {
  const byEnv = await sextant(['status'], { SEXTANT_PASSWORD: 'not-the-password' });
  const byFlag = await sextant(['--password', 'not-the-password', 'status'], { SEXTANT_PASSWORD: c.config.password });
  for (const [how, r] of [['SEXTANT_PASSWORD', byEnv], ['--password', byFlag]] as const) {
    t.equal(r.code, EXIT.AUTH, `a wrong ${how}: exit 3`);
    t.match(r.err, /authentication failed: .* refused user "admin" \(401\); check --user\/--password or SEXTANT_USER\/SEXTANT_PASSWORD/, `${how}: the message says what to check`);
    t.equal(r.out, '', `${how}: nothing on stdout`);
  }
  t.equal((await sextant(['status'], { SEXTANT_USER: 'admin', SEXTANT_PASSWORD: c.config.password })).code, EXIT.OK, 'the right credentials from the environment: exit 0');
  // The launcher, as a script runs it: credentials and URL from the environment.
  const run = (env: NodeJS.ProcessEnv) =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin/sextant.js'), 'status'], { cwd: '/', env: { ...process.env, SEXTANT_URL: URL, SEXTANT_USER: 'admin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
      t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')));
    });
  const [good, bad] = await Promise.all([run({ SEXTANT_PASSWORD: c.config.password }), run({ SEXTANT_PASSWORD: 'wrong' })]);
  t.equal(good.code, 0, 'bin/sextant.js status from another directory: exit 0');
  t.match(good.out, /computes\s+2/);
  t.equal(bad.code, EXIT.AUTH, 'bin/sextant.js with SEXTANT_PASSWORD wrong: exit 3');
  t.match(bad.err, /authentication failed/);
});

t.test('usage errors and an unreachable controller have their own codes', async (t) => {
  const noIds = await sextant(['scalein', 'start']);
  t.equal(noIds.code, EXIT.USAGE, 'scalein start without computes: exit 2');
  t.match(noIds.err, /missing required argument 'ids'/);
  t.equal((await sextant(['computes', '--colour'])).code, EXIT.USAGE, 'an unknown option: exit 2');
  t.equal((await sextant(['scalein', 'end', 'compute-1', '--wait', '--timeout', 'soon'])).code, EXIT.USAGE, 'a timeout that is no number: exit 2');
  const down = await sextant(['--url', 'http://127.0.0.1:9', 'status']);
  t.equal(down.code, EXIT.UNREACHABLE, 'nothing listening: exit 6');
  t.match(down.err, /cannot reach the controller at http:\/\/127\.0\.0\.1:9/);
});

t.test('scalein preview, start, end (INPROGRESS, timeout, --wait until the last port leaves), recover', async (t) => {
  const preview = await sextant(['scalein', 'preview', 'compute-1']);
  t.equal(preview.code, EXIT.OK);
  t.match(preview.out, /^Preview \(nothing changed; planned from config revision \d+\)$/m);
  t.match(preview.out, /^compute-1\s+1\s+no\s+1 \(tap1-1\)\s+0\s+0\s+\d+$/m, 'compute-1 must lose its VM port tap1-1 before end');
  t.same(json(await sextant(['--json', 'scalein', 'preview', 'openflow:1'])).computes[0]['vm-ports'], ['tap1-1']);
  t.equal(computeNodes().length, 2);

  const unknown = await sextant(['scalein', 'preview', 'compute-9']);
  t.equal(unknown.code, EXIT.ERROR, 'an unknown compute: exit 4');
  t.match(unknown.err, /invalid-value: "compute-9" names no known compute/);

  const start = await sextant(['scalein', 'start', 'compute-1']);
  t.equal(start.code, EXIT.OK);
  t.match(start.out, /^compute-1\s+1\s+yes$/m, 'tombstoned now');
  t.match((await sextant(['scalein', 'start', 'compute-1'])).out, /^compute-1\s+1\s+no \(already tombstoned\)$/m);

  const busy = await sextant(['scalein', 'end', 'compute-1']);
  t.equal(busy.code, EXIT.IN_PROGRESS, 'end while a port is bound: exit 7');
  t.match(busy.out, /^INPROGRESS\ncompute-1: 1 port\(s\) \(tap1-1\), 0 VNFC\(s\) still to leave$/m);

  const late = await sextant(['scalein', 'end', 'compute-1', '--wait', '--interval', '0.2', '--timeout', '0.5']);
  t.equal(late.code, EXIT.TIMEOUT, '--wait that runs out: exit 5');
  t.match(late.err, /timed out after 0\.5 s: still INPROGRESS \(compute-1: 1 port\(s\), 0 VNFC\(s\)\)/);

  let progress = '';
  let removed = false;
  const waiting = runCli(['--url', URL, 'scalein', 'end', 'compute-1', '--wait', '--interval', '0.2', '--timeout', '30'], { out: (s) => (progress += s), err: () => undefined, env: {} });
  let returnedEarly = false;
  void waiting.then(() => (returnedEarly = !removed));
  await waitUntil('the progress view shows the port', () => progress.includes('compute-1: 1 port(s) (tap1-1)'), 15_000);
  const sim = sims.computes.find((s) => s.name === 'compute-1')!;
  removed = true;
  await vsctl(sim, 'del-port', 'br-int', 'tap1-1');
  const code = await waiting;
  t.notOk(returnedEarly, 'end --wait did not return while the port was there');
  t.equal(code, EXIT.OK, 'end --wait: exit 0 once the port left');
  t.match(progress, /compute-1: 1 port\(s\) \(tap1-1\), 0 VNFC\(s\) still to leave\n(.*\n)*DONE: compute-1 removed\n$/, 'progress, then DONE');
  t.same(computeNodes().map((n) => n['compute-name']), ['compute-2'], 'compute-1 is gone from the registry');

  const recover = await sextant(['scalein', 'recover', 'compute-2']);
  t.equal(recover.code, EXIT.OK);
  t.match(recover.out, /^compute-2\s+2\s+no \(already in service\)$/m);
});

t.test('notifications: the logged ones, and --follow', async (t) => {
  const logged = await sextant(['notifications']);
  t.equal(logged.code, EXIT.OK, 'without --follow it ends after the replay');
  t.match(logged.out, /^\S+Z\s+scalein-api:compute-tombstoned\s+\{"compute-name":"compute-1","dpn-id":"1",/m, 'the tombstone of compute-1');

  const since = new Date().toISOString();
  const following = sextant(['notifications', '--follow', '--since', since, '--count', '2', '--json']);
  await sextant(['scalein', 'start', 'compute-2']);
  await sextant(['scalein', 'recover', 'compute-2']);
  const r = await following;
  t.equal(r.code, EXIT.OK, 'ends after --count events');
  const events = r.out.trim().split('\n').map((l) => JSON.parse(l)['ietf-restconf:notification']);
  t.match(events, [{ 'scalein-api:compute-tombstoned': { 'compute-name': 'compute-2' } }, { 'scalein-api:compute-recovered': { 'compute-name': 'compute-2' } }], 'start then recover of compute-2, as RFC 8040 JSON events');
});

t.test('vim list, cluster list/show, vnf list/show', async (t) => {
  const tx = c.data.transaction('config');
  tx.put('/sextant-nfv-vim:vims/vim=vim-a', { 'vim-id': 'vim-a', name: 'lab', type: 'openstack', 'auth-url': 'http://127.0.0.1:9/identity/v3', monitor: { interval: '1', timeout: '0.5' } });
  await tx.commit();
  await waitUntil('the VIM monitor judged vim-a', () => (c.data.read('operational', '/sextant-nfv-vim:vim-states/vim-state=vim-a') as { status?: string } | undefined)?.status === 'UNREACHABLE', 15_000);
  const vims = await sextant(['vim', 'list']);
  t.equal(vims.code, EXIT.OK);
  t.match(vims.out, /^vim-a\s+lab\s+openstack\s+UNREACHABLE\s+\S+\s+http:\/\/127\.0\.0\.1:9\/identity\/v3$/m, 'vim-a is UNREACHABLE, as the monitor says');

  const made = await fetch(`${URL}/rests/data`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`admin:${c.config.password}`).toString('base64')}`, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({
      'sextant-clustering:clustering': {
        profile: [{ id: 'web', name: 'web', type: 'os.nova.server-1.0', network: '11111111-2222-4333-8444-555555555555', flavor: 'm1.tiny', image: 'cirros' }],
        cluster: [{ id: 'c1', name: 'web-cluster', profile: 'web', 'min-size': 0, 'max-size': 2, 'desired-capacity': 1 }],
      },
    }),
  });
  t.equal(made.status, 201, 'a profile and a one-node cluster over RESTCONF');
  const node = () => ((c.data.read('operational', '/sextant-clustering:clustering-state/cluster=c1') as { node?: { status?: string; compute?: string }[] } | undefined)?.node ?? [])[0];
  await waitUntil('the node is ACTIVE (its port reported by OVS)', () => node()?.status === 'ACTIVE', 20_000);
  const list = await sextant(['cluster', 'list']);
  t.equal(list.code, EXIT.OK);
  t.match(list.out, /^c1\s+web-cluster\s+\S+\s+1\s+1\s+0\s+2$/m, 'c1: one node, desired 1, min 0, max 2');
  const show = await sextant(['cluster', 'show', 'web-cluster']);
  t.equal(show.code, EXIT.OK);
  t.match(show.out, new RegExp(`^\\S+\\s+ACTIVE\\s+compute-2\\s+\\S+$`, 'm'), 'its node, ACTIVE on compute-2 (the only compute left)');
  const missing = await sextant(['cluster', 'show', 'nope']);
  t.equal(missing.code, EXIT.ERROR, 'an unknown cluster: exit 4');
  t.match(missing.err, /no cluster "nope"/);

  const tacker = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
  await onboard(tacker, csarOf(VNFD_TEXT));
  const id = (await tacker('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID, vnfInstanceName: 'vnf-cli' })).json.id as string;
  const vnfs = await sextant(['vnf', 'list']);
  t.equal(vnfs.code, EXIT.OK);
  t.match(vnfs.out, new RegExp(`^${id}\\s+vnf-cli\\s+NOT_INSTANTIATED\\s+${VNFD_ID}\\s+0\\s+-$`, 'm'), 'the VNF created through the Tacker API');
  const one = await sextant(['vnf', 'show', 'vnf-cli', '--json']);
  t.match(json(one), { id, name: 'vnf-cli', 'instantiation-state': 'NOT_INSTANTIATED' });
  t.equal((await sextant(['vnf', 'show', 'nope'])).code, EXIT.ERROR);
});
