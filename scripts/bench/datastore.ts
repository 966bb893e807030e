/**
 * npm run bench:datastore — the datastore's three figures, each against a peer or limit measured
 * in the same run (DESIGN.md section 7). Prints one JSON line per result.
 *
 * 1. Validated commits to LevelDB (100 commits x 1,000 list entries) vs raw classic-level batch
 *    puts of the same keys and serialized bytes, for --datastore-sync=none and always (the peer
 *    with the same sync; BENCH_SYNC picks one); on etcd (20 commits, one member started here) vs
 *    raw etcd3 txns of the same puts (`report`).
 * 2. Validation of one 100,000-entry document (a leafref per entry) in-process vs yanglint on the
 *    same file.
 * 3. RSS after loading that document into the memory backend, vs a 400 MB limit (child process).
 * 4. Small transactions: one-leaf commits one after the other, memory (vs a 20,000/s limit),
 *    LevelDB (vs raw classic-level single puts of the same key and bytes, both sync settings) and etcd
 *    (vs raw etcd3 puts, `report`). BENCH_BACKENDS picks among memory,level,etcd.
 * 5. Notifications: data changes delivered to 10 listeners per second, memory, vs a 200,000/s limit.
 * 6. Controller start: spawn to the ready line, all plugins, LevelDB in an empty data dir, median
 *    of 3, vs a 1,500 ms limit (child processes).
 *    `npm run bench:datastore -- start-full` (not in the default run): the same on the store
 *    bench:elections leaves (1,000 computes, ~210,000 flows), built first with BENCH_KEEP_DIR
 *    unless BENCH_FULL_DIR names such a data dir already.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { Etcd3 } from 'etcd3';
import { EtcdBackend } from '../../src/datastore/backends/etcd.ts';
import type { Backend } from '../../src/datastore/backends/backend.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../../test/helpers/etcd.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { LevelBackend } from '../../src/datastore/backends/level.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { decodeObject, readJson } from '../../src/yang/json.ts';
import { validateTree } from '../../src/yang/validate.ts';
import { FIXTURE, hostEntry, registryDocument } from './fixture-data.ts';
import { spawnController } from './process.ts';

const COMMITS = Number(process.env.BENCH_COMMITS ?? 100);
const PER_COMMIT = Number(process.env.BENCH_PER_COMMIT ?? 1000);
const DOC_ENTRIES = Number(process.env.BENCH_DOC_ENTRIES ?? 100_000);
const SMALL_TXNS = Number(process.env.BENCH_SMALL_TXNS ?? 5000);
const NOTIFY_COMMITS = Number(process.env.BENCH_NOTIFY_COMMITS ?? 200);
const NOTIFY_PER_COMMIT = Number(process.env.BENCH_NOTIFY_PER_COMMIT ?? 100);
const NOTIFY_LISTENERS = 10;
/** BENCH_BACKENDS=level: only the LevelDB half of small-txn (e.g. under --cpu-prof); etcd: the etcd arms of small-txn and commit. */
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'memory,level,etcd').split(',');
/** BENCH_SYNC=always or none: only that --datastore-sync setting of the LevelDB arms (both by default). */
const SYNCS = (process.env.BENCH_SYNC ?? 'none,always').split(',') as ('none' | 'always')[];
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
/** BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/p": node flags for the started controllers (to profile a start). */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

const round = (x: number, d = 3) => Number(x.toFixed(d));

async function commits(): Promise<void> {
  for (const sync of SYNCS) await commitsLevel(sync);
}

