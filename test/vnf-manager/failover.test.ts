/**
 * Failover on three controller processes (scripts/cluster) on one etcd: operations in flight on
 * every instance (instantiations waiting for computes that do not answer); kill -9 of one that
 * runs some of them. Its occurrences are taken over by the members that now own their VNFs and
 * resumed (run again: attempt 2) to COMPLETED; every other occurrence keeps its owner and its
 * single run. Nothing is read from the killed process: all is asked over RESTCONF and Tacker's API.
 */
import t from 'tap';
import { startClusterScript } from '../helpers/cluster-script.ts';
import { computesForTest } from '../helpers/ovs.ts';
import { untilAsync } from '../helpers/process.ts';
import { startVimServer } from '../helpers/vim-server.ts';
import { csarOf, FLAVOUR, occOf, onboard, tackerApi, VNFD_ID, VNFD_TEXT } from '../helpers/vnf.ts';

const TOKEN = 'vnf-failover-token-0a7e';
const VNFS = 6;
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';

async function http(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

type Occ = { id: string; 'vnf-instance': string; 'operation-state': string; owner?: string; attempt?: number; error?: { detail?: string } };

t.test('kill -9 of an instance running operations: the new owners finish exactly its ones; the others keep theirs', async (t) => {
  const cluster = await startClusterScript(t, ['--instances', '3', '--etcd', '1', '--name', 'vnffail', '--', `--api-token=${TOKEN}`, '--autoscaling-port-wait-ms=30000', '--vnf-operation-timeout=90']);
  const inst = cluster.file.instances;
  const urls = inst.map((i) => i.restconf);
  const occs = async (url = urls[0]) => ((await http(url, 'GET', '/rests/data/sextant-vnflcm:vnflcm')).json?.['sextant-vnflcm:vnflcm']?.['vnf-lcm-op-occ'] ?? []) as Occ[];
  await untilAsync('three members seen by each', async () => {
    for (const u of urls) if (((await http(u, 'GET', '/rests/data/sextant-cluster:cluster')).json?.['sextant-cluster:cluster']?.member?.length ?? 0) !== 3) return false;
    return true;
  }, 30_000);
  const sims = await computesForTest(t, { count: 3, controller: inst[0].ovsdb.replace(/^tcp:/, '') });
  await untilAsync('three computes registered', async () => ((await http(urls[0], 'GET', '/rests/data/cloudscaler-rpc:compute-nodes')).json?.['cloudscaler-rpc:compute-nodes']?.['compute-node']?.length ?? 0) === 3, 30_000);
  const vim = await startVimServer(t);
  t.equal((await http(urls[0], 'PUT', '/rests/data/sextant-nfv-vim:vims/vim=v1', { 'sextant-nfv-vim:vim': [{ 'vim-id': 'v1', name: 'v1', type: 'openstack', 'auth-url': vim.url('/identity/v3'), 'is-default': true }] })).status, 201, 'a default VIM');
  const apis = inst.map((i) => tackerApi(i.listeners!.tacker, TOKEN));
  await onboard(apis[0], csarOf(VNFD_TEXT));
  const vnfs: string[] = [];
  for (let i = 0; i < VNFS; i++) vnfs.push((await apis[i % 3]('POST', '/vnflcm/v2/vnf_instances', { vnfdId: VNFD_ID })).json.id as string);

  // In flight on every member: instantiations whose VNFCs wait for computes that do not answer.
  for (const s of sims.computes) process.kill(s.pid, 'SIGSTOP');
  t.teardown(() => sims.computes.forEach((s) => process.kill(s.pid, 'SIGCONT')));
  const ids: string[] = [];
  for (let i = 0; i < VNFS; i++) ids.push(occOf(await apis[i % 3]('POST', `/vnflcm/v2/vnf_instances/${vnfs[i]}/instantiate`, { flavourId: FLAVOUR })));
  let claimed: Occ[] = [];
  await untilAsync('all claimed, PROCESSING', async () => {
    claimed = (await occs()).filter((o) => ids.includes(o.id));
    return claimed.length === VNFS && claimed.every((o) => o['operation-state'] === 'PROCESSING' && o.owner);
  }, 30_000);
  const byOwner = new Map<string, Occ[]>();
  for (const o of claimed) byOwner.set(o.owner!, [...(byOwner.get(o.owner!) ?? []), o]);
  // The victim: not the computes' OVSDB manager (instance 0), running at least one.
  const victim = [1, 2].sort((x, y) => (byOwner.get(inst[y].memberId)?.length ?? 0) - (byOwner.get(inst[x].memberId)?.length ?? 0))[0];
  const victimId = inst[victim].memberId;
  const theirs = byOwner.get(victimId) ?? [];
  t.ok(theirs.length >= 1, `${victimId} runs ${theirs.length} of the ${VNFS} (owners: ${[...byOwner].map(([m, l]) => `${m}=${l.length}`).join(', ')})`);
  process.kill(inst[victim].pid, 'SIGKILL');
  for (const s of sims.computes) process.kill(s.pid, 'SIGCONT');

  const live = urls.filter((_, i) => i !== victim);
  let ended: Occ[] = [];
  await untilAsync('all ended', async () => {
    ended = (await occs(live[0])).filter((o) => ids.includes(o.id));
    return ended.every((o) => ['COMPLETED', 'FAILED_TEMP', 'FAILED'].includes(o['operation-state']));
  }, 120_000);
  for (const before of claimed) {
    const after = ended.find((o) => o.id === before.id)!;
    if (before.owner === victimId) {
      t.not(after.owner, victimId, `${before.id.slice(0, 8)} (was ${victimId}'s): taken over by ${after.owner}`);
      t.equal(after.attempt, 2, 'resumed: run a second time');
      t.equal(after['operation-state'], 'COMPLETED', `and COMPLETED ${after.error?.detail ?? ''}`);
    } else {
      t.match(after, { owner: before.owner, attempt: 1, 'operation-state': 'COMPLETED' }, `${before.id.slice(0, 8)} (${before.owner}'s): untouched, run once, COMPLETED ${after.error?.detail ?? ''}`);
    }
  }
  const instances = ((await http(live[1], 'GET', '/rests/data/sextant-vnflcm:vnflcm')).json['sextant-vnflcm:vnflcm']['vnf-instance'] ?? []) as { id: string; 'instantiation-state'?: string; 'current-operation'?: string }[];
  t.ok(vnfs.every((v) => instances.find((i) => i.id === v)?.['instantiation-state'] === 'INSTANTIATED' && !instances.find((i) => i.id === v)?.['current-operation']), 'every VNF INSTANTIATED and free');
});
