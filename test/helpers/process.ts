import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');

export interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Runs `npm start`'s entry point (node --import tsx src/main.ts) with flags; killed by pid at teardown.
 * cwd: where it runs (the repository by default; `./sextant.json` is looked for there).
 */
export function startMain(t: { teardown(fn: () => void): void }, args: string[], env: NodeJS.ProcessEnv = {}, cwd = ROOT): Started {
  // Never the default OVSDB (6640) or NETCONF (2830) port in tests: the machine may be shared.
  const ports = ['--ovsdb-port', '--openflow-port', '--netconf-port'].filter((flag) => !args.some((a) => a.startsWith(flag))).map((flag) => `${flag}=0`);
  // tsx by its resolved URL: a bare name would be looked up from cwd.
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/main.ts'), ...ports, ...args], {
    cwd,
    // Plugin-owned listeners (the Tacker API) on free ports too, unless a test says otherwise.
    env: { SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0', ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until check() is true, polling; fails after the timeout with the given description. */
/** The ready line `src/main.ts` prints (pino's JSON line): where every server listens, and its text. */
export interface Ready {
  msg: string;
  restconf: string;
  netconf: string;
  ovsdb: string;
  openflow: string;
  listeners: Record<string, string>;
  plugins: string[];
}

/** Waits for a started controller's ready line and returns it; fails at once if the process exits first. */
export async function readyOf(p: Started, timeoutMs = 60_000): Promise<Ready> {
  const find = () => p.stdout().split('\n').find((l) => l.includes('sextant ready'));
  let exited = false;
  void p.exited.then(() => (exited = true));
  await waitUntil('the ready line', () => Boolean(find()) || exited, timeoutMs);
  const line = find();
  if (!line) throw new Error(`the controller exited with ${p.child.exitCode} before it was ready: ${p.stderr()}`);
  return JSON.parse(line) as Ready;
}

export async function waitUntil(what: string, check: () => boolean, timeoutMs = 20000, intervalMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls an async condition (an ovs-vsctl read, an HTTP GET) every 100 ms until it holds. */
export async function untilAsync(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
