/**
 * Flow control of a NETCONF session: a client that pipelines many requests and does not read the
 * replies makes the server stop working for it (bounded memory) without affecting other sessions;
 * once it reads again, every reply arrives, in order.
 */
import t from 'tap';
import { resolve } from 'node:path';
import { testController } from '../helpers/controller.ts';
import { NC_BASE, connect, parseXml, childOf, textOf } from '../helpers/netconf.ts';

const REPO = resolve(import.meta.dirname, '../..');
const MONITORING = 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring';
const REQUESTS = 300;

t.test('a client that does not read its replies is held back; others are served; nothing is lost', async (t) => {
  const c = await testController(t, ['--datastore=memory', `--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`]);
  // 1,000 entries: each get-config reply is about 140 KB.
  const tx = c.data.transaction('config');
  tx.put('/car:cars', { 'car-entry': Array.from({ length: 1000 }, (_, i) => ({ id: `car-${i}`, model: `model ${i}`, manufacturer: 'maker', year: 2000 })) });
  await tx.commit();

  const flood = await connect(c.netconf.port, { t });
  const other = await connect(c.netconf.port, { t });

  flood.pauseReading();
  for (let i = 1; i <= REQUESTS; i++) flood.send(`<rpc xmlns="${NC_BASE}" message-id="${i}"><get-config><source><running/></source></get-config></rpc>`);
  await new Promise((r) => setTimeout(r, 1500));

  // The other session is answered meanwhile, and reports how far the flooding one got.
  const state = await other.rpc(`<get><filter type="subtree"><netconf-state xmlns="${MONITORING}"><sessions/></netconf-state></filter></get>`);
  t.ok(state.data, 'the other session is served while the first one floods');
  const sessions = childOf(childOf(state.data, 'netconf-state'), 'sessions');
  const floodEntry = (sessions?.children ?? []).find((s) => textOf(s, 'session-id') === String(flood.sessionId));
  const handled = Number(textOf(floodEntry, 'in-rpcs'));
  t.ok(handled > 0 && handled < REQUESTS, `the server stopped taking the flooding session's rpcs while its replies were unread (${handled} of ${REQUESTS})`);

  flood.resumeReading();
  const ids: string[] = [];
  for (let i = 1; i <= REQUESTS; i++) {
    const reply = parseXml(await flood.read(30_000));
    ids.push(reply.written['message-id'] ?? '');
    if (i === REQUESTS) t.equal(childOf(childOf(reply, 'data'), 'cars')?.children.length, 1000, 'the last reply holds all 1,000 entries');
  }
  t.same(ids, Array.from({ length: REQUESTS }, (_, i) => String(i + 1)), 'once it reads again, every reply arrives, in order');
});
