/**
 * npm run bench:netconf — Sextant's NETCONF server against yuma123 netconfd (behind OpenSSH's
 * sshd, as it is deployed) with the same client, ncclient, in the same run (DESIGN.md section 7).
 * Prints one JSON line per result.
 *
 * Both servers serve the `car` module (test/netconf/yang) with the same 1,000 car-entry entries in
 * running, and both answer <get-config><source><running/></source></get-config> with all of them.
 *
 * 1. netconf.get-config.sequential: 1,000 get-configs one after the other on one session.
 * 2. netconf.get-config.parallel: 10 sessions at once, 200 get-configs each; aggregate requests/s.
 *
 * The client (scripts/bench/netconf-client.py, Debian's ncclient under /usr/bin/python3, one
 * process per session) checks the replies: the first (and last) of each session must hold exactly
 * the 1,000 entries, every other one as many as the first, so an error reply never counts as a
 * fast one. Sextant runs in this process (benchController), which is idle while the client runs;
 * netconfd and a private sshd (in a private mount namespace, so /run/sshd is ours) run from a
 * temporary directory, on a free port, and are stopped by pid at the end, on error and on exit.
 * The servers are measured one after the other, never at the same time.
 *
 * Environment: BENCH_ENTRIES (default 1000), BENCH_REQUESTS (sequential, default 1000),
 * BENCH_SESSIONS (default 10), BENCH_SESSION_REQUESTS (parallel, per session, default 200),
 * BENCH_WARMUP (unrecorded get-configs per session first, default 20), BENCH_NODELAY=0 to leave
 * the client's socket with Nagle's algorithm on, as ncclient opens it (by default the client sets
 * TCP_NODELAY, so a server is not measured waiting for delayed ACKs the client provokes).
 * `npm run bench:netconf -- sequential|parallel` runs one of the two.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../free-port.ts';
import { benchController } from './controller.ts';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1000);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10);
const SESSION_REQUESTS = Number(process.env.BENCH_SESSION_REQUESTS ?? 200);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20);
/** TCP_NODELAY on the client's socket (ncclient does not set it): BENCH_NODELAY=0 measures without. */
const NODELAY = process.env.BENCH_NODELAY !== '0';

const REPO = join(import.meta.dirname, '../..');
const CAR_YANG = join(REPO, 'test/netconf/yang/car@2014-08-18.yang');
const CAR_NS = 'urn:opendaylight:params:xml:ns:yang:controller:config:sal-clustering-it:car';
const CLIENT = join(import.meta.dirname, 'netconf-client.py');
const PYTHON = '/usr/bin/python3'; // Debian's: the `python3` first on PATH cannot import python3-ncclient
const NETCONFD = '/usr/sbin/netconfd';
const SSHD = '/usr/sbin/sshd';
const SUBSYSTEM = '/usr/sbin/netconf-subsystem';
const PEER = 'yuma123 netconfd 2.13 behind OpenSSH';

const round = (x: number, d = 3) => Number(x.toFixed(d));
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// The data: the same entries for both servers.

interface Car {
  id: string;
  model: string;
  manufacturer: string;
  year: number;
  category: string;
}
const MAKERS = ['Toyota', 'Ford', 'Volkswagen', 'Honda', 'BMW', 'Renault', 'Fiat'];
const CATEGORIES = ['sedan', 'suv', 'coupe', 'van', 'hatchback'];

function car(i: number): Car {
  return {
    id: `car-${String(i).padStart(4, '0')}`,
    model: `model-${i}`,
    manufacturer: MAKERS[i % MAKERS.length]!,
    year: 1990 + (i % 35),
    category: CATEGORIES[i % CATEGORIES.length]!,
  };
}
const cars = Array.from({ length: ENTRIES }, (_, i) => car(i));

