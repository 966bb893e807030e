/**
 * npm run bench:cluster — cluster mode's building blocks on a real etcd (one member on free
 * ports, started and stopped by this script), each against a peer or limit measured in the same
 * run (DESIGN.md section 7). Prints one JSON line per result.
 *
 * Most measure the layers cluster mode stands on (the datastore replica, the membership); one
 * measures RESTCONF on instance processes started with scripts/cluster:
 * 1. cluster.watch-lag: a commit on datastore replica A to its delivery to a listener on replica
 *    B (same prefix), p50 and p99, against the 50 ms target.
 * 2. cluster.put: single-entry commits per second with 3 replicas writing (spread, disjoint keys)
 *    vs 1 replica, and 1 replica vs raw etcd3 puts of the same keys and bytes from Node; then
 *    RESTCONF PUTs spread over 3 instance processes vs 1 instance process.
 * 3. cluster.failover: kill -9 of the leader (a child process) to the first fenced write of the
 *    member that takes over, against the 3 s target (default 2 s lease TTL).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { Etcd3 } from 'etcd3';
import pino from 'pino';
import { EtcdCluster } from '../../src/cluster/etcd.ts';
import { Datastore } from '../../src/datastore/datastore.ts';
import { EtcdBackend } from '../../src/datastore/backends/etcd.ts';
import { MemoryBackend } from '../../src/datastore/backends/memory.ts';
import { loadSchema } from '../../src/yang/compiler.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../../test/helpers/etcd.ts';
import { FIXTURE, hostEntry as fixtureHost } from './fixture-data.ts';

/** A host without its leafref to another host: writers on other replicas commit those concurrently. */
function hostEntry(i: number): Record<string, unknown> {
  const { backup: _backup, ...h } = fixtureHost(i);
  return h;
}

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
type AutocannonRun = { '2xx': number; duration: number };
const autocannon = createRequire(import.meta.url)('autocannon') as (o: Record<string, unknown>) => Promise<AutocannonRun>;
const LAG_COMMITS = Number(process.env.BENCH_LAG_COMMITS ?? 500);
const PUTS = Number(process.env.BENCH_PUTS ?? 3000);
const WRITERS = 30;
const TTL = 2;

const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const round = (x: number, d = 3) => Number(x.toFixed(d));
const cleanups: (() => unknown)[] = [];
const etcd = await startEtcd({ teardown: (fn) => void cleanups.push(fn) }, { members: 1 });
const schema = await loadSchema(FIXTURE);
let prefixes = 0;

async function replica(prefix: string): Promise<Datastore> {
  const ds = await Datastore.open({
    schema,
    config: new EtcdBackend({ endpoints: etcd.endpoints, prefix: `${prefix}/config`, maxTxnOps: ETCD_TEST_SETTINGS.maxTxnOps, maxRequestBytes: ETCD_TEST_SETTINGS.maxRequestBytes }),
    operational: new MemoryBackend(),
  });
  cleanups.push(() => ds.close());
  return ds;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

async function watchLag(): Promise<void> {
  const prefix = `/bench${++prefixes}`;
  const a = await replica(prefix);
  const b = await replica(prefix);
  const arrived = new Map<string, number>();
  b.subscribe('config', '/sextant-fixture:registry/host=*', (changes) => {
    const now = performance.now();
    for (const c of changes) arrived.set((c.after as { name: string }).name, now);
  }, { replay: false });
  const lags: number[] = [];
  for (let i = 0; i < LAG_COMMITS; i++) {
    const h = hostEntry(i);
    const started = performance.now();
    await a.transaction('config').put(`/sextant-fixture:registry/host=${h.name as string}`, h).commit();
    while (!arrived.has(h.name as string)) await new Promise((r) => setImmediate(r));
    lags.push(arrived.get(h.name as string)! - started);
  }
  lags.sort((x, y) => x - y);
  const p99 = percentile(lags, 99);
  line({ bench: 'cluster.watch-lag', metric: 'p99_ms', value: round(p99), p50_ms: round(percentile(lags, 50)), peer: 'target', peer_value: 50, ratio: round(p99 / 50), target: '<1', detail: `${LAG_COMMITS} sequential single-entry commits on replica A, delivery to a listener on replica B (datastore level); one etcd member on loopback` });
}

/** `total` single-entry commits spread over the replicas, WRITERS at a time. */
async function commitRate(ds: Datastore[], total: number, from: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const d = ds[w % ds.length];
      for (let i = next++; i < total; i = next++) {
        const h = hostEntry(from + i);
        await d.transaction('config').put(`/sextant-fixture:registry/host=${h.name as string}`, h).commit();
      }
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

async function putRate(): Promise<void> {
  const one = await commitRate([await replica(`/bench${++prefixes}`)], PUTS, 0);
  const p3 = `/bench${++prefixes}`;
  const three = await commitRate([await replica(p3), await replica(p3), await replica(p3)], PUTS, 0);
  // The raw peer: the same keys and JSON bytes, one etcd put each, WRITERS at a time.
  const client = new Etcd3({ hosts: etcd.endpoints });
  cleanups.push(() => client.close());
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      for (let i = next++; i < PUTS; i = next++) {
        const h = hostEntry(i);
        await client.put(`/raw/config/sextant-fixture:registry/host=${h.name as string}`).value(JSON.stringify(h));
      }
    }),
  );
  const raw = PUTS / ((performance.now() - started) / 1000);
  const detail = `${PUTS} validated single-entry commits, ${WRITERS} writers at a time, datastore level, replicas in one process; one etcd member on loopback`;
  line({ bench: 'cluster.put', metric: 'commits_per_s', value: Math.round(three), peer: '1 replica on the same etcd', peer_value: Math.round(one), ratio: round(three / one), target: '>=1', detail: `3 replicas, writes spread; ${detail}` });
  line({ bench: 'cluster.put', metric: 'commits_per_s', value: Math.round(one), peer: 'raw etcd3 puts from Node (same keys and bytes)', peer_value: Math.round(raw), ratio: round(one / raw), target: '>=0.3', detail: `1 replica; ${detail}` });
}

