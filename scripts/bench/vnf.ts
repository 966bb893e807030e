/**
 * npm run bench:vnf — the VNF manager (plugins/vnf-manager) on real ovsdb-server computes
 * (scripts/sim-computes) and, for the scale figure, three controller processes on one real etcd,
 * each figure against a peer or limit measured in the same run (DESIGN.md section 7). JSON lines:
 *
 * 1. vnf.op-latency: a 1-step SCALE_OUT (the test VNFD, aspect worker_instance) from its 202 to
 *    COMPLETED in the datastore, p50/p99 over BENCH_SCALE_OPS (30) operations one after the other
 *    (each followed by an untimed SCALE_IN, as the aspect's max level is 2), on one in-process
 *    controller (memory datastore, 4 computes), next to the no-op rpc round trip of bench:restconf
 *    (POST /rests/operations/toaster:cancel-toast) on the same controller.
 * 2. vnf.scale: BENCH_VNFS (5,000) VNF instances of a two-VDU VNFD (one VNFC each, no aspect,
 *    scripts/bench/fixtures/vnfd-two-vdus.yaml) over three controller processes (src/main.ts,
 *    `--datastore=etcd://...`) on one etcd member, BENCH_COMPUTES (20) computes connected to the
 *    first one. Instantiations are spread over the three instances, BENCH_CONCURRENCY (30)
 *    operations in flight (a worker sends the next one when its last is COMPLETED):
 *    - throughput, VNFs/s from the first request to the last COMPLETED, next to its peer: the same
 *      number of plain VM ports (2 per VNF: a Neutron port and an OVS interface each) through
 *      RESTCONF with the same concurrency spread over the same instances, until present in OVS;
 *    - RSS of each instance afterwards (target < 1 GB);
 *    - one synchronisation cycle on the leader over all of them (operational
 *      vnflcm-state/sync last-duration-ms of a cycle that started after the last COMPLETED;
 *      target < 5 s).
 *
 * BENCH_ONLY=latency|scale runs one part. BENCH_PROF_DIR=<dir> runs the first instance with
 * --cpu-prof (written there when it stops). Every process started here is stopped by pid, even on
 * failure.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startComputes, type SimComputes } from '../sim-computes.ts';
import { ETCD_TEST_SETTINGS, startEtcd } from '../../test/helpers/etcd.ts';
import { startVimServer, type VimServer } from '../../test/helpers/vim-server.ts';
import { ASPECT, csarOf, FLAVOUR, onboard, tackerApi, VNFD_ID, VNFD_TEXT } from '../../test/helpers/vnf.ts';
import { benchController } from './controller.ts';
import { rssMb, spawnController, type BenchProcess } from './process.ts';

const VNFS = Number(process.env.BENCH_VNFS ?? 5000);
const COMPUTES = Number(process.env.BENCH_COMPUTES ?? 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 30);
const SCALE_OPS = Number(process.env.BENCH_SCALE_OPS ?? 30);
const SYNC_S = Number(process.env.BENCH_SYNC_S ?? 20);
const ONLY = process.env.BENCH_ONLY;
const TOKEN = 'bench-vnf-token-7f3a';
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const NETWORK = '44444444-5555-4666-8777-888888888888';
const BENCH_VNFD = readFileSync(join(import.meta.dirname, 'fixtures/vnfd-two-vdus.yaml'), 'utf8');
const BENCH_VNFD_ID = '7d2a5c1e-0000-4000-8000-0000000000b1';
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const round = (x: number, d = 3) => Number(x.toFixed(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const log = (msg: string) => process.stderr.write(`[bench:vnf ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const cleanups: (() => unknown)[] = [];
const children: BenchProcess[] = [];
// Whatever happens, no child outlives the script.
process.on('exit', () => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
});

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 600_000, every = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** RESTCONF on `url`: the parsed answer; throws on a status >= 300. */
async function http(url: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, 'content-type': JSON_TYPE }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** `total` jobs, `n` at a time. */
async function pool(total: number, n: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, total) }, async () => {
    for (let i = next++; i < total; i = next++) await job(i);
  }));
}

// ---- 1. op latency: one in-process controller ------------------------------------------------

