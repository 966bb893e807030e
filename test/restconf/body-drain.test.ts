/**
 * The HTTP edge's lingering read of a body it answered with an error before reading (over the limit, a
 * refused login): the answer is sent at once (a client reading as it sends sees it while still
 * sending) and the rest of the body is read and discarded, so a client that sends it all before
 * reading (Python's http.client) gets the answer, not a broken pipe; and the drain stops at its
 * bounds (bytes, total time, idle time), after which the connection is closed. Clients here
 * are raw sockets that behave as http.client does. The Python clients themselves, against
 * RESTCONF, are in test/csit/restconf-oversized-body.test.ts.
 */
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import pino from 'pino';
import { createHttpEdge, DEFAULT_DRAIN, type DrainLimits } from '../../src/northbound/http/edge.ts';

const AUTH = `Basic ${Buffer.from('u:p').toString('base64')}`;

async function edgeWith(t: Test, drain: Partial<DrainLimits>) {
  const edge = createHttpEdge({ name: 'drain-test', host: '127.0.0.1', port: 0, username: 'u', password: 'p', maxBody: 1024, drain, log: pino({ level: 'silent' }) });
  t.teardown(() => edge.close());
  await edge.app.register(async (app) => {
    app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => reply.code(err.statusCode ?? 500).send({ refused: err.message }));
    app.put('/thing', async (req) => ({ got: typeof req.body }));
    app.get('/ping', async () => ({ pong: true }));
  });
  await edge.listen();
  return edge;
}

interface Exchange {
  /** What the server sent back (all of it, until it closed or the test stopped reading). */
  response: string;
  /** A write failed (EPIPE / ECONNRESET): the client could not finish sending. */
  writeError?: string;
  /** When the first byte of the answer came, and when the connection closed (ms from the start). */
  answeredAfter?: number;
  closedAfter: number;
  sent: number;
}

/**
 * A client as Python's http.client: it writes the request head and then the body, chunk by chunk
 * (`pace` ms apart, 0: as fast as the socket takes them), `total` bytes or until the connection
 * breaks, and only looks at the answer at the end (it is collected meanwhile, as the kernel would).
 */
function client(port: number, head: string, total: number, opts: { chunk?: number; pace?: number; keepOpen?: boolean } = {}): Promise<Exchange> {
  const chunk = Buffer.alloc(opts.chunk ?? 65536, 0x20);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const x: Exchange = { response: '', closedAfter: 0, sent: 0 };
    socket.on('data', (d) => {
      x.answeredAfter ??= Date.now() - started;
      x.response += d.toString();
    });
    socket.on('error', (e) => (x.writeError ??= e.message));
    socket.on('close', () => {
      x.closedAfter = Date.now() - started;
      resolve(x);
    });
    const next = () => {
      while (!socket.destroyed && x.sent < total) {
        const n = Math.min(chunk.length, total - x.sent);
        x.sent += n;
        const more = socket.write(n === chunk.length ? chunk : chunk.subarray(0, n));
        if (opts.pace) return void setTimeout(next, opts.pace);
        if (!more) return void socket.once('drain', next);
      }
      // All sent: read the answer, then close as a client does once it has it.
      // (keepOpen: it never closes, so only the server's close ends the exchange.)
      if (!socket.destroyed && !opts.keepOpen) socket.once('data', () => setTimeout(() => socket.end(), 50));
    };
    socket.on('connect', () => {
      socket.write(head);
      next();
    });
    t.teardown(() => socket.destroy());
  });
}

