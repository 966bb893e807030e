/**
 * Simulated OpenStack computes for the OVSDB southbound: each one is a REAL ovsdb-server (Debian's
 * openvswitch) serving its own Open_vSwitch database, filled in with ovs-vsctl the way Neutron's
 * agent and an operator would (br-int with dp-desc and datapath-id, local_ip, VM tap ports), and
 * optionally pointed at a controller with `set-manager`. With `vswitchd`, each compute also runs
 * `ovs-vswitchd --enable-dummy --disable-system` (a dummy datapath, no kernel devices): br-int and
 * the VM ports are dummy devices with fixed ofports (VM k is ofport k), and br-int speaks
 * OpenFlow 1.3 to `openflow` (`set-controller tcp:HOST:PORT`) when that is given.
 *
 * This file holds the one copy of the logic: it is the CLI behind scripts/sim-computes and the
 * library that test/helpers/ovs.ts re-exports for the tap tests.
 *
 *   scripts/sim-computes start --count N [--controller 127.0.0.1:PORT] [--dir DIR] [--vms K] [--first 1]
 *                              [--vswitchd [--openflow 127.0.0.1:PORT]]
 *       → one JSON line on stdout (also written to DIR/computes.json)
 *   scripts/sim-computes stop --dir DIR
 *       → stops exactly the ovsdb-servers (and ovs-vswitchds) listed in DIR/computes.json, then removes DIR
 *
 * Processes are only ever signalled by pid, and only after /proc shows that the pid is still the
 * ovsdb-server started for that compute (its --pidfile argument names the compute's directory),
 * so a pid reused by another process is never killed.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';

export const OVSDB_SERVER = '/usr/sbin/ovsdb-server';
export const OVSDB_TOOL = '/usr/bin/ovsdb-tool';
export const OVS_VSCTL = '/usr/bin/ovs-vsctl';
export const OVS_VSWITCHD = '/usr/sbin/ovs-vswitchd';
export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';

/** How many computes are created at once by startComputes. */
const PARALLEL = 8;

export interface SimVm {
  name: string;
  ifaceId: string;
  /** Its OpenFlow port on br-int (with vswitchd only). */
  ofport?: number;
}

export interface SimCompute {
  name: string;
  index: number;
  dir: string;
  socket: string;
  port: number;
  pid: number;
  datapathId: string;
  localIp: string;
  vms: SimVm[];
  /** The compute's ovs-vswitchd (with vswitchd only). */
  vswitchdPid?: number;
}

export interface SimComputes {
  dir: string;
  computes: SimCompute[];
  /** Stops every ovsdb-server started here (by pid) and removes dir. */
  stop(): Promise<void>;
}

export interface StartOptions {
  count: number;
  /** host:port of the controller; when omitted no manager is set. */
  controller?: string;
  /** VM tap ports per compute (0..999). */
  vms?: number;
  /** Index of the first compute (default 1). */
  first?: number;
  /** Directory to create the computes in (created if missing); default a fresh one under os.tmpdir(). */
  dir?: string;
  /** Also run one ovs-vswitchd per compute (dummy datapath). */
  vswitchd?: boolean;
  /** host:port of the controller's OpenFlow listener, for br-int's set-controller (with vswitchd). */
  openflow?: string;
}

// ---------------------------------------------------------------------------------------------
// Naming: everything about compute i is derived from i, so runs are reproducible.

/** The datapath id of compute i: 16 hex digits, as OVS wants other_config:datapath-id. */
export const datapathIdOf = (i: number): string => i.toString(16).padStart(16, '0');

/** A unique loopback address for compute i (127.0.0.11 .. 127.0.0.250, then 127.0.1.x and up). */
export function localIpOf(i: number): string {
  if (i <= 240) return `127.0.0.${i + 10}`;
  const third = Math.floor(i / 250) + 1;
  if (third > 255) throw new Error(`compute index ${i} is too large for a 127/8 local_ip`);
  return `127.0.${third}.${(i % 250) + 1}`;
}

