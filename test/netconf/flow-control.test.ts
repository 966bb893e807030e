/**
 * Flow control of a NETCONF session: a client that pipelines many requests and does not read the
 * replies makes the server stop working for it (bounded memory) without affecting other sessions;
 * once it reads again, every reply arrives, in order.
 */
import t from 'tap';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { testController } from '../helpers/controller.ts';
import { NC_BASE, connect, parseXml, childOf, textOf, type NetconfTestSession } from '../helpers/netconf.ts';

const REPO = resolve(import.meta.dirname, '../..');
const MONITORING = 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring';
const REQUESTS = 300;
/** ssh2's channel window (what the client takes in unread) and its channel's write buffer (highWaterMark). */
const SSH_WINDOW = 2 * 1024 * 1024;
const CHANNEL_BUFFER = 2 * 1024 * 1024;

// Memory is compared after full collections, so garbage left by building replies does not count.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const GET_CONFIG = `<get-config><source><running/></source></get-config>`;

t.test('a client that does not read its replies is held back; others are served; nothing is lost', async (t) => {
  const c = await testController(t, ['--datastore=memory', `--yang-dir=${REPO}/yang,${REPO}/test/netconf/yang`]);
  // 1,000 entries: each get-config reply is about 140 KB.
  const tx = c.data.transaction('config');
  tx.put('/car:cars', { 'car-entry': Array.from({ length: 1000 }, (_, i) => ({ id: `car-${i}`, model: `model ${i}`, manufacturer: 'maker', year: 2000 })) });
  await tx.commit();

  const flood = await connect(c.netconf.port, { t });
  const other = await connect(c.netconf.port, { t });
  const replyBytes = Buffer.byteLength((await other.rpc(GET_CONFIG)).text);
  const before = liveBytes();

  /** in-rpcs of the flooding session, as the other session reads it from ietf-netconf-monitoring. */
  const floodInRpcs = async (s: NetconfTestSession): Promise<number> => {
    const state = await s.rpc(`<get><filter type="subtree"><netconf-state xmlns="${MONITORING}"><sessions/></netconf-state></filter></get>`);
    const sessions = childOf(childOf(state.data, 'netconf-state'), 'sessions');
    const entry = (sessions?.children ?? []).find((x) => textOf(x, 'session-id') === String(flood.sessionId));
    return Number(textOf(entry, 'in-rpcs'));
  };

  flood.pauseReading();
  for (let i = 1; i <= REQUESTS; i++) flood.send(`<rpc xmlns="${NC_BASE}" message-id="${i}">${GET_CONFIG}</rpc>`);

  // No fixed sleep: wait until the flood's count has stood still while the other session was given
  // ten full-size get-configs in a row. A server without flow control does the flood's work in that
  // time (both sessions get the same event loop) and reaches all 300: the bound below then fails.
  let handled = -1;
  let still = 0;
  const deadline = Date.now() + 45_000;
  while (still < 10) {
    if (Date.now() > deadline) throw new Error(`in-rpcs of the flooding session never stood still (last ${handled})`);
    const now = await floodInRpcs(other);
    const reply = await other.rpc(GET_CONFIG);
    if (!reply.data) throw new Error('the other session got no data while the first one floods');
    still = now === handled ? still + 1 : 0;
    handled = now;
  }
  t.pass('the other session is served while the first one floods');
  // What the server code bounds: no rpc is started while the last reply did not fit in the channel's
  // buffer, so the replies started for the flooding session are those the client's SSH window took in,
  // those the channel buffers, and the one that found it full (plus one being answered). That is also
  // well under PAUSE_AT (64), past which the session stops reading at all.
  const bound = Math.ceil((SSH_WINDOW + CHANNEL_BUFFER) / replyBytes) + 2;
  t.ok(handled > 0 && handled <= Math.min(bound, 64), `the server stopped taking the flooding session's rpcs while its replies were unread: ${handled} of ${REQUESTS} started, bound ${Math.min(bound, 64)} (${replyBytes}-byte replies)`);
  // The memory it holds for them is those replies and the queued request texts, not 300 replies.
  const held = liveBytes() - before;
  const unbounded = REQUESTS * replyBytes;
  t.ok(held < unbounded / 3, `the server holds ${(held / 1e6).toFixed(1)} MB for the flooding session, not the ${(unbounded / 1e6).toFixed(0)} MB of all its replies`);

  flood.resumeReading();
  const ids: string[] = [];
  for (let i = 1; i <= REQUESTS; i++) {
    const reply = parseXml(await flood.read(30_000));
    ids.push(reply.written['message-id'] ?? '');
    if (i === REQUESTS) t.equal(childOf(childOf(reply, 'data'), 'cars')?.children.length, 1000, 'the last reply holds all 1,000 entries');
  }
  t.same(ids, Array.from({ length: REQUESTS }, (_, i) => String(i + 1)), 'once it reads again, every reply arrives, in order');
});