/** datastore.commit on LevelDB with `--datastore-sync=<sync>`; the peer writes with the same sync. */
async function commitsLevel(syncSetting: 'none' | 'always'): Promise<void> {
  const sync = syncSetting === 'always';
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
      await db.batch(b.map((h) => ({ type: 'put' as const, key: `/sextant-fixture:registry/host=${h.name}`, value: JSON.stringify(h) })), { sync });
    }
    const rawSeconds = (performance.now() - t0) / 1000;
    // The same with chained batches (each put handed to LevelDB as it is added), the faster form
    // of the same atomic write, which the level backend itself uses: the storage at its fastest.
    t0 = performance.now();
    for (const b of batches) {
      const chained = db.batch();
      for (const h of b) chained.put(`/sextant-fixture:registry/host=${h.name}-c`, JSON.stringify(h));
      await chained.write({ sync });
    }
    const chainedSeconds = (performance.now() - t0) / 1000;
    await db.close();

    const ds = await Datastore.open({ schema, config: new LevelBackend(ours, { sync }), operational: new MemoryBackend() });
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
      sync: syncSetting,
      metric: 'entries_per_s',
      value: Math.round(value),
      peer: `raw classic-level batch puts, sync: ${sync}`,
      peer_value: Math.round(peer),
      ratio: round(value / peer),
      target: '>=0.5',
      peer_chained_value: Math.round(total / chainedSeconds),
      ratio_chained: round(value / (total / chainedSeconds)),
      detail: `${COMMITS} validated commits of ${PER_COMMIT} list entries (a leafref each), LevelDB, --datastore-sync=${syncSetting}`,
    });
  } finally {
    rmSync(ours, { recursive: true, force: true });
    rmSync(raw, { recursive: true, force: true });
  }
}

/** datastore.commit on etcd: 1,000-entry commits as guarded txns, against raw txns of the same puts. */
async function commitsEtcd(): Promise<void> {
  const schema = await loadSchema(FIXTURE);
  const commits = Math.min(COMMITS, 20);
  const batches = Array.from({ length: commits }, (_, c) => Array.from({ length: PER_COMMIT }, (_, e) => hostEntry(c * PER_COMMIT + e)));
  await withEtcd(async (endpoints) => {
    const client = new Etcd3({ hosts: endpoints });
    try {
      let t0 = performance.now();
      for (const b of batches) {
        const txn = client.if('/raw/rev', 'Version', '>', -1);
        await txn.then(...b.map((h) => client.put(`/raw${hostPath(h.name as string)}`).value(JSON.stringify(h)))).commit();
      }
      const rawSeconds = (performance.now() - t0) / 1000;
      const ds = await Datastore.open({ schema, config: etcdBackend(endpoints, '/bench-commit/config'), operational: new MemoryBackend() });
      t0 = performance.now();
      for (const b of batches) {
        const tx = ds.transaction('config');
        for (const h of b) tx.put(hostPath(h.name as string), h);
        await tx.commit();
      }
      const oursSeconds = (performance.now() - t0) / 1000;
      await ds.close();
      const total = commits * PER_COMMIT;
      emit({
        bench: 'datastore.commit',
        backend: 'etcd',
        metric: 'entries_per_s',
        value: Math.round(total / oursSeconds),
        peer: 'raw etcd3 txns of the same puts from Node, one etcd member on loopback',
        peer_value: Math.round(total / rawSeconds),
        ratio: round(rawSeconds / oursSeconds),
        target: 'report',
        detail: `${commits} validated commits of ${PER_COMMIT} list entries, each one guarded etcd txn, acknowledged when its watch event is back`,
      });
    } finally {
      client.close();
    }
  });
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

const hostPath = (name: string) => `/sextant-fixture:registry/host=${name}`;
const p99 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The small-txn peer: `count` raw puts one after the other, each of one of `seeded` hosts with its
 * weight changed, the whole entry serialized to the bytes written (as ours stores it).
 */
function rawSmallPuts(seeded: number, put: (key: string, value: string) => Promise<void>) {
  const entries = Array.from({ length: seeded }, (_, i) => hostEntry(i));
  return async (count: number, offset: number) => {
    const lat: number[] = [];
    const t0 = performance.now();
    for (let c = 0; c < count; c++) {
      const s = performance.now();
      const h = entries[c % seeded];
      h.weight = `${(c + offset) % 1000}.5`;
      await put(hostPath(h.name as string), JSON.stringify(h));
      lat.push(performance.now() - s);
    }
    return { perS: count / ((performance.now() - t0) / 1000), p99Ms: p99(lat) };
  };
}

/** Fills the registry with `n` hosts in one commit (setup, not timed). */
async function seed(ds: Datastore, n: number): Promise<void> {
  const tx = ds.transaction('config');
  for (let i = 0; i < n; i++) tx.put(hostPath(hostEntry(i).name as string), hostEntry(i));
  await tx.commit();
}

/** Commits of one leaf each (a merge of one host's weight), awaited one by one: commits/s and latencies. */
async function smallCommits(ds: Datastore, seeded: number, count: number, offset: number): Promise<{ perS: number; p99Ms: number }> {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let c = 0; c < count; c++) {
    const i = c % seeded;
    const s = performance.now();
    const tx = ds.transaction('config');
    tx.merge(hostPath(hostEntry(i).name as string), { weight: `${(c + offset) % 1000}.5` });
    await tx.commit();
    lat.push(performance.now() - s);
  }
  return { perS: count / ((performance.now() - t0) / 1000), p99Ms: p99(lat) };
}

