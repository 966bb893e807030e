/**
 * RFC 6242 framing, as the session's decoder sees bytes arrive from SSH: end-of-message and
 * chunked framing, messages split over reads, several in one read, UTF-8 characters cut between
 * reads, the switch of framing right after the hello, and the bounded message size.
 */
import t, { type Test } from 'tap';
import { FrameDecoder, frame } from '../../src/northbound/netconf/framing.ts';
import { YangError } from '../../src/errors.ts';

function decoder(max = 1 << 20): { d: FrameDecoder; got: string[] } {
  const got: string[] = [];
  const d = new FrameDecoder(max, (m) => got.push(m));
  return { d, got };
}

/** Asserts that fn throws a YangError with the given error-tag. */
function throwsTag(t: Test, fn: () => void, tag: string, what: string): void {
  try {
    fn();
    t.fail(`${what}: no error`);
  } catch (e) {
    t.equal(e instanceof YangError ? e.tag : String(e), tag, what);
  }
}

/** Feeds `bytes` in pieces of `size` bytes. */
function feed(d: FrameDecoder, bytes: Buffer, size: number): void {
  for (let i = 0; i < bytes.length; i += size) d.push(bytes.subarray(i, i + size));
}

t.test('end-of-message framing: one message per delimiter, whatever the reads', async (t) => {
  const msgs = ['<rpc message-id="1"/>', '<rpc message-id="2">\n<get/></rpc>', '<rpc message-id="3"/>'];
  const bytes = Buffer.concat(msgs.map((m) => frame(m, 'eom')));
  for (const size of [1, 2, 5, 7, 1000]) {
    const { d, got } = decoder();
    feed(d, bytes, size);
    t.same(got, msgs, `read ${size} bytes at a time`);
  }
});

t.test('chunked framing: chunks of one message are joined, several messages per read', async (t) => {
  const { d, got } = decoder();
  d.framing = 'chunked';
  // A message in two chunks, then a one-chunk message, in a single read.
  d.push(Buffer.from('\n#4\n<rpc\n#17\n message-id="9"/>\n##\n\n#6\n<ok/>\n\n##\n'));
  t.same(got, ['<rpc message-id="9"/>', '<ok/>\n']);
  const { d: d2, got: got2 } = decoder();
  d2.framing = 'chunked';
  feed(d2, Buffer.concat([frame('<a/>', 'chunked'), frame('<b>x</b>', 'chunked')]), 1);
  t.same(got2, ['<a/>', '<b>x</b>'], 'byte by byte');
});

t.test('a multi-byte UTF-8 character cut between reads arrives whole', async (t) => {
  const text = '<name>Škoda Mladá Boleslav — 日本</name>';
  for (const framing of ['eom', 'chunked'] as const) {
    const { d, got } = decoder();
    d.framing = framing;
    feed(d, frame(text, framing), 3);
    t.same(got, [text], framing);
  }
});

t.test('the framing switches between the hello and the next message of the same read', async (t) => {
  const got: string[] = [];
  const d: FrameDecoder = new FrameDecoder(1 << 20, (m) => {
    got.push(m);
    if (m.startsWith('<hello')) d.framing = 'chunked';
  });
  d.push(Buffer.concat([frame('<hello/>', 'eom'), frame('<rpc message-id="1"/>', 'chunked')]));
  t.same(got, ['<hello/>', '<rpc message-id="1"/>']);
});

t.test('bad chunked framing is malformed-message', async (t) => {
  for (const bad of ['#4\n<ok/>', '\n#x\n', '\n#04\n<ok/>', '\n##\n', '\n#4<ok/>']) {
    const { d } = decoder();
    d.framing = 'chunked';
    throwsTag(t, () => d.push(Buffer.from(bad)), 'malformed-message', JSON.stringify(bad));
  }
});

t.test('a message past the limit is too-big, in both framings, before it is all buffered', async (t) => {
  const { d } = decoder(100);
  throwsTag(t, () => d.push(Buffer.alloc(200, 'a')), 'too-big', 'eom without delimiter');
  const { d: d2 } = decoder(100);
  d2.framing = 'chunked';
  throwsTag(t, () => d2.push(Buffer.from('\n#60\n' + 'a'.repeat(60) + '\n#60\n')), 'too-big', 'chunks adding up past the limit');
  const { d: d3 } = decoder(100);
  d3.framing = 'chunked';
  throwsTag(t, () => d3.push(Buffer.from('\n#4294967295\n')), 'too-big', 'one announced huge chunk');
  const { d: d4, got } = decoder(100);
  d4.push(frame('a'.repeat(100), 'eom'));
  t.same(got, ['a'.repeat(100)], 'exactly the limit is accepted');
});

t.test('large messages in many small reads, back to back, arrive whole in both framings', async (t) => {
  // Exercises the receive buffer's growth and compaction: each message is 2 MB, read 1,000 bytes at a time.
  const big = (c: string) => `<rpc message-id="${c}">${c.repeat(2 * 1024 * 1024)}</rpc>`;
  for (const framing of ['eom', 'chunked'] as const) {
    const { d, got } = decoder(4 * 1024 * 1024);
    d.framing = framing;
    feed(d, Buffer.concat([frame(big('x'), framing), frame(big('y'), framing), frame('<z/>', framing)]), 1000);
    t.same(got.map((m) => m.length), [big('x').length, big('y').length, 4], `${framing}: sizes`);
    t.ok(got[0] === big('x') && got[1] === big('y') && got[2] === '<z/>', `${framing}: contents`);
  }
});

t.test('outgoing frames', async (t) => {
  t.equal(frame('<ok/>', 'eom').toString(), '<ok/>]]>]]>');
  t.equal(frame('é', 'chunked').toString(), '\n#2\né\n##\n', 'chunk size counts bytes, not characters');
});
