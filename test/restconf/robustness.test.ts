/**
 * One client cannot stall the others: a request whose body trickles in, or one that is far over
 * the size limit, leaves other requests served promptly; the oversized one gets 413 and writes
 * nothing.
 */
import t from 'tap';
import { connect } from 'node:net';
import { testController } from '../helpers/controller.ts';

const AUTH = `Basic ${Buffer.from('admin:admin').toString('base64')}`;

t.test('a trickling request and an oversized one do not delay other clients', async (t) => {
  const c = await testController(t, ['--datastore=memory', '--restconf-max-body=4096']);
  const { port } = new URL(c.restconf.url);
  // A client that announces a body and sends it one byte every 200 ms.
  const slow = connect(Number(port), '127.0.0.1');
  t.teardown(() => slow.destroy());
  await new Promise<void>((r) => slow.on('connect', () => r()));
  slow.write(`PUT /rests/data/toaster:toaster HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nContent-Type: application/yang-data+json\r\nContent-Length: 1000\r\n\r\n{`);
  const trickle = setInterval(() => slow.write(' '), 200);
  t.teardown(() => clearInterval(trickle));

  const started = Date.now();
  const huge = fetch(`${c.restconf.url}/rests/data/toaster:toaster`, {
    method: 'PUT',
    headers: { authorization: AUTH, 'content-type': 'application/yang-data+json' },
    body: JSON.stringify({ 'toaster:toaster': { darknessFactor: 1, pad: 'x'.repeat(100_000) } }),
  });
  const normal = await fetch(`${c.restconf.url}/rests/data/toaster:toaster?content=nonconfig`, { headers: { authorization: AUTH } });
  t.equal(normal.status, 200, 'a normal request is served');
  t.ok(Date.now() - started < 2000, `and promptly (${Date.now() - started} ms)`);
  const big = await huge;
  t.equal(big.status, 413, 'the oversized body is refused with 413');
  t.match(await big.json(), { errors: { error: [{ 'error-tag': 'too-big' }] } });
  t.equal(c.data.read('config', '/toaster:toaster'), undefined, 'nothing was written');
});
