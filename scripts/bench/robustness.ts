/**
 * npm run bench:robustness — what the controller survives, as JSON lines (DESIGN.md section 7:
 * each figure with its peer, here the number of tries, and the ratio).
 *
 * durability (`npm run bench:robustness -- durability` for this part alone):
 * 1. robustness.kills: SIGKILL of a process committing from four writers to LevelDB
 *    (test/datastore/fixtures/crash-writer.ts), BENCH_KILLS rounds (default 40) on one data dir,
 *    both --datastore-sync settings, at random moments and at the two chosen points of the
 *    commit path; a round survives when every acknowledged commit is there with its own content,
 *    none partial, and the revision is exactly that of the batches present. Also how many kills
 *    landed inside a commit and inside LevelDB's write itself.
 * 2. robustness.power-cuts: the controller on a loop-mounted ext4 cut off without flushing
 *    (test/helpers/power-cut.ts) while RESTCONF commits are under way, BENCH_POWER_CUTS times
 *    (default 3) per setting: with always a cut survives when no acknowledged commit is lost;
 *    with none the acknowledged commits lost are counted (the price of that setting).
 */
import { fixtureSchema } from '../../test/helpers/fixture.ts';
import { checkStore, killedRun, type KillOptions } from '../../test/helpers/crash.ts';
import { loopDevicesUsable, powerCut } from '../../test/helpers/power-cut.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const KILLS = Number(process.env.BENCH_KILLS ?? 40);
const POWER_CUTS = Number(process.env.BENCH_POWER_CUTS ?? 3);

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

const round = (x: number, d = 3) => Number(x.toFixed(d));

/** What the test helpers' processes register for the end of a test, run at the end of a step. */
function scope() {
  const fns: (() => unknown)[] = [];
  return { teardown: (fn: () => unknown) => void fns.push(fn), end: async () => { for (const f of fns.reverse()) await f(); } };
}

async function kills(): Promise<void> {
  const schema = await fixtureSchema();
  const dir = mkdtempSync(join(tmpdir(), 'bench-kills-'));
  const ledger = new Map<number, string[]>();
  let survived = 0;
  let midCommit = 0;
  let insideWrite = 0;
  let acked = 0;
  const failures: string[] = [];
  try {
    for (let run = 0; run < KILLS; run++) {
      const sync = run % 2 ? 'none' : 'always';
      // One round in four at a chosen point of the commit path, the rest at random moments.
      const pause = run % 4 === 2 ? `before-write:${2 + (run % 5)}` : run % 4 === 3 ? `after-write:${2 + (run % 5)}` : undefined;
      const opts: KillOptions = { sync, pause };
      const killed = await killedRun(dir, run, opts);
      const check = await checkStore(schema, dir, ledger, killed);
      acked += killed.acked.size;
      const ok = check.lost.length === 0 && check.wrong.length === 0 && JSON.stringify(check.present) === JSON.stringify(check.expected) && check.revision >= killed.written;
      if (ok) survived++;
      else failures.push(`round ${run} (${sync}, ${pause ?? 'random'}): lost ${check.lost.length}, wrong ${check.wrong.length}, revision ${check.revision}`);
      if (killed.midCommit) midCommit++;
      if (killed.insideWrite) insideWrite++;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  emit({
    bench: 'robustness.kills',
    metric: 'kills_survived_nothing_lost',
    value: survived,
    peer: 'kills',
    peer_value: KILLS,
    ratio: round(survived / KILLS),
    target: '1',
    landed_mid_commit: midCommit,
    landed_inside_leveldb_write: insideWrite,
    acknowledged_commits_checked: acked,
    ...(failures.length ? { failures } : {}),
    detail: `SIGKILL of a writer committing 10-host commits from 4 writers to LevelDB, ${KILLS} rounds on one data dir, --datastore-sync always and none alternating, 1 in 4 at the batch before LevelDB and 1 in 4 after LevelDB before the ack, the rest at random; each acknowledged commit checked by content, revision against the batches reported over the pipe`,
  });
  if (failures.length) process.exitCode = 1;
}

async function powerCuts(): Promise<void> {
  const unusable = loopDevicesUsable();
  if (unusable) {
    emit({ bench: 'robustness.power-cuts', skipped: unusable });
    return;
  }
  for (const sync of ['always', 'none'] as const) {
    let survived = 0;
    let acked = 0;
    let lost = 0;
    let canaries = 0;
    for (let i = 0; i < POWER_CUTS; i++) {
      const s = scope();
      try {
        const r = await powerCut(s, sync, 3000, `${sync}${i}`);
        acked += r.acked.length;
        lost += r.lost.length;
        if (r.canaryDropped) canaries++;
        if (r.lost.length === 0 && r.wrong.length === 0 && !r.openError) survived++;
      } finally {
        await s.end();
      }
    }
    emit({
      bench: 'robustness.power-cuts',
      sync,
      metric: 'cuts_survived_nothing_lost',
      value: survived,
      peer: 'power cuts',
      peer_value: POWER_CUTS,
      ratio: round(survived / POWER_CUTS),
      target: sync === 'always' ? '1' : 'report',
      acknowledged: acked,
      acknowledged_lost: lost,
      unsynced_canary_dropped: canaries,
      detail: `the controller (--datastore-sync=${sync}) on a loop-mounted ext4 whose image is copied at the cut, RESTCONF PUTs of one car each from 4 clients for 3 s, SIGKILL and cut with PUTs under way`,
    });
    if (sync === 'always' && survived !== POWER_CUTS) process.exitCode = 1;
  }
}

/** Crashes and power cuts: kills inside commits, then power cuts with each sync setting. */
async function durability(): Promise<void> {
  await kills();
  await powerCuts();
}

const only = process.argv[2];
if (!only || only === 'durability') await durability();
