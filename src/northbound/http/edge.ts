/**
 * The one way a Sextant HTTP listener is made. Every listener (RESTCONF, plugin-owned APIs on
 * other ports) gets the same edge: authentication in one onRequest hook at the root, so no route
 * added later by any owner escapes it; one OpenTelemetry span per request, with the route's
 * handler running inside it (datastore and rpc spans nest); a body limit; optional TLS; the list
 * of routes; a graceful close; a lingering read of a body an error was answered before. The edge is created unlistened: owners register their encapsulated
 * plugins (each with its own error handler and dialect), then `listen()`.
 *
 * A route may opt out of the authentication, and only by saying so itself: `config: { public: true }`
 * (an unauthenticated discovery document, a webhook whose URL is its capability). Every other
 * route, and every request no route matches, is authenticated.
 *
 * Refused credentials are thrown as an `Unauthorized` error (status 401, a Basic challenge already
 * set), so each owner's error handler answers it in its own error format.
 *
 *   const edge = createHttpEdge({ name: 'tacker', host, port: 0, username, password, maxBody, log, token });
 *   await edge.app.register(async (app) => {
 *     app.setErrorHandler((err, req, reply) => reply.code(isUnauthorized(err) ? 401 : 500).send({ error: { ... } }));
 *     app.get('/vnfpkgm/v1/vnf_packages', ...);
 *   }, { prefix: '/tacker' });
 *   await edge.listen();           // edge.url, edge.port, edge.routes()
 *   ...
 *   await edge.close();            // stops accepting, lets requests in flight finish
 */
import { hash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../../telemetry/metrics.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without credentials (see the module comment); anything but `true` is authenticated. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The request's span, from onRequest until it is ended (the edge's own; nothing else sets it). */
    sextantSpan: Span | null;
  }
}

export interface HttpEdgeOptions {
  /** Names the listener in spans and logs (`restconf`, `tacker`...). */
  name: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  username: string;
  password: string;
  /** Largest request body, in bytes (413 beyond). */
  maxBody: number;
  tls?: { cert: string; key: string };
  /** Also accept an `X-Auth-Token` header this check approves (OpenStack-style APIs). */
  token?: (token: string) => boolean;
  /** Bounds of the drain of a body answered before it was read (see `drainUnreadBody`). */
  drain?: Partial<DrainLimits>;
  log: Logger;
  /** The controller's metrics: each answered request counted by method, route pattern and status. */
  metrics?: Metrics;
}

/**
 * How much of a request body the edge reads and discards, when it answers before reading it
 * (413 for a body over the limit, 401, 415...): at most `maxBytes`, for at most `maxMs`, and no
 * longer than `idleMs` without data.
 */
export interface DrainLimits {
  maxBytes: number;
  maxMs: number;
  idleMs: number;
}

/** nginx lingers 30 s (5 s idle), Apache 30 s (2 s reads); a RESTCONF body is small. */
export const DEFAULT_DRAIN: DrainLimits = { maxBytes: 64 * 1024 * 1024, maxMs: 10_000, idleMs: 2_000 };

export interface HttpRoute {
  method: string;
  url: string;
}

export interface HttpEdge {
  app: FastifyInstance;
  /** Every route registered so far, one entry per method (fastify's HEAD twins of GET included). */
  routes(): HttpRoute[];
  listen(): Promise<void>;
  /** Where it listens; valid after listen(). */
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export const UNAUTHORIZED = 'SEXTANT_UNAUTHORIZED';

/** Thrown by the edge's authentication hook; owners' error handlers render it (status 401). */
export class Unauthorized extends Error {
  readonly code = UNAUTHORIZED;
  readonly statusCode = 401;
  constructor() {
    super('authentication required');
  }
}

export function isUnauthorized(err: unknown): err is Unauthorized {
  return (err as { code?: unknown } | null)?.code === UNAUTHORIZED;
}

const CHALLENGE = 'Basic realm="sextant"';

/**
 * Digests compare in constant time whatever the lengths; the length of a guess tells nothing.
 * One-shot hash(): it runs on every request, and a Hash object per call costs a third more.
 */
function digest(text: string | Buffer): Buffer {
  return hash('sha256', text, 'buffer');
}

/** Whether a secret a client sent is the expected one, compared in constant time. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Reads and discards what is left of a request body, until it ends or a bound is reached (then
 * `cut`: the connection is closed after the answer, as Node does, and the client's further data
 * is refused). The stream stays flowing after a cut, so nothing buffers up until then.
 */
export function drainUnreadBody(raw: IncomingMessage, limits: DrainLimits): Promise<{ bytes: number; cut: boolean }> {
  return new Promise((resolve) => {
    if (raw.complete || raw.destroyed) return resolve({ bytes: 0, cut: false });
    let bytes = 0;
    const finish = (cut: boolean) => {
      clearTimeout(total);
      clearTimeout(idle);
      raw.off('data', onData);
      raw.off('end', ended);
      raw.off('close', closed);
      raw.off('error', closed);
      resolve({ bytes, cut });
    };
    const ended = () => finish(false);
    const closed = () => finish(!raw.complete);
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limits.maxBytes) finish(true);
      else idle.refresh();
    };
    const total = setTimeout(() => finish(true), limits.maxMs);
    const idle = setTimeout(() => finish(true), limits.idleMs);
    raw.on('data', onData);
    raw.on('end', ended);
    raw.on('close', closed);
    raw.on('error', closed);
    raw.resume();
  });
}

