/**
 * Hostile inputs on the RESTCONF edge (and NETCONF's filters), each with a control client: while
 * or right after the hostile request, another client's write and read-back is served, correctly
 * and within a bound the old behaviour broke by far (a 100,000-deep XML body held the event loop
 * for over a minute). The hostile request itself gets a RESTCONF error with its error-tag and
 * HTTP status. The controller is `npm start` in a child process, so its event loop, its memory
 * (VmHWM in /proc) and its sockets are its own.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as netconfConnect, NC_BASE } from '../helpers/netconf.ts';
import { readyOf, startMain, waitUntil } from '../helpers/process.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;
const TOASTER_NS = 'http://netconfcentral.org/ns/toaster';
const MAX_BODY = 24 * 1024 * 1024;
const MAX_CONNECTIONS = 200;
/** What "promptly" means for a control request on this shared, loaded machine (the hostile cases took 7 s to minutes before). */
const PROMPT_MS = 5_000;

const main = startMain(t, [
  '--datastore=memory',
  '--restconf-port=0',
  '--plugins=toaster',
  `--restconf-max-body=${MAX_BODY}`,
  `--restconf-max-connections=${MAX_CONNECTIONS}`,
  '--restconf-header-timeout=1',
]);
const ready = await readyOf(main);
const base = ready.restconf;
const netconfPort = Number(ready.netconf.split(':').pop());
const port = Number(new URL(base).port);
const pid = main.child.pid!;
const TOASTER = `${base}/rests/data/toaster:toaster`;

let controls = 0;
/** Another client's write and read-back: served, correctly and promptly (ms taken). */
async function control(t: Test, when: string): Promise<number> {
  const factor = 1000 + ++controls;
  const started = Date.now();
  const put = await fetch(TOASTER, { method: 'PUT', headers: { authorization: AUTH, 'content-type': 'application/yang-data+json' }, body: JSON.stringify({ 'toaster:toaster': { darknessFactor: factor } }) });
  const got = await fetch(`${TOASTER}?content=config`, { headers: { authorization: AUTH } });
  const took = Date.now() - started;
  t.ok(put.status === 201 || put.status === 204, `control (${when}): its PUT is served (${put.status})`);
  t.same(await got.json(), { 'toaster:toaster': { darknessFactor: factor } }, `control (${when}): it reads back what it wrote`);
  t.ok(took < PROMPT_MS, `control (${when}): within ${took} ms`);
  return took;
}

/**
 * One request on a raw socket, bytes as given; resolves with the whole answer once the server
 * closes or `until` matches. A server that answers and closes while the request is still being
 * written (a request head over its limit) resets the rest of the write: the answer read before
 * counts.
 */
function raw(head: string | Buffer, body: Buffer | string = '', until = /\r\n\r\n[\s\S]*\}$/): Promise<string> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    let answer = '';
    s.on('data', (d) => {
      answer += d.toString('latin1');
      if (until.test(answer)) s.destroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(answer));
    s.on('connect', () => {
      s.write(head);
      s.write(body);
    });
  });
}

function errorsOf(answer: string): { 'error-tag': string; 'error-type': string; 'error-message': string }[] {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).errors.error;
}

/** Sends a hostile body with PUT to the toaster while a control client is served; returns the hostile answer. */
async function hostilePut(t: Test, what: string, type: string, body: string | Buffer) {
  const started = Date.now();
  const hostile = fetch(TOASTER, { method: 'PUT', headers: { authorization: AUTH, 'content-type': type, accept: 'application/yang-data+json' }, body: typeof body === 'string' ? body : new Uint8Array(body) });
  await control(t, `during ${what}`);
  const res = await hostile;
  const took = Date.now() - started;
  const errors = (await res.json()).errors.error;
  t.ok(took < PROMPT_MS * 2, `${what}: answered in ${took} ms`);
  await control(t, `after ${what}`);
  return { status: res.status, errors };
}

t.test('a chunked upload with no Content-Length over the body limit is refused while it streams, in bounded memory', async (t) => {
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  const before = hwm();
  const chunk = Buffer.alloc(256 * 1024, 0x20);
  const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  const planned = 1024 * 1024 * 1024;
  const result = await new Promise<{ answer: string; sentAtAnswer?: number; sent: number; closed: boolean }>((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    const r = { answer: '', sentAtAnswer: undefined as number | undefined, sent: 0, closed: false };
    s.on('data', (d) => {
      r.sentAtAnswer ??= r.sent;
      r.answer += d;
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      r.closed = true;
      resolve(r);
    });
    const next = () => {
      while (!s.destroyed && r.sent < planned) {
        r.sent += chunk.length;
        if (!s.write(frame)) return void s.once('drain', next);
      }
    };
    s.on('connect', () => {
      s.write(`PUT /rests/data/toaster:toaster HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/yang-data+json\r\nTransfer-Encoding: chunked\r\n\r\n`);
      next();
    });
    t.teardown(() => s.destroy());
  });
  const grew = hwm() - before;
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  t.match(result.answer, /^HTTP\/1\.1 413 /, 'the answer is 413');
  t.match(errorsOf(result.answer.split(/\r\n0\r\n|$/)[0]), [{ 'error-tag': 'too-big' }], 'with a RESTCONF too-big error');
  t.ok(result.sentAtAnswer !== undefined && result.sentAtAnswer < result.sent, `the refusal came while the client was still sending (after ${mib(result.sentAtAnswer ?? 0)}; ${mib(result.sent)} sent before the server cut it)`);
  t.ok(result.sent < planned, 'the server closed the connection before the client finished');
  t.ok(grew < 48 * 2 ** 20, `the server's peak RSS grew by ${mib(grew)} while ${mib(result.sent)} came in (limit ${mib(MAX_BODY)})`);
  await control(t, 'after the chunked upload');
});