/** A cluster of `n` instance processes (scripts/cluster) on an etcd of its own. */
async function instances(n: number): Promise<{ urls: string[]; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  rmSync(dir, { recursive: true });
  const out = await run(join(ROOT, 'scripts/cluster'), ['start', '--instances', String(n), '--etcd', '1', '--dir', dir, '--', `--yang-dir=${join(ROOT, 'yang')},${FIXTURE}`, '--plugins=toaster'], { timeout: 120_000 });
  const urls = out.stdout.split('\n').filter((l) => l.startsWith('member-')).map((l) => l.split(' ')[1]);
  const stop = async () => void (await run(join(ROOT, 'scripts/cluster'), ['stop', '--dir', dir], { timeout: 60_000 }));
  cleanups.push(() => stop().catch(() => undefined));
  return { urls, stop };
}

/** RESTCONF PUTs of new entries, `connections` at a time spread over `urls`, for `seconds`. */
async function restconfPuts(urls: string[], connections: number, seconds: number, tag: string): Promise<number> {
  const perUrl = Math.max(1, Math.round(connections / urls.length));
  const auth = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
  const runs = await Promise.all(
    urls.map((url, u) => {
      let next = 0;
      return autocannon({
        url,
        connections: perUrl,
        duration: seconds,
        method: 'PUT',
        headers: { authorization: auth, 'content-type': 'application/yang-data+json' },
        requests: [
          {
            method: 'PUT',
            setupRequest: (req: Record<string, unknown>) => {
              const h = { ...hostEntry(next++), name: `${tag}-${u}-${next}` };
              return { ...req, path: `/rests/data/sextant-fixture:registry/host=${h.name}`, body: JSON.stringify({ 'sextant-fixture:host': [h] }) };
            },
          },
        ],
      });
    }),
  );
  return runs.reduce((sum, r) => sum + r['2xx'] / r.duration, 0);
}

async function restconfPutRate(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 6);
  const one = await instances(1);
  const oneRate = await restconfPuts(one.urls, WRITERS, seconds, 'one');
  await one.stop();
  const three = await instances(3);
  const threeRate = await restconfPuts(three.urls, WRITERS, seconds, 'three');
  await three.stop();
  line({ bench: 'cluster.put', metric: 'req_per_s', value: Math.round(threeRate), peer: '1 instance on its own etcd, same load', peer_value: Math.round(oneRate), ratio: round(threeRate / oneRate), target: '>=1', detail: `RESTCONF PUT of a new list entry per request, ${WRITERS} connections spread over 3 instance processes (scripts/cluster), ${seconds} s, one etcd member; all on the same 2 cores` });
}

async function failover(): Promise<void> {
  const prefix = `/bench${++prefixes}/cluster/`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/cluster/fixtures/member.ts'), etcd.endpoints.join(','), prefix, 'doomed', String(TTL)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let out = '';
  await new Promise<void>((res) => child.stdout!.on('data', (d: Buffer) => ((out += d), /write ok/.test(out) && res())));
  const client = new Etcd3({ hosts: etcd.endpoints });
  cleanups.push(() => client.close());
  const heir = new EtcdCluster({ client, prefix, memberId: 'heir', address: 'http://heir', ttlSeconds: TTL, log: pino({ level: 'silent' }) });
  cleanups.push(() => heir.stop());
  await heir.start();
  const killed = performance.now();
  child.kill('SIGKILL');
  // The first leader-only write the heir gets through, fenced by its new leadership.
  for (;;) {
    const fence = heir.fence();
    if (fence) {
      const res = await client.if(fence.key, 'Create', '==', fence.createRevision).then(client.put(`${prefix}leader-writes/heir`).value('1')).commit();
      if (res.succeeded) break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - killed) / 1000;
  line({ bench: 'cluster.failover', metric: 'seconds', value: round(seconds), peer: 'target', peer_value: 3, ratio: round(seconds / 3), target: '<1', detail: `kill -9 of the leader (a child process) to the heir's first fenced write; lease TTL ${TTL} s; EtcdCluster level (OpenDaylight: ~10 s elections)` });
}

try {
  await watchLag();
  await putRate();
  await restconfPutRate();
  await failover();
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
}
process.exit(0);