const put = (length: number, auth = AUTH) => `PUT /thing HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

t.test('the defaults are those documented: 64 MiB, 10 s, 2 s idle', async (t) => {
  t.same(DEFAULT_DRAIN, { maxBytes: 64 * 1024 * 1024, maxMs: 10_000, idleMs: 2_000 });
});

t.test('a body over the limit, sent whole before reading: the 413 is read after it', async (t) => {
  const edge = await edgeWith(t, {});
  const size = 20 * 1024 * 1024;
  const x = await client(edge.port, put(size), size);
  t.notOk(x.writeError, `the whole body was sent (${x.writeError ?? 'no write error'})`);
  t.equal(x.sent, size, `${size} bytes sent`);
  t.match(x.response, /^HTTP\/1\.1 413 /, 'the answer is 413');
  t.match(x.response, /"refused":/, "with the owner's error body");
});

t.test('the same for a refused login (401), answered before the body is read', async (t) => {
  const edge = await edgeWith(t, {});
  const size = 8 * 1024 * 1024;
  const x = await client(edge.port, put(size, 'Basic bm9wZTpub3Bl'), size);
  t.notOk(x.writeError, 'the whole body was sent');
  t.match(x.response, /^HTTP\/1\.1 401 /, 'the answer is 401');
  t.match(x.response, /www-authenticate: Basic/i, 'with its challenge');
});

t.test('a body within the limit is not concerned (read as usual, connection kept)', async (t) => {
  const edge = await edgeWith(t, {});
  const body = JSON.stringify({ a: 1 });
  const x = await client(edge.port, `${put(body.length)}${body}`, 0);
  t.match(x.response, /^HTTP\/1\.1 200 /, '200');
  t.match(x.response, /"got":"object"/, 'the handler read it');
  t.notMatch(x.response, /connection: close/i, 'no close');
});

t.test('bound: bytes. An endless sender is cut once maxBytes are drained', async (t) => {
  const edge = await edgeWith(t, { maxBytes: 2 * 1024 * 1024, maxMs: 20_000, idleMs: 5_000 });
  const x = await client(edge.port, put(2 ** 40), 2 ** 40);
  t.ok(x.closedAfter < 5_000, `closed after ${x.closedAfter} ms`);
  const mib = x.sent / 2 ** 20;
  t.ok(mib >= 2 && mib < 2 + 32, `after ${mib.toFixed(1)} MiB (bound 2 MiB plus socket buffers)`);
  t.ok(x.writeError, `the sender is refused further data (${x.writeError})`);
});

t.test('bound: total time. A sender that never pauses long is cut at maxMs', async (t) => {
  const edge = await edgeWith(t, { maxBytes: 2 ** 40, maxMs: 600, idleMs: 300 });
  const x = await client(edge.port, put(2 ** 30), 2 ** 30, { chunk: 1024, pace: 20 });
  t.ok(x.answeredAfter !== undefined && x.answeredAfter < x.closedAfter, `answered after ${x.answeredAfter} ms, while it was still sending`);
  t.ok(x.closedAfter >= 550 && x.closedAfter < 3_000, `and closed after ${x.closedAfter} ms (the 600 ms bound)`);
  t.match(x.response, /^HTTP\/1\.1 413 /, 'the 413 was sent before the close');
  t.ok(x.sent < 1024 * 200, `${x.sent} bytes sent in all`);
});

t.test('bound: idle. A sender that stops is answered, and closed after idleMs', async (t) => {
  const edge = await edgeWith(t, { maxBytes: 2 ** 40, maxMs: 20_000, idleMs: 300 });
  // Announces a megabyte, sends 10 KB, then neither sends nor closes.
  const x = await client(edge.port, put(1024 * 1024), 10 * 1024, { chunk: 10 * 1024, keepOpen: true });
  t.match(x.response, /^HTTP\/1\.1 413 /, 'the 413 is read');
  t.ok(x.answeredAfter !== undefined && x.answeredAfter < x.closedAfter, `answered after ${x.answeredAfter} ms, before the close`);
  t.ok(x.closedAfter >= 250 && x.closedAfter < 5_000, `closed after ${x.closedAfter} ms (the 300 ms idle bound)`);
});

t.test('other connections are served while one is drained', async (t) => {
  const edge = await edgeWith(t, { maxBytes: 2 ** 40, maxMs: 1_500, idleMs: 1_000 });
  const slow = client(edge.port, put(2 ** 30), 2 ** 30, { chunk: 1024, pace: 10 });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  const res = await fetch(`${edge.url}/ping`, { headers: { authorization: AUTH } });
  t.equal(res.status, 200, 'a GET on another connection is answered');
  t.ok(Date.now() - t0 < 1_000, `within ${Date.now() - t0} ms, while the drain goes on`);
  const x = await slow;
  t.ok(x.answeredAfter !== undefined && x.answeredAfter < x.closedAfter, `the drained one was answered while it sent (${x.answeredAfter} ms)`);
  t.ok(x.closedAfter >= 1_400, `and closed at its bound (${x.closedAfter} ms)`);
});
