/**
 * The VIM monitor over three instance processes on one etcd (scripts/cluster): 300 VIMs are spread
 * over the instances, each probed by exactly one (its owner: the probes' User-Agent names the
 * member); kill -9 of one instance: its VIMs are taken over by the others within the lease TTL
 * plus an interval (and only those move), and its actions' late reports get bad_action.
 */
import t from 'tap';
import { startClusterScript } from '../helpers/cluster-script.ts';
import { startVimServer } from '../helpers/vim-server.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const JSON_TYPE = 'application/yang-data+json';
const COUNT = 300;

async function http(url: string, method: string, path: string, body?: unknown) {
  const r = await fetch(url + path, { method, headers: { authorization: AUTH, accept: JSON_TYPE, ...(body ? { 'content-type': JSON_TYPE } : {}) }, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

type State = { 'vim-id': string; status?: string; 'action-id'?: string; owner?: string };
async function states(url: string): Promise<Map<string, State>> {
  const r = await http(url, 'GET', '/rests/data/sextant-nfv-vim:vim-states');
  const list = (r.json?.['sextant-nfv-vim:vim-states']?.['vim-state'] ?? []) as State[];
  return new Map(list.map((s) => [s['vim-id'], s]));
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('300 VIMs over 3 instances: each probed by its owner only; a killed instance\'s VIMs move, its late reports get bad_action', async (t) => {
  const cluster = await startClusterScript(t, ['--instances', '3', '--etcd', '1', '--name', 'vims', '--', '--plugins=vim-monitor']);
  const file = cluster.file;
  const urls = file.instances.map((i) => i.restconf);
  await until('every instance sees three members', 20_000, async () => {
    for (const u of urls) if (((await http(u, 'GET', '/rests/data/sextant-cluster:cluster')).json?.['sextant-cluster:cluster']?.member?.length ?? 0) !== 3) return false;
    return true;
  });
  const server = await startVimServer(t);
  const ids = Array.from({ length: COUNT }, (_, i) => `vim-${i}`);
  const vims = ids.map((id) => ({ 'vim-id': id, name: id, type: 'openstack', 'auth-url': server.url(`/${id}`), monitor: { interval: '1', timeout: '0.5' } }));
  t.equal((await http(urls[0], 'POST', '/rests/data', { 'sextant-nfv-vim:vims': { vim: vims } })).status, 201, 'registered on one instance');
  const first = await until('all REACHABLE', 30_000, async () => {
    const s = await states(urls[1]);
    return ids.every((id) => s.get(id)?.status === 'REACHABLE') && s;
  });
  const probedAt = server.total();
  await until('two more rounds', 10_000, async () => server.total() >= probedAt + 2 * COUNT);
  const owners = new Map(ids.map((id) => [id, first.get(id)!.owner!]));
  t.same(ids.filter((id) => server.probers(`/${id}`).size !== 1), [], 'each VIM is probed by exactly one instance');
  t.same(ids.filter((id) => [...server.probers(`/${id}`)][0] !== owners.get(id)), [], 'and that is the owner its state names');
  const share = (m: string) => ids.filter((id) => owners.get(id) === m).length;
  for (const m of file.instances) t.ok(share(m.memberId) > COUNT / 10, `${m.memberId} monitors ${share(m.memberId)} VIMs`);
  type Counted = { 'member-id': string; owned?: { 'entity-type': string; count: number }[] }[];
  const vimCounts = (m: Counted) => file.instances.map((i) => m.find((x) => x['member-id'] === i.memberId)?.owned?.find((o) => o['entity-type'] === 'vim')?.count);
  const expected = file.instances.map((m) => share(m.memberId));
  const counted = await until('the cluster state counts the VIMs', 10_000, async () => {
    const m = (await http(urls[2], 'GET', '/rests/data/sextant-cluster:cluster')).json['sextant-cluster:cluster'].member as Counted;
    return JSON.stringify(vimCounts(m)) === JSON.stringify(expected) && m;
  }).catch(async (e: Error) => {
    t.comment(JSON.stringify((await http(urls[2], 'GET', '/rests/data/sextant-cluster:cluster')).json));
    throw e;
  });
  t.same(vimCounts(counted), expected, 'the cluster state counts them per member');

  const victim = file.instances[0];
  const survivors = file.instances.slice(1);
  const theirs = ids.filter((id) => owners.get(id) === victim.memberId);
  const oldIds = new Map(theirs.map((id) => [id, first.get(id)!['action-id']!]));
  process.kill(victim.pid, 'SIGKILL');
  const killed = Date.now();
  const after = await until('its VIMs taken over', 20_000, async () => {
    const s = await states(survivors[0].restconf);
    return theirs.every((id) => s.get(id)?.owner !== victim.memberId && s.get(id)?.['action-id'] !== oldIds.get(id) && s.get(id)?.status === 'REACHABLE') && s;
  });
  const took = Date.now() - killed;
  t.ok(took <= 2000 + 1000 + 2000, `taken over in ${took} ms (lease TTL 2 s + interval 1 s, plus the probe and the read)`);
  t.same(ids.filter((id) => owners.get(id) !== victim.memberId && after.get(id)!.owner !== owners.get(id)), [], 'only its VIMs moved');
  const late = await http(survivors[1].restconf, 'POST', '/rests/operations/sextant-nfv-vim:update-vim', { input: { 'vim-id': theirs[0], status: 'UNREACHABLE', 'action-id': oldIds.get(theirs[0]) } });
  t.same(late.json, { 'sextant-nfv-vim:output': { status: 'bad_action' } }, "a late report of the killed instance's action: bad_action");
  const probedAfter = server.total();
  await until('two more rounds after the take-over', 10_000, async () => server.total() >= probedAfter + 2 * COUNT);
  const recent = (id: string) => server.probers(`/${id}`);
  t.ok(theirs.every((id) => [...recent(id)].some((m) => m === after.get(id)!.owner)), 'the new owners probe them');
  await cluster.stop();
});