async function opLatency(): Promise<void> {
  const c = await benchController('vnf-op', ['--datastore=memory', `--api-token=${TOKEN}`, '--autoscaling-port-wait-ms=30000']);
  let sims: SimComputes | undefined;
  let vim: VimServer | undefined;
  try {
    sims = await startComputes({ count: 4, controller: `127.0.0.1:${c.ovsdb.port}` });
    await until('4 computes registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 4, 60_000);
    vim = await startVimServer(undefined);
    const tx = c.data.transaction('config');
    tx.put('/sextant-nfv-vim:vims/vim=bench', { 'vim-id': 'bench', name: 'bench', type: 'openstack', 'auth-url': vim.url('/identity/v3'), 'is-default': true });
    await tx.commit();
    await until('the VIM REACHABLE', () => (c.data.read('operational', '/sextant-nfv-vim:vim-states/vim-state=bench') as { status?: string } | undefined)?.status === 'REACHABLE', 30_000);
    const api = tackerApi(c.http.listening().get('tacker')!.url, TOKEN);
    await onboard(api, csarOf(VNFD_TEXT));
    const state = (id: string) => (c.data.read('config', `/sextant-vnflcm:vnflcm/vnf-lcm-op-occ=${id}`) as { 'operation-state'?: string } | undefined)?.['operation-state'];
    // Woken by every change of an occurrence, so the figure is the datastore's, not a poll's.
    const waiters = new Set<() => void>();
    const off = c.data.subscribe('config', '/sextant-vnflcm:vnflcm/vnf-lcm-op-occ=*', () => {
      for (const w of [...waiters]) w();
    }, { replay: false });
    const ended = (id: string) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`occurrence ${id} still ${state(id)} after 60 s`)), 60_000);
        const check = () => {
          const s = state(id);
          if (s === 'COMPLETED' || s === 'FAILED_TEMP' || s === 'FAILED') {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(s);
          }
        };
        waiters.add(check);
        check();
      });
    const occOf = (r: { status: number; headers: Headers; text: string }) => {
      if (r.status !== 202) throw new Error(`expected 202, got ${r.status} ${r.text}`);
      return r.headers.get('location')!.split('/').pop()!;
    };
    const created = await api('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID, vnfInstanceName: 'latency' });
    const vnf = created.json.id as string;
    const inst = await ended(occOf(await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/instantiate`, { flavourId: FLAVOUR })));
    if (inst !== 'COMPLETED') throw new Error(`instantiation ${inst}`);
    const lat: number[] = [];
    const rpc: number[] = [];
    const noop = async () => {
      const t = performance.now();
      const r = await fetch(`${c.restconf.url}/rests/operations/toaster:cancel-toast`, { method: 'POST', headers: { authorization: AUTH, accept: JSON_TYPE } });
      await r.arrayBuffer();
      if (r.status !== 204) throw new Error(`cancel-toast: ${r.status}`);
      rpc.push(performance.now() - t);
    };
    for (let i = 0; i < 5; i++) await noop(); // warm-up, not counted
    rpc.length = 0;
    for (let i = 0; i < SCALE_OPS; i++) {
      const t0 = performance.now();
      const out = await ended(occOf(await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/scale`, { type: 'SCALE_OUT', aspectId: ASPECT, numberOfSteps: 1 })));
      const ms = performance.now() - t0;
      if (out !== 'COMPLETED') throw new Error(`SCALE_OUT ${i}: ${out}`);
      lat.push(ms);
      const back = await ended(occOf(await api('POST', `/vnflcm/v2/vnf_instances/${vnf}/scale`, { type: 'SCALE_IN', aspectId: ASPECT, numberOfSteps: 1 })));
      if (back !== 'COMPLETED') throw new Error(`SCALE_IN ${i}: ${back}`);
      // The peer interleaved with the operations, so both see the same machine.
      for (let k = 0; k < 3; k++) await noop();
    }
    off();
    lat.sort((x, y) => x - y);
    rpc.sort((x, y) => x - y);
    line({
      bench: 'vnf.op-latency',
      metric: 'p99_ms',
      value: round(pct(lat, 99)),
      p50_ms: round(pct(lat, 50)),
      peer: 'no-op rpc round trip (POST /rests/operations/toaster:cancel-toast, 204), same controller, interleaved',
      peer_value: round(pct(rpc, 99)),
      peer_p50_ms: round(pct(rpc, 50)),
      ratio: round(pct(lat, 99) / pct(rpc, 99)),
      ratio_p50: round(pct(lat, 50) / pct(rpc, 50)),
      detail: `${SCALE_OPS} one-step SCALE_OUTs of the test VNFD (aspect ${ASPECT}, VDU1 1 -> 2 VNFCs) one after the other (each followed by an untimed SCALE_IN), POST /vnflcm/v2/vnf_instances/<id>/scale to the occurrence COMPLETED in the datastore (the new VNFC's port in OVS); ${rpc.length} rpcs; one in-process controller, memory datastore, 4 real ovsdb-server computes`,
    });
  } finally {
    await c.stop().catch((e) => log(`stopping the controller: ${e}`));
    await sims?.stop().catch((e) => log(`stopping the computes: ${e}`));
    await vim?.stop();
  }
}

