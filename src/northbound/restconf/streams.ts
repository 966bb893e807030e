/**
 * RESTCONF notification stream (RFC 8040 section 6): `GET /rests/streams/json/NETCONF` with
 * `Accept: text/event-stream` answers server-sent events, one per YANG notification, as RFC 8040
 * section 6.4 encodes them in JSON: `data: {"ietf-restconf:notification": {"eventTime": ...,
 * "<module>:<notification>": {...}}}`. `start-time` (an RFC 3339 date) replays the bus's log from
 * then first (RFC 8040 4.8.7); `stop-time` and `filter` are refused rather than ignored. The
 * stream is not listed in restconf-state yet (ODL's clients find it by URL, as here).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { YangError } from '../../errors.ts';
import type { NotificationBus, YangNotification } from '../../rpc/notifications.ts';

export const NOTIFICATION_STREAM = 'NETCONF';
/** A comment line this often keeps proxies and idle timers from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

function event(n: YangNotification): string {
  return `data: ${JSON.stringify({ 'ietf-restconf:notification': { eventTime: n.eventTime.toISOString(), [n.name]: n.json } })}\n\n`;
}

/** Registered with prefix `/rests`. */
export async function streamsPlugin(app: FastifyInstance, bus: NotificationBus): Promise<void> {
  const open = new Set<ServerResponse>();
  // Open streams never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });
  app.get('/streams/json/:stream', (req: FastifyRequest, reply: FastifyReply) => {
    const { stream } = req.params as { stream: string };
    if (stream !== NOTIFICATION_STREAM) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `no notification stream "${stream}" (there is ${NOTIFICATION_STREAM})` });
    const query = req.query as Record<string, string | undefined>;
    for (const unsupported of ['stop-time', 'filter']) {
      if (query[unsupported] !== undefined) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `query parameter ${unsupported} is not supported on this stream` });
    }
    let start: Date | undefined;
    if (query['start-time'] !== undefined) {
      start = new Date(query['start-time']);
      if (Number.isNaN(start.getTime())) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `start-time "${query['start-time']}" is not an RFC 3339 date-and-time` });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Subscribe before replaying, so nothing emitted in between is lost (the replay wins ties).
    const queued: YangNotification[] = [];
    let live = false;
    const off = bus.subscribe((n) => (live ? res.write(event(n)) : queued.push(n)));
    const replayed = start ? bus.replay(start) : [];
    for (const n of replayed) res.write(event(n));
    for (const n of queued) if (!replayed.includes(n)) res.write(event(n));
    live = true;
    res.write(': stream open\n\n');
    const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    open.add(res);
    res.on('close', () => {
      off();
      clearInterval(keepalive);
      open.delete(res);
    });
  });
}
