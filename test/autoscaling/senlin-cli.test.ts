/**
 * Debian's real `openstack cluster ...` (python-senlinclient over openstacksdk) against Senlin's
 * API, no Keystone: `--os-auth-type admin_token --os-token <api token> --os-endpoint <url>/v1`,
 * as the README says. A profile from a spec file, a cluster created with --wait, listed and
 * shown, expanded, shrunk and resized (checked in the datastore and in the computes' real OVS),
 * a webhook receiver, the action list paged with --limit, the event list; asserted on the CLI's
 * output (-f json where it has it) and exit code. HOME is a temp dir, so no user config leaks in.
 */
import t from 'tap';
import { json, openstackCli, type Run } from '../helpers/openstack-cli.ts';
import { join } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { computesForTest, ifaceIds } from '../helpers/ovs.ts';
import { waitUntil } from '../helpers/process.ts';
import { tempDir, writeFiles } from '../helpers/tmp.ts';

const TOKEN = 'senlin-cli-token-8d20';
const NETWORK = '44444444-5555-4666-8777-888888888888';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const cli = (home: string, auth: string[]) => openstackCli(home, auth);


t.test('openstack cluster ... against Sextant', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--autoscaling-port-wait-ms=10000', `--api-token=${TOKEN}`]);
  const sims = await computesForTest(t, { count: 3, controller: `127.0.0.1:${c.ovsdb.port}` });
  await waitUntil('the computes are registered', () => ((c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node') as unknown[] | undefined)?.length ?? 0) === 3, 15_000);
  const tx = c.data.transaction('config');
  tx.put(`/neutron:neutron/networks/network=${NETWORK}`, { uuid: NETWORK, name: 'cli-net' });
  await tx.commit();

  const endpoint = `${c.http.listening().get('clustering')!.url}/v1`;
  const home = tempDir(t, 'sextant-senlin-cli-');
  writeFiles(home, {
    'profile.yaml': ['type: os.nova.server', 'version: 1.0', 'properties:', '  flavor: m1.tiny', '  image: cirros', '  networks:', '    - network: cli-net', ''].join('\n'),
  });
  const openstack = cli(home, ['--os-auth-type', 'admin_token', '--os-token', TOKEN, '--os-endpoint', endpoint]);
  const nodes = (cluster: string) => ((c.data.read('operational', `/sextant-clustering:clustering-state/cluster=${cluster}`) as { node?: { port: string }[] } | undefined)?.node ?? []);
  const action = (id: string) => c.data.read('operational', `/sextant-clustering:clustering-state/action=${id}`) as { status: string } | undefined;
  const waitAction = async (id: string) => {
    await waitUntil(`action ${id} ends`, () => ['SUCCEEDED', 'FAILED'].includes(action(id)?.status ?? ''), 20_000);
    return action(id)!.status;
  };
  const accepted = (r: Run) => /Request accepted by action: ([0-9a-f-]{36})/.exec(r.stdout)?.[1] ?? '';

  const profile = await openstack('cluster', 'profile', 'create', '--spec-file', join(home, 'profile.yaml'), 'cli-web', '-f', 'json');
  t.equal(profile.code, 0, `profile create exits 0 ${profile.stderr}`);
  t.match(json(profile), { id: UUID, name: 'cli-web', type: 'os.nova.server-1.0' }, 'the profile');
  t.match(c.data.read('config', `/sextant-clustering:clustering/profile=${json(profile).id}`), { network: NETWORK, flavor: 'm1.tiny' }, 'stored, its network resolved');

  const created = await openstack('cluster', 'create', '--profile', 'cli-web', '--min-size', '1', '--max-size', '4', '--desired-capacity', '2', '--timeout', '600', '--wait', 'cli-cluster', '-f', 'json');
  t.equal(created.code, 0, `cluster create --wait exits 0 ${created.stderr}`);
  const cluster = json(created);
  t.match(cluster, { id: UUID, name: 'cli-cluster', status: 'ACTIVE', min_size: 1, max_size: 4, desired_capacity: 2 }, 'cluster create --wait shows it ACTIVE');
  const cid = cluster.id as string;
  t.equal(nodes(cid).length, 2, 'two nodes');

  const listed = await openstack('cluster', 'list', '-f', 'json');
  t.equal(listed.code, 0, 'cluster list exits 0');
  t.match(json(listed), [{ id: cid.slice(0, 8), name: 'cli-cluster', status: 'ACTIVE' }], 'cluster list (short ids)');

  const shown = await openstack('cluster', 'show', cid.slice(0, 8), '-f', 'json');
  t.equal(shown.code, 0, 'cluster show SHORT-ID exits 0');
  t.match(json(shown), { id: cid, name: 'cli-cluster', profile_name: 'cli-web', desired_capacity: 2 }, 'cluster show');
  const missing = await openstack('cluster', 'show', 'no-such-cluster');
  t.equal(missing.code, 1, 'cluster show of an unknown cluster: exit 1');
  t.match(missing.stderr, /no-such-cluster/, 'naming it');

  const expand = await openstack('cluster', 'expand', '--count', '2', 'cli-cluster');
  t.equal(expand.code, 0, `cluster expand exits 0 ${expand.stderr}`);
  const expandId = accepted(expand);
  t.match(expandId, UUID, 'prints the accepting action');
  t.equal(await waitAction(expandId), 'SUCCEEDED', 'which succeeds');
  t.equal(nodes(cid).length, 4, 'four nodes');
  const inOvs = (await Promise.all(sims.computes.map(ifaceIds))).flat();
  t.ok(nodes(cid).every((n) => inOvs.includes(n.port)), "each an interface in a compute's OVS");

  const shrink = await openstack('cluster', 'shrink', '--count', '1', 'cli-cluster');
  t.equal(shrink.code, 0, 'cluster shrink exits 0');
  t.equal(await waitAction(accepted(shrink)), 'SUCCEEDED');
  t.equal(nodes(cid).length, 3, 'three nodes');

  const resize = await openstack('cluster', 'resize', '--capacity', '2', 'cli-cluster');
  t.equal(resize.code, 0, 'cluster resize --capacity exits 0');
  t.equal(await waitAction(accepted(resize)), 'SUCCEEDED');
  t.equal(nodes(cid).length, 2, 'two nodes');
  const tooBig = await openstack('cluster', 'resize', '--capacity', '9', '--strict', 'cli-cluster');
  t.not(tooBig.stdout + tooBig.stderr, '', 'a resize beyond max-size --strict is refused');
  t.match(tooBig.stdout + tooBig.stderr, /greater than the cluster's max_size \(4\)/, "with Senlin's message");

  const receiver = await openstack('cluster', 'receiver', 'create', '--cluster', 'cli-cluster', '--action', 'CLUSTER_SCALE_OUT', '--type', 'webhook', '--params', 'count=1', 'cli-hook', '-f', 'json');
  t.equal(receiver.code, 0, `cluster receiver create exits 0 ${receiver.stderr}`);
  const r = json(receiver);
  t.match(r, { name: 'cli-hook', cluster_id: cid, action: 'CLUSTER_SCALE_OUT', type: 'webhook' }, 'the receiver');
  const alarmUrl = (typeof r.channel === 'string' ? JSON.parse(r.channel) : r.channel).alarm_url as string;
  t.match(alarmUrl, new RegExp(`/v1/webhooks/${r.id}/trigger\\?V=2&count=1$`), 'its channel is the webhook URL');
  const fired = await fetch(alarmUrl, { method: 'POST' });
  t.equal(fired.status, 202, 'the webhook, without credentials: 202');
  t.equal(await waitAction(((await fired.json()) as { action: string }).action), 'SUCCEEDED', 'and its action succeeds');
  t.equal(nodes(cid).length, 3);

  const actions = await openstack('cluster', 'action', 'list', '--full-id', '-f', 'json');
  t.equal(actions.code, 0, 'cluster action list exits 0');
  const rows = json(actions) as { id: string; action: string; status: string; target_id: string }[];
  t.same(rows.map((a) => a.action).sort(), ['CLUSTER_CREATE', 'CLUSTER_RESIZE', 'CLUSTER_SCALE_IN', 'CLUSTER_SCALE_OUT', 'CLUSTER_SCALE_OUT'].sort(), 'every action');
  t.ok(rows.every((a) => a.status === 'SUCCEEDED' && a.target_id === cid), 'all SUCCEEDED, on the cluster');
  const paged = await openstack('cluster', 'action', 'list', '--limit', '2', '--full-id', '-f', 'json');
  t.equal(paged.code, 0, `action list --limit 2 pages to the end ${paged.stderr}`);
  t.same((json(paged) as { id: string }[]).map((a) => a.id).sort(), rows.map((a) => a.id).sort(), 'the same actions, page by page');

  const events = await openstack('cluster', 'event', 'list', '-f', 'json');
  t.equal(events.code, 0, 'cluster event list exits 0');
  const ev = json(events) as { obj_type: string; obj_id: string; action: string; level: string }[];
  t.equal(ev.length, rows.length, 'one event per action');
  t.ok(ev.every((e) => e.obj_type === 'CLUSTER' && e.obj_id === cid.slice(0, 8) && e.level === 'INFO'), 'on the cluster, INFO');

  const deleted = await openstack('cluster', 'delete', '--force', 'cli-cluster');
  t.equal(deleted.code, 0, 'cluster delete exits 0');
  t.notMatch(deleted.stdout + deleted.stderr, /failed/, 'and did not fail');
  await waitUntil('the cluster is gone', () => c.data.read('config', `/sextant-clustering:clustering/cluster=${cid}`) === undefined && nodes(cid).length === 0, 15_000);
  t.pass('gone, with its nodes');
});