t.test('JSON nested 100,000 deep: 413 too-big at once, others served', async (t) => {
  const n = 100_000;
  const body = `{"toaster:toaster":{"darknessFactor":${'['.repeat(n)}${']'.repeat(n)}}}`;
  const r = await hostilePut(t, 'a 100,000-deep JSON body', 'application/yang-data+json', body);
  t.equal(r.status, 413);
  t.match(r.errors, [{ 'error-tag': 'too-big', 'error-message': /JSON nested deeper than 256/ }]);
});

t.test('XML nested 100,000 deep: 413 too-big at once, others served', async (t) => {
  const n = 100_000;
  const body = `<toaster xmlns="${TOASTER_NS}">${'<a>'.repeat(n)}${'</a>'.repeat(n)}</toaster>`;
  const r = await hostilePut(t, 'a 100,000-deep XML body', 'application/yang-data+xml', body);
  t.equal(r.status, 413);
  t.match(r.errors, [{ 'error-tag': 'too-big', 'error-message': /XML nested deeper than 256 elements/ }]);
});

t.test('1,000,000 attributes, and 1,000,000 namespace declarations, on one element: 413 too-big, others served', async (t) => {
  const n = 1_000_000;
  const attrs = Array.from({ length: n }, (_, i) => ` a${i}=""`).join('');
  const a = await hostilePut(t, '1,000,000 attributes', 'application/yang-data+xml', `<toaster xmlns="${TOASTER_NS}"${attrs}/>`);
  t.equal(a.status, 413);
  t.match(a.errors, [{ 'error-tag': 'too-big', 'error-message': /more than 1024 attributes/ }]);
  const decls = Array.from({ length: n }, (_, i) => ` xmlns:p${i}="u"`).join('');
  t.ok(decls.length < MAX_BODY, `the declarations fit the body limit (${decls.length} bytes)`);
  const x = await hostilePut(t, '1,000,000 namespace declarations', 'application/yang-data+xml', `<toaster xmlns="${TOASTER_NS}"${decls}/>`);
  t.equal(x.status, 413);
  t.match(x.errors, [{ 'error-tag': 'too-big', 'error-message': /more than 1024 attributes/ }]);
});

t.test('invalid UTF-8 in a JSON body, an XML body and a path: 400 with a RESTCONF error', async (t) => {
  const bad = Buffer.from([0xc3, 0x28, 0xff]);
  const json = Buffer.concat([Buffer.from('{"toaster:toaster":{"toasterManufacturer":"'), bad, Buffer.from('"}}')]);
  const j = await hostilePut(t, 'a JSON body that is not UTF-8', 'application/yang-data+json', json);
  t.equal(j.status, 400);
  t.match(j.errors, [{ 'error-tag': 'malformed-message', 'error-message': 'the body is not valid UTF-8' }]);
  const xml = Buffer.concat([Buffer.from(`<toaster xmlns="${TOASTER_NS}"><toasterManufacturer>`), bad, Buffer.from('</toasterManufacturer></toaster>')]);
  const x = await hostilePut(t, 'an XML body that is not UTF-8', 'application/yang-data+xml', xml);
  t.equal(x.status, 400);
  t.match(x.errors, [{ 'error-tag': 'malformed-message', 'error-message': 'the body is not valid UTF-8' }]);
  t.equal((await (await fetch(`${TOASTER}?content=config`, { headers: { authorization: AUTH } })).json())['toaster:toaster'].toasterManufacturer, undefined, 'nothing of either was written');

  const encoded = await fetch(`${base}/rests/data/network-topology:network-topology/topology=%C3%28%FF`, { headers: { authorization: AUTH } });
  t.equal(encoded.status, 400, 'a percent-encoded key that is not UTF-8: 400');
  t.match((await encoded.json()).errors.error, [{ 'error-tag': 'malformed-message', 'error-message': /percent-encoding is not UTF-8/ }], 'with a RESTCONF error');
  const rawBytes = await raw(Buffer.concat([Buffer.from('GET /rests/data/network-topology:network-topology/topology='), bad, Buffer.from(` HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nConnection: close\r\n\r\n`)]));
  t.match(rawBytes, /^HTTP\/1\.1 400 /, 'raw bytes that are not UTF-8 in the path: 400');
  t.match(errorsOf(rawBytes), [{ 'error-tag': /malformed-message|invalid-value/ }], 'with a RESTCONF error');
  await control(t, 'after the invalid UTF-8');
});

