/**
 * Controller processes for benchmarks that measure the controller itself (CPU and memory from
 * /proc): what `npm start` runs, on free ports, memory datastore, the plugins asked for; the
 * RESTCONF URL read from its ready line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface BenchProcess {
  child: ChildProcess;
  url: string;
  /** The ready line's fields (ovsdb, listeners, ...). */
  ready: { restconf: string; ovsdb?: string; listeners?: Record<string, string>; [k: string]: unknown };
}

export async function spawnController(name: string, flags: string[], nodeFlags: string[] = []): Promise<BenchProcess> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(ROOT, 'src/main.ts'), '--datastore=memory', '--restconf-port=0', '--netconf-port=0', '--ovsdb-port=0', '--openflow-port=0', '--log-level=info', `--member-id=${name}`, ...flags], {
    cwd: ROOT,
    env: { ...process.env, SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<BenchProcess['ready']>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const l of out.split('\n')) {
        if (!l.includes('sextant ready')) continue;
        try {
          res(JSON.parse(l) as BenchProcess['ready']);
        } catch {
          // a partial line
        }
      }
    });
    child.once('exit', (code) => rej(new Error(`${name} exited with ${code}`)));
  });
  child.stdout!.resume();
  return { child, url: ready.restconf, ready };
}

/** user+system CPU of a process, in ms (from /proc; clock ticks are 100 Hz on Linux). */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
