/**
 * The RESTCONF notification stream (RFC 8040 section 6), /rests/streams/json/NETCONF: server-sent
 * events carrying RFC 8040 JSON notifications, replay from start-time, and its refusals (no
 * credentials, an unknown stream, query parameters it does not implement, a date that is none).
 */
import t from 'tap';
import { testController } from '../helpers/controller.ts';

const c = await testController(t, ['--datastore=memory']);
const AUTH = { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` };
const stream = (query = '', headers: Record<string, string> = AUTH, signal?: AbortSignal) =>
  fetch(`${c.restconf.url}/rests/streams/json/NETCONF${query}`, { headers: { accept: 'text/event-stream', ...headers }, signal });

t.test('events: the replay from start-time, then live ones, as RFC 8040 JSON', async (t) => {
  const before = new Date(Date.now() - 1000).toISOString();
  c.notifications.emit('scalein-api:compute-tombstoned', { 'compute-name': 'replayed', 'dpn-id': '7', 'node-id': 'n7' });
  const stop = new AbortController();
  const r = await stream(`?start-time=${encodeURIComponent(before)}`, AUTH, stop.signal);
  t.equal(r.status, 200);
  t.match(r.headers.get('content-type'), /^text\/event-stream/);
  const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const until = async (what: RegExp) => {
    while (!what.test(text)) text += (await reader.read()).value ?? '';
  };
  await until(/: stream open\n\n/);
  c.notifications.emit('scalein-api:compute-recovered', { 'compute-name': 'live', 'dpn-id': '8', 'node-id': 'n8' });
  await until(/"live"/);
  stop.abort();
  const events = text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => JSON.parse(b.slice(6))['ietf-restconf:notification']);
  t.match(events, [
    { eventTime: /Z$/, 'scalein-api:compute-tombstoned': { 'compute-name': 'replayed', 'dpn-id': '7' } },
    { 'scalein-api:compute-recovered': { 'compute-name': 'live' } },
  ]);
});

t.test('refusals', async (t) => {
  t.equal((await stream('', {})).status, 401, 'no credentials: 401');
  for (const [what, url, message] of [
    ['an unknown stream', '/rests/streams/json/OTHER', /no notification stream "OTHER"/],
    ['stop-time', '/rests/streams/json/NETCONF?stop-time=2026-01-01T00:00:00Z', /stop-time is not supported/],
    ['filter', '/rests/streams/json/NETCONF?filter=/x', /filter is not supported/],
    ['a start-time that is no date', '/rests/streams/json/NETCONF?start-time=yesterday', /"yesterday" is not an RFC 3339 date-and-time/],
  ] as const) {
    const r = await fetch(`${c.restconf.url}${url}`, { headers: { accept: 'text/event-stream', ...AUTH } });
    t.equal(r.status, 400, `${what}: 400`);
    t.match(await r.json(), { errors: { error: [{ 'error-tag': 'invalid-value', 'error-message': message }] } }, `${what}: an RFC 8040 error`);
  }
});
