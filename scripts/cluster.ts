/**
 * A local cluster to try cluster mode with (see scripts/cluster):
 *   scripts/cluster start --instances N --etcd M [--dir DIR] [--name NAME] [-- INSTANCE-FLAGS...]
 *       → starts M etcd members and N Sextant instances on free loopback ports, all in DIR (a new
 *         temp dir by default), waits until every instance is ready, writes DIR/cluster.json and
 *         prints one line per instance: `<member-id> <RESTCONF URL> netconf=<host:port>`, then
 *         `etcd <endpoints>` and `dir <DIR>`.
 *   scripts/cluster stop --dir DIR
 *       → stops exactly the processes listed in DIR/cluster.json (SIGTERM, then SIGKILL after
 *         10 s), after /proc shows each pid is still the process started for DIR, then removes DIR.
 * The processes run detached from this script, with their logs in DIR.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.ts';

const ROOT = resolve(import.meta.dirname, '..');
const cwd = process.env.SEXTANT_CLUSTER_CWD ?? process.cwd();

/** etcd started with the limits cluster mode needs (README: etcd settings for operators). */
const ETCD_FLAGS = ['--max-txn-ops=100000', '--max-request-bytes=33554432', '--auto-compaction-retention=1h', '--log-level=warn'];

interface ClusterFile {
  name: string;
  etcd: { name: string; pid: number; clientUrl: string; dataDir: string }[];
  instances: { memberId: string; pid: number; restconf: string; netconf: string; ovsdb: string; listeners?: Record<string, string>; log: string }[];
}

function usage(): never {
  console.error('usage: scripts/cluster start --instances N --etcd M [--dir DIR] [--name NAME]\n       scripts/cluster stop --dir DIR');
  process.exit(2);
}

function flags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) usage();
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else out.set(a.slice(2), argv[++i] ?? usage());
  }
  return out;
}

function count(v: string | undefined, what: string, def: number): number {
  const n = Number(v ?? def);
  if (!Number.isInteger(n) || n < 1 || n > 9) {
    console.error(`scripts/cluster: --${what} must be a whole number from 1 to 9, got "${v}"`);
    process.exit(2);
  }
  return n;
}