// ---- 2. scale: three instances on one etcd ---------------------------------------------------

async function scale(): Promise<void> {
  const etcd = await startEtcd({ teardown: (fn) => void cleanups.push(fn) }, { members: 1 });
  const profDir = process.env.BENCH_PROF_DIR;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const flags = [
    `--datastore=etcd://${etcd.endpoints[0].replace('http://', '')}`,
    '--cluster-name=vnfbench',
    `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`,
    `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`,
    `--api-token=${TOKEN}`,
    `--vnf-sync-interval=${SYNC_S}`,
    '--autoscaling-port-wait-ms=600000',
    `--autoscaling-max-nodes-per-cluster=${Math.max(1000, 2 * VNFS)}`,
    '--vnf-operation-timeout=3600',
  ];
  const procs: BenchProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await spawnController(`vnf-m${i + 1}`, flags, i === 0 && profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []);
    children.push(p);
    procs.push(p);
  }
  // Stopped by pid: SIGTERM first (so a --cpu-prof profile is written), SIGKILL after 20 s.
  cleanups.push(async () => {
    await Promise.all(procs.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      const gone = new Promise((r) => p.child.once('exit', r));
      p.child.kill('SIGTERM');
      if (await Promise.race([gone.then(() => true), sleep(20_000).then(() => false)])) return;
      p.child.kill('SIGKILL');
      await gone;
    }));
  });
  const urls = procs.map((p) => p.url);
  const apis = procs.map((p) => tackerApi(p.ready.listeners!.tacker, TOKEN));
  let sims: SimComputes | undefined;
  let vim: VimServer | undefined;
  cleanups.push(() => sims?.stop(), () => vim?.stop());
  sims = await startComputes({ count: COMPUTES, controller: procs[0].ready.ovsdb! });
  const computeList = async (url: string) => ((await http(url, 'GET', '/rests/data/cloudscaler-rpc:compute-nodes'))?.['cloudscaler-rpc:compute-nodes']?.['compute-node'] ?? []) as { 'compute-name': string; nodeid: string }[];
  await until(`${COMPUTES} computes seen by every instance`, async () => (await Promise.all(urls.map(computeList))).every((l) => l.length === COMPUTES), 120_000, 500);
  const computes = (await computeList(urls[0])).map((x) => ({ name: x['compute-name'], bridge: x.nodeid }));
  vim = await startVimServer(undefined);
  await http(urls[0], 'PUT', '/rests/data/sextant-nfv-vim:vims/vim=bench', { 'sextant-nfv-vim:vim': [{ 'vim-id': 'bench', name: 'bench', type: 'openstack', 'auth-url': vim.url('/identity/v3'), 'is-default': true }] });
  await until('the VIM REACHABLE', async () => {
    const s = await http(urls[0], 'GET', '/rests/data/sextant-nfv-vim:vim-states/vim-state=bench').catch(() => undefined);
    return s?.['sextant-nfv-vim:vim-state']?.[0]?.status === 'REACHABLE';
  }, 60_000, 250);
  const pkg = await onboard(apis[0], csarOf(BENCH_VNFD));
  await until('the package ONBOARDED on every instance', async () => (await Promise.all(apis.map((a) => a('GET', `/vnfpkgm/v1/vnf_packages/${pkg}`)))).every((r) => r.json?.onboardingState === 'ONBOARDED'), 60_000, 250);
  log(`3 instances, ${COMPUTES} computes, VIM and package ready`);

  /** iface-ids of the VM interfaces the computes' OVS report (operational topology of the instance they are connected to). */
  const reported = async () => {
    const t = await http(urls[0], 'GET', '/rests/data/network-topology:network-topology/topology=ovsdb%3A1?content=nonconfig');
    const ids = new Set<string>();
    for (const n of t?.['network-topology:topology']?.[0]?.node ?? []) {
      for (const tp of n['termination-point'] ?? []) for (const e of tp['ovsdb:interface-external-ids'] ?? []) if (e['external-id-key'] === 'iface-id') ids.add(e['external-id-value']);
    }
    return ids;
  };

  // The peer: 2 plain VM ports per VNF through RESTCONF, same concurrency, same instances.
  const PORTS = 2 * VNFS;
  const ports = Array.from({ length: PORTS }, (_, i) => ({ port: randomUUID(), at: computes[i % computes.length], url: urls[i % 3] }));
  const tapOf = (port: string) => `tap${port.replace(/-/g, '').slice(0, 11)}`;
  const tpPath = (p: (typeof ports)[number]) => `/rests/data/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent(p.at.bridge)}/termination-point=${tapOf(p.port)}`;
  const t0 = performance.now();
  await pool(PORTS, CONCURRENCY, async (i) => {
    const p = ports[i];
    await http(p.url, 'PUT', `/rests/data/neutron:neutron/ports/port=${p.port}`, { 'neutron:port': [{ uuid: p.port, 'network-id': NETWORK, 'device-owner': 'compute:nova', 'neutron-binding:host-id': p.at.name }] });
    await http(p.url, 'PUT', tpPath(p), {
      'network-topology:termination-point': [{ 'tp-id': tapOf(p.port), 'ovsdb:name': tapOf(p.port), 'ovsdb:interface-type': 'ovsdb:interface-type-internal', 'ovsdb:interface-external-ids': [{ 'external-id-key': 'iface-id', 'external-id-value': p.port }] }],
    });
  });
  await until('the plain ports in OVS', async () => {
    const r = await reported();
    return ports.every((p) => r.has(p.port));
  }, 900_000, 250);
  const plainS = (performance.now() - t0) / 1000;
  log(`peer: ${PORTS} plain ports in ${plainS.toFixed(1)} s; removing them`);
  await pool(PORTS, CONCURRENCY, async (i) => {
    const p = ports[i];
    await http(p.url, 'DELETE', tpPath(p));
    await http(p.url, 'DELETE', `/rests/data/neutron:neutron/ports/port=${p.port}`);
  });
  await until('the plain ports gone from OVS', async () => {
    const r = await reported();
    return !ports.some((p) => r.has(p.port));
  }, 300_000, 500);

  // The VNF instances, created first (not timed), spread over the instances.
  const vnfs: string[] = new Array(VNFS);
  const tc = performance.now();
  await pool(VNFS, CONCURRENCY, async (i) => {
    const r = await apis[i % 3]('POST', '/vnflcm/v2/vnf_instances', { vnfdId: BENCH_VNFD_ID, vnfInstanceName: `bench-${i}` });
    if (r.status !== 201) throw new Error(`create ${i}: ${r.status} ${r.text}`);
    vnfs[i] = r.json.id;
  });
  const createS = (performance.now() - tc) / 1000;
  log(`${VNFS} VNF instances created in ${createS.toFixed(1)} s`);
  // Every instance must see them before it is asked to instantiate one.
  await until('every VNF instance seen by every instance', async () => {
    const counts = await Promise.all(urls.map(async (u) => ((await http(u, 'GET', '/rests/data/sextant-vnflcm:vnflcm?fields=vnf-instance(id)'))?.['sextant-vnflcm:vnflcm']?.['vnf-instance'] ?? []).length));
    return counts.every((n) => n >= VNFS);
  }, 120_000, 500);

  // One poller of every occurrence's state (rotating over the instances), the workers wait on it.
  const states = new Map<string, string>();
  let polling = true;
  let polls = 0;
  const poller = (async () => {
    while (polling) {
      const u = urls[polls++ % 3];
      const d = await http(u, 'GET', '/rests/data/sextant-vnflcm:vnflcm?fields=vnf-lcm-op-occ(id;operation-state)').catch(() => undefined);
      for (const o of d?.['sextant-vnflcm:vnflcm']?.['vnf-lcm-op-occ'] ?? []) states.set(o.id, o['operation-state']);
      await sleep(250);
    }
  })();
  const failed: string[] = [];
  let done = 0;
  const ti = performance.now();
  let lastEnd = 0;
  try {
    await pool(VNFS, CONCURRENCY, async (i) => {
      const r = await apis[i % 3]('POST', `/vnflcm/v2/vnf_instances/${vnfs[i]}/instantiate`, { flavourId: 'simple' });
      if (r.status !== 202) throw new Error(`instantiate ${i}: ${r.status} ${r.text}`);
      const occ = r.headers.get('location')!.split('/').pop()!;
      await until(`occurrence ${occ} ended`, () => ['COMPLETED', 'FAILED_TEMP', 'FAILED'].includes(states.get(occ) ?? ''), 900_000, 50);
      if (states.get(occ) !== 'COMPLETED') failed.push(`${occ}: ${states.get(occ)}`);
      lastEnd = Date.now();
      if (++done % Math.max(1, Math.round(VNFS / 10)) === 0) log(`${done}/${VNFS} instantiations ended (${((performance.now() - ti) / 1000).toFixed(1)} s)`);
    });
  } finally {
    polling = false;
    await poller;
  }
  const instS = (performance.now() - ti) / 1000;
  const allDone = lastEnd;
  log(`${VNFS} instantiations in ${instS.toFixed(1)} s (${failed.length} not COMPLETED)`);

  // A synchronisation cycle that started after the last COMPLETED, over all of them.
  type Sync = { member: string; runs: string; 'last-run': string; 'last-duration-ms': number; 'vnfs-checked': number; skipped: number; drift: number };
  let cycle: Sync | undefined;
  await until('a synchronisation cycle over every VNF', async () => {
    for (const u of urls) {
      const d = await http(u, 'GET', '/rests/data/sextant-vnflcm:vnflcm-state/sync').catch(() => undefined);
      for (const s of (d?.['sextant-vnflcm:sync'] ?? []) as Sync[]) {
        const startedAt = Date.parse(s['last-run']) - Number(s['last-duration-ms']);
        if (startedAt > allDone && Number(s['vnfs-checked']) >= VNFS - failed.length) cycle = s;
      }
      if (cycle) return true;
    }
    return false;
  }, (3 * SYNC_S + 120) * 1000, 1000);
  const rss = procs.map((p) => round(rssMb(p.child.pid!), 0));
  const maxRss = Math.max(...rss);
  const detail = `${VNFS} VNF instances of a 2-VDU VNFD (1 VNFC each) over 3 controller processes (src/main.ts, etcd datastore, one etcd member) and ${COMPUTES} real ovsdb-server computes connected to the first; all on the same 2 cores`;
  line({ bench: 'vnf.scale', metric: 'vnfs_per_s', value: round(VNFS / instS), peer: `${PORTS} plain VM ports (Neutron port + OVS interface) through RESTCONF, same instances, ${CONCURRENCY} at a time, until in OVS`, peer_value: round(VNFS / plainS), peer_ports_per_s: round(PORTS / plainS), ratio: round(plainS / instS), seconds: round(instS, 1), peer_seconds: round(plainS, 1), not_completed: failed.length, first_failures: failed.slice(0, 3), create_seconds: round(createS, 1), detail: `instantiation, ${CONCURRENCY} operations in flight spread over the 3 instances (next one sent when one is COMPLETED), first request to last COMPLETED; peer value in VNFs/s (2 ports each); ${detail}` });
  line({ bench: 'vnf.scale', metric: 'rss_mb_max', value: maxRss, rss_mb: rss, peer: 'limit', peer_value: 1024, ratio: round(maxRss / 1024), target: '<1', detail: `RSS of each instance after the instantiations and a synchronisation cycle; ${detail}` });
  line({ bench: 'vnf.scale', metric: 'sync_ms', value: Number(cycle!['last-duration-ms']), member: cycle!.member, vnfs_checked: Number(cycle!['vnfs-checked']), skipped: Number(cycle!.skipped), drift: Number(cycle!.drift), peer: 'limit', peer_value: 5000, ratio: round(Number(cycle!['last-duration-ms']) / 5000), target: '<1', detail: `one synchronisation cycle on the leader (vnflcm-state/sync last-duration-ms, a cycle started after the last COMPLETED, --vnf-sync-interval=${SYNC_S}); ${detail}` });
}

let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch((e) => log(`cleanup: ${e}`));
  })());
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanup().finally(() => process.exit(1)));
try {
  if (ONLY !== 'scale') await opLatency();
  if (ONLY !== 'latency') await scale();
} catch (e) {
  log(`failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
process.exit();
