/**
 * `scripts/cluster` driven from a test: starts a local etcd and instance processes in a fresh dir
 * and reads back what it wrote (cluster.json); at teardown, whatever happened, every process it
 * started is killed by pid. `stop()` is the script's own clean stop.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './tmp.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

export interface ClusterFile {
  etcd: { pid: number }[];
  instances: { memberId: string; pid: number; restconf: string; ovsdb: string; listeners?: Record<string, string> }[];
}

/** Running, as opposed to gone or a zombie nobody reaped yet (the script's children are orphans). */
export function pidAlive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export interface ScriptedCluster {
  dir: string;
  file: ClusterFile;
  /** What `start` printed. */
  stdout: string;
  stop(): Promise<void>;
}

export async function startClusterScript(t: { teardown(fn: () => unknown): void }, args: string[]): Promise<ScriptedCluster> {
  const dir = join(tempDir(t), 'cluster');
  let file: ClusterFile | undefined;
  t.teardown(() => {
    for (const p of [...(file?.instances ?? []), ...(file?.etcd ?? [])]) if (pidAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
  });
  const started = await run(join(ROOT, 'scripts/cluster'), ['start', '--dir', dir, ...args], { timeout: 120_000 });
  file = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as ClusterFile;
  return {
    dir,
    file,
    stdout: started.stdout,
    stop: async () => void (await run(join(ROOT, 'scripts/cluster'), ['stop', '--dir', dir], { timeout: 60_000 })),
  };
}
