/**
 * `node --import tsx scripts/repair-datastore.ts <data-dir>`: the way out when the controller
 * refuses a damaged LevelDB data dir (a log cut short, a table file lost). Runs LevelDB's own
 * repair (classic-level's RepairDB: it rebuilds the manifest from the table and log files that
 * are left, keeping every record that still reads back), then records the revision the store now
 * holds as its witness, so the controller starts on what was saved. Stop the controller first
 * (the repair takes LevelDB's lock). Commits kept only in what was lost are gone, possibly in
 * part: the line it prints says what is left. Copy the dir aside first to keep the original.
 * Exit 0 once repaired, 1 when the repair failed, 2 on bad usage.
 */
import { existsSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { LevelBackend, REVISION_KEY, WITNESS_FILE, writeWitness } from '../src/datastore/backends/level.ts';

async function main(): Promise<number> {
  const dir = process.argv[2];
  if (!dir || process.argv.length > 3) {
    console.error('usage: node --import tsx scripts/repair-datastore.ts <data-dir>');
    return 2;
  }
  if (!existsSync(dir)) {
    console.error(`repair-datastore: ${dir} does not exist`);
    return 1;
  }
  try {
    await ClassicLevel.repair(dir);
    // The revision as it survived, read past the backend (whose witness check would refuse it).
    const db = new ClassicLevel<string, string>(dir, { valueEncoding: 'utf8', createIfMissing: false });
    await db.open();
    const rev = Number((await db.get(REVISION_KEY)) ?? 0);
    await db.close();
    await writeWitness(dir, rev);
    // What the controller will read: opened as it opens it.
    const backend = new LevelBackend(dir);
    await backend.open();
    const units = (await backend.list('/')).length;
    await backend.close();
    console.log(`repair-datastore: ${dir} repaired: ${units} stored units at revision ${rev} (${WITNESS_FILE} set to it); the controller can start on it`);
    return 0;
  } catch (err) {
    console.error(`repair-datastore: cannot repair ${dir}: ${(err as Error).message.replace(/\s*\n\s*/g, ' ')}`);
    return 1;
  }
}

process.exit(await main());
