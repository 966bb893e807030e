/**
 * Real etcd members for tests: `startEtcd(t, { members })` starts a static cluster of `etcd`
 * processes (Debian `etcd-server`, installed by scripts/install-peers) on free loopback ports, each
 * in its own temp data dir, waits until every member answers `/health`, and stops them by pid and
 * removes their dirs at teardown, whether the test passed or not. One member can be killed, paused
 * (SIGSTOP), resumed and restarted on the same data dir and ports, for failover tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort } from '../../scripts/free-port.ts';

/**
 * Every etcd setting the tests depend on, in one place. Cluster mode's operator notes in the
 * README name the same limits: the etcd backend refuses writes beyond them.
 */
export const ETCD_TEST_SETTINGS = {
  /** etcd refuses a txn with more ops than this (default 128); one datastore commit is one txn. */
  maxTxnOps: 100_000,
  /** etcd refuses a request larger than this (default 1.5 MiB); 32 MiB fits the suite's bulk writes. */
  maxRequestBytes: 32 * 1024 * 1024,
  /** Space alarm threshold; tests write far less than 1 GiB. */
  quotaBackendBytes: 1024 * 1024 * 1024,
  /**
   * etcd's defaults (100/1000 ms). Not shorter: with the whole suite loading both cores, a 500 ms
   * election timeout let members start needless elections and time writes out. Not longer: etcd
   * raises every lease TTL to at least 1.5 x the election timeout, so 1000 ms keeps the cluster's
   * 2 s lease a 2 s lease.
   */
  heartbeatIntervalMs: 100,
  electionTimeoutMs: 1000,
} as const;

/** etcd's own default ports: never used by tests, the machine may run a real etcd there. */
const ETCD_DEFAULT_PORTS = [2379, 2380];
/** Ports handed out in this process, so two clusters of one test file never get the same one. */
const handedOut = new Set<number>(ETCD_DEFAULT_PORTS);
/** Every etcd child still running, killed when the test process exits however it exits. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) killQuietly(child.pid, 'SIGKILL');
});

export interface EtcdMember {
  readonly name: string;
  /** The pid of the current process (changes on restart). */
  readonly pid: number;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** Ends the process (SIGTERM by default, SIGKILL to simulate a crash) and waits until it is gone. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** SIGSTOP: the process stays but answers nothing (a hung member); resolves once it is stopped. */
  pause(): Promise<void>;
  /** SIGCONT after pause(); resolves once it runs again. */
  resume(): Promise<void>;
  /** Starts the member again on the same data dir and ports (stopping it first if it runs) and waits until healthy. */
  restart(): Promise<void>;
  /** Whether its process is running (paused counts as running). */
  readonly running: boolean;
  /** Its log so far (stderr), for failure messages. */
  log(): string;
}

export interface EtcdCluster {
  /** Client URLs of every member (what an etcd3 client or `--datastore=etcd://` is given). */
  endpoints: string[];
  members: EtcdMember[];
  /** Stops every member (SIGKILL) and waits until their processes are gone. Idempotent. */
  stop(): Promise<void>;
  /** The member that is the raft leader now (asks the running members; waits up to 10 s for one). */
  leader(): Promise<EtcdMember>;
}

export type EtcdSettings = { -readonly [K in keyof typeof ETCD_TEST_SETTINGS]: number };

