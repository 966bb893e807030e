/**
 * Crash safety: a process writing multi-entry commits to LevelDB is killed with SIGKILL at a
 * random moment, 20 times in a row on the same data dir. After each kill every commit is there
 * entirely or not at all, every acknowledged commit is there, and no later commit survives
 * without the ones before it.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fixtureSchema } from '../helpers/fixture.ts';
import { levelDatastore } from '../helpers/datastore.ts';
import { tempDir } from '../helpers/tmp.ts';
import { ROOT } from '../helpers/process.ts';

const schema = await fixtureSchema();
const dir = tempDir(t);
const ROUNDS = 20;

async function killedRun(run: number, dir: string, mode = ''): Promise<{ acked: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/datastore/fixtures/crash-writer.ts'), dir, String(run), mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acked = -1;
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const delay = 20 + Math.random() * 400;
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => reject(new Error(`writer made no commit in 30 s: ${err}`)), 30000);
    child.stdout.on('data', (d: Buffer) => {
      for (const m of String(d).matchAll(/ack (\d+)/g)) acked = Math.max(acked, Number(m[1]));
      // Kill at a random moment once the writer is under way.
      timer ??= setTimeout(() => {
        clearTimeout(guard);
        resolve();
      }, delay);
    });
    child.on('exit', () => reject(new Error(`writer exited by itself: ${err}`)));
  });
  process.kill(child.pid!, 'SIGKILL');
  await exited;
  return { acked };
}

for (let run = 0; run < ROUNDS; run++) {
  t.test(`kill ${run + 1} of ${ROUNDS}`, async (t) => {
    const { acked } = await killedRun(run, dir);
    const ds = await levelDatastore(schema, dir);
    t.teardown(() => ds.close());
    const hosts = (ds.read('config', '/sextant-fixture:registry/host') as { name: string; dpn: string }[] | undefined) ?? [];
    const perCommit = new Map<number, number>();
    for (const h of hosts) {
      const m = /^r(\d+)-c(\d+)-e(\d+)$/.exec(h.name)!;
      if (Number(m[1]) !== run) continue;
      perCommit.set(Number(m[2]), (perCommit.get(Number(m[2])) ?? 0) + 1);
    }
    const partial = [...perCommit].filter(([, n]) => n !== 10);
    t.same(partial, [], 'every commit is entirely present or entirely absent');
    const present = [...perCommit.keys()].sort((a, b) => a - b);
    const highest = present.length ? present[present.length - 1] : -1;
    t.ok(highest >= acked, `every acknowledged commit is present (acked up to ${acked}, found up to ${highest})`);
    t.same(present, Array.from({ length: highest + 1 }, (_, i) => i), 'no commit survives without those before it');
    const earlier = hosts.filter((h) => Number(/^r(\d+)/.exec(h.name)![1]) < run).length;
    t.equal(earlier % 10, 0, 'earlier runs are still whole');
  });
}

// A commit phase's derived writes go out in the commit's own batch: a kill never leaves a host
// without the shadow its commit derived, nor a shadow without its host.
const derivedDir = tempDir(t);
for (let run = 0; run < 8; run++) {
  t.test(`derived writes: kill ${run + 1} of 8`, async (t) => {
    await killedRun(run, derivedDir, 'derived');
    const ds = await levelDatastore(schema, derivedDir);
    t.teardown(() => ds.close());
    const names = new Set(((ds.read('config', '/sextant-fixture:registry/host') as { name: string }[] | undefined) ?? []).map((h) => h.name));
    const primaries = [...names].filter((n) => !n.endsWith('-shadow'));
    t.ok(primaries.length > 0, 'the writer committed something before the kill');
    t.same(primaries.filter((n) => !names.has(`${n}-shadow`)), [], 'every host has its derived shadow');
    t.same([...names].filter((n) => n.endsWith('-shadow') && !names.has(n.slice(0, -'-shadow'.length))), [], 'every shadow has its host');
  });
}