async function smallTxn(): Promise<void> {
  const schema = await loadSchema(FIXTURE);
  const SEEDED = 1000;
  const warm = Math.min(500, SMALL_TXNS);
  /** Seeded, warmed up, then SMALL_TXNS one-leaf commits timed, on a config backend. */
  const timedSmallCommits = async (config: Backend) => {
    const ds = await Datastore.open({ schema, config, operational: new MemoryBackend() });
    await seed(ds, SEEDED);
    await smallCommits(ds, SEEDED, warm, 1);
    const r = await smallCommits(ds, SEEDED, SMALL_TXNS, 2);
    await ds.close();
    return r;
  };
  // Memory backend, against a fixed limit.
  if (BACKENDS.includes('memory')) {
    const r = await timedSmallCommits(new MemoryBackend());
    emit({
      bench: 'datastore.small-txn',
      backend: 'memory',
      metric: 'commits_per_s',
      value: Math.round(r.perS),
      p99_ms: round(r.p99Ms),
      peer: 'limit',
      peer_value: 20_000,
      ratio: round(r.perS / 20_000),
      target: '>=1',
      detail: `${SMALL_TXNS} commits one after the other, each a merge of one leaf of one of ${SEEDED} existing list entries (after ${warm} warm-up commits)`,
    });
  }
  if (BACKENDS.includes('etcd')) await smallTxnEtcd(timedSmallCommits, SEEDED, warm);
  // LevelDB, against raw single puts of the same key and the same serialized entry, each
  // --datastore-sync setting against puts with the same sync.
  if (!BACKENDS.includes('level')) return;
  for (const syncSetting of SYNCS) {
    const sync = syncSetting === 'always';
    const ours = mkdtempSync(join(tmpdir(), 'bench-ds-small-'));
    const raw = mkdtempSync(join(tmpdir(), 'bench-raw-small-'));
    try {
      const db = new ClassicLevel<string, string>(raw, { valueEncoding: 'utf8' });
      await db.open();
      await db.batch(Array.from({ length: SEEDED }, (_, i) => ({ type: 'put' as const, key: hostPath(hostEntry(i).name as string), value: JSON.stringify(hostEntry(i)) })));
      const rawRun = rawSmallPuts(SEEDED, (key, value) => db.put(key, value, { sync }));
      await rawRun(warm, 1);
      const peer = await rawRun(SMALL_TXNS, 2);
      await db.close();

      const r = await timedSmallCommits(new LevelBackend(ours, { sync }));
      emit({
        bench: 'datastore.small-txn',
        backend: 'level',
        sync: syncSetting,
        metric: 'commits_per_s',
        value: Math.round(r.perS),
        p99_ms: round(r.p99Ms),
        peer: `raw classic-level single put, sync: ${sync}`,
        peer_value: Math.round(peer.perS),
        peer_p99_ms: round(peer.p99Ms),
        ratio: round(r.perS / peer.perS),
        target: '>=0.5',
        detail: `${SMALL_TXNS} commits one after the other, each a merge of one leaf of one of ${SEEDED} existing list entries, --datastore-sync=${syncSetting}; the peer puts the same key and whole serialized entry (after ${warm} warm-up operations each)`,
      });
    } finally {
      rmSync(ours, { recursive: true, force: true });
      rmSync(raw, { recursive: true, force: true });
    }
  }
}