/** The Neutron port uuid (iface-id) of VM k on compute i: deterministic, unique while k < 1000. */
export const ifaceIdOf = (i: number, k: number): string => `00000003-0000-4000-8000-${(i * 1000 + k).toString(16).padStart(12, '0')}`;

/** The two daemons a compute may run; each writes DIR/<daemon>.pid, which /proc checks look for. */
export type Daemon = 'ovsdb-server' | 'ovs-vswitchd';
const pidfileOf = (dir: string, daemon: Daemon = 'ovsdb-server') => join(dir, `${daemon}.pid`);

// ---------------------------------------------------------------------------------------------
// Running the OVS tools.

interface RunResult {
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs = 15_000, env?: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20, ...(env ? { env: { ...process.env, ...env } } : {}) }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).trim() || err.message;
        reject(new Error(`${file.split('/').pop()} ${args.join(' ')}: ${why}`));
      } else resolvePromise({ stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** ovs-vsctl against one compute's database; resolves with the trimmed stdout, rejects with stderr. */
export async function vsctl(c: SimCompute, ...args: string[]): Promise<string> {
  // --no-wait: by default ovs-vsctl waits until ovs-vswitchd has applied the change (next_cfg ==
  // cur_cfg). No ovs-vswitchd runs here, so without it every command would block forever.
  // --timeout bounds a call to an ovsdb-server that is down (e.g. after killCompute).
  return (await run(OVS_VSCTL, [`--db=unix:${c.socket}`, '--no-wait', '--timeout=10', ...args])).stdout.trim();
}

/** Points the compute's OVS at a controller (host:port), as `ovs-vsctl set-manager tcp:...` does. */
export async function setManager(c: SimCompute, controller: string): Promise<void> {
  await vsctl(c, 'set-manager', `tcp:${controller}`);
}

// ---------------------------------------------------------------------------------------------
// Processes: owned by pid, checked through /proc.

const HAVE_PROC = existsSync('/proc/self/stat');

/**
 * What pid is, as far as the compute in dir is concerned: 'running' (the ovsdb-server started for
 * dir), 'zombie' (dead, not yet reaped by init: it holds no socket or port any more) or 'gone'
 * (no such process, or a process that is not ours, e.g. after pid reuse).
 */
export function ownState(pid: number, dir: string, daemon: Daemon = 'ovsdb-server'): 'running' | 'zombie' | 'gone' {
  if (!Number.isInteger(pid) || pid <= 1) return 'gone';
  if (!HAVE_PROC) {
    // No /proc: the best we can do is to ask the kernel whether the pid exists.
    try {
      process.kill(pid, 0);
      return 'running';
    } catch {
      return 'gone';
    }
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ...": comm may contain spaces or parentheses, so cut at the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return comm === daemon ? 'zombie' : 'gone';
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(`--pidfile=${pidfileOf(dir, daemon)}`) ? 'running' : 'gone';
  } catch {
    return 'gone'; // ENOENT: exited (and reaped) between the reads, or never existed
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, timeoutMs: number, intervalMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= end) return false;
    await sleep(intervalMs);
  }
}

/** Sends signal to pid only if it is still the daemon of dir. */
function signalOwn(pid: number, dir: string, signal: NodeJS.Signals, daemon: Daemon = 'ovsdb-server'): void {
  if (ownState(pid, dir, daemon) !== 'running') return;
  try {
    process.kill(pid, signal);
  } catch {
    // exited meanwhile
  }
}

/** The pid in the compute's pidfile, if any. */
function pidfilePid(dir: string, daemon: Daemon = 'ovsdb-server'): number | undefined {
  try {
    const pid = Number(readFileSync(pidfileOf(dir, daemon), 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The candidate pids of a compute's daemon: the pidfile's and the recorded one (after a restart elsewhere they may differ). */
function pidsOf(dir: string, daemon: Daemon, recorded: number | undefined): number[] {
  return [...new Set([pidfilePid(dir, daemon), recorded].filter((p): p is number => p !== undefined && p > 1))];
}

/**
 * Stops the compute's ovsdb-server: SIGTERM, up to termMs for it to exit, then SIGKILL. Resolves
 * once it no longer runs; with waitReaped, also waits (bounded) until init has reaped it, so that
 * process.kill(pid, 0) throws ESRCH afterwards. --detach makes ovsdb-server a child of init, not of
 * us: we cannot reap it ourselves, and some inits reap only every second or so.
 */
async function stopServer(c: Pick<SimCompute, 'dir' | 'pid'>, termMs: number, waitReaped: boolean): Promise<void> {
  await stopDaemon(c.dir, 'ovsdb-server', c.pid, termMs, waitReaped);
}

/** stopServer for either daemon of the compute in dir (`recorded`: the pid we were told at its start). */
async function stopDaemon(dir: string, daemon: Daemon, recorded: number | undefined, termMs: number, waitReaped: boolean): Promise<void> {
  for (const pid of pidsOf(dir, daemon, recorded)) {
    if (termMs > 0) {
      signalOwn(pid, dir, 'SIGTERM', daemon);
      if (await waitFor(() => ownState(pid, dir, daemon) !== 'running', termMs)) {
        if (waitReaped) await waitFor(() => ownState(pid, dir, daemon) === 'gone', 5_000, 50);
        continue;
      }
    }
    signalOwn(pid, dir, 'SIGKILL', daemon);
    if (!(await waitFor(() => ownState(pid, dir, daemon) !== 'running', 5_000))) throw new Error(`${daemon} pid ${pid} (${dir}) survived SIGKILL`);
    if (waitReaped) await waitFor(() => ownState(pid, dir, daemon) === 'gone', 5_000, 50);
  }
}

/**
 * The environment for OVS tools aimed at this compute's ovs-vswitchd: its run dir holds the
 * bridges' management sockets (br-int.mgmt), which would collide between computes in the default
 * one. `ovs-ofctl br-int` and `ovs-appctl` find this compute's switch with it.
 */
export const ovsEnv = (c: Pick<SimCompute, 'dir'>): NodeJS.ProcessEnv => ({ OVS_RUNDIR: c.dir, OVS_DBDIR: c.dir, OVS_LOGDIR: c.dir });

/** Stops the compute's ovs-vswitchd (SIGTERM, termMs, SIGKILL; by verified pid); its ovsdb-server stays. */
export async function killVswitchd(c: SimCompute, termMs = 0): Promise<void> {
  await stopDaemon(c.dir, 'ovs-vswitchd', c.vswitchdPid, termMs, false);
}

/**
 * Starts the compute's ovs-vswitchd (detached) on its database's unix socket; resolves once every
 * VM port has the ofport it requested (VM k at k), so callers can rely on them.
 */
export async function startVswitchd(c: SimCompute): Promise<void> {
  const dir = c.dir;
  await run(OVS_VSWITCHD, [
    `unix:${c.socket}`,
    '--enable-dummy',
    '--disable-system',
    `--pidfile=${pidfileOf(dir, 'ovs-vswitchd')}`,
    `--log-file=${join(dir, 'ovs-vswitchd.log')}`,
    `--unixctl=${join(dir, 'ovs-vswitchd.ctl')}`,
    '--detach',
    '--no-chdir',
  ], 15_000, ovsEnv(c));
  const pid = pidfilePid(dir, 'ovs-vswitchd');
  if (pid === undefined) throw new Error(`ovs-vswitchd in ${dir} wrote no pidfile`);
  c.vswitchdPid = pid;
  if (c.vms.length === 0) return;
  // One ovs-vsctl for all the ports: it watches the database until each has its ofport (or times out).
  await vsctl(c, ...c.vms.flatMap((vm, k) => [...(k ? ['--'] : []), 'wait-until', 'interface', vm.name, `ofport=${k + 1}`])).catch((e: Error) => {
    throw new Error(`${c.name}: the VM ports did not get their ofports from ovs-vswitchd: ${e.message}`);
  });
  c.vms.forEach((vm, k) => (vm.ofport = k + 1));
}

/** SIGKILLs the compute's ovsdb-server and waits until it is dead; conf.db stays, for restartCompute. */
export async function killCompute(c: SimCompute): Promise<void> {
  await stopServer(c, 0, false);
}

// ---------------------------------------------------------------------------------------------
// Starting ovsdb-server.

/** Ports handed out by this process and not yet released: parallel starts must not pick the same one. */
const portsInUse = new Set<number>();

class PortTaken extends Error {}

/**
 * Starts ovsdb-server (detached) on dir/conf.db with the unix socket, the TCP port and the
 * manager_options remotes; resolves with its pid once it listens on port. ovsdb-server binds its
 * remotes before its --detach parent exits, and a failed bind is only logged (it retries forever),
 * so the fresh part of the log tells whether the port was ours.
 */
async function launch(dir: string, port: number): Promise<number> {
  const log = join(dir, 'ovsdb-server.log');
  const logStart = existsSync(log) ? statSync(log).size : 0;
  const args = [
    join(dir, 'conf.db'),
    `--remote=punix:${join(dir, 'db.sock')}`,
    `--remote=ptcp:${port}:127.0.0.1`,
    // The Manager table: `set-manager tcp:host:port` makes this ovsdb-server connect out to the controller.
    '--remote=db:Open_vSwitch,Open_vSwitch,manager_options',
    `--pidfile=${pidfileOf(dir)}`,
    `--log-file=${log}`,
    `--unixctl=${join(dir, 'ovsdb-server.ctl')}`,
    '--detach',
    '--no-chdir',
  ];
  await new Promise<void>((resolvePromise, reject) => {
    // The daemon inherits stdio until it has detached (it then points them at /dev/null), so
    // wait for the launcher's exit, not for the pipes to close.
    const child = spawn(OVSDB_SERVER, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`ovsdb-server in ${dir} failed to start (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
  });
  const found = pidfilePid(dir);
  if (found === undefined) throw new Error(`ovsdb-server in ${dir} wrote no pidfile`);
  const pid: number = found;
  // The daemon writes these lines after its launcher exits, so on a loaded machine they can come
  // a little later: look for up to 10 s.
  let fresh = '';
  for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
    fresh = await readFrom(log, logStart);
    if (fresh.includes(`ptcp:${port}:127.0.0.1: listen failed`)) {
      await stopServer({ dir, pid }, 0, false);
      throw new PortTaken(`port ${port} is taken`);
    }
    // An explicit port that binds is not logged (only port 0 logs "listening on port"); the
    // "ovsdb-server (Open vSwitch) x.y" line is logged after the remotes were configured.
    if (/ovsdb_server\|INFO\|ovsdb-server \(Open vSwitch\)/.test(fresh)) return pid;
  }
  await stopServer({ dir, pid }, 0, false);
  throw new Error(`ovsdb-server in ${dir} did not log its start:\n${fresh}`);
}

async function readFrom(file: string, offset: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(Math.max(0, size - offset));
    await fh.read(buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/** Creates and starts compute i in parentDir/compute-i; the manager is not set yet. */
async function createCompute(parentDir: string, i: number, vms: number, made: Set<string>, vswitchd: boolean): Promise<SimCompute> {
  const name = `compute-${i}`;
  const dir = join(parentDir, name);
  mkdirSync(dir); // fails if it exists: never reuse (or later clean up) a directory we did not make
  made.add(dir);
  await run(OVSDB_TOOL, ['create', join(dir, 'conf.db'), VSWITCH_SCHEMA]);
  const c: SimCompute = {
    name,
    index: i,
    dir,
    socket: join(dir, 'db.sock'),
    port: 0,
    pid: 0,
    datapathId: datapathIdOf(i),
    localIp: localIpOf(i),
    vms: Array.from({ length: vms }, (_, j) => ({ name: `tap${i}-${j + 1}`, ifaceId: ifaceIdOf(i, j + 1) })),
  };
  // Another process may grab the port between freePort() and ovsdb-server's bind: then try another.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(portsInUse);
    portsInUse.add(port);
    try {
      c.pid = await launch(dir, port);
      c.port = port;
      break;
    } catch (e) {
      portsInUse.delete(port);
      if (!(e instanceof PortTaken) || attempt >= 5) throw e;
    }
  }
  // What Neutron's OVS agent and the installer leave behind, in one ovs-vsctl transaction.
  const cmds: string[][] = [
    ['init'],
    ['add-br', 'br-int'],
    ['set', 'bridge', 'br-int', `other-config:dp-desc=${name}`, `other_config:datapath-id=${c.datapathId}`],
    // A data plane without kernel devices: OpenFlow 1.3 only, no in-band rules, no NORMAL fallback.
    ...(vswitchd ? [['set', 'bridge', 'br-int', 'datapath_type=dummy', 'protocols=OpenFlow13', 'fail-mode=secure', 'other-config:disable-in-band=true']] : []),
    ['set', 'open_vswitch', '.', `other_config:local_ip=${c.localIp}`],
    ...c.vms.flatMap((vm, k) => [
      ['add-port', 'br-int', vm.name],
      ['set', 'interface', vm.name, `external_ids:iface-id=${vm.ifaceId}`, ...(vswitchd ? ['type=dummy', `ofport_request=${k + 1}`] : [])],
    ]),
  ];
  await vsctl(c, ...cmds.flatMap((cmd, n) => (n === 0 ? cmd : ['--', ...cmd])));
  if (vswitchd) await startVswitchd(c);
  return c;
}

/** Runs fn over items, at most `limit` at a time; rejects with the first failure once all have settled. */
async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const n = next++;
      try {
        results[n] = { status: 'fulfilled', value: await fn(items[n]) };
      } catch (reason) {
        results[n] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The description printed by the CLI and written to DIR/computes.json. */
export function describe(sims: { dir: string; computes: SimCompute[] }): string {
  return JSON.stringify({ dir: sims.dir, computes: sims.computes });
}

/** Stops the ovsdb-servers of computes (SIGTERM, 2 s, SIGKILL; by verified pid only) and removes dir. */
export async function stopComputes(sims: { dir: string; computes: SimCompute[] }): Promise<void> {
  // All at once: signals are cheap, and most of the time goes into waiting for init to reap.
  const results = await pool(sims.computes, sims.computes.length, async (c) => {
    await stopDaemon(c.dir, 'ovs-vswitchd', c.vswitchdPid, 2_000, true);
    await stopServer(c, 2_000, true);
    portsInUse.delete(c.port);
  });
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  // Keep the directory (and its logs) if some server could not be stopped.
  if (failed.length) throw new AggregateError(failed.map((r) => r.reason), `could not stop ${failed.length} ovsdb-server(s) in ${sims.dir}`);
  rmSync(sims.dir, { recursive: true, force: true });
}

/**
 * Creates and starts count computes, PARALLEL at a time; when controller is given, sets it as
 * manager on each, once all of them are complete. On any failure, stops what was started and
 * removes what was created before rejecting.
 */
export async function startComputes(opts: StartOptions): Promise<SimComputes> {
  const count = opts.count;
  const first = opts.first ?? 1;
  const vms = opts.vms ?? 0;
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, not ${count}`);
  if (!Number.isInteger(first) || first < 1) throw new Error(`first must be a positive integer, not ${first}`);
  if (!Number.isInteger(vms) || vms < 0 || vms > 999) throw new Error(`vms must be an integer in 0..999, not ${vms}`);
  if (opts.controller !== undefined && !/^[^\s:]+:\d+$/.test(opts.controller)) throw new Error(`controller must be host:port, not ${opts.controller}`);
  if (opts.openflow !== undefined && !/^[^\s:]+:\d+$/.test(opts.openflow)) throw new Error(`openflow must be host:port, not ${opts.openflow}`);
  if (opts.openflow !== undefined && !opts.vswitchd) throw new Error('openflow needs vswitchd (no switch would speak OpenFlow)');
  localIpOf(first + count - 1); // fails early if the indexes run out of addresses

  let dir: string;
  const created = opts.dir === undefined || !existsSync(opts.dir);
  if (opts.dir === undefined) dir = mkdtempSync(join(tmpdir(), 'sim-computes-'));
  else {
    mkdirSync(opts.dir, { recursive: true });
    dir = opts.dir;
  }
  // Absolute and free of symlinks: the paths end up in ovsdb-server's command line, where
  // ownState() looks for them.
  dir = realpathSync(resolve(dir));

  const indexes = Array.from({ length: count }, (_, n) => first + n);
  const made = new Set<string>(); // compute directories created by this call
  const results = await pool(indexes, PARALLEL, (i) => createCompute(dir, i, vms, made, opts.vswitchd === true));
  const computes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const sims: SimComputes = { dir, computes, stop: () => stopComputes(sims) };
  const cleanUp = async () => {
    // Also the half-created ones (only in directories made here): their pidfile tells whether a
    // server was started.
    await Promise.allSettled(
      [...made].map(async (d) => {
        const c = computes.find((x) => x.dir === d);
        await stopDaemon(d, 'ovs-vswitchd', c?.vswitchdPid, 0, false);
        await stopDaemon(d, 'ovsdb-server', c?.pid, 0, false);
      }),
    );
    for (const c of computes) portsInUse.delete(c.port);
    if (created) rmSync(dir, { recursive: true, force: true });
    else for (const d of made) rmSync(d, { recursive: true, force: true });
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await cleanUp();
    throw failed.reason;
  }
  try {
    // The manager goes in LAST, after every compute is complete: ovsdb-server connects to the
    // controller as soon as manager_options names it, and the controller then reads the whole
    // database once (and relies on later updates). Setting it last means the first thing the
    // controller sees is a finished compute (bridge, datapath id, local_ip, ports), not a
    // half-built one, and no compute is discovered before all of them exist.
    if (opts.controller !== undefined) {
      const controller = opts.controller;
      const set = await pool(computes, PARALLEL, (c) => setManager(c, controller));
      const bad = set.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw bad.reason;
    }
    if (opts.openflow !== undefined) {
      const target = `tcp:${opts.openflow}`;
      const set = await pool(computes, PARALLEL, async (c) => {
        await vsctl(c, 'set-controller', 'br-int', target);
        // Back quickly when the controller restarts (tests and benches restart it).
        await vsctl(c, 'set', 'controller', (await vsctl(c, '--bare', '--columns=_uuid', 'find', 'controller', `target="${target}"`)).trim(), 'max_backoff=1000');
      });
      const bad = set.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw bad.reason;
    }
    writeFileSync(join(dir, 'computes.json'), describe(sims) + '\n');
  } catch (e) {
    await cleanUp();
    throw e;
  }
  return sims;
}

/**
 * Starts the compute's ovsdb-server again on the same conf.db, unix socket and TCP port, and
 * updates c.pid. A server still running for it is killed first.
 */
export async function restartCompute(c: SimCompute): Promise<void> {
  await stopServer(c, 0, false);
  // The port was ours a moment ago; if the kernel still holds it (or another process took it),
  // retry for a little while before giving up: the port must stay the same.
  const end = Date.now() + 5_000;
  for (;;) {
    try {
      c.pid = await launch(c.dir, c.port);
      return;
    } catch (e) {
      if (!(e instanceof PortTaken) || Date.now() > end) throw e instanceof PortTaken ? new Error(`${c.name}: TCP port ${c.port} stays taken, cannot restart on it`) : e;
      await sleep(100);
    }
  }
}

/** Reads DIR/computes.json as written by startComputes / `start`. */
export async function loadComputes(dir: string): Promise<SimComputes> {
  const text = await readFile(join(dir, 'computes.json'), 'utf8');
  const data = JSON.parse(text) as { dir: string; computes: SimCompute[] };
  if (!Array.isArray(data.computes)) throw new Error(`${dir}/computes.json has no computes`);
  // The recorded dir is where the servers were started; refuse a file that points elsewhere.
  if (realpathSync(resolve(dir)) !== data.dir) throw new Error(`${dir}/computes.json describes ${data.dir}, not this directory`);
  const sims: SimComputes = { dir: data.dir, computes: data.computes, stop: () => stopComputes(sims) };
  return sims;
}

// ---------------------------------------------------------------------------------------------
// CLI.

const USAGE = `usage:
  scripts/sim-computes start --count N [--controller HOST:PORT] [--dir DIR] [--vms K] [--first I]
                             [--vswitchd [--openflow HOST:PORT]]
  scripts/sim-computes stop --dir DIR`;

/** Options that take no value. */
const FLAGS = new Set(['vswitchd']);

function parseArgs(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let n = 0; n < argv.length; n++) {
    const a = argv[n];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (FLAGS.has(a.slice(2))) out.set(a.slice(2), 'true');
    else {
      if (n + 1 >= argv.length) throw new Error(`${a} needs a value`);
      out.set(a.slice(2), argv[++n]);
    }
  }
  return out;
}

function intOpt(opts: Map<string, string>, name: string): number | undefined {
  const v = opts.get(name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a number, not ${v}`);
  return Number(v);
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const opts = parseArgs(rest);
  // The bash wrapper runs us from the repository root; relative paths are the caller's.
  const cwd = process.env.SIM_COMPUTES_CWD || process.cwd();
  const known = cmd === 'start' ? ['count', 'controller', 'dir', 'vms', 'first', 'vswitchd', 'openflow'] : cmd === 'stop' ? ['dir'] : [];
  for (const k of opts.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k}`);
  if (cmd === 'start') {
    const count = intOpt(opts, 'count');
    if (count === undefined) throw new Error('--count is required');
    const dir = opts.get('dir');
    const started = Date.now();
    const sims = await startComputes({
      count,
      controller: opts.get('controller'),
      dir: dir === undefined ? undefined : resolve(cwd, dir),
      vms: intOpt(opts, 'vms'),
      first: intOpt(opts, 'first'),
      vswitchd: opts.has('vswitchd'),
      openflow: opts.get('openflow'),
    });
    process.stdout.write(describe(sims) + '\n');
    process.stderr.write(`started ${sims.computes.length} computes in ${Date.now() - started} ms\n`);
  } else if (cmd === 'stop') {
    const dir = opts.get('dir');
    if (dir === undefined) throw new Error('--dir is required');
    const sims = await loadComputes(resolve(cwd, dir));
    await sims.stop();
  } else {
    throw new Error(cmd === undefined ? 'no command' : `unknown command ${cmd}`);
  }
}

// Run as a program (not when imported by test/helpers/ovs.ts).
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (isMain()) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    const msg = e instanceof AggregateError ? `${e.message}\n${e.errors.map((x) => `  ${x instanceof Error ? x.message : x}`).join('\n')}` : e instanceof Error ? e.message : String(e);
    process.stderr.write(`sim-computes: ${msg}\n${/usage|unknown|required|needs a value|unexpected|no command/.test(msg) ? USAGE + '\n' : ''}`);
    process.exitCode = 1;
  });
}
