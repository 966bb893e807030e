/**
 * Hostile SSH clients on the NETCONF port (issue 20): a flood of connections that never log in
 * (silent TCP, an SSH banner and nothing more, a finished key exchange and no login) is held to
 * --netconf-max-unauthenticated and cut at --netconf-login-grace while a client from elsewhere
 * logs in and is served; exec, shell, other subsystems and port forwarding (both ways) are refused
 * with the refusal SSH has for each, and the same connection's netconf session still works; one
 * connection opening 100 channels gets --netconf-max-channels of them, the others refused with
 * a reason, and the server's session table stays bounded. Each case also checks a control
 * client (NETCONF, and a RESTCONF GET during the flood, whose latency is printed).
 */
import t, { type Test } from 'tap';
import { connect as tcpConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { testController } from '../helpers/controller.ts';
import { childOf, childrenOf, connect, NetconfTestSession } from '../helpers/netconf.ts';
import { waitUntil } from '../csit/lib/wait.ts';

const MAX_UNAUTH = 16;
const GRACE_S = 3;
const MAX_CHANNELS = 8;
const c = await testController(t, ['--datastore=memory', `--netconf-max-unauthenticated=${MAX_UNAUTH}`, `--netconf-login-grace=${GRACE_S}`, `--netconf-max-channels=${MAX_CHANNELS}`]);
const port = c.netconf.port;
const MON = 'urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring';

/** A logged-in SSH connection (no channel yet). */
async function login(t: Test): Promise<ssh2.Client> {
  const conn = new ssh2.Client();
  t.teardown(() => conn.destroy());
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve);
    conn.once('error', reject);
    // strictVendor off: ssh2 would refuse OpenSSH extensions (unix-socket forwarding) itself.
    conn.connect({ host: '127.0.0.1', port, username: 'admin', password: 'admin', readyTimeout: 20_000, strictVendor: false });
  });
  conn.on('error', () => undefined);
  return conn;
}

/** A NETCONF session on a new channel of an existing connection: hello read, ours sent. */
async function netconfOn(conn: ssh2.Client): Promise<NetconfTestSession> {
  const channel = await new Promise<ssh2.ClientChannel>((resolve, reject) => conn.subsys('netconf', (err, ch) => (err ? reject(err) : resolve(ch))));
  const s = new NetconfTestSession(conn, channel, 20_000);
  await s.readHello();
  s.sendHello();
  return s;
}

/** The session ids in the server's own netconf-state, read by a NETCONF get. */
async function sessionIds(s: NetconfTestSession): Promise<number[]> {
  const r = await s.rpc(`<get><filter type="subtree"><netconf-state xmlns="${MON}"><sessions/></netconf-state></filter></get>`);
  const sessions = childOf(childOf(r.data, 'netconf-state', MON), 'sessions', MON);
  return childrenOf(sessions, 'session', MON).map((e) => Number(childOf(e, 'session-id', MON)?.text.trim()));
}

/** A RESTCONF GET, timed. */
async function restconfGet(): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${c.restconf.url}/rests/data/ietf-netconf-monitoring:netconf-state/capabilities`, {
    headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}`, accept: 'application/yang-data+json' },
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - started };
}

