/**
 * Hostile or broken peers on the OpenFlow port are disconnected, each on its own, while a real
 * ovs-vswitchd on the same server keeps its control connection and its flows.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { testController } from '../../helpers/controller.ts';
import { untilAsync } from '../../helpers/process.ts';
import { startSwitch } from '../../helpers/vswitchd.ts';
import { decode, encode, Framer, type Message } from '../../../src/southbound/openflow/codec.ts';
import { flowJson, flowPath, inventoryNodePath } from '../../../src/southbound/openflow/flows.ts';

const DPN = 0xb1n;

interface Peer {
  socket: Socket;
  received: Message[];
  closed: Promise<void>;
}

function peer(port: number, opts: { read?: boolean } = {}): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Message[] = [];
    const framer = new Framer();
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    if (opts.read === false) socket.pause();
    else socket.on('data', (d: Buffer) => received.push(...framer.push(d).map(decode)));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, received, closed }));
    socket.once('error', reject);
  });
}

const within = (p: Promise<void>, ms: number, what: string) =>
  Promise.race([p, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`not disconnected within ${ms} ms: ${what}`)), ms).unref())]);

t.test('hostile peers are disconnected; a well-behaved switch keeps its connection and flows', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--plugins=none', '--openflow-probe-interval=1', '--openflow-stats-interval=0']);
  const tx = c.data.transaction('config');
  tx.put(flowPath(DPN, 0, 'net.n.in'), flowJson(DPN, { table: 0, id: 'net.n.in', priority: 100, cookie: 0x5e10000000000001n, match: { inPort: 1 }, instructions: { goToTable: 17 } }) as never);
  await tx.commit();
  const sw = await startSwitch(t, { dpid: DPN, controllerPort: c.openflow.port, ports: ['p1'] });
  await c.openflow.synced(DPN);
  const flows = await sw.flows();
  t.equal(flows.length, 1, 'the switch is programmed');
  const connection = c.openflow.status(DPN)!.connection;

  await t.test('garbage (an HTTP request) is refused with an ERROR and the connection closed', async (t) => {
    const p = await peer(c.openflow.port);
    p.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await within(p.closed, 10_000, 'garbage');
    t.ok(p.received.some((m) => m.type === 'error' && m.errType === 1), 'a BAD_REQUEST error before the close');
  });

  await t.test('a length under the header size closes the connection', async (t) => {
    const p = await peer(c.openflow.port);
    p.socket.write(Buffer.from('04000004', 'hex'));
    await within(p.closed, 10_000, 'short length');
    t.pass('closed');
  });

  await t.test('HELLO with no common version: HELLO_FAILED/INCOMPATIBLE, then closed', async (t) => {
    const p = await peer(c.openflow.port);
    // Versions 1 and 2 only (bitmap 0x06), from an OF 1.1 speaker.
    p.socket.write(Buffer.from('02000010000000070001000800000006', 'hex'));
    await within(p.closed, 10_000, 'no common version');
    const err = p.received.find((m) => m.type === 'error');
    t.match(err, { type: 'error', xid: 7, errType: 0, code: 0 }, 'OFPET_HELLO_FAILED / OFPHFC_INCOMPATIBLE for the HELLO\'s xid');
  });

  await t.test('64 MB of ECHO_REQUESTs from a peer that never reads the replies', async (t) => {
    const p = await peer(c.openflow.port, { read: false });
    p.socket.write(encode({ type: 'hello', xid: 1, version: 4, versions: [4] }));
    const echo = encode({ type: 'echo-request', xid: 2, data: Buffer.alloc(0xffff - 8) });
    let sent = 0;
    let gone = false;
    void p.closed.then(() => (gone = true));
    while (sent < 64 * 1024 * 1024 && !gone) {
      if (!p.socket.write(echo)) await new Promise<void>((r) => { p.socket.once('drain', () => r()); p.socket.once('close', () => r()); });
      sent += echo.length;
    }
    await within(p.closed, 20_000, 'unread output');
    t.ok(sent < 64 * 1024 * 1024 || gone, `closed after ${Math.round(sent / 1048576)} MB`);
  });

  await t.test('a switch that never answers ECHO_REQUEST is dropped by the inactivity probe', async (t) => {
    const p = await peer(c.openflow.port);
    const framer = new Framer();
    let echoes = 0;
    p.socket.removeAllListeners('data');
    p.socket.on('data', (d: Buffer) => {
      for (const m of framer.push(d).map(decode)) {
        const reply = (r: Message) => p.socket.write(encode(r));
        if (m.type === 'hello') reply({ type: 'hello', xid: m.xid, version: 4, versions: [4] });
        else if (m.type === 'features-request') reply({ type: 'features-reply', xid: m.xid, datapathId: 0x99n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
        else if (m.type === 'multipart-request') reply({ type: 'multipart-reply', xid: m.xid, flags: 0, body: m.body.kind === 'port-desc' ? { kind: 'port-desc', ports: [] } : m.body.kind === 'table' ? { kind: 'table', tables: [] } : { kind: 'flow', flows: [] } });
        else if (m.type === 'barrier-request') reply({ type: 'barrier-reply', xid: m.xid });
        else if (m.type === 'echo-request') echoes++;
      }
    });
    p.socket.write(encode({ type: 'hello', xid: 1, version: 4, versions: [4] }));
    await untilAsync('the silent switch in the operational inventory', async () => c.data.read('operational', inventoryNodePath(0x99n)) !== undefined);
    await within(p.closed, 15_000, 'silent switch');
    t.ok(echoes >= 1, `it was probed (${echoes} ECHO_REQUEST) before being closed`);
    await untilAsync('the silent switch gone from the operational inventory', async () => c.data.read('operational', inventoryNodePath(0x99n)) === undefined);
  });

  await t.test('a switch reporting 100,000 ports is disconnected, and nothing of it is published', async (t) => {
    const p = await peer(c.openflow.port);
    const framer = new Framer();
    p.socket.removeAllListeners('data');
    const port = (n: number) => ({ portNo: n, hwAddr: '02:00:00:00:00:01', name: `p${n}`, config: 0, state: 0, curr: 0, advertised: 0, supported: 0, peer: 0, currSpeed: 0, maxSpeed: 0 });
    p.socket.on('data', (d: Buffer) => {
      for (const m of framer.push(d).map(decode)) {
        const reply = (r: Message) => p.socket.write(encode(r));
        if (m.type === 'hello') reply({ type: 'hello', xid: m.xid, version: 4, versions: [4] });
        else if (m.type === 'features-request') reply({ type: 'features-reply', xid: m.xid, datapathId: 0x98n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
        else if (m.type === 'multipart-request' && m.body.kind === 'port-desc') {
          // 100 parts of 1,000 ports (64 bytes each: a part stays under the 64 KiB message bound).
          for (let part = 0; part < 100; part++) {
            const ports = Array.from({ length: 1000 }, (_, i) => port(part * 1000 + i + 1));
            reply({ type: 'multipart-reply', xid: m.xid, flags: part < 99 ? 1 : 0, body: { kind: 'port-desc', ports } });
          }
        }
      }
    });
    p.socket.write(encode({ type: 'hello', xid: 1, version: 4, versions: [4] }));
    await within(p.closed, 20_000, '100,000 ports');
    t.equal(c.data.read('operational', inventoryNodePath(0x98n)), undefined, 'the switch never reached the operational inventory');
  });

  await t.test('a flood of replies to requests never sent is ignored, without holding memory', async (t) => {
    const p = await peer(c.openflow.port);
    const framer = new Framer();
    p.socket.removeAllListeners('data');
    p.socket.on('data', (d: Buffer) => {
      for (const m of framer.push(d).map(decode)) {
        p.received.push(m);
        const reply = (r: Message) => p.socket.write(encode(r));
        if (m.type === 'features-request') reply({ type: 'features-reply', xid: m.xid, datapathId: 0x97n, nBuffers: 0, nTables: 254, auxiliaryId: 0, capabilities: 0 });
        else if (m.type === 'multipart-request') reply({ type: 'multipart-reply', xid: m.xid, flags: 0, body: m.body.kind === 'port-desc' ? { kind: 'port-desc', ports: [] } : m.body.kind === 'table' ? { kind: 'table', tables: [] } : { kind: 'flow', flows: [] } });
        else if (m.type === 'barrier-request') reply({ type: 'barrier-reply', xid: m.xid });
      }
    });
    p.socket.write(encode({ type: 'hello', xid: 1, version: 4, versions: [4] }));
    await untilAsync('the peer in the operational inventory', async () => c.data.read('operational', inventoryNodePath(0x97n)) !== undefined);
    const before = process.memoryUsage().rss;
    const burst = Buffer.concat(Array.from({ length: 10_000 }, (_, i) => encode({ type: 'barrier-reply', xid: 100_000 + i })));
    for (let i = 0; i < 20; i++) if (!p.socket.write(burst)) await new Promise<void>((r) => p.socket.once('drain', () => r()));
    // An echo asked after the flood is answered: every one of the 200,000 replies was read.
    p.socket.write(encode({ type: 'echo-request', xid: 42, data: Buffer.from('after') }));
    await untilAsync('the echo after the flood answered', async () => p.received.some((m) => m.type === 'echo-reply' && m.xid === 42), 20_000);
    t.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, `RSS grew ${Math.round((process.memoryUsage().rss - before) / 1048576)} MiB for 200,000 stray replies`);
    p.socket.destroy();
  });

  t.equal(c.openflow.status(DPN)?.connection, connection, 'the real switch never lost its control connection');
  // ovs-vswitchd writes its controller status into its database every few seconds.
  await untilAsync('Open vSwitch reporting its controller connected', async () => (await sw.vsctl('get', 'controller', 'br-int', 'is_connected')).trim() === 'true');
  t.equal(c.openflow.status(DPN)?.connection, connection, 'still the same connection');
  t.same(await sw.flows(), flows, 'and it keeps its flows');
});