function startupXml(): string {
  const entries = cars.map(
    (c) => `    <car-entry><id>${c.id}</id><model>${c.model}</model><manufacturer>${c.manufacturer}</manufacturer><year>${c.year}</year><category>${c.category}</category></car-entry>\n`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">\n  <cars xmlns="${CAR_NS}">\n${entries.join('')}  </cars>\n</config>\n`;
}

// ---------------------------------------------------------------------------------------------
// Processes: everything started here is stopped by its pid, also when this process exits.

const started = new Set<ChildProcess>();

/**
 * Every child is spawned detached, i.e. leads a process group of its own: signal that group (the
 * client's session processes are in its group; sshd's sessions are not, they end with their client).
 * A group outlives its leader only while a member lives, so its id cannot have been reused.
 */
function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

process.on('exit', () => {
  for (const child of started) kill(child, 'SIGKILL');
});

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    kill(child);
    const timer = setTimeout(() => kill(child, 'SIGKILL'), 5000);
    await gone;
    clearTimeout(timer);
  }
  started.delete(child);
}

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>, log?: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${timeoutMs} ms${log ? `\n${log()}` : ''}`);
    await sleep(50);
  }
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const tail = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : `(no ${file})`);

// ---------------------------------------------------------------------------------------------
// The peer: netconfd on a unix socket, sshd's netconf subsystem relaying to it.

interface Peer {
  port: number;
  username: string;
  key: string;
  versions: string;
  /** CPU time (ms) netconfd and sshd (with its finished sessions and their netconf-subsystem) used so far. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime (+ cutime + cstime: children waited for) of a process, in ms. */
function procCpuMs(pid: number, children: boolean): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
  const ticks = Number(f[11]) + Number(f[12]) + (children ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / CLK_TCK;
}

function childPids(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

async function startNetconfd(): Promise<Peer> {
  for (const f of [NETCONFD, SSHD, SUBSYSTEM]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run scripts/install-peers (Debian netconfd, openssh-server)`);
  }
  if (process.getuid?.() !== 0) throw new Error('the netconfd peer needs root (sshd in a private mount namespace)');
  const d = mkdtempSync(join(tmpdir(), 'bench-netconfd-'));
  const children: ChildProcess[] = [];
  const stop = async () => {
    // sshd first (no new sessions), then netconfd.
    for (const child of children.reverse()) await stopProcess(child);
    rmSync(d, { recursive: true, force: true });
  };
  try {
    const username = userInfo().username;
    const port = await freePort();
    mkdirSync(join(d, 'home'));
    const module = join(d, 'car@2014-08-18.yang');
    copyFileSync(CAR_YANG, module);
    writeFileSync(join(d, 'startup.xml'), startupXml());
    for (const k of ['host', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `bench-${k}`, '-f', join(d, `${k}_ed25519`)]);
    copyFileSync(join(d, 'client_ed25519.pub'), join(d, 'authorized_keys'));
    const sock = join(d, 'ncx.sock');
    writeFileSync(
      join(d, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${d}/host_ed25519`,
        `PidFile ${d}/sshd.pid`,
        `AuthorizedKeysFile ${d}/authorized_keys`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'MaxStartups 100',
        'MaxSessions 100',
        `Subsystem netconf "${SUBSYSTEM} --ncxserver-sockname=${port}@${sock}"`,
        '',
      ].join('\n'),
    );
    const netconfdLog = join(d, 'netconfd.log');
    const netconfd = spawn(
      NETCONFD,
      [
        `--ncxserver-sockname=${sock}`,
        `--port=${port}`,
        `--module=${module}`,
        `--startup=${d}/startup.xml`,
        `--superuser=${username}`,
        '--target=running',
        `--log=${netconfdLog}`,
        '--log-level=info',
      ],
      { cwd: d, env: { ...process.env, HOME: join(d, 'home') }, stdio: 'ignore', detached: true },
    );
    started.add(netconfd);
    children.push(netconfd);
    await until('netconfd running', 30_000, () => {
      if (netconfd.exitCode !== null) throw new Error(`netconfd exited (${netconfd.exitCode}):\n${tail(netconfdLog)}`);
      return existsSync(sock) && /Running netconfd server/.test(readFileSync(netconfdLog, 'utf8'));
    });
    const log = readFileSync(netconfdLog, 'utf8');
    if (!/Startup config loaded OK/.test(log)) throw new Error(`netconfd did not load the startup config:\n${tail(netconfdLog)}`);
    // unshare execs sh, which execs sshd: the pid spawned here is sshd's.
    const sshdLog = join(d, 'sshd.log');
    const sshd = spawn(
      'unshare',
      ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=1m,mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec ${SSHD} -D -e -f ${d}/sshd_config 2>>${sshdLog}`],
      { cwd: d, stdio: 'ignore', detached: true },
    );
    started.add(sshd);
    children.push(sshd);
    await until('sshd listening', 30_000, async () => {
      if (sshd.exitCode !== null) throw new Error(`sshd exited (${sshd.exitCode}):\n${tail(sshdLog)}`);
      return accepts(port);
    });
    const versions = ['netconfd', 'openssh-server']
      .map((p) => `${p} ${execFileSync('dpkg-query', ['-W', '-f=${Version}', p], { encoding: 'utf8' })}`)
      .join(', ');
    const sshdPid = sshd.pid!;
    const comm = readFileSync(`/proc/${sshdPid}/comm`, 'utf8').trim();
    if (comm !== 'sshd') throw new Error(`pid ${sshdPid} is "${comm}", expected sshd`);
    const cpuMs = async () => {
      // Session processes count once sshd has waited for them: give closing sessions time to end.
      const end = Date.now() + 10_000;
      while (childPids(sshdPid).length > 0 && Date.now() < end) await sleep(50);
      return procCpuMs(netconfd.pid!, true) + procCpuMs(sshdPid, true);
    };
    return { port, username, key: join(d, 'client_ed25519'), versions, cpuMs, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The client.

interface ClientResult {
  sessions: number;
  requests_per_session: number;
  requests: number;
  seconds: number;
  req_per_s: number;
  mean_ms: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  client_cpu_ms_per_req: number;
  connect_s_max: number;
  entries: number;
  reply_bytes: number;
}

interface Target {
  name: string;
  port: number;
  auth: string[];
  /** CPU time (ms) the server has used so far. */
  cpuMs(): Promise<number>;
}

async function runClient(t: Target, sessions: number, requests: number): Promise<ClientResult & { server_cpu_ms_per_req: number }> {
  const cpu0 = await t.cpuMs();
  const args = [CLIENT, `--port=${t.port}`, ...t.auth, `--sessions=${sessions}`, `--requests=${requests}`, `--warmup=${WARMUP}`, `--expect=${ENTRIES}`, ...(NODELAY ? ['--nodelay'] : [])];
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  kill(child, 'SIGKILL'); // session processes a failed client left behind, if any
  started.delete(child);
  const last = out.trim().split('\n').pop() ?? '';
  let res: ClientResult & { error?: string };
  try {
    res = JSON.parse(last) as ClientResult & { error?: string };
  } catch {
    throw new Error(`client against ${t.name} exited ${code} without a result:\n${out}${err}`);
  }
  if (code !== 0 || res.error) throw new Error(`client against ${t.name} failed: ${res.error ?? `exit ${code}`}\n${err}`);
  if (res.entries !== ENTRIES) throw new Error(`${t.name}: ${res.entries} entries in a reply, expected ${ENTRIES}`);
  // Over the whole client run: logins and warm-up included, so divided by every get-config.
  const served = sessions * (requests + WARMUP + 1);
  return { ...res, server_cpu_ms_per_req: ((await t.cpuMs()) - cpu0) / served };
}

type Result = Awaited<ReturnType<typeof runClient>>;

function emit(bench: string, o: Result, p: Result, peerVersions: string, detail: string): void {
  line({
    bench,
    metric: 'req_per_s',
    value: round(o.req_per_s, 1),
    peer: PEER,
    peer_value: round(p.req_per_s, 1),
    ratio: round(o.req_per_s / p.req_per_s),
    target: '>=1.0',
    ms_per_req: round(o.mean_ms, 2),
    peer_ms_per_req: round(p.mean_ms, 2),
    p99_ms: round(o.p99_ms, 2),
    peer_p99_ms: round(p.p99_ms, 2),
    server_cpu_ms_per_req: round(o.server_cpu_ms_per_req, 2),
    peer_cpu_ms_per_req: round(p.server_cpu_ms_per_req, 2),
    client_cpu_ms_per_req: round(o.client_cpu_ms_per_req, 2),
    peer_client_cpu_ms_per_req: round(p.client_cpu_ms_per_req, 2),
    sessions: o.sessions,
    requests: o.requests,
    client_tcp_nodelay: NODELAY,
    seconds: round(o.seconds, 2),
    peer_seconds: round(p.seconds, 2),
    entries: ENTRIES,
    reply_bytes: o.reply_bytes,
    peer_reply_bytes: p.reply_bytes,
    detail: `${detail}; ncclient 0.6.13 (TICK 0.001, ${NODELAY ? 'TCP_NODELAY' : 'Nagle'} on its socket) in ${o.sessions === 1 ? 'one process' : `${o.sessions} processes`}, ${WARMUP} unrecorded requests per session first; peer ${peerVersions}, netconfd on a unix socket behind sshd's netconf subsystem (key login); Sextant in the bench process (password login), both over SSH on loopback; server_cpu_ms_per_req: the server's CPU time over the client run (logins and warm-up included) per get-config, Sextant's process vs netconfd + sshd with its sessions and netconf-subsystem; client_cpu_ms_per_req: ncclient's, timed part only`,
  });
}

async function main(only: string | undefined): Promise<void> {
  if (only && only !== 'sequential' && only !== 'parallel') throw new Error(`unknown workload "${only}" (sequential | parallel)`);
  if (!existsSync(CAR_YANG)) throw new Error(`${CAR_YANG} is missing`);
  let peer: Peer | undefined;
  const c = await benchController('netconf', [`--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`]);
  const interrupted = () => void Promise.allSettled([peer?.stop(), c.stop()]).finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    // Sextant: the entries in running (committed to LevelDB).
    await c.data.transaction('config').put('/car:cars', { 'car-entry': cars }).commit();
    const stored = (c.data.read('config', '/car:cars/car-entry') as unknown[] | undefined)?.length ?? 0;
    if (stored !== ENTRIES) throw new Error(`Sextant holds ${stored} car-entry after the load, expected ${ENTRIES}`);
    const ownCpu = async () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const ours: Target = { name: 'Sextant', port: c.netconf.port, auth: [`--username=${c.config.username}`, `--password=${c.config.password}`], cpuMs: ownCpu };

    peer = await startNetconfd();
    const theirs: Target = { name: 'netconfd', port: peer.port, auth: [`--username=${peer.username}`, `--key=${peer.key}`], cpuMs: peer.cpuMs };

    if (!only || only === 'sequential') {
      const p = await runClient(theirs, 1, REQUESTS);
      const o = await runClient(ours, 1, REQUESTS);
      emit('netconf.get-config.sequential', o, p, peer.versions, `${REQUESTS} get-config (source running, ${ENTRIES} car-entry) one after the other on one session; ms_per_req is the mean round trip`);
    }
    if (!only || only === 'parallel') {
      const p = await runClient(theirs, SESSIONS, SESSION_REQUESTS);
      const o = await runClient(ours, SESSIONS, SESSION_REQUESTS);
      emit(
        'netconf.get-config.parallel',
        o,
        p,
        peer.versions,
        `${SESSIONS} sessions at once, ${SESSION_REQUESTS} get-config each (source running, ${ENTRIES} car-entry); value is all replies over the wall time from a barrier after every session connected to the last reply; ms_per_req is the mean round trip a session saw`,
      );
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await peer?.stop();
    await c.stop();
  }
}

await main(process.argv[2]);
