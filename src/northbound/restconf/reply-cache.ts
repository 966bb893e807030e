/**
 * Polling clients read the same unchanged data again and again: a GET reply is reused for as long
 * as neither datastore has committed since it was encoded. The key is taken before the handler
 * reads (so a reply is never filed under a revision older than its data); a small LRU bounded by
 * count and bytes holds the bodies. Installed as hooks on the routes whose config says
 * `replyCache: true` (and only those); one cache per RESTCONF server.
 *
 * A reply keeps its validators (ETag, Last-Modified): they are functions of the data, hence of
 * the revisions in the key. Conditional GETs bypass the cache both ways, so a 304 is always
 * decided by the handler on the current data, and never stored.
 */
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, onSendHookHandler } from 'fastify';
import type { Datastore } from '../../datastore/datastore.ts';
import { responseEncoding } from './negotiation.ts';
import { isConditional } from './preconditions.ts';

/** Memory the cache may hold. */
const CACHE_BYTES = 32 * 2 ** 20;
const CACHE_ENTRIES = 64;

interface CachedReply {
  type: string;
  body: Buffer;
  /** Headers the reply was sent with that belong to it (ETag, Last-Modified). */
  headers: Record<string, string>;
}

/** Reply headers kept with a cached body. */
const KEPT_HEADERS = ['etag', 'last-modified'];

export class ReplyCache {
  private readonly replies = new Map<string, CachedReply>();
  private bytes = 0;

  get(key: string): CachedReply | undefined {
    return this.replies.get(key);
  }

  remember(key: string, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
    const bytes = Buffer.byteLength(body);
    if (bytes > CACHE_BYTES / 4) return;
    this.forget(key);
    this.replies.set(key, { type, body: Buffer.from(body), headers });
    this.bytes += bytes;
    // Map order is insertion order: the first key is the least recently stored.
    while (this.replies.size > CACHE_ENTRIES || this.bytes > CACHE_BYTES) this.forget(this.replies.keys().next().value!);
  }

  private forget(key: string): void {
    const old = this.replies.get(key);
    if (!old) return;
    this.bytes -= old.body.length;
    this.replies.delete(key);
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** GET replies of this route may be served from, and stored in, the reply cache. */
    replyCache?: boolean;
  }
}

/**
 * Adds the cache's hooks to the routes of an (encapsulated) context whose config says
 * `replyCache: true`, and to no other: rpcs and writes pay nothing for it. Call it before the
 * context's routes are added (it hooks their registration).
 */
export function useReplyCache(app: FastifyInstance, cache: ReplyCache, data: Datastore): void {
  const keys = new WeakMap<FastifyRequest, string>();
  const lookup: onRequestHookHandler = function (req, reply, done) {
    if (req.method !== 'GET' || isConditional(req)) return done();
    let enc;
    try {
      enc = responseEncoding(req);
    } catch {
      return done(); // the handler answers 406
    }
    const key = `${enc} ${data.revision('config')} ${data.revision('operational')} ${req.url}`;
    const hit = cache.get(key);
    if (hit) {
      // Answered here: the route's handler does not run.
      void reply.code(200).headers(hit.headers).type(hit.type).send(hit.body);
      return;
    }
    keys.set(req, key);
    done();
  };
  const store: onSendHookHandler = function (req, reply, payload, done) {
    const key = keys.get(req);
    if (key !== undefined && reply.statusCode === 200 && (typeof payload === 'string' || Buffer.isBuffer(payload))) {
      const headers: Record<string, string> = {};
      for (const name of KEPT_HEADERS) {
        const value = reply.getHeader(name);
        if (value !== undefined) headers[name] = String(value);
      }
      cache.remember(key, String(reply.getHeader('content-type')), payload, headers);
    }
    done(null, payload);
  };
  app.addHook('onRoute', (route) => {
    if (!route.config?.replyCache) return;
    route.onRequest = [...[route.onRequest ?? []].flat(), lookup];
    route.onSend = [...[route.onSend ?? []].flat(), store];
  });
}
