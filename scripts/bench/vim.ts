/**
 * npm run bench:vim — the VIM monitor at scale, on controller processes started here (what `npm
 * start` runs, memory datastore, only the vim-monitor plugin), against real HTTP VIM endpoints on
 * loopback (a few servers in this process, each serving many auth-url paths). JSON lines:
 *
 * 1. vim.scale: BENCH_VIMS (10,000) VIMs monitored at a 10 s interval on one instance: its CPU
 *    (% of one core, from /proc) and RSS in steady state, next to an idle controller measured over
 *    the same window. Targets: < 25 % of a core, < 300 MB RSS added.
 * 2. vim.detect: 100 VIMs whose server goes down: from the stop to UNREACHABLE in the datastore
 *    (the state's `since`), p50 and p99. Target: p99 <= interval + timeout + 0.5 s.
 */
import { startVimServer, type VimServer } from '../../test/helpers/vim-server.ts';
import { cpuMs, rssMb, spawnController, type BenchProcess } from './process.ts';

const VIMS = Number(process.env.BENCH_VIMS ?? 10_000);
const SERVERS = 4;
const INTERVAL_S = 10;
const TIMEOUT_S = 2;
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 30);
const DETECT = 100;
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const round = (x: number, d = 3) => Number(x.toFixed(d));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Node flags for both controllers (e.g. a heap cap, as README suggests for large deployments). */
const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
type Instance = BenchProcess;
const controller = (name: string) => spawnController(name, ['--plugins=vim-monitor'], NODE_FLAGS);

async function http(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

type State = { 'vim-id': string; status?: string; since?: string };
/** Only the leaves the bench reads (RFC 8040 fields): polling must not make the controller grow. */
async function states(url: string): Promise<State[]> {
  const j = await http(url, 'GET', '/rests/data/sextant-nfv-vim:vim-states?fields=vim-state(vim-id;status;since)');
  return (j?.['sextant-nfv-vim:vim-states']?.['vim-state'] ?? []) as State[];
}

async function register(url: string, vims: Record<string, unknown>[], first: boolean): Promise<void> {
  for (let i = 0; i < vims.length; i += 1000) {
    const chunk = vims.slice(i, i + 1000);
    if (first && i === 0) await http(url, 'POST', '/rests/data', { 'sextant-nfv-vim:vims': { vim: chunk } });
    else await http(url, 'PATCH', '/rests/data/sextant-nfv-vim:vims', { 'sextant-nfv-vim:vims': { vim: chunk } });
  }
}

const vimEntry = (id: string, url: string) => ({ 'vim-id': id, name: id, type: 'openstack', 'auth-url': url, monitor: { interval: String(INTERVAL_S), timeout: String(TIMEOUT_S) } });

const servers: VimServer[] = [];
const instances: Instance[] = [];
try {
  for (let i = 0; i < SERVERS; i++) servers.push(await startVimServer(undefined));
  const busy = await controller('busy');
  const idle = await controller('idle');
  instances.push(busy, idle);
  const ids = Array.from({ length: VIMS }, (_, i) => `vim-${i}`);
  const startedRegistering = Date.now();
  await register(busy.url, ids.map((id, i) => vimEntry(id, servers[i % SERVERS].url(`/identity/${id}/v3`))), true);
  for (;;) {
    const s = await states(busy.url);
    if (s.filter((x) => x.status === 'REACHABLE').length === VIMS) break;
    if (Date.now() - startedRegistering > 300_000) throw new Error('the VIMs did not all become REACHABLE within 300 s');
    await sleep(2000);
  }
  const reachableAfter = (Date.now() - startedRegistering) / 1000;
  // Steady state: two intervals after every VIM reported, then one measuring window.
  await sleep(2 * INTERVAL_S * 1000);
  const probesBefore = servers.reduce((n, s) => n + s.total(), 0);
  const b0 = cpuMs(busy.child.pid!);
  const i0 = cpuMs(idle.child.pid!);
  const t0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const seconds = (performance.now() - t0) / 1000;
  const busyPct = ((cpuMs(busy.child.pid!) - b0) / 1000 / seconds) * 100;
  const idlePct = ((cpuMs(idle.child.pid!) - i0) / 1000 / seconds) * 100;
  const probeRate = (servers.reduce((n, s) => n + s.total(), 0) - probesBefore) / seconds;
  const busyRss = rssMb(busy.child.pid!);
  const idleRss = rssMb(idle.child.pid!);
  const detail = `${VIMS} VIMs over ${SERVERS} loopback HTTP servers, interval ${INTERVAL_S} s, timeout ${TIMEOUT_S} s, one instance (memory datastore, vim-monitor only${NODE_FLAGS.length ? `, node ${NODE_FLAGS.join(' ')}` : ', default Node flags'}); ${round(probeRate, 0)} probes/s measured over ${round(seconds, 1)} s; all REACHABLE ${round(reachableAfter, 1)} s after registration began`;
  line({ bench: 'vim.scale', metric: 'cpu_pct_of_one_core', value: round(busyPct, 1), peer: 'idle controller, same window', peer_value: round(idlePct, 1), ratio: round(busyPct / 25), target: '<1 (of 25 %)', detail });
  line({ bench: 'vim.scale', metric: 'rss_added_mb', value: round(busyRss - idleRss, 1), peer: 'idle controller RSS (MB)', peer_value: round(idleRss, 1), ratio: round((busyRss - idleRss) / 300), target: '<1 (of 300 MB)', detail });

  // Detection: 100 more VIMs on a server of their own, which then stops.
  const doomed = await startVimServer(undefined);
  servers.push(doomed);
  const dIds = Array.from({ length: DETECT }, (_, i) => `detect-${i}`);
  await register(busy.url, dIds.map((id) => vimEntry(id, doomed.url(`/identity/${id}/v3`))), false);
  for (;;) {
    const s = new Map((await states(busy.url)).map((x) => [x['vim-id'], x]));
    if (dIds.every((id) => s.get(id)?.status === 'REACHABLE')) break;
    await sleep(500);
  }
  // Stop at a random point of the VIMs' intervals, as an outage would.
  await sleep(Math.random() * INTERVAL_S * 1000);
  const stoppedAt = Date.now();
  await doomed.stop();
  let detected: number[] = [];
  for (;;) {
    const s = new Map((await states(busy.url)).map((x) => [x['vim-id'], x]));
    if (dIds.every((id) => s.get(id)?.status === 'UNREACHABLE')) {
      detected = dIds.map((id) => Date.parse(s.get(id)!.since!) - stoppedAt).sort((a, b) => a - b);
      break;
    }
    if (Date.now() - stoppedAt > 60_000) throw new Error('not every VIM became UNREACHABLE within 60 s');
    await sleep(250);
  }
  const pct = (p: number) => detected[Math.min(detected.length - 1, Math.floor((detected.length * p) / 100))] / 1000;
  const limit = INTERVAL_S + TIMEOUT_S + 0.5;
  line({ bench: 'vim.detect', metric: 'p99_s', value: round(pct(99)), p50_s: round(pct(50)), peer: 'target: interval + timeout + 0.5 s', peer_value: limit, ratio: round(pct(99) / limit), target: '<=1', detail: `${DETECT} VIMs on one loopback server stopped (connection refused) while ${VIMS} others are monitored; interval ${INTERVAL_S} s, timeout ${TIMEOUT_S} s; from the stop to the state's since` });
} finally {
  for (const i of instances) i.child.kill('SIGKILL');
  for (const s of servers) await s.stop();
}
