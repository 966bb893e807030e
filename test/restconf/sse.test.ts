/**
 * The one server-sent-events writer (src/northbound/http/sse.ts) behind RESTCONF's notification
 * stream and the console's feed: the wire format, the keepalive, and the cut of a client that
 * stops reading (its queue may not grow past the bound).
 */
import { PassThrough } from 'node:stream';
import t from 'tap';
import { EventStream } from '../../src/northbound/http/sse.ts';

const readAll = (s: PassThrough) => {
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return () => text;
};

t.test('events, named events, comments and retry in the text/event-stream format', async (t) => {
  const out = new PassThrough();
  const text = readAll(out);
  const stream = new EventStream(out);
  stream.retry(2000);
  stream.send({ a: 1 });
  stream.send({ b: [true] }, 'change');
  stream.comment('stream open');
  stream.close();
  await new Promise((r) => out.once('end', r));
  t.equal(text(), 'retry: 2000\n\ndata: {"a":1}\n\nevent: change\ndata: {"b":[true]}\n\n: stream open\n\n');
});

t.test('a keepalive comment is written while the stream is quiet', async (t) => {
  const out = new PassThrough();
  const text = readAll(out);
  const stream = new EventStream(out, { keepaliveMs: 10 });
  t.teardown(() => stream.close());
  while (!text().includes(': keepalive\n\n')) await new Promise((r) => setTimeout(r, 5));
  t.pass('keepalive seen');
});

t.test('a client that stops reading is cut at the bound, once, and nothing more is queued', async (t) => {
  const out = new PassThrough({ highWaterMark: 1024 });
  let closes = 0;
  const stream = new EventStream(out, { maxBuffered: 64 * 1024, onClose: () => closes++ });
  const event = { payload: 'x'.repeat(1000) };
  for (let i = 0; i < 1000 && !stream.closed; i++) stream.send(event);
  t.ok(stream.closed, 'closed before 1,000 events of 1 KB were queued');
  t.ok(out.writableLength <= 64 * 1024 + 2048, `queue held at the bound (${out.writableLength} bytes)`);
  const held = out.writableLength;
  stream.send(event);
  t.equal(out.writableLength, held, 'a send after the cut queues nothing');
  stream.close();
  t.equal(closes, 1, 'onClose ran once');
});

t.test('the consumer going away closes the stream and runs onClose', async (t) => {
  const out = new PassThrough();
  let closed = false;
  const stream = new EventStream(out, { onClose: () => (closed = true) });
  out.destroy();
  while (!closed) await new Promise((r) => setTimeout(r, 5));
  t.ok(stream.closed);
});