export function createHttpEdge(opts: HttpEdgeOptions): HttpEdge {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxBody,
    // A slow client cannot hold a request open for long; others are served meanwhile.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    routerOptions: { ignoreTrailingSlash: true },
    ...(opts.tls ? { https: { cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) } } : {}),
  });
  const tracer = trace.getTracer(`sextant.${opts.name}`);
  // The credentials as a client sends them (RFC 7617), compared as written: no lenient base64.
  const expected = digest(Buffer.from(`${opts.username}:${opts.password}`).toString('base64'));
  const routes: HttpRoute[] = [];
  // The span rides on the request itself (a decoration is in every request's shape from the
  // start): a WeakMap entry per request cost a set, two gets and a delete, and GC work.
  app.decorateRequest('sextantSpan', null);

  const basicOk = (header: string | undefined): boolean => {
    const m = header ? /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header) : null;
    if (!m) return false;
    return timingSafeEqual(digest(m[1]), expected);
  };
  const tokenOk = (header: string | string[] | undefined): boolean =>
    opts.token !== undefined && typeof header === 'string' && header !== '' && opts.token(header);

  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    // The handler runs in its request's span, so spans it starts are children of it. A span
    // without a valid context (no tracer provider: the no-op API) has nothing to pass on, and
    // entering a context for it would only allocate one per request.
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      const span = req.sextantSpan;
      return span && isSpanContextValid(span.spanContext())
        ? context.with(trace.setSpan(context.active(), span), () => handler.call(this, req, reply))
        : handler.call(this, req, reply);
    };
  });

  // One hook, registered first, for what every request gets: its span (refused and unknown
  // requests included), then the one authentication check. At the root, so it runs before every
  // route of every owner. Callback-style hooks: cheaper per request than async ones.
  app.addHook('onRequest', (req, reply, done) => {
    // routeOptions is a getter that builds a new object each time: read it once.
    const { url: route, config } = req.routeOptions;
    req.sextantSpan = tracer.startSpan(`${req.method} ${route ?? req.url}`, {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method, 'http.route': route ?? '', 'url.path': req.url },
    });
    if (config?.public === true) return done();
    if (basicOk(req.headers.authorization) || tokenOk(req.headers['x-auth-token'])) return done();
    reply.header('WWW-Authenticate', CHALLENGE);
    done(new Unauthorized());
  });
  const endSpan = (req: FastifyRequest, reply: FastifyReply) => {
    const span = req.sextantSpan;
    if (!span) return;
    req.sextantSpan = null;
    span.setAttribute('http.response.status_code', reply.statusCode);
    // OpenTelemetry's HTTP server convention: only a 5xx is the server's error.
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  const metrics = opts.metrics;
  app.addHook('onResponse', (req, reply, done) => {
    endSpan(req, reply);
    // The route's pattern, not the URL: a label per URL would grow without bound.
    metrics?.httpRequest(opts.name, req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  // An error answered before the body was read (a body over the limit, refused credentials, a
  // media type nobody parses) waits until the rest of the body has come in, within bounds: Node
  // closes a connection whose request it did not read to the end, and a client still sending
  // (Python's http.client, so requests and urllib, send the whole body before reading) then gets a
  // broken pipe instead of the answer. nginx and Apache do the same with their lingering close.
  // An onError hook runs before any owner's error handler, and only on errors: nothing per request.
  const drain: DrainLimits = { ...DEFAULT_DRAIN, ...opts.drain };
  app.addHook('onError', (req, _reply, _error, done) => {
    if (req.raw.complete) return done();
    void drainUnreadBody(req.raw, drain).then(({ bytes, cut }) => {
      req.sextantSpan?.setAttributes({ 'sextant.http.body_drained_bytes': bytes, 'sextant.http.body_drain_cut': cut });
      done();
    });
  });
  app.addHook('onRequestAbort', (req, done) => {
    const span = req.sextantSpan;
    req.sextantSpan = null;
    span?.setAttribute('http.request.aborted', true);
    span?.end();
    done();
  });

  // Owners set their own (encapsulated) error handlers; this one answers what reaches the root.
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) opts.log.error({ err, listener: opts.name }, 'request failed');
    return reply.code(status).type('application/json').send({ error: { code: status, title: err.code ?? 'error', message: err.message } });
  });

  let port = opts.port;
  const hostText = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = () => `${opts.tls ? 'https' : 'http'}://${hostText}:${port}`;
  return {
    app,
    routes: () => routes.map((r) => ({ ...r })),
    async listen() {
      await app.listen({ host: opts.host, port: opts.port });
      const addr = app.server.address();
      port = typeof addr === 'object' && addr ? addr.port : opts.port;
      opts.log.info({ listener: opts.name, url: url() }, 'listening');
    },
    get port() {
      return port;
    },
    get url() {
      return url();
    },
    close: () => app.close(),
  };
}