/** One etcd member (Debian's etcd-server) on free ports for the etcd arms; stopped by pid after. */
async function withEtcd<T>(fn: (endpoints: string[]) => Promise<T>): Promise<T> {
  const cleanups: (() => unknown)[] = [];
  try {
    const etcd = await startEtcd({ teardown: (f) => void cleanups.push(f) }, { members: 1 });
    return await fn(etcd.endpoints);
  } finally {
    for (const c of cleanups.reverse()) await c();
  }
}

const etcdBackend = (endpoints: string[], prefix: string) =>
  new EtcdBackend({ endpoints, prefix, maxTxnOps: ETCD_TEST_SETTINGS.maxTxnOps, maxRequestBytes: ETCD_TEST_SETTINGS.maxRequestBytes });

/** small-txn on etcd: the round trip is the cost, so the peer is one raw etcd3 put per commit. */
async function smallTxnEtcd(timed: (b: EtcdBackend) => Promise<{ perS: number; p99Ms: number }>, seeded: number, warm: number): Promise<void> {
  await withEtcd(async (endpoints) => {
    const client = new Etcd3({ hosts: endpoints });
    const rawRun = rawSmallPuts(seeded, async (key, value) => void (await client.put(`/raw${key}`).value(value)));
    try {
      await rawRun(warm, 1);
      const peer = await rawRun(SMALL_TXNS, 2);
      const r = await timed(etcdBackend(endpoints, '/bench/config'));
      emit({
        bench: 'datastore.small-txn',
        backend: 'etcd',
        metric: 'commits_per_s',
        value: Math.round(r.perS),
        p99_ms: round(r.p99Ms),
        peer: 'raw etcd3 put from Node, one etcd member on loopback',
        peer_value: Math.round(peer.perS),
        peer_p99_ms: round(peer.p99Ms),
        ratio: round(r.perS / peer.perS),
        target: 'report',
        detail: `${SMALL_TXNS} commits one after the other (each a guarded etcd txn and its watch event back), each a merge of one leaf of one of ${seeded} existing list entries; the peer puts the same key and whole serialized entry`,
      });
    } finally {
      client.close();
    }
  });
}

async function notify(): Promise<void> {
  const schema = await loadSchema(FIXTURE);
  const ds = await Datastore.open({ schema, config: new MemoryBackend(), operational: new MemoryBackend() });
  const K = NOTIFY_PER_COMMIT;
  await seed(ds, K);
  const counts = new Array<number>(NOTIFY_LISTENERS).fill(0);
  const unsubs = counts.map((_, l) =>
    ds.subscribe('config', '/sextant-fixture:registry/host=*', (changes) => {
      counts[l] += changes.length;
    }, { replay: false }),
  );
  const names = Array.from({ length: K }, (_, i) => hostEntry(i).name as string);
  const t0 = performance.now();
  for (let c = 0; c < NOTIFY_COMMITS; c++) {
    const tx = ds.transaction('config');
    for (const n of names) tx.merge(hostPath(n), { weight: `${c % 1000}.75` });
    await tx.commit();
  }
  await ds.settled();
  const seconds = (performance.now() - t0) / 1000;
  for (const u of unsubs) u();
  await ds.close();
  const expected = NOTIFY_COMMITS * K * NOTIFY_LISTENERS;
  const delivered = counts.reduce((a, b) => a + b, 0);
  const value = delivered / seconds;
  emit({
    bench: 'datastore.notify',
    metric: 'deliveries_per_s',
    value: Math.round(value),
    delivered,
    expected,
    lost: expected - delivered,
    peer: 'limit',
    peer_value: 200_000,
    ratio: round(value / 200_000),
    target: '>=1',
    detail: `${NOTIFY_COMMITS} commits x ${K} updated list entries, ${NOTIFY_LISTENERS} listeners on the list (replay: false), memory backend; commits and delivery (until settled) timed together`,
  });
  if (delivered !== expected) process.exitCode = 1;
}

