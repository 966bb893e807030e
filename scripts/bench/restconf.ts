/**
 * npm run bench:restconf — the RESTCONF northbound's three figures, each against a bare fastify
 * app measured in the same run (DESIGN.md section 7). Prints one JSON line per result.
 *
 * 1. restconf.get: GET of a 1,000-entry list (config in LevelDB) vs a bare route sending the same
 *    pre-serialized bytes.
 * 2. restconf.put: PUT of one list entry (a different key each request; validated, committed to
 *    LevelDB) vs a bare route that parses the same JSON body and answers 204.
 * 3. restconf.rpc: POST /rests/operations/toaster:cancel-toast (a no-op, 204) vs a bare 204 route.
 *
 * The controller and the peer each run in a child process of their own (the same kind of place),
 * and the load generator (autocannon) runs in this process, so a server never shares its event loop
 * with the load. Ours and the peer are measured one after the other, never at the same time.
 *
 * Environment: BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50), BENCH_WARMUP seconds of
 * unrecorded load before each measurement (default 1), BENCH_HOSTS (default 1000), BENCH_OURS_NODE_FLAGS
 * (space-separated node flags for our controller's child only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`
 * to profile it under the load), BENCH_PEER_NODE_FLAGS (the same for the peer's child, to compare).
 * `npm run bench:restconf -- get|put|rpc` runs one of the three.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostEntry } from './fixture-data.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const HOSTS = Number(process.env.BENCH_HOSTS ?? 1000);
const nodeFlags = (v: string | undefined) => (v ?? '').split(' ').filter(Boolean);
const CHILD_FLAGS = { ours: nodeFlags(process.env.BENCH_OURS_NODE_FLAGS), peer: nodeFlags(process.env.BENCH_PEER_NODE_FLAGS) };

const REPO = join(import.meta.dirname, '../..');
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const REGISTRY = '/rests/data/sextant-fixture:registry';
const CANCEL = '/rests/operations/toaster:cancel-toast';

const round = (x: number, d = 3) => Number(x.toFixed(d));

function emit(o: Record<string, unknown>): void {
  console.log(JSON.stringify(o));
}

// ---------------------------------------------------------------------------------------------
// Server side: `restconf.ts --serve=ours|peer <dir>` runs in a child process and talks over IPC.

type ToChild = { kind: 'peer-body'; body: string; contentType: string } | { kind: 'stop' };
type FromChild = { kind: 'ready'; url: string } | { kind: 'failed'; error: string };

async function serveOurs(dir: string): Promise<void> {
  const { default: pino } = await import('pino');
  const { loadConfig } = await import('../../src/config.ts');
  const { startController } = await import('../../src/controller.ts');
  const config = loadConfig(
    ['--restconf-port=0', '--netconf-port=0', '--ovsdb-port=0', '--openflow-port=0', '--datastore=level', `--data-dir=${dir}`, '--log-level=silent', `--yang-dir=${REPO}/yang,${REPO}/test/fixtures/yang`],
    { SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' },
  );
  const c = await startController(config, pino({ level: 'silent' }));
  const stop = once(async () => {
    await c.stop();
  });
  onStop(stop);
  const tx = c.data.transaction('config');
  for (let i = 0; i < HOSTS; i++) {
    const h = hostEntry(i);
    tx.put(`/sextant-fixture:registry/host=${h.name as string}`, h);
  }
  await tx.commit();
  send({ kind: 'ready', url: c.restconf.url });
}

async function servePeer(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  const { body, contentType } = await new Promise<{ body: string; contentType: string }>((resolve) => {
    process.on('message', (m: ToChild) => {
      if (m.kind === 'peer-body') resolve(m);
    });
  });
  const bytes = Buffer.from(body);
  const app = Fastify({ logger: false });
  app.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, JSON.parse(text as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.get('/rests/data/*', (_req, reply) => reply.type(contentType).send(bytes));
  app.put('/rests/data/*', (_req, reply) => reply.code(204).send());
  app.post('/rests/operations/*', (_req, reply) => reply.code(204).send());
  const stop = once(() => app.close());
  onStop(stop);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('peer has no address');
  send({ kind: 'ready', url: `http://127.0.0.1:${addr.port}` });
}

function send(m: FromChild, then?: () => void): void {
  if (process.send) process.send(m, undefined, undefined, () => then?.());
  else then?.();
}

function once(f: () => Promise<unknown>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f().then(() => undefined));
}

/** Stop on request from the parent, or when the parent goes away. */
function onStop(stop: () => Promise<void>): void {
  const exit = () =>
    stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  process.on('message', (m: ToChild) => {
    if (m.kind === 'stop') void exit();
  });
  process.on('disconnect', () => void exit());
  process.on('SIGTERM', () => void exit());
  process.on('SIGINT', () => void exit());
}