t.test('a flood of connections that never log in is bounded and cut at the grace time; a client from elsewhere logs in during it', async (t) => {
  const FLOOD_SOURCE = '127.0.0.2';
  const open = new Set<Socket | ssh2.Client>();
  let opened = 0;
  let flooding = true;
  let maxHeld = 0;
  const sample = setInterval(() => (maxHeld = Math.max(maxHeld, c.netconf.unauthenticatedCount)), 5);
  t.teardown(() => {
    flooding = false;
    clearInterval(sample);
    for (const s of open) s.destroy();
  });

  // Three kinds, each reopened as soon as the server drops it, for as long as the flood lasts.
  const silent = () => raw('');
  const banner = () => raw('SSH-2.0-flood\r\n');
  function raw(send: string): void {
    if (!flooding) return;
    opened++;
    const s = tcpConnect({ host: '127.0.0.1', port, localAddress: FLOOD_SOURCE });
    open.add(s);
    s.on('error', () => undefined);
    s.on('connect', () => send && s.write(send));
    s.resume();
    s.on('close', () => {
      open.delete(s);
      setTimeout(() => raw(send), 5);
    });
  }
  // A finished key exchange, then no login at all (the auth handler never answers).
  function kexOnly(): void {
    if (!flooding) return;
    opened++;
    const conn = new ssh2.Client();
    open.add(conn);
    conn.on('error', () => undefined);
    conn.on('close', () => {
      open.delete(conn);
      setTimeout(kexOnly, 50);
    });
    conn.connect({ host: '127.0.0.1', port, localAddress: FLOOD_SOURCE, username: 'admin', authHandler: () => undefined, readyTimeout: 60_000 });
  }
  for (let i = 0; i < 150; i++) silent();
  for (let i = 0; i < 100; i++) banner();
  for (let i = 0; i < 4; i++) kexOnly();
  await waitUntil(10_000, 20, () => (c.netconf.unauthenticatedCount >= MAX_UNAUTH ? true : Promise.reject(new Error(`${c.netconf.unauthenticatedCount} held`))));
  await waitUntil(10_000, 20, () => (opened > 400 ? true : Promise.reject(new Error(`${opened} opened`))));

  // During the flood: a client from 127.0.0.1 logs in and gets its hello and a reply.
  const started = performance.now();
  const control = await connect(port, { t, timeoutMs: 20_000 });
  const loginMs = performance.now() - started;
  t.ok(control.sessionId > 0, `the control client logged in during the flood and got a hello (session ${control.sessionId}, ${loginMs.toFixed(0)} ms)`);
  t.ok((await control.rpc('<get-config><source><running/></source></get-config>')).data, 'and its get-config is answered');
  const get = await restconfGet();
  t.equal(get.status, 200, `a RESTCONF GET is served during the flood (${get.ms.toFixed(0)} ms)`);
  t.ok(flooding && opened > 400, `the flood was still running (${opened} connections opened so far)`);
  flooding = false;
  clearInterval(sample);
  t.ok(maxHeld <= MAX_UNAUTH, `never more than ${MAX_UNAUTH} connections not logged in (most seen: ${maxHeld})`);

  // What is left of the flood (those held, and those still in the kernel's accept queue) is cut
  // at the grace time.
  const stopped = performance.now();
  await waitUntil((GRACE_S + 10) * 1000, 50, () => (open.size === 0 ? true : Promise.reject(new Error(`${open.size} flood connections still open`))));
  t.ok(performance.now() - stopped <= (GRACE_S + 10) * 1000, `all closed by the server within the login grace (${((performance.now() - stopped) / 1000).toFixed(1)} s)`);
  t.equal(c.netconf.unauthenticatedCount, 0, 'none left counted');
  t.ok((await control.rpc('<get-config><source><running/></source></get-config>')).data, 'the logged-in control session outlived the grace time');
  await control.close();
  console.log(JSON.stringify({ edge: 'netconf', case: 'unauthenticated flood', floodConnections: opened, maxHeld, controlLoginMs: Math.round(loginMs), restconfGetMs: Math.round(get.ms) }));
});