async function controllerStart(full?: { dir: string; buildSeconds?: number }): Promise<void> {
  const times: number[] = [];
  let plugins: unknown;
  for (let i = 0; i < STARTS; i++) {
    const dir = full?.dir ?? mkdtempSync(join(tmpdir(), 'bench-start-'));
    try {
      const t0 = performance.now();
      const p = await spawnController(`start-${i}`, ['--datastore=level', `--data-dir=${dir}`, '--plugins=*', '--log-level=info'], NODE_FLAGS);
      times.push(performance.now() - t0);
      plugins = p.ready.plugins;
      await new Promise<void>((res) => {
        const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
        p.child.once('exit', () => {
          clearTimeout(timer);
          res();
        });
        p.child.kill('SIGTERM');
      });
    } finally {
      if (!full) rmSync(dir, { recursive: true, force: true });
    }
  }
  const value = median(times);
  // The limits: 1.5 s to come up empty, 6 s on the full store (OpenDaylight: ~115 s).
  const limit = full ? 6000 : 1500;
  emit({
    bench: 'controller.start',
    variant: full ? 'full' : 'empty',
    metric: 'ms',
    value: Math.round(value),
    runs_ms: times.map((t) => Math.round(t)),
    peer: 'limit',
    peer_value: limit,
    ratio: round(value / limit),
    target: '<=1',
    ...(full?.buildSeconds !== undefined ? { store_build_s: round(full.buildSeconds, 1) } : {}),
    detail: `spawn of node --import tsx src/main.ts to its ready line, LevelDB in ${full ? 'the data dir bench:elections leaves (1,000 computes, ~210,000 flows)' : 'an empty data dir'}, all plugins (${Array.isArray(plugins) ? plugins.join(', ') : '?'}); median of ${STARTS}`,
  });
}

/** The full-store start: builds the bench:elections store in a kept data dir unless BENCH_FULL_DIR names one. */
async function controllerStartFull(): Promise<void> {
  let dir = process.env.BENCH_FULL_DIR;
  let buildSeconds: number | undefined;
  let built: string | undefined;
  if (!dir) {
    built = dir = mkdtempSync(join(tmpdir(), 'bench-full-store-'));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=1024', '--import', 'tsx', join(import.meta.dirname, 'elections.ts')], {
      env: { ...process.env, BENCH_KEEP_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    buildSeconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`building the full store (bench:elections) failed with ${r.status}`);
    process.stderr.write(r.stdout);
  }
  try {
    await controllerStart({ dir, buildSeconds });
  } finally {
    if (built) rmSync(built, { recursive: true, force: true });
  }
}

const only = process.argv[2];
const work = mkdtempSync(join(tmpdir(), 'bench-doc-'));
try {
  const docPath = join(work, 'registry.json');
  if (!only || only === 'validate' || only === 'memory') writeFileSync(docPath, registryDocument(DOC_ENTRIES));
  if (!only || only === 'commit') await commits();
  if ((!only || only === 'commit') && BACKENDS.includes('etcd')) await commitsEtcd();
  if (!only || only === 'validate') await validation(docPath);
  if (!only || only === 'memory') memory(docPath);
  if (!only || only === 'small-txn') await smallTxn();
  if (!only || only === 'notify') await notify();
  if (!only || only === 'start') await controllerStart();
  if (only === 'start-full') await controllerStartFull();
} finally {
  rmSync(work, { recursive: true, force: true });
}