// ---------------------------------------------------------------------------------------------
// Load side (the parent).

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: { p50: number; p99: number; average: number };
  requests: { average: number; sent: number };
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  setupRequest?: (req: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
}
interface AutocannonOptions extends Omit<AutocannonRequest, 'path'> {
  url: string;
  connections: number;
  duration: number;
  requests?: AutocannonRequest[];
}
const autocannon = createRequire(import.meta.url)('autocannon') as (o: AutocannonOptions) => Promise<AutocannonResult>;

class Server {
  private exited: Promise<void>;
  private constructor(
    readonly name: string,
    private child: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  static async start(name: 'ours' | 'peer', dir: string, first?: ToChild): Promise<Server> {
    const child = spawn(process.execPath, [...process.execArgv, ...CHILD_FLAGS[name], import.meta.filename, `--serve=${name}`, dir], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: FromChild) => {
        if (m.kind === 'ready') resolve(m.url);
        else reject(new Error(`${name} server failed: ${m.error}`));
      });
      child.once('exit', (code, signal) => reject(new Error(`${name} server exited (${code ?? signal}) before it was ready`)));
      child.once('error', reject);
      if (first) child.send(first);
    }).catch((e: unknown) => {
      child.kill('SIGKILL');
      throw e;
    });
    return new Server(name, child, url);
  }

  /** Ask the child to stop cleanly; kill it if it has not gone in 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null && this.child.connected) this.child.send({ kind: 'stop' } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Run {
  rps: number; // successful (2xx) responses per second
  p99: number;
  p50: number;
  ok: number;
  warmupOk: number;
  sent: number; // requests written, warm-up included (some are still in flight when a run stops)
  bad: Record<string, number>; // non-2xx status counts, plus socket errors and timeouts
}

let failures = 0;

/** Load `url` (its path is the request path unless a request's setupRequest sets one). */
async function load(url: string, opts: Omit<AutocannonOptions, 'url' | 'connections' | 'duration' | 'path'>, makeRequests?: () => AutocannonRequest[]): Promise<Run> {
  const base = { url, connections: CONNECTIONS, ...opts };
  const w = WARMUP > 0 ? await autocannon({ ...base, duration: WARMUP, requests: makeRequests?.() }) : undefined;
  const r = await autocannon({ ...base, duration: SECONDS, requests: makeRequests?.() });
  const bad: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats)) if (!code.startsWith('2')) bad[code] = count;
  if (r.errors - r.timeouts > 0) bad.errors = r.errors - r.timeouts;
  if (r.timeouts > 0) bad.timeouts = r.timeouts;
  if (Object.keys(bad).length > 0) failures++;
  if (r['2xx'] === 0) throw new Error(`no successful response from ${url}: ${JSON.stringify(bad)}`);
  return { rps: r['2xx'] / r.duration, p99: r.latency.p99, p50: r.latency.p50, ok: r['2xx'], warmupOk: w?.['2xx'] ?? 0, sent: r.requests.sent + (w?.requests.sent ?? 0), bad };
}

function badNote(ours: Run, peer: Run): string {
  const parts: string[] = [];
  if (Object.keys(ours.bad).length) parts.push(`ours not 2xx: ${JSON.stringify(ours.bad)}`);
  if (Object.keys(peer.bad).length) parts.push(`peer not 2xx: ${JSON.stringify(peer.bad)}`);
  return parts.length ? `; FAILED REQUESTS (rates count 2xx only) ${parts.join(', ')}` : '; every response 2xx';
}

/** One result line: our request rate against the bare peer's, with both p99 latencies. */
function emitRate(bench: string, target: string, o: { rps: number; p99: number }, p: { rps: number; p99: number }, detail: string): void {
  emit({
    bench,
    metric: 'req_per_s',
    value: Math.round(o.rps),
    peer: 'bare fastify',
    peer_value: Math.round(p.rps),
    ratio: round(o.rps / p.rps),
    target,
    p99_ms: o.p99,
    peer_p99_ms: p.p99,
    detail,
  });
}

const setup = `${CONNECTIONS} connections, ${SECONDS} s each (after ${WARMUP} s warm-up), loopback; server and peer each in a child process, autocannon in the parent`;

async function benchGet(ours: Server, peer: Server, bytes: number): Promise<void> {
  const opts = { method: 'GET', headers: { authorization: AUTH, accept: JSON_TYPE } };
  const o = await load(ours.url + REGISTRY, opts);
  const p = await load(peer.url + REGISTRY, opts);
  emitRate('restconf.get', '>=0.7', o, p, `GET ${REGISTRY} (${HOSTS} list entries, ${bytes} bytes JSON, config in LevelDB) vs a bare route sending the same bytes; p99 ${o.p99} ms ours, ${p.p99} ms peer; ${setup}${badNote(o, p)}`);
}

