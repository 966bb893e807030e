/**
 * `scripts/sim-computes --vswitchd` (issue 19 item 6): each simulated compute runs its own
 * ovs-vswitchd on a dummy datapath; its br-int connects to the controller over OpenFlow 1.3 and
 * appears in the operational inventory with the VM ports at their ofports; killing one compute's
 * vswitchd takes only that node away, starting it again brings it back; stop leaves no daemon.
 * Also the CLI: `--vswitchd` as a flag, `--openflow` without it refused.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { testController } from '../../helpers/controller.ts';
import { computesForTest, killVswitchd, ovsEnv, startComputes, startVswitchd, vsctl } from '../../helpers/ovs.ts';
import { untilAsync } from '../../helpers/process.ts';
import { inventoryNodePath } from '../../../src/southbound/openflow/flows.ts';
import type { Node } from '../../../src/bindings/opendaylight-inventory.ts';
import { ownState } from '../../../scripts/sim-computes.ts';

const ofctl = (env: NodeJS.ProcessEnv, ...args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile('ovs-ofctl', ['-O', 'OpenFlow13', ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, out, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(out))),
  );

t.test('computes with ovs-vswitchd: OpenFlow inventory with the VM ports, kill and restart one, stop', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--plugins=none']);
  const sims = await computesForTest(t, { count: 3, vms: 2, controller: `127.0.0.1:${c.ovsdb.port}`, vswitchd: true, openflow: `127.0.0.1:${c.openflow.port}` });
  const node = (dpn: bigint) => c.data.read('operational', inventoryNodePath(dpn)) as Node | undefined;

  for (const compute of sims.computes) {
    const inOvs = await Promise.all(compute.vms.map(async (v) => Number(await vsctl(compute, 'get', 'interface', v.name, 'ofport'))));
    t.same([inOvs, compute.vms.map((v) => v.ofport)], [[1, 2], [1, 2]], `${compute.name}: VM k has ofport k in OVS, and so recorded`);
    t.equal(ownState(compute.vswitchdPid!, compute.dir, 'ovs-vswitchd'), 'running', `${compute.name}: its ovs-vswitchd runs`);
    t.match(await ofctl(ovsEnv(compute), 'show', 'br-int'), /1\(tap\d+-1\)/, `${compute.name}: ovs-ofctl show br-int lists the first VM port`);
  }
  await untilAsync('the three switches in the operational inventory with their VM ports', async () =>
    sims.computes.every((s) => (node(BigInt(s.index))?.['node-connector'] ?? []).filter((n) => /^tap/.test(n['flow-node-inventory:name'] ?? '')).length === 2),
  );
  const first = sims.computes[0];
  const taps = node(BigInt(first.index))!['node-connector']!.filter((n) => /^tap/.test(n['flow-node-inventory:name'] ?? ''));
  t.same(taps.map((n) => [n['flow-node-inventory:name'], n['flow-node-inventory:port-number']]).sort(), first.vms.map((v) => [v.name, v.ofport]), 'node-connectors: the VM ports by name at their ofports');

  await killVswitchd(first);
  t.not(ownState(first.vswitchdPid!, first.dir, 'ovs-vswitchd'), 'running', 'killed');
  await untilAsync(`openflow:${first.index} leaves the operational inventory`, async () => node(BigInt(first.index)) === undefined);
  t.ok(node(BigInt(sims.computes[1].index)), 'the other computes stay');
  await t.resolves(vsctl(first, 'br-exists', 'br-int'), 'its ovsdb-server still serves br-int');

  await startVswitchd(first);
  await untilAsync(`openflow:${first.index} back`, async () => node(BigInt(first.index)) !== undefined);

  const pids = sims.computes.flatMap((s) => [[s.pid, s.dir, 'ovsdb-server'] as const, [s.vswitchdPid!, s.dir, 'ovs-vswitchd'] as const]);
  await sims.stop();
  for (const [pid, dir, daemon] of pids) t.equal(ownState(pid, dir, daemon), 'gone', `${daemon} ${pid} gone after stop`);
  t.notOk(existsSync(sims.dir), 'directory removed');
});

t.test('bad options: openflow without vswitchd, openflow not host:port', async (t) => {
  await t.rejects(startComputes({ count: 1, openflow: '127.0.0.1:1' }), /openflow needs vswitchd/);
  await t.rejects(startComputes({ count: 1, vswitchd: true, openflow: 'nowhere' }), /openflow must be host:port/);
});

t.test('CLI: --vswitchd is a flag; start prints the vswitchd pid and ofports; stop ends both daemons', async (t) => {
  const run = (...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile('scripts/sim-computes', args, { timeout: 60_000 }, (err, out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out, err: stderr })),
    );
  const dir = `/tmp/sim-vswitchd-${process.pid}`;
  const started = await run('start', '--count', '1', '--vms', '1', '--vswitchd', '--dir', dir);
  t.teardown(() => run('stop', '--dir', dir));
  t.equal(started.code, 0, started.err);
  const described = JSON.parse(started.out) as { computes: { vswitchdPid: number; dir: string; vms: { ofport: number }[] }[] };
  t.equal(described.computes[0].vms[0].ofport, 1);
  t.equal(ownState(described.computes[0].vswitchdPid, described.computes[0].dir, 'ovs-vswitchd'), 'running');
  const stopped = await run('stop', '--dir', dir);
  t.equal(stopped.code, 0, stopped.err);
  t.equal(ownState(described.computes[0].vswitchdPid, described.computes[0].dir, 'ovs-vswitchd'), 'gone', 'vswitchd gone after stop');
  const refused = await run('start', '--count', '1', '--openflow', '127.0.0.1:1');
  t.equal(refused.code, 1);
  t.match(refused.err, /openflow needs vswitchd/);
});
