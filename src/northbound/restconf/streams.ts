/**
 * RESTCONF notification stream (RFC 8040 section 6): `GET /rests/streams/json/NETCONF` with
 * `Accept: text/event-stream` answers server-sent events, one per YANG notification, as RFC 8040
 * section 6.4 encodes them in JSON: `data: {"ietf-restconf:notification": {"eventTime": ...,
 * "<module>:<notification>": {...}}}`. `start-time` (an RFC 3339 date) replays the bus's log from
 * then first (RFC 8040 4.8.7); `stop-time` and `filter` are refused rather than ignored. The
 * stream is not listed in restconf-state yet (ODL's clients find it by URL, as here).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { YangError } from '../../errors.ts';
import type { NotificationBus, YangNotification } from '../../rpc/notifications.ts';
import { EVENT_STREAM_HEADERS, EventStream } from '../http/sse.ts';

export const NOTIFICATION_STREAM = 'NETCONF';

const event = (n: YangNotification) => ({ 'ietf-restconf:notification': { eventTime: n.eventTime.toISOString(), [n.name]: n.json } });

/** Registered with prefix `/rests`. */
export async function streamsPlugin(app: FastifyInstance, bus: NotificationBus): Promise<void> {
  const open = new Set<EventStream>();
  // Open streams never end by themselves: end them before the server waits for its connections.
  app.addHook('preClose', async () => {
    for (const stream of [...open]) stream.close();
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
    res.writeHead(200, { ...EVENT_STREAM_HEADERS, connection: 'keep-alive' });
    const unsubscribe: (() => void)[] = [];
    const out = new EventStream(res, {
      onClose: () => {
        for (const u of unsubscribe) u();
        open.delete(out);
      },
    });
    open.add(out);
    // Subscribe before replaying, so nothing emitted in between is lost (the replay wins ties).
    const queued: YangNotification[] = [];
    let live = false;
    unsubscribe.push(bus.subscribe((n) => (live ? out.send(event(n)) : queued.push(n))));
    const replayed = start ? bus.replay(start) : [];
    for (const n of replayed) out.send(event(n));
    for (const n of queued) if (!replayed.includes(n)) out.send(event(n));
    live = true;
    out.comment('stream open');
  });
}