/** Request sequences that PUT host-0001000, host-0001001, ... each once; each backs up a seeded host. */
function putSequence(): () => AutocannonRequest[] {
  let next = HOSTS;
  return () => [
    {
      method: 'PUT',
      setupRequest: (req) => {
        const i = next++;
        const h: Record<string, unknown> = { ...hostEntry(i), backup: hostEntry(i % HOSTS).name };
        return { ...req, path: `${REGISTRY}/host=${h.name as string}`, body: JSON.stringify({ 'sextant-fixture:host': [h] }) };
      },
    },
  ];
}

async function benchPut(ours: Server, peer: Server): Promise<void> {
  const opts = { headers: { authorization: AUTH, 'content-type': JSON_TYPE } };
  const o = await load(ours.url, opts, putSequence());
  const p = await load(peer.url, opts, putSequence());
  // Every 2xx PUT (warm-up included) created a new entry: the store must now hold them all, plus
  // at most the requests still in flight when a run stopped.
  const doc = (await (await get(ours.url + REGISTRY)).json()) as { 'sextant-fixture:registry'?: { host?: unknown[] } };
  const stored = doc['sextant-fixture:registry']?.host?.length ?? 0;
  const least = HOSTS + o.warmupOk + o.ok;
  const most = HOSTS + o.sent;
  const fine = stored >= least && stored <= most;
  if (!fine) failures++;
  const storedNote = `${fine ? '' : 'STORE MISMATCH: '}${stored} entries stored afterwards (${least} acknowledged, ${most} sent)`;
  emitRate('restconf.put', '>=0.5', o, p, `PUT of one list entry, a new key each request (validated with a leafref, committed to LevelDB) vs a bare route parsing the same JSON and answering 204; p99 ${o.p99} ms ours, ${p.p99} ms peer; ${storedNote}; ${setup}${badNote(o, p)}`);
}

async function benchRpc(ours: Server, peer: Server): Promise<void> {
  const opts = { method: 'POST', headers: { authorization: AUTH, accept: JSON_TYPE } };
  const o = await load(ours.url + CANCEL, opts);
  const p = await load(peer.url + CANCEL, opts);
  emitRate('restconf.rpc', '>=0.7', o, p, `POST ${CANCEL} (no-op rpc, 204) vs a bare 204 route; p99 ${o.p99} ms ours, ${p.p99} ms peer; ${setup}${badNote(o, p)}`);
}

async function get(url: string): Promise<Response> {
  const res = await fetch(url, { headers: { authorization: AUTH, accept: JSON_TYPE } });
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return res;
}

async function main(only: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-restconf-'));
  const servers: Server[] = [];
  const cleanup = once(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  // Interrupted: still stop both servers and remove the data directory.
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  try {
    const ours = await Server.start('ours', join(dir, 'data'));
    servers.push(ours);
    // The peer serves exactly the bytes ours answers for the list.
    const res = await get(ours.url + REGISTRY);
    const contentType = res.headers.get('content-type') ?? JSON_TYPE;
    const body = await res.text();
    const count = (JSON.parse(body) as { 'sextant-fixture:registry': { host: unknown[] } })['sextant-fixture:registry'].host.length;
    if (count !== HOSTS) throw new Error(`expected ${HOSTS} hosts from ${REGISTRY}, got ${count}`);
    const rpc = await fetch(ours.url + CANCEL, { method: 'POST', headers: { authorization: AUTH } });
    if (rpc.status !== 204) throw new Error(`POST ${CANCEL} answered ${rpc.status}: ${await rpc.text()}`);
    const peer = await Server.start('peer', dir, { kind: 'peer-body', body, contentType });
    servers.push(peer);
    if (!only || only === 'get') await benchGet(ours, peer, Buffer.byteLength(body));
    if (!only || only === 'put') await benchPut(ours, peer);
    if (!only || only === 'rpc') await benchRpc(ours, peer);
  } finally {
    await cleanup();
  }
  if (failures > 0) {
    console.error(`bench:restconf: ${failures} measurement(s) saw non-2xx responses, socket errors or missing entries (see detail)`);
    process.exitCode = 1;
  }
}

const mode = process.argv[2];
if (mode?.startsWith('--serve=')) {
  const which = mode.slice('--serve='.length);
  try {
    if (which === 'ours') await serveOurs(process.argv[3]!);
    else await servePeer();
  } catch (e) {
    send({ kind: 'failed', error: e instanceof Error ? (e.stack ?? e.message) : String(e) }, () => process.exit(1));
  }
} else {
  await main(mode);
}