t.test('a path of 10,000 segments and a key of 1 MB: a clear error at once, others served', async (t) => {
  const segments = await raw(`GET /rests/data/toaster:toaster${'/a'.repeat(10_000)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`);
  t.match(segments, /^HTTP\/1\.1 431 /, '10,000 segments (20 KB): 431, the request head is over 16 KiB');
  t.match(errorsOf(segments), [{ 'error-tag': 'too-big', 'error-type': 'transport', 'error-message': /larger than 16 KiB/ }], 'with a RESTCONF too-big error');
  const key = await raw(`GET /rests/data/network-topology:network-topology/topology=${'k'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`);
  t.match(key, /^HTTP\/1\.1 431 /, 'a 1 MB key: 431');
  t.match(errorsOf(key), [{ 'error-tag': 'too-big' }]);
  // Within Node's 16 KiB head: the path parser itself answers, as fast.
  const many = await fetch(`${base}/rests/data/toaster:toaster${'/a'.repeat(5_000)}`, { headers: { authorization: AUTH } });
  t.equal(many.status, 400, '5,000 segments (10 KB): 400');
  t.match((await many.json()).errors.error, [{ 'error-tag': 'unknown-element' }]);
  await control(t, 'after the long paths');
});

t.test('slowloris: a request head trickled in is dropped at the header timeout, others served', async (t) => {
  const s: Socket = tcpConnect(port, '127.0.0.1');
  t.teardown(() => s.destroy());
  let answer = '';
  s.on('data', (d) => (answer += d));
  s.on('error', () => undefined);
  const closed = new Promise<number>((r) => s.on('close', () => r(Date.now())));
  await new Promise<void>((r) => s.on('connect', () => r()));
  const started = Date.now();
  s.write('GET /rests/data/toaster:toaster HTTP/1.1\r\nHost: x\r\n');
  let n = 0;
  const trickle = setInterval(() => s.writable && s.write(`X-Slow-${n++}: y\r\n`), 100);
  t.teardown(() => clearInterval(trickle));
  await control(t, 'while the head trickles in');
  const at = await closed;
  clearInterval(trickle);
  t.ok(at - started < 15_000, `the connection was closed after ${at - started} ms (header timeout 1 s, checked every second)`);
  t.match(answer, /^HTTP\/1\.1 408 /, 'with a 408');
  t.match(errorsOf(answer), [{ 'error-tag': 'operation-failed', 'error-message': /request head was not received in time/ }], 'and a RESTCONF error');
  await control(t, 'after the slow client');
});

t.test('10,000 idle connections are bounded by --restconf-max-connections; a new client is still served', async (t) => {
  const sockets: Socket[] = [];
  let closedByServer = 0;
  t.teardown(() => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < 10_000; i++) {
    const s = tcpConnect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => closedByServer++);
    sockets.push(s);
    // Opened in batches, so the test's own event loop keeps up.
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
  }
  await waitUntil(`the server to close all but ${MAX_CONNECTIONS} idle connections`, () => closedByServer >= 10_000 - MAX_CONNECTIONS, 60_000);
  t.ok(10_000 - closedByServer <= MAX_CONNECTIONS, `${10_000 - closedByServer} of 10,000 idle connections left open (limit ${MAX_CONNECTIONS})`);
  await control(t, 'with the idle connections held');
  sockets.forEach((s) => s.destroy());
});

t.test('NETCONF: a get with a 100,000-deep subtree filter is an rpc-error, and the session keeps working', async (t) => {
  const s = await netconfConnect(netconfPort, { t, timeoutMs: 30_000 });
  const n = 100_000;
  const started = Date.now();
  const deep = await s.rpc(`<get><filter type="subtree"><toaster xmlns="${TOASTER_NS}">${'<a>'.repeat(n)}${'</a>'.repeat(n)}</toaster></filter></get>`, { 'message-id': 'deep-filter' });
  t.ok(Date.now() - started < PROMPT_MS * 2, `answered in ${Date.now() - started} ms`);
  t.notOk(deep.ok, 'no <ok/> and no data');
  t.match(deep.errors, [{ tag: 'too-big', message: /XML nested deeper than 256 elements/ }], 'an rpc-error too-big');
  t.equal(deep.root.attrs['message-id'], 'deep-filter', 'that names the request by its message-id');
  await control(t, 'after the deep NETCONF filter');
  const after = await s.rpc(`<get-config><source><running/></source><filter type="subtree"><toaster xmlns="${TOASTER_NS}"/></filter></get-config>`);
  t.match(after.text, new RegExp(`<darknessFactor>${1000 + controls}</darknessFactor>`), 'the same session then reads the control client\'s write');
  t.match(after.text, new RegExp(NC_BASE.replace(/[.:]/g, '\\$&')), 'in an rpc-reply');
  await s.close();
});
