/**
 * npm run bench:datastore — the datastore's three figures, each against a peer or limit measured
 * in the same run (DESIGN.md section 7). Prints one JSON line per result.
 *
 * 1. Validated commits to LevelDB (100 commits x 1,000 list entries) vs raw classic-level batch
 *    puts of the same keys and serialized bytes.
 * 2. Validation of one 100,000-entry document (a leafref per entry) in-process vs yanglint on the
 *    same file.
 * 3. RSS after loading that document into the memory backend, vs a 400 MB limit (child process).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Datastore } from '../../src/datastore/datastore.ts';
import { LevelBackend } from '../../src/datastore/backends/level.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, readJson } from '../../src/yang/json.ts';
import { validateTree } from '../../src/yang/validate.ts';
import { FIXTURE, hostEntry, registryDocument } from './fixture-data.ts';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 100);
const PER_COMMIT = Number(process.env.BENCH_PER_COMMIT ?? 1000);
const DOC_ENTRIES = Number(process.env.BENCH_DOC_ENTRIES ?? 100_000);

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

const round = (x: number, d = 3) => Number(x.toFixed(d));

async function commits(): Promise<void> {
  const schema = await loadSchema(FIXTURE);
  const ours = mkdtempSync(join(tmpdir(), 'bench-ds-'));
  const raw = mkdtempSync(join(tmpdir(), 'bench-raw-'));
  try {
    const batches = Array.from({ length: COMMITS }, (_, c) =>
      Array.from({ length: PER_COMMIT }, (_, e) => hostEntry(c * PER_COMMIT + e)),
    );
    // Peer: the same keys and serialized values, written as raw batches.
    const db = new ClassicLevel<string, string>(raw, { valueEncoding: 'utf8' });
    await db.open();
    // The peer serializes each entry to the bytes it writes, as any program storing objects must.
    let t0 = performance.now();
    for (const b of batches) {
      await db.batch(b.map((h) => ({ type: 'put' as const, key: `/sextant-fixture:registry/host=${h.name}`, value: JSON.stringify(h) })));
    }
    const rawSeconds = (performance.now() - t0) / 1000;
    await db.close();

    const ds = await Datastore.open({ schema, config: new LevelBackend(ours), operational: new MemoryBackend() });
    t0 = performance.now();
    for (const b of batches) {
      const tx = ds.transaction('config');
      for (const h of b) tx.put(`/sextant-fixture:registry/host=${h.name}`, h);
      await tx.commit();
    }
    const oursSeconds = (performance.now() - t0) / 1000;
    await ds.close();
    const total = COMMITS * PER_COMMIT;
    const value = total / oursSeconds;
    const peer = total / rawSeconds;
    emit({
      bench: 'datastore.commit',
      metric: 'entries_per_s',
      value: Math.round(value),
      peer: 'raw classic-level batch puts',
      peer_value: Math.round(peer),
      ratio: round(value / peer),
      target: '>=0.5',
      detail: `${COMMITS} validated commits of ${PER_COMMIT} list entries (a leafref each), LevelDB`,
    });
  } finally {
    rmSync(ours, { recursive: true, force: true });
    rmSync(raw, { recursive: true, force: true });
  }
}

async function validation(docPath: string): Promise<void> {
  const schema = await loadSchema(FIXTURE);
  const text = readFileSync(docPath, 'utf8');
  // Ours: read the file, parse, decode and validate the whole tree, in this process.
  const runOurs = () => {
    const t0 = performance.now();
    const root = decodeObject(schema, undefined, readJson(readFileSync(docPath, 'utf8')), '', { configOnly: true });
    validateTree(schema, root, { configOnly: true });
    return (performance.now() - t0) / 1000;
  };
  runOurs(); // warm-up (JIT), as yanglint's code is compiled ahead of time
  const ourTimes = [runOurs(), runOurs(), runOurs()];
  const yangTimes: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync('yanglint', ['-p', FIXTURE, '-t', 'config', join(FIXTURE, 'sextant-fixture@2026-11-22.yang'), docPath], { encoding: 'utf8', maxBuffer: 1 << 26 });
    yangTimes.push((performance.now() - t0) / 1000);
    if (r.status !== 0) throw new Error(`yanglint rejected the benchmark document: ${r.stderr}`);
  }
  const ours = Math.min(...ourTimes);
  const theirs = Math.min(...yangTimes);
  emit({
    bench: 'datastore.validate',
    metric: 'seconds',
    value: round(ours),
    peer: `yanglint ${execFileSync('yanglint', ['-v'], { encoding: 'utf8' }).trim().replace(/^yanglint\s*/i, '')}`,
    peer_value: round(theirs),
    ratio: round(ours / theirs),
    target: '<=1',
    detail: `${DOC_ENTRIES} list entries, ${(text.length / 1e6).toFixed(1)} MB JSON, a leafref per entry; best of 3`,
  });
}

function memory(docPath: string): void {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'load-memory.ts'), docPath], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`memory probe failed: ${r.stderr}`);
  const { rssMb, baselineMb } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rssMb: number; baselineMb: number };
  emit({
    bench: 'datastore.memory',
    metric: 'rss_mb',
    value: round(rssMb, 1),
    peer: 'limit',
    peer_value: 400,
    ratio: round(rssMb / 400),
    target: '<1',
    detail: `RSS after committing the ${DOC_ENTRIES}-entry document to the memory backend (process baseline ${baselineMb.toFixed(1)} MB)`,
  });
}

const only = process.argv[2];
const work = mkdtempSync(join(tmpdir(), 'bench-doc-'));
try {
  const docPath = join(work, 'registry.json');
  if (!only || only !== 'commit') writeFileSync(docPath, registryDocument(DOC_ENTRIES));
  if (!only || only === 'commit') await commits();
  if (!only || only === 'validate') await validation(docPath);
  if (!only || only === 'memory') memory(docPath);
} finally {
  rmSync(work, { recursive: true, force: true });
}
