/**
 * The simulated computes themselves (scripts/sim-computes.ts via test/helpers/ovs.ts): real
 * ovsdb-servers with the database a compute has, reachable over their unix socket and their own
 * TCP port, surviving a kill and restart with their data and port, connecting to a manager, and
 * stopped by pid. No default port (6640) is used anywhere.
 */
import t from 'tap';
import { connect, createServer, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { computesForTest, killCompute, restartCompute, startComputes, vsctl, type SimCompute } from '../helpers/ovs.ts';

/** One JSON-RPC request over a fresh TCP connection to the compute's own port (the test's net.connect). */
function rpcOverTcp(port: number, method: string, params: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let buf = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`no answer on port ${port}`))), 5_000);
    s.on('error', (e) => (clearTimeout(timer), reject(e)));
    s.on('connect', () => s.write(JSON.stringify({ id: 1, method, params })));
    s.on('data', (d) => {
      buf += d;
      try {
        const msg = JSON.parse(buf) as { id: unknown; result: unknown };
        clearTimeout(timer);
        s.destroy();
        resolve(msg.result);
      } catch {
        // not complete yet
      }
    });
  });
}

const isGone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
};

t.test('three computes with bridge, datapath id, local_ip and VM ports', async (t) => {
  const sims = await computesForTest(t, { count: 3, vms: 2 });
  t.equal(sims.computes.length, 3);
  t.same(sims.computes.map((c) => c.name), ['compute-1', 'compute-2', 'compute-3']);
  t.equal(new Set(sims.computes.map((c) => c.port)).size, 3, 'a TCP port each');
  t.notOk(sims.computes.some((c) => c.port === 6640), 'never the default OVSDB port');
  t.ok(existsSync(`${sims.dir}/computes.json`), 'computes.json written');

  for (const c of sims.computes) {
    t.equal(await vsctl(c, 'br-get-external-id', 'br-int'), '', `${c.name}: br-int exists, no external-ids yet`);
    t.equal(await vsctl(c, 'get', 'open_vswitch', '.', 'other_config:local_ip'), `"${c.localIp}"`, `${c.name}: local_ip ${c.localIp}`);
    t.equal(await vsctl(c, 'list-ports', 'br-int'), c.vms.map((v) => v.name).sort().join('\n'), `${c.name}: VM ports`);
    t.equal(await vsctl(c, 'get', 'bridge', 'br-int', 'other_config:datapath-id'), `"${c.datapathId}"`, `${c.name}: datapath id`);
    t.match(c.datapathId, /^[0-9a-f]{16}$/);
    t.equal(await vsctl(c, 'get', 'bridge', 'br-int', 'other_config:dp-desc'), c.name, `${c.name}: dp-desc`);
    for (const vm of c.vms) t.equal(await vsctl(c, 'get', 'interface', vm.name, 'external_ids:iface-id'), `"${vm.ifaceId}"`, `${vm.name}: iface-id`);
    t.same(await vsctl(c, 'get-manager'), '', 'no controller given, no manager');
  }
  t.equal(new Set(sims.computes.map((c) => c.localIp)).size, 3, 'distinct local_ips');
  t.equal(new Set(sims.computes.flatMap((c) => c.vms.map((v) => v.ifaceId))).size, 6, 'distinct iface-ids');

  await t.rejects(vsctl(sims.computes[0], 'get', 'bridge', 'br-nope', 'name'), /no row "br-nope"/, 'vsctl rejects with ovs-vsctl\'s stderr');
});

t.test('kill and restart: same data, same TCP port', async (t) => {
  const sims = await computesForTest(t, { count: 1, vms: 1, first: 7 });
  const c: SimCompute = sims.computes[0];
  t.equal(c.name, 'compute-7');
  t.equal(c.localIp, '127.0.0.17');
  const { pid: before, port } = c;
  t.ok(((await rpcOverTcp(port, 'list_dbs', [])) as string[]).includes('Open_vSwitch'), 'answers on its TCP port');

  await killCompute(c);
  await t.rejects(rpcOverTcp(port, 'list_dbs', []), 'nothing answers on the port once killed');
  await restartCompute(c);
  t.not(c.pid, before, 'a new pid, recorded in c.pid');
  t.equal(c.port, port, 'the same port');
  t.match(await vsctl(c, 'list-ports', 'br-int'), new RegExp(`^${c.vms[0].name}$`, 'm'), 'the port is still listed');
  const dbs = (await rpcOverTcp(port, 'list_dbs', [])) as string[];
  t.ok(dbs.includes('Open_vSwitch'), 'the same TCP port answers again');
});

t.test('the manager is set last and ovsdb-server connects to it', async (t) => {
  // A stand-in controller on a free port: asks each connecting compute for its bridges.
  const seen: unknown[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      try {
        const msg = JSON.parse(buf) as { id: unknown; result?: { rows: unknown[] }[] };
        buf = '';
        if (msg.id === 'q') seen.push(msg.result?.[0].rows);
      } catch {
        // not complete yet
      }
    });
    s.on('error', () => {});
    s.write(JSON.stringify({ id: 'q', method: 'transact', params: ['Open_vSwitch', { op: 'select', table: 'Bridge', where: [], columns: ['name', 'other_config'] }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const sims = await computesForTest(t, { count: 2, controller: `127.0.0.1:${port}` });
  const end = Date.now() + 10_000;
  while (seen.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  t.equal(seen.length, 2, 'both computes connected to the manager');
  t.same(seen.map((rows) => (rows as { name: string }[])[0]?.name), ['br-int', 'br-int'], 'each with its bridge already there');
  t.equal(await vsctl(sims.computes[0], 'get-manager'), `tcp:127.0.0.1:${port}`);
});

t.test('stop() leaves none of its ovsdb-servers alive, and removes the directory', async (t) => {
  const sims = await startComputes({ count: 3, vms: 1 });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : sims.stop()));
  const pids = sims.computes.map((c) => c.pid);
  t.ok(pids.every((p) => !isGone(p)), 'all running');
  await sims.stop();
  stopped = true;
  for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
  t.notOk(existsSync(sims.dir), 'directory removed');
});
