/**
 * Debian's real `openstack` CLI, as the OpenStack-API tests drive it: Debian's python (the python3
 * first on PATH cannot import the clients), a private HOME and no OS_* variables from the caller,
 * a timeout; the exit code and both outputs returned, never thrown.
 */
import { execFile } from 'node:child_process';

export const OPENSTACK = '/usr/bin/openstack';
export const PYTHON = '/usr/bin/python3';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A runner of `openstack <auth...> <args...>` in `home`. */
export function openstackCli(home: string, auth: string[], timeoutMs = 120_000) {
  return (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(PYTHON, [OPENSTACK, ...auth, ...args], { env: { PATH: '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' }, timeout: timeoutMs, cwd: home }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });
}

export const json = (r: Run) => JSON.parse(r.stdout);
