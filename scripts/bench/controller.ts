/**
 * The controller the in-process benchmarks measure: what `npm start` runs (LevelDB in a private
 * temporary data dir), on free ports, quiet. `stop()` stops it and removes the data dir.
 * `extraArgs` are more command-line flags (a later flag wins), e.g. `--yang-dir=...` for more modules.
 * BENCH_KEEP_DIR=<dir>: use that data dir instead and keep it (e.g. to start a controller on the
 * store a benchmark built, `npm run bench:datastore -- start-full`).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startController, type Controller } from '../../src/controller.ts';

export async function benchController(name: string, extraArgs: string[] = []): Promise<Controller & { dir: string }> {
  const keep = process.env.BENCH_KEEP_DIR;
  if (keep) mkdirSync(keep, { recursive: true });
  const dir = keep ?? mkdtempSync(join(tmpdir(), `bench-${name}-`));
  const remove = () => (keep ? undefined : rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig(['--restconf-port=0', '--netconf-port=0', '--ovsdb-port=0', '--openflow-port=0', '--datastore=level', `--data-dir=${dir}`, '--log-level=silent', ...extraArgs], { SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' }, { deferUnknown: true });
  let c: Controller;
  try {
    c = await startController(config, pino({ level: 'silent' }));
  } catch (e) {
    remove();
    throw e;
  }
  const stopController = c.stop.bind(c);
  return Object.assign(c, {
    dir,
    async stop() {
      try {
        await stopController();
      } finally {
        remove();
      }
    },
  });
}
