/**
 * RESTCONF northbound: RFC 8040 under /rests and OpenDaylight's legacy URLs under /restconf, on
 * the platform's HTTP edge (src/northbound/http/edge.ts: authentication, spans, body limit, TLS).
 * A thin edge: each URL family is an encapsulated fastify plugin with its own error dialect;
 * they turn URLs into api-paths and bodies into decoded trees, and call the same datastore
 * transactions and rpc registry as everything else.
 *
 *   rfc8040.ts    /rests/data, /rests/operations, /rests/modules
 *   legacy.ts     /restconf/config|operational|operations|modules
 *   discovery.ts  /.well-known/host-meta[.json]
 *   apidoc.ts     /openapi.json, /apidoc
 *   ../console/   /console: the web console (page, assets, plugins' views, the change stream)
 *   monitoring.ts ietf-restconf-monitoring:restconf-state (the capabilities), published at start
 *   streams.ts    /rests/streams/json/NETCONF, YANG notifications as server-sent events
 * and the pieces they share: negotiation.ts (media types), body.ts (the one body unwrapping),
 * data.ts (the data verbs), entity-tag.ts and preconditions.ts (ETag, Last-Modified, RFC 7232
 * conditions), operations.ts, yang-patch.ts, reply-cache.ts, errors.ts.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { YangError } from '../../errors.ts';
import pino, { type Logger } from 'pino';
import type { Datastore } from '../../datastore/datastore.ts';
import type { NotificationBus } from '../../rpc/notifications.ts';
import type { RpcRegistry } from '../../rpc/registry.ts';
import type { Schema } from '../../yang/schema.ts';
import { consolePlugin, type ConsoleView } from '../console/server.ts';
import { createHttpEdge, type HttpRoute } from '../http/edge.ts';
import { apidocPlugin } from './apidoc.ts';
import { discoveryPlugin } from './discovery.ts';
import { errorHandler, errorJson, notFoundHandler, type ErrorDialect } from './errors.ts';
import { legacyPlugin } from './legacy.ts';
import { metricsPlugin, type MetricsAuth } from './metrics.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { publishRestconfState } from './monitoring.ts';
import { BODY_TYPES, DATA_TYPE } from './negotiation.ts';
import { ReplyCache } from './reply-cache.ts';
import { rfc8040Plugin } from './rfc8040.ts';
import { streamsPlugin } from './streams.ts';

export interface RestconfDeps {
  schema: Schema;
  data: Datastore;
  rpc: RpcRegistry;
  /** The NETCONF session holding a lock on running, if any: RESTCONF edits then fail (RFC 8040 1.4). */
  runningLock?: () => number | undefined;
  /** YANG notifications, served as the RESTCONF notification stream when given. */
  notifications?: NotificationBus;
  /** The plugins' web console views (`/console`, src/northbound/console/). */
  consoleViews?: ConsoleView[];
}

export interface RestconfOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  maxBody: number;
  /** See HttpEdgeOptions. */
  maxConnections?: number;
  headerTimeoutMs?: number;
  dataMissingIs404: boolean;
  tls?: { cert: string; key: string };
  log?: Logger;
  /** The controller's metrics: requests are counted, and `/metrics` serves them (with `auth`). */
  metrics?: { metrics: Metrics; auth: MetricsAuth };
}

export interface RestconfServer {
  url: string;
  port: number;
  app: FastifyInstance;
  /** Every route served (each method of each URL), authentication applying to all. */
  routes(): HttpRoute[];
  close(): Promise<void>;
}

/** What the RESTCONF plugins share: the platform, the options that shape answers, one reply cache. */
export interface RestconfContext extends RestconfDeps {
  dataMissingIs404: boolean;
  maxBody: number;
  cache: ReplyCache;
  /** `/metrics` is served when set. */
  metrics?: { metrics: Metrics; auth: MetricsAuth };
}

/** All RESTCONF resources, in one encapsulated context of the edge. */
async function restconfPlugin(app: FastifyInstance, ctx: RestconfContext): Promise<void> {
  // Bodies stay text until the target node is known; any other media type is refused with 415.
  app.removeAllContentTypeParsers();
  // Read as bytes and decoded here: a body that is not UTF-8 is refused (RFC 8259 8.1, XML 1.0
  // 4.3.3 for a document without an encoding declaration), not read with U+FFFD in its place.
  app.addContentTypeParser(BODY_TYPES, { parseAs: 'buffer' }, (_req, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) return done(new YangError({ tag: 'malformed-message', type: 'rpc', message: 'the body is not valid UTF-8' }), undefined);
    done(null, bytes.toString('utf8'));
  });
  const dialect: ErrorDialect = { dialect: 'rfc8040', schema: ctx.schema, dataMissingIs404: ctx.dataMissingIs404 };
  app.setErrorHandler(errorHandler(dialect, ctx.maxBody));
  app.setNotFoundHandler(notFoundHandler(dialect));
  await app.register(async (a) => rfc8040Plugin(a, ctx), { prefix: '/rests' });
  const bus = ctx.notifications;
  if (bus) await app.register(async (a) => streamsPlugin(a, bus), { prefix: '/rests' });
  await app.register(async (a) => legacyPlugin(a, ctx), { prefix: '/restconf' });
  await app.register(async (a) => discoveryPlugin(a, ctx));
  await app.register(async (a) => apidocPlugin(a, ctx));
  const served = ctx.metrics;
  if (served) await app.register(async (a) => metricsPlugin(a, served.metrics, served.auth));
}

export async function startRestconf(deps: RestconfDeps, opts: RestconfOptions): Promise<RestconfServer> {
  const edge = createHttpEdge({
    name: 'restconf',
    host: opts.host,
    port: opts.port,
    username: opts.username,
    password: opts.password,
    maxBody: opts.maxBody,
    maxConnections: opts.maxConnections,
    headerTimeoutMs: opts.headerTimeoutMs,
    // What Node refuses before routing (a request head over 16 KiB: a path of thousands of
    // segments, a megabyte key) is answered as a RESTCONF error too.
    clientErrorBody: (status, message) => ({
      type: DATA_TYPE.json,
      body: errorJson(new YangError({ tag: status === 431 ? 'too-big' : status === 408 ? 'operation-failed' : 'malformed-message', type: 'transport', message })),
    }),
    tls: opts.tls,
    log: opts.log ?? pino({ level: 'silent' }),
    metrics: opts.metrics?.metrics,
  });
  const ctx: RestconfContext = { ...deps, dataMissingIs404: opts.dataMissingIs404, maxBody: opts.maxBody, cache: new ReplyCache(), metrics: opts.metrics };
  await edge.app.register(async (app) => restconfPlugin(app, ctx));
  // The console shares the listener and its authentication, not RESTCONF's body parsing.
  await edge.app.register(async (app) =>
    consolePlugin(app, { schema: deps.schema, data: deps.data, views: deps.consoleViews ?? [], dataMissingIs404: opts.dataMissingIs404, maxBody: opts.maxBody }),
  );
  await publishRestconfState(deps.data, deps.schema);
  await edge.listen();
  return {
    url: edge.url,
    port: edge.port,
    app: edge.app,
    routes: () => edge.routes(),
    close: () => edge.close(),
  };
}