/** A detached child whose output goes to a log file. */
function detached(cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): number {
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], cwd: ROOT, env });
  closeSync(fd);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${cmd}`);
  return child.pid;
}

/** Whether pid is still the process this cluster started (its command line names the dir). */
function ours(pid: number, dir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return argv.includes(dir) && !/^\S+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(f: Map<string, string>, extra: string[]): Promise<void> {
  const instances = count(f.get('instances'), 'instances', 3);
  const members = count(f.get('etcd'), 'etcd', 1);
  const name = f.get('name') ?? 'sextant';
  const dir = f.get('dir') ? resolve(cwd, f.get('dir')!) : mkdtempSync(join(tmpdir(), 'sextant-cluster-'));
  if (existsSync(join(dir, 'cluster.json'))) {
    console.error(`scripts/cluster: ${dir} already holds a cluster; stop it first`);
    process.exit(2);
  }
  mkdirSync(dir, { recursive: true });
  const taken = new Set<number>();
  const port = async () => {
    const p = await freePort(taken);
    taken.add(p);
    return p;
  };
  const file: ClusterFile = { name, etcd: [], instances: [] };
  const save = () => writeFileSync(join(dir, 'cluster.json'), JSON.stringify(file, null, 2));
  try {
    const etcd = [];
    for (let i = 0; i < members; i++) etcd.push({ name: `etcd${i}`, client: `http://127.0.0.1:${await port()}`, peer: `http://127.0.0.1:${await port()}` });
    const initial = etcd.map((m) => `${m.name}=${m.peer}`).join(',');
    for (const m of etcd) {
      const dataDir = join(dir, m.name);
      const pid = detached('etcd', [`--name=${m.name}`, `--data-dir=${dataDir}`, `--listen-client-urls=${m.client}`, `--advertise-client-urls=${m.client}`, `--listen-peer-urls=${m.peer}`, `--initial-advertise-peer-urls=${m.peer}`, `--initial-cluster=${initial}`, '--initial-cluster-state=new', `--initial-cluster-token=${name}-${process.pid}`, ...ETCD_FLAGS], join(dir, `${m.name}.log`));
      file.etcd.push({ name: m.name, pid, clientUrl: m.client, dataDir });
      save();
    }
    for (const m of etcd) {
      await until(`etcd member ${m.name}`, 20_000, async () => {
        try {
          return (await fetch(`${m.client}/health`)).ok;
        } catch {
          return false;
        }
      });
    }
    const endpoints = etcd.map((m) => m.client.replace('http://', '')).join(',');
    const launches = new Map<string, () => number>();
    for (let i = 0; i < instances; i++) {
      const memberId = `member-${i + 1}`;
      const log = join(dir, `${memberId}.log`);
      const args = ['--import', 'tsx', join(ROOT, 'src/main.ts'), `--datastore=etcd://${endpoints}`, `--cluster-name=${name}`, `--member-id=${memberId}`, '--etcd-max-txn-ops=100000', '--etcd-max-request-bytes=33554432', '--restconf-port=0', '--netconf-port=0', '--ovsdb-port=0', '--openflow-port=0', `--data-dir=${join(dir, memberId)}`, ...extra];
      // Every listener on a port the instance picks itself (its ready line says which): a port
      // chosen here and handed over could be taken by someone else meanwhile. Plugin-owned
      // listeners (the Tacker and Senlin APIs) through the environment (a flag would be refused when the
      // instances load only some plugins).
      const env = { ...process.env, SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' };
      const pid = detached(process.execPath, args, log, env);
      file.instances.push({ memberId, pid, restconf: '', netconf: '', ovsdb: '', log });
      launches.set(memberId, () => detached(process.execPath, args, log, env));
      save();
    }
    for (const inst of file.instances) {
      let retried = false;
      await until(`${inst.memberId} to be ready (see ${inst.log})`, 60_000, () => {
        const ready = readFileSync(inst.log, 'utf8').split('\n').find((l) => l.includes('sextant ready'));
        if (!ready) {
          if (!ours(inst.pid, dir)) {
            // Say why here: the dir (and its logs) may be gone by the time anyone looks.
            const last = readFileSync(inst.log, 'utf8').trim().split('\n').slice(-3).join(' | ');
            if (retried) throw new Error(`${inst.memberId} exited; see ${inst.log}: ${last}`);
            // Once more: on a loaded machine a start can lose a race with a just-started etcd.
            console.error(`scripts/cluster: ${inst.memberId} exited while starting (${last}); starting it again`);
            retried = true;
            inst.pid = launches.get(inst.memberId)!();
            save();
          }
          return false;
        }
        const j = JSON.parse(ready) as { restconf: string; netconf: string; ovsdb: string; listeners?: Record<string, string> };
        inst.restconf = j.restconf;
        inst.netconf = j.netconf;
        inst.ovsdb = j.ovsdb;
        inst.listeners = j.listeners ?? {};
        return true;
      });
    }
    save();
  } catch (e) {
    console.error(`scripts/cluster: ${(e as Error).message}`);
    await stop(dir);
    process.exit(1);
  }
  for (const i of file.instances) console.log(`${i.memberId} ${i.restconf} netconf=${i.netconf} ovsdb=${i.ovsdb}${Object.entries(i.listeners ?? {}).map(([n, u]) => ` ${n}=${u}`).join('')}`);
  console.log(`etcd ${file.etcd.map((m) => m.clientUrl).join(',')}`);
  console.log(`dir ${dir}`);
}

async function stop(dir: string): Promise<void> {
  const path = join(dir, 'cluster.json');
  if (!existsSync(path)) {
    console.error(`scripts/cluster: no cluster.json in ${dir}`);
    process.exit(2);
  }
  const file = JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
  // Instances first (they resign and finish their requests), etcd last.
  for (const group of [file.instances.map((i) => i.pid), file.etcd.map((m) => m.pid)]) {
    const mine = group.filter((pid) => ours(pid, dir));
    for (const pid of mine) process.kill(pid, 'SIGTERM');
    try {
      await until('the processes to stop', 10_000, () => mine.every((pid) => !ours(pid, dir)));
    } catch {
      for (const pid of mine) if (ours(pid, dir)) process.kill(pid, 'SIGKILL');
      await until('the processes to die', 5_000, () => mine.every((pid) => !ours(pid, dir)));
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

const [command, ...args] = process.argv.slice(2);
// Flags after `--` go to every instance as they are (e.g. --yang-dir, --plugins).
const dash = args.indexOf('--');
const rest = dash < 0 ? args : args.slice(0, dash);
const f = flags(rest);
if (command === 'start') await start(f, dash < 0 ? [] : args.slice(dash + 1));
else if (command === 'stop' && f.get('dir')) await stop(resolve(cwd, f.get('dir')!));
else usage();