t.test('exec, shell, other subsystems and port forwarding are refused; the same connection still serves netconf', async (t) => {
  const conn = await login(t);
  const failure = (fn: (cb: (err: Error | undefined) => void) => void) => new Promise<Error & { reason?: number }>((resolve) => fn((err) => resolve(err ?? new Error('no error: accepted'))));
  const exec = await failure((cb) => conn.exec('id', (err, ch) => (ch?.close(), cb(err))));
  t.equal(exec.message, 'Unable to exec', 'exec: the channel request fails (SSH_MSG_CHANNEL_FAILURE)');
  const pty = await failure((cb) => conn.shell((err, ch) => (ch?.close(), cb(err))));
  t.equal(pty.message, 'Unable to request a pseudo-terminal', 'a terminal (what an interactive shell asks first): refused');
  const shell = await failure((cb) => conn.shell(false, (err, ch) => (ch?.close(), cb(err))));
  t.equal(shell.message, 'Unable to open shell', 'shell: refused likewise');
  const sftp = await failure((cb) => conn.sftp((err, s) => (s?.end(), cb(err))));
  t.equal(sftp.message, 'Unable to start subsystem: sftp', 'the sftp subsystem: refused');
  const other = await failure((cb) => conn.subsys('cli', (err, ch) => (ch?.close(), cb(err))));
  t.equal(other.message, 'Unable to start subsystem: cli', 'another subsystem: refused');
  const out = await failure((cb) => conn.forwardOut('127.0.0.1', 40000, '127.0.0.1', Number(new URL(c.restconf.url).port), (err, ch) => (ch?.close(), cb(err))));
  t.equal(out.reason, 1, 'direct-tcpip: channel open failure, administratively prohibited');
  t.equal(out.message, '(SSH) Channel open failure: port forwarding is not offered: this server serves the netconf subsystem only', 'with the reason in words');
  const local = await failure((cb) => conn.openssh_forwardOutStreamLocal('/run/anything.sock', (err, ch) => (ch?.close(), cb(err))));
  t.equal(local.reason, 1, `a forward to a unix socket: refused the same way (${local.message})`);
  const remote = await failure((cb) => conn.forwardIn('127.0.0.1', 0, (err) => cb(err)));
  t.equal(remote.message, 'Unable to bind to 127.0.0.1:0', 'tcpip-forward (a listener on the server): the global request fails');

  const s = await netconfOn(conn);
  t.ok(s.sessionId > 0, 'the same connection then opens the netconf subsystem and gets a hello');
  const r = await s.rpc('<get-config><source><running/></source></get-config>');
  t.ok(r.data, 'and its rpc is answered');
  await s.close();
});

t.test('one connection opening 100 channels gets --netconf-max-channels of them; the rest are refused with a reason', async (t) => {
  const control = await connect(port, { t, timeoutMs: 20_000 });
  const before = await sessionIds(control);
  const rssBefore = process.memoryUsage().rss;
  const conn = await login(t);
  const attempts = await Promise.allSettled(Array.from({ length: 100 }, () => netconfOn(conn)));
  const served = attempts.filter((a): a is PromiseFulfilledResult<NetconfTestSession> => a.status === 'fulfilled').map((a) => a.value);
  const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected').map((a) => a.reason as Error & { reason?: number });
  t.equal(served.length, MAX_CHANNELS, `${MAX_CHANNELS} channels opened, each with a NETCONF hello`);
  t.equal(refused.length, 100 - MAX_CHANNELS, 'the others refused');
  t.ok(
    refused.every((e) => e.reason === 4 && e.message === `(SSH) Channel open failure: too many channels on this connection: at most ${MAX_CHANNELS} (--netconf-max-channels)`),
    `each refusal is a channel open failure, resource shortage, saying why: ${refused[0]?.message}`,
  );
  for (const s of served) t.ok((await s.rpc('<get-config><source><running/></source></get-config>')).data, `session ${s.sessionId} on that connection is served`);
  const during = await sessionIds(control);
  t.equal(during.length, before.length + MAX_CHANNELS, `the server holds ${during.length} sessions: the control's and ${MAX_CHANNELS} more, not 100`);
  const rssGrowth = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;

  // The limit counts open channels: one closed, one more may open.
  // close-session on one channel (the helper's close() would end the whole connection).
  t.ok((await served[0].rpc('<close-session/>')).ok, 'one of them closes its session');
  await served[0].waitClosed();
  await waitUntil(10_000, 50, async () => ((await sessionIds(control)).length === before.length + MAX_CHANNELS - 1 ? true : Promise.reject(new Error('not closed yet'))));
  const again = await netconfOn(conn);
  t.ok(again.sessionId > 0, 'after one channel closes, a new one opens');
  t.ok((await control.rpc('<get-config><source><running/></source></get-config>')).data, 'the control client, on its own connection, was served throughout');
  console.log(JSON.stringify({ edge: 'netconf', case: '100 channels on one connection', served: served.length, refused: refused.length, rssGrowthMiB: Number(rssGrowth.toFixed(1)) }));
});
