/**
 * Start-up on a damaged LevelDB data dir: a log cut short (what a bad disk or a careless copy
 * leaves) and a table file (.ldb) deleted. Either way `npm start` exits 1 with one line naming
 * the data dir and the recovery command, and never serves a silently emptied or shortened store;
 * the recovery command (scripts/repair-datastore.ts) then salvages what is readable and the
 * controller opens it.
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureSchema } from '../helpers/fixture.ts';
import { levelDatastore } from '../helpers/datastore.ts';
import { tempDir } from '../helpers/tmp.ts';
import { ROOT, startMain } from '../helpers/process.ts';
import { LevelBackend } from '../../src/datastore/backends/level.ts';

const schema = await fixtureSchema();
const HOSTS = '/sextant-fixture:registry/host';

/** `commits` commits of 20 hosts each (r<round>-c<n>-e<e>), then a clean close. */
async function fill(dir: string, round: number, commits: number): Promise<void> {
  const ds = await levelDatastore(schema, dir);
  for (let c = 0; c < commits; c++) {
    const tx = ds.transaction('config');
    for (let e = 0; e < 20; e++) tx.put(`${HOSTS}=r${round}-c${c}-e${e}`, { name: `r${round}-c${c}-e${e}`, address: 'y'.repeat(200), dpn: String(c * 20 + e) });
    await tx.commit();
  }
  await ds.close();
}

const files = (dir: string, re: RegExp) => readdirSync(dir).filter((f) => re.test(f));

/** The controller's start on `dir`: refused with exit 1 and one line naming the dir and the way out. */
async function refusedStart(t: Test, dir: string, why: RegExp): Promise<void> {
  const p = startMain(t, [`--data-dir=${dir}`, '--restconf-port=0', '--plugins=', '--log-level=warn']);
  t.equal(await p.exited, 1, 'exit code 1');
  const lines = p.stderr().trim().split('\n');
  t.equal(lines.length, 1, `one line on stderr: ${p.stderr()}`);
  t.match(lines[0], new RegExp(`^sextant: cannot open the datastore: data dir ${dir} is damaged: `), 'it names the data dir');
  t.match(lines[0], why, 'and what is wrong');
  t.match(lines[0], `run \`node --import tsx scripts/repair-datastore.ts ${dir}\`, or move ${dir} aside to start empty`, 'and the recovery command');
  t.notMatch(p.stdout(), /sextant ready/, 'it never served');
}

function repair(dir: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/repair-datastore.ts'), dir], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

t.test('a LevelDB log cut short: refused, then repaired to what the log still holds', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 0, 5);
  // Reopened: LevelDB turns that log into a table; the next commits go to a new log only.
  await fill(dir, 1, 6);
  const [log] = files(dir, /^\d+\.log$/);
  const size = statSync(join(dir, log)).size;
  t.ok(size > 10_000, `the log holds round 1 (${size} bytes)`);
  truncateSync(join(dir, log), Math.floor(size / 2));

  // LevelDB alone opens this without a word, with round 1 cut in half.
  await refusedStart(t, dir, /it holds revision \d+ but had reached revision 11 \(a LevelDB log file was cut short or lost\)/);

  const r = repair(dir);
  t.equal(r.status, 0, `repair exits 0: ${r.out}`);
  t.match(r.out, new RegExp(`${dir} repaired: \\d+ stored units at revision \\d+`));
  const ds = await levelDatastore(schema, dir);
  t.teardown(() => ds.close());
  const names = ((ds.read('config', HOSTS) as { name: string }[] | undefined) ?? []).map((h) => h.name);
  const round0 = names.filter((n) => n.startsWith('r0-')).length;
  const round1 = names.filter((n) => n.startsWith('r1-')).length;
  t.equal(round0, 100, 'what was in tables is all there');
  t.ok(round1 > 0 && round1 < 120 && round1 % 20 === 0, `the log's surviving commits, each whole (${round1 / 20} of 6)`);
  t.equal(ds.revision('config'), 5 + round1 / 20, 'the revision counts the commits that are there');
});

t.test('a deleted table file: refused, then repaired without it', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 0, 5);
  await fill(dir, 1, 1); // opening again put round 0 in a table
  const tables = files(dir, /\.ldb$/);
  t.equal(tables.length, 1, 'one table file');
  unlinkSync(join(dir, tables[0]));

  await refusedStart(t, dir, /Corruption: 1 missing files; e\.g\.: .*\.ldb/);

  const r = repair(dir);
  t.equal(r.status, 0, `repair exits 0: ${r.out}`);
  const backend = new LevelBackend(dir);
  await backend.open();
  t.teardown(() => backend.close());
  const keys = (await backend.list('/')).map((e) => e.key);
  t.ok(keys.every((k) => k.includes('=r1-')), 'what the lost table held is gone');
  t.equal(keys.length, 20, 'the commit kept in the log is there');
});

t.test('the store without CURRENT is not started afresh over its files', async (t) => {
  const dir = tempDir(t);
  await fill(dir, 0, 3);
  unlinkSync(join(dir, 'CURRENT'));
  await refusedStart(t, dir, /LevelDB's CURRENT file is gone though the store had reached revision 3/);
  t.ok(files(dir, /\.log$|\.ldb$/).length > 0, "the old files are still there for the repair");
});
