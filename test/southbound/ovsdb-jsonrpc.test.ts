/**
 * The OVSDB JSON-RPC stream: messages have no framing, so the scanner must find their ends
 * whatever the reads look like, and refuse what is not JSON or too big.
 */
import t from 'tap';
import { JsonStreamScanner } from '../../src/southbound/ovsdb/jsonrpc.ts';

t.test('one message split over many reads, several in one read', async (t) => {
  const s = new JsonStreamScanner(1 << 20);
  const text = '{"id":1,"method":"echo","params":["a}b{c\\"d"]}{"id":2,"result":[]}\n {"id":null,"method":"update","params":[null,{}]}';
  const out: unknown[] = [];
  for (let i = 0; i < text.length; i += 3) out.push(...s.push(Buffer.from(text.slice(i, i + 3))));
  t.same(out, [{ id: 1, method: 'echo', params: ['a}b{c"d'] }, { id: 2, result: [] }, { id: null, method: 'update', params: [null, {}] }], 'braces inside strings and escaped quotes do not end a message');
  t.same(new JsonStreamScanner(1 << 20).push(Buffer.from('{"a":1}{"b":[{"c":2}]}')), [{ a: 1 }, { b: [{ c: 2 }] }], 'two messages in one read');
});

t.test('multi-byte UTF-8 cut between reads', async (t) => {
  const s = new JsonStreamScanner(1 << 20);
  const bytes = Buffer.from('{"name":"br-ïnt ☃"}');
  const cut = bytes.indexOf(0xe2) + 1; // inside the snowman's three bytes
  t.same([...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))], [{ name: 'br-ïnt ☃' }]);
});

t.test('garbage and oversized messages are protocol errors', async (t) => {
  t.throws(() => new JsonStreamScanner(1 << 20).push(Buffer.from('GET / HTTP/1.1\r\n')), /expected a JSON object/, 'not JSON');
  t.throws(() => new JsonStreamScanner(1 << 20).push(Buffer.from('{"a":tru}')), /malformed JSON/, 'malformed');
  const s = new JsonStreamScanner(1000);
  s.push(Buffer.from('{"a":"'));
  t.throws(() => s.push(Buffer.alloc(2000, 0x61)), /message over 1000 characters/, 'an unfinished message over the limit');
});

t.test('a peer answers echo, probes an idle line and drops one that stays silent', async (t) => {
  const { createServer, connect } = await import('node:net');
  const { JsonRpcPeer } = await import('../../src/southbound/ovsdb/jsonrpc.ts');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const accepted = new Promise<import('node:net').Socket>((r) => server.once('connection', r));
  const client = connect({ host: '127.0.0.1', port });
  const closed = new Promise<string>((resolve) => {
    const peer = new JsonRpcPeer(client, { probeMs: 100, onClose: resolve });
    void peer;
  });
  const other = await accepted;
  const seen: unknown[] = [];
  other.on('data', (d) => seen.push(...String(d).split(/(?<=\})(?=\{)/).map((m) => JSON.parse(m))));
  other.write('{"method":"echo","params":["x"],"id":"e1"}');
  await new Promise((r) => setTimeout(r, 50));
  t.same(seen[0], { result: ['x'], error: null, id: 'e1' }, 'echo is answered with its params');
  // Stay silent: the peer probes after 100 ms of silence and gives up 100 ms later.
  const reason = await closed;
  t.ok(seen.some((m) => (m as { method?: string }).method === 'echo'), 'it sent an inactivity probe');
  t.match(reason, /no answer to an inactivity probe/, 'and closed the silent connection');
  other.destroy();
});