export async function startEtcd(
  t: { teardown(fn: () => unknown): void },
  opts: { members?: number; /** Overrides for one test (e.g. etcd's own limits). */ settings?: Partial<EtcdSettings> } = {},
): Promise<EtcdCluster> {
  const count = opts.members ?? 1;
  const settings: EtcdSettings = { ...ETCD_TEST_SETTINGS, ...opts.settings };
  if (!Number.isInteger(count) || count < 1) throw new Error(`startEtcd: members must be a positive integer, got ${count}`);
  const root = mkdtempSync(join(tmpdir(), 'sextant-etcd-'));
  const members: Member[] = [];
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(members.map((m) => m.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  };
  t.teardown(stopAll);

  // A free port may be taken between our probe and etcd's bind; then start the whole cluster again
  // on new ports (a member cannot join a static cluster whose peer URLs it does not match).
  for (let attempt = 1; ; attempt++) {
    const token = `sextant-test-${process.pid}-${Date.now()}-${attempt}`;
    const specs = [];
    for (let i = 1; i <= count; i++) {
      const client = await takePort();
      const peer = await takePort();
      specs.push({ name: `n${i}`, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}`, dataDir: join(root, `attempt${attempt}`, `n${i}`) });
    }
    const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
    const batch = specs.map((s) => new Member(s.name, s.clientUrl, s.peerUrl, s.dataDir, initialCluster, token, settings));
    members.push(...batch);
    for (const m of batch) m.spawn();
    try {
      await Promise.all(batch.map((m) => m.waitHealthy()));
      break;
    } catch (err) {
      await Promise.all(batch.map((m) => m.stop('SIGKILL')));
      members.length = 0;
      const portTaken = batch.some((m) => /address already in use/.test(m.log()));
      if (!portTaken || attempt >= 3) {
        await stopAll();
        throw err;
      }
    }
  }
  return { endpoints: members.map((m) => m.clientUrl), members, stop: stopAll, leader: () => findLeader(members) };
}

async function findLeader(members: EtcdMember[]): Promise<EtcdMember> {
  const end = Date.now() + 10_000;
  for (;;) {
    for (const m of members.filter((m) => m.running)) {
      const client = new Etcd3({ hosts: [m.clientUrl], defaultCallOptions: () => ({ deadline: Date.now() + 1000 }) });
      try {
        const status = await client.maintenance.status();
        if (status.leader !== '0' && status.header.member_id === status.leader) return m;
      } catch {
        // paused, down or starting: ask the next
      } finally {
        client.close();
      }
    }
    if (Date.now() > end) throw new Error('no etcd member is the leader after 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function takePort(): Promise<number> {
  const port = await freePort(handedOut);
  handedOut.add(port);
  return port;
}

class Member implements EtcdMember {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly logFile: string;
  private spawnError: string | undefined;

  constructor(
    readonly name: string,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly dataDir: string,
    private readonly initialCluster: string,
    private readonly token: string,
    private readonly settings: EtcdSettings,
  ) {
    this.logFile = `${dataDir}.log`;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  spawn(): void {
    mkdirSync(this.dataDir, { recursive: true });
    const s = this.settings;
    // On a restart the data dir already holds the member's WAL, and etcd ignores the --initial-* flags.
    const args = [
      `--name=${this.name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${this.clientUrl}`,
      `--advertise-client-urls=${this.clientUrl}`,
      `--listen-peer-urls=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.peerUrl}`,
      `--initial-cluster=${this.initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.token}`,
      `--max-txn-ops=${s.maxTxnOps}`,
      `--max-request-bytes=${s.maxRequestBytes}`,
      `--quota-backend-bytes=${s.quotaBackendBytes}`,
      `--heartbeat-interval=${s.heartbeatIntervalMs}`,
      `--election-timeout=${s.electionTimeoutMs}`,
      // Compaction only when a test asks for it (etcd3's compact), so watches can resume from any revision.
      '--auto-compaction-retention=0',
      '--logger=zap',
      '--log-level=warn',
      '--log-outputs=stderr',
    ];
    const log = openSync(this.logFile, 'a');
    const child = spawn('etcd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    running.add(child);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        running.delete(child);
        resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        this.spawnError = err.code === 'ENOENT' ? 'etcd is not installed (scripts/install-peers installs etcd-server)' : err.message;
        running.delete(child);
        resolve();
      });
    });
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return this.exited;
    killQuietly(child.pid, signal);
    // A paused process would not act on SIGTERM until resumed.
    killQuietly(child.pid, 'SIGCONT');
    await this.exited;
  }

  async pause(): Promise<void> {
    if (!this.running) return;
    killQuietly(this.child!.pid, 'SIGSTOP');
    await this.waitState((state) => state === 'T');
  }

  async resume(): Promise<void> {
    if (!this.running) return;
    killQuietly(this.child!.pid, 'SIGCONT');
    await this.waitState((state) => state !== 'T');
  }

  /** Signals are delivered asynchronously: poll the state letter in /proc/<pid>/stat (T = stopped). */
  private async waitState(done: (state: string) => boolean, timeoutMs = 5000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      let state = '';
      try {
        state = /\) (\S)/.exec(readFileSync(`/proc/${this.pid}/stat`, 'utf8'))?.[1] ?? '';
      } catch {
        return; // gone
      }
      if (done(state)) return;
      if (Date.now() > end) throw new Error(`etcd member ${this.name}: still in state ${state} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    this.spawn();
    await this.waitHealthy();
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  /** Polls `/health` (a linearizable read: true once the member has a leader and serves). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.spawnError) throw new Error(`etcd member ${this.name} did not start: ${this.spawnError}`);
      if (!this.running) throw new Error(`etcd member ${this.name} exited before it was healthy:\n${tail(this.log())}`);
      try {
        const res = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
        const body = (await res.json()) as { health?: unknown };
        if (res.ok && body.health === 'true') return;
      } catch {
        // not listening yet, or no leader yet
      }
      if (Date.now() > end) throw new Error(`etcd member ${this.name} not healthy after ${timeoutMs} ms:\n${tail(this.log())}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function killQuietly(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Whether a process with this pid exists (for tests that check nothing was left behind). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
