/**
 * NETCONF session settings the README promises: `--replay-log-size` bounds what a startTime
 * subscription replays; an idle session is closed after `--netconf-idle-timeout` but a subscribed
 * one never is, and 0 means never; a NETCONF lock on running keeps RESTCONF writers out while the
 * controller's own plugins (a scale-in rpc) still write.
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';
import { connect, parseXml, childOf, textOf, type NetconfTestSession } from '../helpers/netconf.ts';

const NOTIFICATION = 'urn:ietf:params:xml:ns:netconf:notification:1.0';
const TOASTER = 'http://netconfcentral.org/ns/toaster';
const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

/** The next notification's name and, for toasterRestocked, its amountOfBread. */
async function nextNotification(s: NetconfTestSession): Promise<string> {
  const n = parseXml(await s.read(15_000));
  if (n.name !== 'notification') throw new Error(`expected a notification, got <${n.name}>`);
  const body = n.children.find((x) => x.name !== 'eventTime')!;
  return body.name === 'toasterRestocked' ? `toasterRestocked ${textOf(childOf(n, 'toasterRestocked', TOASTER), 'amountOfBread')}` : body.name;
}

t.test('--replay-log-size: a subscription from the epoch replays only the last N notifications', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--replay-log-size=3']);
  for (let i = 0; i < 5; i++) await c.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 1 });
  const s = await connect(c.netconf.port, { t });
  t.ok((await s.rpc(`<create-subscription xmlns="${NOTIFICATION}"><startTime>1970-01-01T00:00:00Z</startTime></create-subscription>`)).ok, 'create-subscription with startTime');
  const seen = [await nextNotification(s), await nextNotification(s), await nextNotification(s), await nextNotification(s)];
  t.same(seen, ['toasterRestocked 3', 'toasterRestocked 4', 'toasterRestocked 5', 'replayComplete'], 'the last 3 of 5 (stock 3, 4, 5), then replayComplete');
});

t.test('--netconf-idle-timeout: an idle session is closed, a subscribed one never is', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--netconf-idle-timeout=1']);
  const subscribed = await connect(c.netconf.port, { t });
  t.ok((await subscribed.rpc(`<create-subscription xmlns="${NOTIFICATION}"/>`)).ok, 'one session subscribes');
  // Opened after the subscription: once this one is closed as idle, the subscribed one has been
  // idle longer than the timeout too.
  const idle = await connect(c.netconf.port, { t });
  await idle.waitClosed(15_000);
  t.pass('the idle session is closed by the server');
  t.notOk(subscribed.closed, 'the subscribed session, idle longer, is still open');
  await c.rpc.invoke('toaster:restock-toaster', { amountOfBreadToStock: 2 });
  t.equal(await nextNotification(subscribed), 'toasterRestocked 2', 'and still gets notifications');
});

t.test('--netconf-idle-timeout=0: sessions are never closed for idleness', async (t) => {
  const never = await testController(t, ['--datastore=memory', '--netconf-idle-timeout=0']);
  const kept = await connect(never.netconf.port, { t });
  // The yardstick: a session on a controller with a 1 s timeout, opened after, is closed first.
  const timed = await testController(t, ['--datastore=memory', '--netconf-idle-timeout=1']);
  const closes = await connect(timed.netconf.port, { t });
  await closes.waitClosed(15_000);
  t.pass('with a 1 s timeout an idle session is closed');
  t.notOk(kept.closed, 'with 0, a session idle longer than that is still open');
  t.ok((await kept.rpc('<get-config><source><running/></source></get-config>')).data, 'and answers');
});

t.test("a NETCONF lock on running: RESTCONF writes get 409, the controller's own plugins still write", async (t) => {
  const c = await testController(t, ['--datastore=memory']);
  const op = c.data.transaction('operational');
  op.put(`/network-topology:network-topology/topology=ovsdb%3A1/node=${encodeURIComponent('ovsdb://uuid/lock-1/bridge/br-int')}`, {
    'node-id': 'ovsdb://uuid/lock-1/bridge/br-int',
    'ovsdb:bridge-name': 'br-int',
    'ovsdb:datapath-id': '00:00:00:00:00:00:00:01',
    'ovsdb:bridge-other-configs': [{ 'bridge-other-config-key': 'dp-desc', 'bridge-other-config-value': 'compute-1' }],
  });
  await op.commit();
  const tombstoned = () => (c.data.read('config', '/cloudscaler-rpc:compute-nodes/compute-node=compute-1') as { tombstoned?: boolean } | undefined)?.tombstoned;
  const deadline = Date.now() + 15_000;
  while (tombstoned() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(tombstoned(), false, 'compute-1 is registered');

  const s = await connect(c.netconf.port, { t });
  t.ok((await s.rpc('<lock><target><running/></target></lock>')).ok, 'NETCONF locks running');
  const put = await fetch(`${c.restconf.url}/rests/data/toaster:toaster`, {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({ 'toaster:toaster': { darknessFactor: 3 } }),
  });
  t.equal(put.status, 409, 'a RESTCONF write is refused with 409');
  t.match(await put.text(), /lock-denied/, 'lock-denied');
  await c.rpc.invoke('scalein-api:scalein-computes-start', { 'scalein-node-ids': ['compute-1'] });
  t.equal(tombstoned(), true, 'the scale-in rpc (the cloudscaler plugin) wrote the tombstone while the lock is held');
  t.equal(c.data.read('config', '/toaster:toaster'), undefined, 'and the refused RESTCONF write is not there');
  t.ok((await s.rpc('<unlock><target><running/></target></unlock>')).ok, 'unlock');
});
