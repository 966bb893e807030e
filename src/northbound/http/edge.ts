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
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../../telemetry/metrics.ts';
import { JSON_MAX_DEPTH, jsonNestingBeyond } from '../../yang/json.ts';

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
  /**
   * Connections open at once (default DEFAULT_MAX_CONNECTIONS). At the bound, a new connection
   * closes the oldest one with no request in flight (an idle keep-alive connection, or one that
   * never sent a whole request head), so idle sockets cannot lock others out; when every one is
   * busy, the new one is closed.
   */
  maxConnections?: number;
  /** Milliseconds a client may take to send a request's head (slowloris), default DEFAULT_HEADER_TIMEOUT_MS. */
  headerTimeoutMs?: number;
  /**
   * The body of the answer to a request refused before any route sees it (by Node: a request
   * head over 16 KiB, 431; one not sent in time, 408; one that is not HTTP, 400; by fastify: a URL
   * whose percent-encoding is not UTF-8, 400), in the owner's error format; default fastify's JSON.
   */
  clientErrorBody?: (status: number, message: string) => { type: string; body: string };
  log: Logger;
  /** The controller's metrics: each answered request counted by method, route pattern and status. */
  metrics?: Metrics;
}

/** nginx's default worker_connections is 512 per worker, with 1024 in its shipped configuration. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Apache's RequestReadTimeout allows 20 s for a request head (nginx's client_header_timeout: 60 s). */
export const DEFAULT_HEADER_TIMEOUT_MS = 20_000;

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

/** A JSON body nested beyond JSON_MAX_DEPTH, refused before it is parsed (413, as RESTCONF answers it). */
class TooDeep extends Error {
  readonly code = 'SEXTANT_BODY_TOO_DEEP';
  readonly statusCode = 413;
  constructor() {
    super(`JSON nested deeper than ${JSON_MAX_DEPTH} arrays and objects`);
  }
}

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
 * `cut`: the caller closes the connection, and the client's further data is refused). Nothing
 * read is kept, so memory stays bounded however much is sent.
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

/**
 * Bounds the connections open at once (see HttpEdgeOptions.maxConnections). A socket with a
 * request in flight has its response attached (`_httpMessage`, Node's own bookkeeping); one
 * without is idle. The oldest idle one goes first, so a client that just connected is served.
 */
function boundConnections(app: FastifyInstance, max: number): void {
  const open = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      let idle: Socket | undefined;
      for (const s of open) {
        if (!(s as { _httpMessage?: unknown })._httpMessage) {
          idle = s;
          break;
        }
      }
      if (!idle) return void socket.destroy();
      open.delete(idle);
      idle.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
}

/** Answers what Node refuses before routing, in the owner's error format, then closes. */
function clientErrorHandler(render: NonNullable<HttpEdgeOptions['clientErrorBody']>) {
  // A socket answered already: Node's parser fails again on each chunk that follows.
  const answered = new WeakSet<Socket>();
  return (err: Error & { code?: string }, socket: Socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
    answered.add(socket);
    const [status, message] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request head was not received in time']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'the request line and headers are larger than 16 KiB']
          : [400, `not a valid HTTP request (${err.code ?? err.message})`];
    const { type, body } = render(status, message);
    if (socket.writable) {
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    // A lingering close, as for a refused body: a client still sending the rest of a head over
    // the limit (a megabyte URL) reads the answer instead of a reset that drops it. What it still
    // sends is read and dropped by Node's failed parser, for 2 s at most.
    socket.end();
    const linger = setTimeout(() => socket.destroy(), 2_000);
    socket.once('close', () => clearTimeout(linger));
  };
}

/** A URL fastify cannot decode (percent-encoding that is not UTF-8) is a 400 in the owner's format. */
function badUrlHandler(render: NonNullable<HttpEdgeOptions['clientErrorBody']>) {
  return (err: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
    const { type, body } = render(400, err.code === 'FST_ERR_BAD_URL' ? 'the URL is not valid: its percent-encoding is not UTF-8' : err.message);
    return reply.code(400).type(type).send(body);
  };
}

export function createHttpEdge(opts: HttpEdgeOptions): HttpEdge {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxBody,
    // A slow client cannot hold a request open for long; others are served meanwhile.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    ...(opts.clientErrorBody ? { clientErrorHandler: clientErrorHandler(opts.clientErrorBody), frameworkErrors: badUrlHandler(opts.clientErrorBody) } : {}),
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
  // media type nobody parses) is answered at once, while the rest of the body is read and
  // discarded, within bounds, before the connection is closed: closing a connection the client
  // is still sending on resets it, and a client that sends the whole body before reading
  // (Python's http.client, so requests and urllib) then gets a broken pipe instead of the answer.
  // nginx and Apache do the same with their lingering close. A client that reads as it sends sees
  // the refusal while it is still sending. An onError hook runs before any owner's error handler,
  // and only on errors: nothing per request.
  const drain: DrainLimits = { ...DEFAULT_DRAIN, ...opts.drain };
  app.addHook('onError', (req, reply, _error, done) => {
    if (req.raw.complete) return done();
    const span = req.sextantSpan;
    // Node closes the connection as soon as an answer marked `Connection: close` is written (as
    // fastify marks a body it refused, and as a client asking to close gets), the reset this
    // avoids: the answer says nothing of the connection and Node is told to keep it, and the
    // drain's end decides. A body that ends within the bounds leaves it usable (closed if the
    // client asked), one past a bound closes it at once.
    const clientCloses = !reply.raw.shouldKeepAlive;
    reply.removeHeader('connection');
    reply.raw.shouldKeepAlive = true;
    reply.raw.removeHeader('connection');
    void drainUnreadBody(req.raw, drain).then(({ bytes, cut }) => {
      span?.setAttributes({ 'sextant.http.body_drained_bytes': bytes, 'sextant.http.body_drain_cut': cut });
      if (cut) req.raw.socket?.destroy();
      else if (clientCloses) req.raw.socket?.end();
    });
    done();
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

  boundConnections(app, opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  // Node checks request-head deadlines every connectionsCheckingInterval (30 s by default): often
  // enough that a trickled head is dropped close to its deadline.
  const headerTimeout = opts.headerTimeoutMs ?? DEFAULT_HEADER_TIMEOUT_MS;
  app.server.headersTimeout = headerTimeout;
  (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(1_000, headerTimeout);

  // JSON bodies of routes at the root (plugins' route()) are parsed by fastify, after the same
  // nesting bound as RESTCONF's (encapsulated scopes that read bodies as text check it themselves).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonNestingBeyond(body as string)) return done(new TooDeep(), undefined);
    parseJson(req, body as string, done);
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
