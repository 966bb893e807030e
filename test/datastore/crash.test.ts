/**
 * Crash safety: a process committing from four writers at once to LevelDB is killed with SIGKILL,
 * round after round on the same data dir, both with --datastore-sync=always and none (a killed
 * process leaves the OS page cache, so neither may lose anything here; power loss is
 * power-loss.test.ts). Kills land at random moments (most inside some commit: the figures are
 * printed) and at two chosen points of the commit path: with the batch laid out but not yet
 * handed to LevelDB, and with LevelDB done but the commit not yet acknowledged. After each kill,
 * reopened: every acknowledged commit is there with its own content, every commit present is
 * whole, and the store's revision is exactly that of the batches present (none missing below it,
 * none present above it), as the writer reported them over its pipe.
 */
import t from 'tap';
import { fixtureSchema } from '../helpers/fixture.ts';
import { levelDatastore } from '../helpers/datastore.ts';
import { tempDir } from '../helpers/tmp.ts';
import { checkStore, killedRun, type KillOptions } from '../helpers/crash.ts';

const schema = await fixtureSchema();
const dir = tempDir(t);
const ledger = new Map<number, string[]>();
const rounds: (KillOptions & { why: string })[] = [
  ...Array.from({ length: 6 }, (_, i) => ({ why: 'at a random moment', sync: i % 2 ? ('none' as const) : ('always' as const) })),
  { why: 'with a batch validated, not yet handed to LevelDB', sync: 'always', pause: 'before-write:3' },
  { why: 'with a batch in LevelDB, not yet acknowledged', sync: 'always', pause: 'after-write:3' },
  { why: 'with a batch validated, not yet handed to LevelDB', sync: 'none', pause: 'before-write:5' },
  { why: 'with a batch in LevelDB, not yet acknowledged', sync: 'none', pause: 'after-write:5' },
];
let survived = 0;
let midCommit = 0;
let insideWrite = 0;

for (const [run, r] of rounds.entries()) {
  t.test(`kill ${run + 1} of ${rounds.length} (sync ${r.sync}) ${r.why}`, async (t) => {
    const killed = await killedRun(dir, run, r);
    if (r.pause) t.equal(killed.pausedAt, r.pause.split(':')[0], 'the writer stopped at the chosen point');
    t.ok(killed.acked.size > 0, `the writer had acknowledged commits (${killed.acked.size})`);
    const check = await checkStore(schema, dir, ledger, killed);
    t.same(check.lost, [], 'every acknowledged commit is there');
    t.same(check.wrong, [], 'every commit there is whole, each host with its own content');
    t.same(check.present, check.expected, `the commits there are exactly those of the batches up to revision ${check.revision}`);
    t.ok(check.revision >= killed.written, `every batch LevelDB answered is there (written up to ${killed.written}, revision ${check.revision})`);
    if (r.pause === 'before-write:3' || r.pause === 'before-write:5') t.equal(check.revision, killed.written, 'the batch never handed over is not there');
    if (check.lost.length === 0 && check.wrong.length === 0) survived++;
    if (killed.midCommit) midCommit++;
    if (killed.insideWrite) insideWrite++;
  });
}

t.test('figures', async (t) => {
  t.comment(JSON.stringify({ kills: rounds.length, survived_nothing_lost: survived, landed_mid_commit: midCommit, landed_inside_leveldb_write: insideWrite }));
  t.equal(survived, rounds.length);
});

// A commit phase's derived writes go out in the commit's own batch: a kill never leaves a host
// without the shadow its commit derived, nor a shadow without its host.
const derivedDir = tempDir(t);
for (let run = 0; run < 4; run++) {
  t.test(`derived writes: kill ${run + 1} of 4`, async (t) => {
    await killedRun(derivedDir, run, { sync: run % 2 ? 'none' : 'always', mode: 'derived' });
    const ds = await levelDatastore(schema, derivedDir);
    t.teardown(() => ds.close());
    const names = new Set(((ds.read('config', '/sextant-fixture:registry/host') as { name: string }[] | undefined) ?? []).map((h) => h.name));
    const primaries = [...names].filter((n) => !n.endsWith('-shadow'));
    t.ok(primaries.length > 0, 'the writer committed something before the kill');
    t.same(primaries.filter((n) => !names.has(`${n}-shadow`)), [], 'every host has its derived shadow');
    t.same([...names].filter((n) => n.endsWith('-shadow') && !names.has(n.slice(0, -'-shadow'.length))), [], 'every shadow has its host');
  });
}
