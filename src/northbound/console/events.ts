/**
 * The console's live feed: one server-sent-events stream of datastore changes for the subtrees
 * a page watches, fed by datastore listeners (no polling anywhere).
 *
 *   GET /console/events?watch=[{"id":"computes","store":"config","path":"/m:c/list=*","fields":"a;b"}]
 *
 * `path` is an api-path pattern (`*` for any key of a list step, as listeners take), `fields` an
 * optional RFC 8040 fields selection of each instance. The stream sends, per watch, a `snapshot`
 * event with every instance that exists now, then `ready`, then a `change` event per commit
 * batch that touched a watch: `{"id", "changes": [{"type", "path", "keys", "value"}]}` (value:
 * the instance after the change, RFC 7951 JSON; absent when deleted). Each watch subscribes
 * without replay and reads the present instances in the same turn, so the snapshot and the
 * changes after it neither miss nor repeat a commit.
 *
 * A client that stops reading is cut once MAX_BUFFERED bytes wait for it: EventSource reconnects
 * by itself and starts again from a fresh snapshot, so a stuck tab cannot grow the server.
 */
import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Change, Datastore, StoreName } from '../../datastore/datastore.ts';
import { YangError } from '../../errors.ts';
import { EVENT_STREAM_HEADERS, EventStream } from '../http/sse.ts';

export interface Watch {
  id: string;
  store: StoreName;
  path: string;
  fields?: string;
}

/** Watches one stream may hold: a page has a handful; more is a mistake or an abuse. */
const MAX_WATCHES = 64;

const bad = (message: string) => new YangError({ tag: 'invalid-value', type: 'protocol', message });

/** The `watch` query parameter, checked before any stream opens (a 400 otherwise). */
export function parseWatches(text: unknown): Watch[] {
  if (typeof text !== 'string') throw bad('watch: a JSON array of {id, store, path[, fields]} is required');
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    throw bad('watch: not JSON');
  }
  if (!Array.isArray(list) || list.length === 0) throw bad('watch: a non-empty JSON array is required');
  if (list.length > MAX_WATCHES) throw bad(`watch: at most ${MAX_WATCHES} entries`);
  const ids = new Set<string>();
  return list.map((w, i): Watch => {
    const { id, store, path, fields } = (w ?? {}) as Record<string, unknown>;
    if (typeof id !== 'string' || !id || ids.has(id)) throw bad(`watch[${i}]: id must be a unique non-empty string`);
    ids.add(id);
    if (store !== 'config' && store !== 'operational') throw bad(`watch[${i}]: store must be config or operational`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw bad(`watch[${i}]: path must be an api-path`);
    if (fields !== undefined && typeof fields !== 'string') throw bad(`watch[${i}]: fields must be a string`);
    return { id, store, path, ...(fields !== undefined ? { fields } : {}) };
  });
}

const wire = (changes: Change[]) => changes.map((c) => ({ type: c.type, path: c.path, keys: c.keys, ...(c.after !== undefined ? { value: c.after } : {}) }));

export class ConsoleStreams {
  private readonly streams = new Set<EventStream>();

  constructor(private readonly data: Datastore) {}

  /** Answers one events request: a 400 for bad watches, else the stream until the client leaves. */
  open(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const watches = parseWatches((req.query as Record<string, unknown>).watch);
    const out = new PassThrough();
    const unsubscribe: (() => void)[] = [];
    const stream = new EventStream(out, {
      onClose: () => {
        for (const u of unsubscribe) u();
        this.streams.delete(stream);
      },
    });
    const snapshots: { id: string; changes: Change[] }[] = [];
    // One synchronous turn: subscribe, then read what exists (no commit can publish in between).
    // A bad pattern or fields throws here, before anything is sent: the client gets a 400.
    try {
      for (const w of watches) {
        unsubscribe.push(
          this.data.subscribe(w.store, w.path, (changes) => stream.send({ id: w.id, changes: wire(changes) }, 'change'), {
            replay: false,
            fields: w.fields,
            onError: () => stream.close(),
          }),
        );
        snapshots.push({ id: w.id, changes: this.data.present(w.store, w.path, { fields: w.fields }) });
      }
    } catch (e) {
      stream.close(); // unsubscribes what was subscribed
      throw e;
    }
    this.streams.add(stream);
    // The response's close: the client went away (or the listener closed the stream).
    reply.raw.once('close', () => stream.close());
    stream.retry(2000);
    for (const s of snapshots) stream.send({ id: s.id, changes: wire(s.changes) }, 'snapshot');
    stream.send({ watches: watches.map((w) => w.id) }, 'ready');
    return reply.headers(EVENT_STREAM_HEADERS).send(out);
  }

  /** Ends every open stream (the listener is closing). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
