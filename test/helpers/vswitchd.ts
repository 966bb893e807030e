/**
 * A real Open vSwitch switch for the OpenFlow tests: its own ovsdb-server (unix socket only) and
 * `ovs-vswitchd --enable-dummy --disable-system` (dummy datapath: no kernel devices), OVS_RUNDIR
 * private, br-int with a fixed datapath id speaking OpenFlow 1.3 to the controller under test.
 * Both daemons are stopped by pid at the test's teardown (the pid checked in /proc first, so a
 * reused pid is never signalled), pass or fail.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tmp.ts';

export interface OvsSwitch {
  dir: string;
  dpid: bigint;
  /** `ovs-ofctl -O OpenFlow13 <args> br-int`-style call with this switch's OVS_RUNDIR. */
  ofctl(...args: string[]): Promise<string>;
  vsctl(...args: string[]): Promise<string>;
  /** `ovs-appctl` to this switch's ovs-vswitchd (bridge/reconnect, ofproto/trace...). */
  appctl(...args: string[]): Promise<string>;
  /** The flows of br-int, normalised (see normaliseFlows). */
  flows(): Promise<string[]>;
  /** Kills ovs-vswitchd (the switch's control connection ends); ovsdb-server stays. */
  killVswitchd(): Promise<void>;
  startVswitchd(): Promise<void>;
  stop(): Promise<void>;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

const pidOf = (pidfile: string) => {
  try {
    return Number(readFileSync(pidfile, 'utf8').trim());
  } catch {
    return 0;
  }
};

/** Signals the daemon whose --pidfile is `pidfile`, if that pid is still it; waits until it is gone. */
async function killOwn(pidfile: string): Promise<void> {
  const pid = pidOf(pidfile);
  if (!(pid > 1)) return;
  const ours = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--pidfile=${pidfile}`) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  if (!ours()) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && ours(); i++) await new Promise((r) => setTimeout(r, 20));
  if (ours()) process.kill(pid, 'SIGKILL');
}

/**
 * Flows as ovs-ofctl dumps them, without what changes on its own (duration, counters, idle age)
 * and sorted: two tables compare equal as sets of these lines.
 */
export function normaliseFlows(dump: string): string[] {
  return dump
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('OFPST_FLOW') && !l.startsWith('NXST_FLOW'))
    .map((l) =>
      l
        .trim()
        .replace(/(duration|n_packets|n_bytes|idle_age|hard_age)=[^,\s]+,?\s*/g, '')
        .replace(/\s+/g, ' ')
        .replace(/, /g, ',')
        .replace(/^,|,$/g, ''),
    )
    .sort();
}

export async function startSwitch(t: { teardown(fn: () => unknown): void }, opts: { dpid: bigint; controllerPort: number | number[]; ports?: string[] }): Promise<OvsSwitch> {
  const dir = tempDir(t, 'sextant-ovs-');
  const env = { OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const db = `unix:${join(dir, 'db.sock')}`;
  const serverPid = join(dir, 'ovsdb-server.pid');
  const vswitchdPid = join(dir, 'ovs-vswitchd.pid');
  const vsctl = (...args: string[]) => run('ovs-vsctl', [`--db=${db}`, '--timeout=15', ...args], env);
  const startVswitchd = async () => {
    await run('ovs-vswitchd', [db, '--enable-dummy', '--disable-system', `--pidfile=${vswitchdPid}`, `--log-file=${join(dir, 'ovs-vswitchd.log')}`, `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`, '--detach', '--no-chdir'], env);
  };
  const sw: OvsSwitch = {
    dir,
    dpid: opts.dpid,
    ofctl: (...args) => run('ovs-ofctl', ['-O', 'OpenFlow13', ...args], env),
    vsctl,
    appctl: (...args) => run('ovs-appctl', ['-t', join(dir, 'ovs-vswitchd.ctl'), ...args], env),
    flows: async () => normaliseFlows(await sw.ofctl('dump-flows', 'br-int')),
    killVswitchd: () => killOwn(vswitchdPid),
    startVswitchd,
    stop: async () => {
      await killOwn(vswitchdPid);
      await killOwn(serverPid);
    },
  };
  t.teardown(() => sw.stop());
  await run('ovsdb-tool', ['create', join(dir, 'conf.db'), '/usr/share/openvswitch/vswitch.ovsschema']);
  await run('ovsdb-server', [join(dir, 'conf.db'), `--remote=punix:${join(dir, 'db.sock')}`, `--pidfile=${serverPid}`, `--log-file=${join(dir, 'ovsdb-server.log')}`, `--unixctl=${join(dir, 'ovsdb-server.ctl')}`, '--detach', '--no-chdir'], env);
  await vsctl('--no-wait', 'init');
  const dpid = opts.dpid.toString(16).padStart(16, '0');
  const add = ['--no-wait', 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=dummy', 'protocols=OpenFlow13', 'fail-mode=secure', `other-config:datapath-id=${dpid}`, 'other-config:disable-in-band=true'];
  for (const [i, p] of (opts.ports ?? []).entries()) add.push('--', 'add-port', 'br-int', p, '--', 'set', 'interface', p, 'type=dummy', `ofport_request=${i + 1}`);
  await vsctl(...add);
  const controllers = [opts.controllerPort].flat().map((p) => `tcp:127.0.0.1:${p}`);
  await vsctl('--no-wait', 'set-controller', 'br-int', ...controllers);
  // Reconnect quickly after the controller goes: the tests restart it.
  const uuids = (await vsctl('--bare', '--columns=_uuid', 'list', 'controller')).split('\n').map((l) => l.trim()).filter(Boolean);
  for (const uuid of uuids) await vsctl('--no-wait', 'set', 'controller', uuid, 'max_backoff=1000', 'inactivity_probe=5000');
  await startVswitchd();
  return sw;
}
