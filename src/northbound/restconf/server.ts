/**
 * RESTCONF northbound on fastify: RFC 8040 under /rests and OpenDaylight's legacy URLs under
 * /restconf. A thin edge: it turns URLs into api-paths, bodies into decoded trees, and calls the
 * same datastore transactions and rpc registry as everything else; errors go through errors.ts.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Datastore, StoreName, Transaction } from '../../datastore/datastore.ts';
import { checkEntryKeys, getAt, mergeValue } from '../../datastore/tree.ts';
import { asYangError, YangError } from '../../errors.ts';
import type { RpcRegistry } from '../../rpc/registry.ts';
import { decodeListEntry, decodeObject, decodeValue, memberSchema, readJson, toJsonValue, withDefaultsDeep, withPathKeys } from '../../yang/json.ts';
import { formatPath, keyString, parseApiPath, parsePath, resolvePath, type InstancePath } from '../../yang/path.ts';
import type { DataObject, DataValue, Schema, SchemaNode } from '../../yang/schema.ts';
import { decodeXmlObject, decodeXmlValue, elementSchema, encodeXmlChildren, encodeXmlMember, readXml } from '../../yang/xml.ts';
import { errorJson, errorXml, statusOf, type Dialect } from './errors.ts';
import { legacyPath } from './legacy.ts';
import { openApiDocument } from './openapi.ts';

export interface RestconfDeps {
  schema: Schema;
  data: Datastore;
  rpc: RpcRegistry;
  /** The NETCONF session holding a lock on running, if any: RESTCONF edits then fail (RFC 8040 1.4). */
  runningLock?: () => number | undefined;
}

export interface RestconfOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  maxBody: number;
  dataMissingIs404: boolean;
  tls?: { cert: string; key: string };
}

export interface RestconfServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

type Encoding = 'json' | 'xml';

const JSON_TYPES = ['application/yang-data+json', 'application/json'];
const XML_TYPES = ['application/yang-data+xml', 'application/xml', 'text/xml'];
const PATCH_TYPES = ['application/yang-patch+json', 'application/yang-patch+xml'];
const tracer = trace.getTracer('sextant.restconf');

export async function startRestconf(deps: RestconfDeps, opts: RestconfOptions): Promise<RestconfServer> {
  const app = Fastify({
    logger: false,
    bodyLimit: opts.maxBody,
    // A slow client cannot hold a request open for long; others are served meanwhile.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    routerOptions: { ignoreTrailingSlash: true },
    ...(opts.tls ? { https: { cert: readFileSync(opts.tls.cert), key: readFileSync(opts.tls.key) } } : {}),
  });
  const edge = new RestconfEdge(deps, opts);

  // Bodies stay text until the target node is known; any other media type is refused with 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_TYPES, ...XML_TYPES, ...PATCH_TYPES], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', async (req, reply) => {
    if (!edge.authorized(req.headers.authorization)) {
      reply.header('WWW-Authenticate', 'Basic realm="sextant"');
      edge.fail(req, reply, new YangError({ tag: 'access-denied', type: 'protocol', message: 'authentication required' }), 'rfc8040', 401);
      return reply;
    }
    return undefined;
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    // fastify's own refusals: body too large, unsupported media type, unparsable request.
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return edge.fail(req, reply, new YangError({ tag: 'too-big', type: 'transport', message: `request body larger than ${opts.maxBody} bytes` }), dialectOf(req));
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
      return edge.fail(req, reply, new YangError({ tag: 'invalid-value', type: 'protocol', message: `unsupported content-type ${String(req.headers['content-type'])}` }), dialectOf(req), 415);
    }
    if (err.statusCode && err.statusCode < 500) {
      return edge.fail(req, reply, new YangError({ tag: 'malformed-message', type: 'rpc', message: err.message }), dialectOf(req), err.statusCode);
    }
    return edge.fail(req, reply, asYangError(err), dialectOf(req));
  });
  app.setNotFoundHandler((req, reply) => {
    edge.fail(req, reply, new YangError({ tag: 'invalid-value', type: 'protocol', message: `no RESTCONF resource at ${req.method} ${req.url}` }), dialectOf(req), 404);
  });

  // RFC 8040 data resource.
  for (const prefix of ['/rests/data', '/rests/data/*']) {
    app.get(prefix, (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.getData(req, reply, 'rfc8040')));
    app.put(prefix, (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.putData(req, reply, 'rfc8040', 'config')));
    app.post(prefix, (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.postData(req, reply, 'rfc8040', 'config')));
    app.patch(prefix, (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.patchData(req, reply, 'config')));
    app.delete(prefix, (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.deleteData(req, reply, 'rfc8040', 'config')));
    app.options(prefix, (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.options(req, reply)));
  }
  app.post('/rests/operations/*', (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.operation(req, reply, 'rfc8040')));
  app.options('/rests/operations/*', (_req, reply) => reply.code(200).header('Allow', 'OPTIONS, POST').send());

  // OpenDaylight legacy (draft-bierman-02 as ODL served it).
  for (const store of ['config', 'operational'] as const) {
    const prefix = `/restconf/${store}/*`;
    app.get(prefix, (req, reply) => edge.traced(req, reply, 'legacy', () => edge.getData(req, reply, 'legacy', store)));
    app.put(prefix, (req, reply) => edge.traced(req, reply, 'legacy', () => edge.putData(req, reply, 'legacy', store)));
    app.post(prefix, (req, reply) => edge.traced(req, reply, 'legacy', () => edge.postData(req, reply, 'legacy', store)));
    app.delete(prefix, (req, reply) => edge.traced(req, reply, 'legacy', () => edge.deleteData(req, reply, 'legacy', store)));
    // POST on the store itself creates a top-level node.
    app.post(`/restconf/${store}`, (req, reply) => edge.traced(req, reply, 'legacy', () => edge.postData(req, reply, 'legacy', store)));
  }
  app.post('/restconf/operations/*', (req, reply) => edge.traced(req, reply, 'legacy', () => edge.operation(req, reply, 'legacy')));
  app.get('/restconf/modules', (req, reply) => edge.traced(req, reply, 'legacy', () => edge.legacyModules(req, reply)));

  // Discovery, schemas, API description.
  app.get('/.well-known/host-meta', (_req, reply) =>
    reply.type('application/xrd+xml').send('<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="restconf" href="/rests"/></XRD>'),
  );
  app.get('/.well-known/host-meta.json', (_req, reply) => reply.type('application/json').send({ links: [{ rel: 'restconf', href: '/rests' }] }));
  app.get('/rests/modules/:module/:revision', (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.moduleText(req, reply)));
  app.get('/rests/modules/:module', (req, reply) => edge.traced(req, reply, 'rfc8040', () => edge.moduleText(req, reply)));
  let openapi: string | undefined;
  app.get('/openapi.json', (_req, reply) => reply.type('application/json').send((openapi ??= JSON.stringify(openApiDocument(deps.schema)))));
  // A browsable explorer of that document (swagger-ui, served from the installed package).
  app.get('/apidoc', (_req, reply) => reply.type('text/html').send(APIDOC_PAGE));
  app.get('/apidoc/:asset', (req, reply) => {
    const asset = (req.params as { asset: string }).asset;
    const type = APIDOC_ASSETS[asset];
    if (!type) return edge.fail(req, reply, new YangError({ tag: 'invalid-value', type: 'protocol', message: `no asset ${asset}` }), 'rfc8040', 404);
    return reply.type(type).send(readFileSync(join(swaggerUiDir, asset)));
  });

  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    app,
    close: () => app.close(),
  };
}

/** Memory the GET reply cache may hold. */
const REPLY_CACHE_BYTES = 32 * 2 ** 20;

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const APIDOC_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
  'swagger-ui-standalone-preset.js': 'application/javascript',
};
const APIDOC_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Sextant RESTCONF API</title>
<link rel="stylesheet" href="/apidoc/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/apidoc/swagger-ui-bundle.js"></script>
<script src="/apidoc/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });</script>
</body></html>
`;

function dialectOf(req: FastifyRequest): Dialect {
  return req.url.startsWith('/restconf/') ? 'legacy' : 'rfc8040';
}

/** The path part of the raw URL after a prefix, still percent-encoded (keys may hold `%2F`). */
function rawRest(req: FastifyRequest, prefix: RegExp): string {
  const url = req.raw.url ?? '';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).replace(prefix, '');
}

class RestconfEdge {
  private readonly expectedAuth: Buffer;

  constructor(
    private readonly deps: RestconfDeps,
    private readonly opts: RestconfOptions,
  ) {
    this.expectedAuth = Buffer.from(`Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`);
  }

  /** A transaction for an edit; a NETCONF lock on running refuses config edits. */
  private writeTransaction(store: StoreName): Transaction {
    const holder = store === 'config' ? this.deps.runningLock?.() : undefined;
    if (holder !== undefined) {
      throw new YangError({ tag: 'lock-denied', type: 'protocol', message: `the running datastore is locked by NETCONF session ${holder}`, info: { 'session-id': String(holder) } });
    }
    return this.deps.data.transaction(store);
  }

  authorized(header: string | undefined): boolean {
    if (!header) return false;
    const got = Buffer.from(header);
    return got.length === this.expectedAuth.length && timingSafeEqual(got, this.expectedAuth);
  }

  /** One span per request, with the route, method and status; datastore and rpc spans nest in it. */
  async traced(req: FastifyRequest, reply: FastifyReply, dialect: Dialect, fn: () => Promise<unknown> | unknown): Promise<unknown> {
    const span = tracer.startSpan(`${req.method} ${req.routeOptions.url ?? req.url}`, {
      attributes: { 'http.request.method': req.method, 'http.route': req.routeOptions.url ?? '', 'url.path': req.url },
    });
    try {
      return await context.with(trace.setSpan(context.active(), span), async () => {
        try {
          return await fn();
        } catch (e) {
          return this.fail(req, reply, asYangError(e), dialect);
        }
      });
    } finally {
      span.setAttribute('http.response.status_code', reply.statusCode);
      span.end();
    }
  }

  fail(req: FastifyRequest, reply: FastifyReply, e: YangError, dialect: Dialect, status?: number): FastifyReply {
    const code = status ?? statusOf(e, { dialect, dataMissingIs404: this.opts.dataMissingIs404 });
    const xml = this.responseEncoding(req, true) === 'xml';
    return reply
      .code(code)
      .type(xml ? 'application/yang-data+xml' : 'application/yang-data+json')
      .send(xml ? errorXml(e) : errorJson(e));
  }

  /**
   * The encoding to answer in: what Accept asks for (406 when it names nothing we speak), else
   * the request body's encoding, else JSON. `lenient` (for error bodies) never refuses.
   */
  private responseEncoding(req: FastifyRequest, lenient = false): Encoding {
    const accept = req.headers.accept;
    if (accept) {
      const ranges = accept
        .split(',')
        .map((part) => {
          const [type, ...params] = part.trim().split(';');
          const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
          return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
        })
        .filter((r) => r.q > 0)
        .sort((a, b) => b.q - a.q);
      for (const r of ranges) {
        if (JSON_TYPES.includes(r.type) || r.type === 'application/yang-patch+json') return 'json';
        if (XML_TYPES.includes(r.type) || r.type === 'application/yang-patch+xml') return 'xml';
        if (r.type === '*/*' || r.type === 'application/*') return this.bodyEncoding(req) ?? 'json';
      }
      if (!lenient) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `none of the media types in Accept (${accept}) can be produced` });
    }
    return this.bodyEncoding(req) ?? 'json';
  }

  private bodyEncoding(req: FastifyRequest): Encoding | undefined {
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (XML_TYPES.includes(ct) || ct === 'application/yang-patch+xml') return 'xml';
    if (JSON_TYPES.includes(ct) || ct === 'application/yang-patch+json') return 'json';
    return undefined;
  }

  /** Encoding for the response, answering 406 itself when nothing fits. */
  private negotiate(req: FastifyRequest, reply: FastifyReply): Encoding | undefined {
    try {
      return this.responseEncoding(req);
    } catch (e) {
      this.fail(req, reply, asYangError(e), 'rfc8040', 406);
      return undefined;
    }
  }

  private path(req: FastifyRequest, dialect: Dialect, store?: StoreName): InstancePath {
    if (dialect === 'legacy') {
      const rest = rawRest(req, new RegExp(`^/restconf/${store}/?`));
      return legacyPath(this.deps.schema, rest);
    }
    const rest = rawRest(req, /^\/rests\/data\/?/);
    return resolvePath(this.deps.schema, parseApiPath(rest), `/${rest}`);
  }

  // ----- GET -----

  getData(req: FastifyRequest, reply: FastifyReply, dialect: Dialect, legacyStore?: StoreName): unknown {
    const enc = this.negotiate(req, reply);
    if (!enc) return reply;
    // Polling clients read the same unchanged data again and again: a reply is reused for as
    // long as neither store has committed since it was encoded.
    const cacheKey = `${enc} ${this.deps.data.revision('config')} ${this.deps.data.revision('operational')} ${req.url}`;
    const cached = req.method === 'GET' ? this.replies.get(cacheKey) : undefined;
    if (cached) return reply.code(200).type(cached.type).send(cached.body);
    const path = this.path(req, dialect, legacyStore);
    const q = req.query as Record<string, string | undefined>;
    const content = q.content ?? 'all';
    if (!['config', 'nonconfig', 'all'].includes(content)) throw badQuery(`content=${content}`);
    // Legacy URLs name the store itself, and ODL showed all of that store's content.
    const readConfig = dialect === 'legacy' ? legacyStore === 'config' : content !== 'nonconfig';
    const readState = dialect === 'legacy' ? legacyStore === 'operational' : content !== 'config';
    const depth = q.depth === undefined || q.depth === 'unbounded' ? undefined : Number(q.depth);
    if (depth !== undefined && !(Number.isInteger(depth) && depth >= 1 && depth <= 65535)) throw badQuery(`depth=${q.depth}`);
    const node = path[path.length - 1]?.schema;
    let value: DataValue | undefined;
    const cfg = readConfig ? getAt(this.deps.data.snapshot('config').root, path) : undefined;
    const op = readState ? getAt(this.deps.data.snapshot('operational').root, path) : undefined;
    value = cfg === undefined ? op : op === undefined ? cfg : mergeValue(node, cfg, op);
    if (value === undefined) {
      throw new YangError({ tag: 'data-missing', type: 'protocol', message: `no data at ${formatPath(path)}`, path: formatPath(path) });
    }
    const wd = q['with-defaults'];
    if (wd === 'report-all' || wd === 'report-all-tagged') value = withDefaultsDeep(node, value);
    else if (wd !== undefined && wd !== 'explicit' && wd !== 'trim') throw badQuery(`with-defaults=${wd}`);
    if (q.fields !== undefined) value = selectFields(node, value, parseFields(q.fields));
    reply.code(200);
    if (req.method === 'HEAD') return reply.type(enc === 'xml' ? 'application/yang-data+xml' : 'application/yang-data+json').send();
    const view = dialect === 'legacy' ? 'all' : (content as 'all' | 'config' | 'nonconfig');
    const { type, body } = this.encodeData(enc, path, value, { depth, content: view }, dialect);
    this.remember(cacheKey, type, body);
    return reply.type(type).send(body);
  }

  private readonly replies = new Map<string, { type: string; body: Buffer }>();
  private replyBytes = 0;

  /** Keeps an encoded reply in a small LRU bounded by count and by bytes. */
  private remember(key: string, type: string, body: string): void {
    const bytes = Buffer.byteLength(body);
    if (bytes > REPLY_CACHE_BYTES / 4) return;
    this.forget(key);
    this.replies.set(key, { type, body: Buffer.from(body) });
    this.replyBytes += bytes;
    // Map order is insertion order: the first key is the least recently stored.
    while (this.replies.size > 64 || this.replyBytes > REPLY_CACHE_BYTES) this.forget(this.replies.keys().next().value!);
  }

  private forget(key: string): void {
    const old = this.replies.get(key);
    if (!old) return;
    this.replyBytes -= old.body.length;
    this.replies.delete(key);
  }

  private encodeData(
    enc: Encoding,
    path: InstancePath,
    value: DataValue,
    eo: { depth?: number; content?: 'all' | 'config' | 'nonconfig' },
    dialect: Dialect,
  ): { type: string; body: string } {
    const last = path[path.length - 1];
    if (!last) {
      // The datastore root: every top-level node.
      if (enc === 'xml') {
        let inner = '';
        for (const [m, v] of Object.entries(value as DataObject)) {
          const n = this.deps.schema.roots.get(m);
          if (n) inner += encodeXmlMember(this.deps.schema, n, v, undefined, eo);
        }
        return { type: 'application/yang-data+xml', body: `<data xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">${inner}</data>` };
      }
      const out: Record<string, unknown> = {};
      for (const [m, v] of Object.entries(value as DataObject)) out[m] = toJsonValue(this.deps.schema.roots.get(m), v, eo);
      return { type: 'application/yang-data+json', body: JSON.stringify({ 'ietf-restconf:data': out }) };
    }
    const node = last.schema;
    // RFC 8040 qualifies the top member; ODL's legacy endpoints answered with the bare name
    // (`{"node": [...]}`), which their suites compare against.
    const name = dialect === 'legacy' ? node.name : `${node.module}:${node.name}`;
    if (enc === 'xml') {
      // A list entry is one element; a whole list is its entries, one element each.
      return { type: 'application/yang-data+xml', body: encodeXmlMember(this.deps.schema, node, value, undefined, eo) };
    }
    let json = toJsonValue(node, value, eo);
    if (node.kind === 'list' && last.key !== undefined) json = [json];
    if (node.kind === 'leaf-list' && last.key !== undefined) json = [json];
    return { type: 'application/yang-data+json', body: JSON.stringify({ [name]: json }) };
  }

  // ----- bodies -----

  /**
   * Decodes a body that names `target` (PUT, PATCH, a yang-patch value): `{"mod:name": value}`
   * in JSON (a list entry as a one-entry array or an object), the node's element in XML.
   */
  private targetBody(req: FastifyRequest, path: InstancePath, store: StoreName, bodyText?: string, bodyEnc?: Encoding): DataValue {
    const text = bodyText ?? this.bodyText(req);
    const enc = bodyEnc ?? this.bodyEncoding(req)!;
    const last = path[path.length - 1];
    const node = last.schema;
    const parent = path.length > 1 ? path[path.length - 2].schema : undefined;
    const pathText = formatPath(path);
    const configOnly = store === 'config';
    if (enc === 'xml') {
      const [root] = readXml(text);
      const named = elementSchema(this.deps.schema, parent, root);
      if (named !== node) throw mismatch(`the body's element "${root.name}" is not the target node "${node.name}"`, pathText);
      if (node.kind === 'list') {
        const decoded = decodeXmlObject(this.deps.schema, parent, [root], pathText, { configOnly })[node.jsonName] as Map<string, DataObject>;
        return checkEntryKeys(last, [...decoded.values()][0], pathText);
      }
      if (node.kind === 'leaf-list') return decodeXmlObject(this.deps.schema, parent, [root], pathText, { configOnly })[node.jsonName];
      return decodeXmlValue(this.deps.schema, node, root, pathText, { configOnly });
    }
    const raw = readJson(text);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length !== 1) {
      throw mismatch(`the body must be one JSON object member naming "${node.name}"`, pathText);
    }
    const [member, value] = Object.entries(raw as Record<string, unknown>)[0];
    if (memberSchema(this.deps.schema, parent, member, true) !== node && member !== `${node.module}:${node.name}`) {
      throw mismatch(`the body names "${member}", not the target node "${node.name}"`, pathText);
    }
    if (node.kind === 'list' && last.key !== undefined) {
      const items = Array.isArray(value) ? value : [value];
      if (items.length !== 1) throw mismatch(`the body must hold exactly one "${node.name}" entry`, pathText);
      const entry = decodeListEntry(this.deps.schema, node, withPathKeys(last, items[0]), pathText, { configOnly, lenientNames: true });
      return checkEntryKeys(last, entry, pathText);
    }
    return decodeValue(this.deps.schema, node, value, pathText, { configOnly, lenientNames: true });
  }

  private bodyText(req: FastifyRequest): string {
    if (typeof req.body !== 'string' || !req.body.trim()) {
      throw new YangError({ tag: 'malformed-message', type: 'protocol', message: 'the request needs a body' });
    }
    return req.body;
  }

  // ----- PUT / POST / PATCH / DELETE -----

  async putData(req: FastifyRequest, reply: FastifyReply, dialect: Dialect, store: StoreName): Promise<FastifyReply> {
    const path = this.path(req, dialect, store);
    if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: 'replacing the whole datastore is not supported' });
    const value = this.targetBody(req, path, store);
    const tx = this.writeTransaction(store);
    const existed = tx.exists(path);
    tx.putDecoded(path, value);
    await tx.commit();
    // RFC 8040: 201 created, 204 replaced. ODL legacy: 201 created, 200 replaced.
    return reply.code(existed ? (dialect === 'legacy' ? 200 : 204) : 201).send();
  }

  async patchData(req: FastifyRequest, reply: FastifyReply, store: StoreName): Promise<FastifyReply> {
    const path = this.path(req, 'rfc8040', store);
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (PATCH_TYPES.includes(ct)) return this.yangPatch(req, reply, path, ct.endsWith('xml') ? 'xml' : 'json');
    if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: 'a plain PATCH needs a target node' });
    const value = this.targetBody(req, path, store);
    const tx = this.writeTransaction(store);
    if (!tx.exists(path)) {
      throw new YangError({ tag: 'data-missing', type: 'protocol', message: `no data at ${formatPath(path)} to merge into`, path: formatPath(path) });
    }
    tx.mergeDecoded(path, value);
    await tx.commit();
    return reply.code(200).send();
  }

  async postData(req: FastifyRequest, reply: FastifyReply, dialect: Dialect, store: StoreName): Promise<FastifyReply> {
    const parentPath = this.path(req, dialect, store);
    const text = this.bodyText(req);
    const enc = this.bodyEncoding(req)!;
    const parentNode = parentPath[parentPath.length - 1]?.schema;
    const parentText = formatPath(parentPath);
    const configOnly = store === 'config';
    let child: SchemaNode;
    let value: DataValue;
    if (enc === 'xml') {
      const [root] = readXml(text);
      const node = elementSchema(this.deps.schema, parentNode, root);
      if (!node) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${root.name}" is not a child of ${parentText}`, path: parentText });
      child = node;
      // Decoding the element as a member of its parent checks list keys as everywhere else.
      const decoded = decodeXmlObject(this.deps.schema, parentNode, [root], parentText, { configOnly })[node.jsonName];
      value = decoded instanceof Map ? [...decoded.values()][0] : decoded;
    } else {
      const raw = readJson(text);
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length !== 1) {
        throw mismatch('the body must be one JSON object member naming the node to create', parentText);
      }
      const [member, v] = Object.entries(raw as Record<string, unknown>)[0];
      const node = memberSchema(this.deps.schema, parentNode, member, true);
      if (!node) throw new YangError({ tag: 'unknown-element', type: 'protocol', message: `"${member}" is not a child of ${parentText || 'the datastore'}`, path: `${parentText}/${member}` });
      child = node;
      if (node.kind === 'list') {
        const items = Array.isArray(v) ? v : [v];
        if (items.length !== 1) throw mismatch(`POST creates one "${node.name}" entry at a time`, parentText);
        value = decodeListEntry(this.deps.schema, node, items[0], parentText, { configOnly, lenientNames: true });
      } else value = decodeValue(this.deps.schema, node, v, `${parentText}/${node.jsonName}`, { configOnly, lenientNames: true });
    }
    const target: InstancePath = [...parentPath, { schema: child, member: child.jsonName }];
    if (child.kind === 'list') {
      const step = target[target.length - 1];
      step.key = keyString(child, value as DataObject);
      step.keyValues = child.keys.map((k) => (value as DataObject)[k] as never);
    }
    const tx = this.writeTransaction(store);
    const targetText = formatPath(target);
    if (tx.exists(target)) throw new YangError({ tag: 'data-exists', type: 'protocol', message: `${targetText} already exists`, path: targetText });
    tx.putDecoded(target, value);
    await tx.commit();
    const location = dialect === 'legacy' ? `/restconf/${store}${legacyText(target)}` : `/rests/data${targetText}`;
    return reply.code(dialect === 'legacy' ? 204 : 201).header('Location', location).send();
  }

  async deleteData(req: FastifyRequest, reply: FastifyReply, dialect: Dialect, store: StoreName): Promise<FastifyReply> {
    const path = this.path(req, dialect, store);
    if (!path.length) throw new YangError({ tag: 'operation-not-supported', message: 'deleting the whole datastore is not supported' });
    const tx = this.writeTransaction(store);
    tx.delete(path);
    await tx.commit();
    return reply.code(dialect === 'legacy' ? 200 : 204).send();
  }

  options(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const path = this.path(req, 'rfc8040');
    const node = path[path.length - 1]?.schema;
    const writable = !node || node.config;
    return reply
      .code(200)
      .header('Allow', writable ? 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT' : 'GET, HEAD, OPTIONS')
      .header('Accept-Patch', [...JSON_TYPES.slice(0, 1), XML_TYPES[0], ...PATCH_TYPES].join(', '))
      .send();
  }

  // ----- YANG Patch (RFC 8072) -----

  private async yangPatch(req: FastifyRequest, reply: FastifyReply, base: InstancePath, enc: Encoding): Promise<FastifyReply> {
    const text = typeof req.body === 'string' ? req.body : '';
    const patch = enc === 'json' ? jsonPatch(readJson(text)) : xmlPatch(text);
    const tx = this.writeTransaction('config');
    const baseText = formatPath(base);
    const respond = (status: number, body: Record<string, unknown>) =>
      reply.code(status).type('application/yang-data+json').send(JSON.stringify({ 'ietf-yang-patch:yang-patch-status': { 'patch-id': patch.id, ...body } }));
    for (const edit of patch.edits) {
      try {
        // Targets are relative to the request's resource: join the texts, parse once.
        const path = parsePath(this.deps.schema, `${base.length ? baseText : ''}${edit.target === '/' ? '' : edit.target}`);
        switch (edit.operation) {
          case 'create':
          case 'replace':
          case 'merge': {
            const value = this.targetBody(req, path, 'config', edit.valueText, edit.valueEnc);
            if (edit.operation === 'create' && tx.exists(path)) {
              throw new YangError({ tag: 'data-exists', type: 'protocol', message: `${formatPath(path)} already exists`, path: formatPath(path) });
            }
            if (edit.operation === 'merge') tx.mergeDecoded(path, value);
            else tx.putDecoded(path, value);
            break;
          }
          case 'delete':
            tx.delete(path);
            break;
          case 'remove':
            tx.remove(path);
            break;
          default:
            throw new YangError({ tag: 'operation-not-supported', message: `yang-patch operation "${edit.operation}" is not supported` });
        }
      } catch (e) {
        tx.cancel();
        const y = asYangError(e);
        return respond(statusOf(y, { dialect: 'rfc8040', dataMissingIs404: this.opts.dataMissingIs404 }), {
          'edit-status': { edit: [{ 'edit-id': edit.id, errors: JSON.parse(errorJson(y)).errors }] },
        });
      }
    }
    try {
      await tx.commit();
    } catch (e) {
      const y = asYangError(e);
      return respond(statusOf(y, { dialect: 'rfc8040', dataMissingIs404: this.opts.dataMissingIs404 }), { errors: JSON.parse(errorJson(y)).errors });
    }
    return respond(200, { ok: [null] });
  }

  // ----- operations -----

  async operation(req: FastifyRequest, reply: FastifyReply, dialect: Dialect): Promise<FastifyReply> {
    const enc = this.negotiate(req, reply);
    if (!enc) return reply;
    const prefix = dialect === 'legacy' ? /^\/restconf\/operations\// : /^\/rests\/operations\//;
    const name = decodeURIComponent(rawRest(req, prefix));
    if (!/^[A-Za-z_][\w.-]*:[A-Za-z_][\w.-]*$/.test(name)) {
      throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `"${name}" is not a module-qualified rpc name` });
    }
    const node = this.deps.rpc.schemaOf(name);
    const inputNode = node.children.find((c) => c.kind === 'input')!;
    const outputNode = node.children.find((c) => c.kind === 'output')!;
    let input: DataObject = {};
    const text = typeof req.body === 'string' ? req.body.trim() : '';
    if (text) {
      const bodyEnc = this.bodyEncoding(req);
      if (!bodyEnc) throw new YangError({ tag: 'invalid-value', type: 'protocol', message: `unsupported content-type ${String(req.headers['content-type'])}` });
      if (bodyEnc === 'xml') {
        const [root] = readXml(text);
        if (root.name !== 'input') throw mismatch(`the body must be an <input> element, not <${root.name}>`, `/${name}`);
        input = decodeXmlObject(this.deps.schema, inputNode, root.children, `/${name}/input`);
      } else {
        const raw = readJson(text) as Record<string, unknown>;
        const keys = typeof raw === 'object' && raw !== null ? Object.keys(raw) : [];
        const wrapper = keys.find((k) => k === 'input' || k === `${node.module}:input`);
        if (keys.length !== 1 || !wrapper) throw mismatch(`the body must be {"${node.module}:input": {...}}`, `/${name}`);
        input = decodeObject(this.deps.schema, inputNode, raw[wrapper], `/${name}/input`, { lenientNames: true });
      }
    }
    const output = await this.deps.rpc.invokeDecoded(name, input);
    const hasOutput = output !== undefined && Object.keys(output).length > 0;
    if (!hasOutput) return reply.code(dialect === 'legacy' ? 200 : 204).send();
    if (enc === 'xml') {
      const ns = this.deps.schema.modules.get(node.module)!.namespace;
      return reply.code(200).type('application/yang-data+xml').send(`<output xmlns="${ns}">${encodeXmlChildren(this.deps.schema, outputNode, output)}</output>`);
    }
    const key = dialect === 'legacy' ? 'output' : `${node.module}:output`;
    return reply.code(200).type('application/yang-data+json').send(JSON.stringify({ [key]: toJsonValue(outputNode, output) }));
  }

  // ----- schemas -----

  moduleText(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { module, revision } = req.params as { module: string; revision?: string };
    const info = this.deps.schema.modules.get(module);
    if (info && (revision === undefined || revision === info.revision)) return reply.type('application/yang').send(info.text);
    for (const m of this.deps.schema.modules.values()) {
      const sub = m.submodules.find((s) => s.name === module && (revision === undefined || s.revision === revision));
      if (sub) return reply.type('application/yang').send(readFileSync(sub.file, 'utf8'));
    }
    throw new YangError({ tag: 'data-missing', type: 'protocol', message: `no module ${module}${revision ? `@${revision}` : ''}` });
  }

  legacyModules(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const modules = [...this.deps.schema.modules.values()].map((m) => ({ name: m.name, revision: m.revision ?? '', namespace: m.namespace }));
    if (this.responseEncoding(req) === 'xml') {
      const items = modules.map((m) => `<module><name>${m.name}</name><revision>${m.revision}</revision><namespace>${m.namespace}</namespace></module>`).join('');
      return reply.type('application/yang-data+xml').send(`<modules xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">${items}</modules>`);
    }
    return reply.type('application/yang-data+json').send(JSON.stringify({ modules: { module: modules } }));
  }
}

function badQuery(what: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message: `invalid query parameter ${what}` });
}

function mismatch(message: string, path: string): YangError {
  return new YangError({ tag: 'invalid-value', type: 'protocol', message, path });
}

/** The legacy URL form of a path: keys as extra segments. */
function legacyText(path: InstancePath): string {
  let out = '';
  for (const s of path) {
    out += `/${s.member}`;
    if (s.key !== undefined) out += `/${s.key.split(',').join('/')}`;
  }
  return out;
}

// ----- fields (RFC 8040 4.8.3) -----

type FieldTree = Map<string, FieldTree>;

function parseFields(text: string): FieldTree {
  let i = 0;
  const list = (): FieldTree => {
    const out: FieldTree = new Map();
    for (;;) {
      let cur = out;
      // a/b/c(d;e)
      for (;;) {
        const m = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/.exec(text.slice(i));
        if (!m) throw badQuery(`fields=${text}`);
        i += m[0].length;
        const name = m[0].includes(':') ? m[0].slice(m[0].indexOf(':') + 1) : m[0];
        let next = cur.get(name);
        if (!next) {
          next = new Map();
          cur.set(name, next);
        }
        cur = next;
        if (text[i] === '/') {
          i++;
          continue;
        }
        if (text[i] === '(') {
          i++;
          const inner = list();
          for (const [k, v] of inner) cur.set(k, v);
          if (text[i++] !== ')') throw badQuery(`fields=${text}`);
        }
        break;
      }
      if (text[i] === ';') {
        i++;
        continue;
      }
      return out;
    }
  };
  const tree = list();
  if (i !== text.length) throw badQuery(`fields=${text}`);
  return tree;
}

function selectFields(node: SchemaNode | undefined, value: DataValue, fields: FieldTree): DataValue {
  if (value instanceof Map) {
    const out = new Map<string, DataObject>();
    for (const [k, e] of value) out.set(k, selectFields(node, e, fields) as DataObject);
    return out;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: DataObject = {};
  for (const [m, v] of Object.entries(value as DataObject)) {
    const child = node?.dataChildren.get(m);
    if (!child) continue;
    const sub = fields.get(child.name);
    // Keys stay so entries can be told apart.
    if (sub === undefined && !(node?.kind === 'list' && node.keys.includes(m))) continue;
    out[m] = sub && sub.size ? selectFields(child, v, sub) : v;
  }
  return out;
}

// ----- yang-patch bodies -----

interface PatchEdit {
  id: string;
  operation: string;
  target: string;
  valueText?: string;
  valueEnc?: Encoding;
}

function jsonPatch(raw: unknown): { id: string; edits: PatchEdit[] } {
  const p = (raw as Record<string, unknown>)?.['ietf-yang-patch:yang-patch'] as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') throw new YangError({ tag: 'malformed-message', type: 'protocol', message: 'the body must be {"ietf-yang-patch:yang-patch": {...}}' });
  const edits = (Array.isArray(p.edit) ? p.edit : []) as Record<string, unknown>[];
  if (!edits.length) throw new YangError({ tag: 'missing-element', type: 'protocol', message: 'a yang-patch needs at least one edit' });
  return {
    id: String(p['patch-id'] ?? ''),
    edits: edits.map((e) => ({
      id: String(e['edit-id'] ?? ''),
      operation: String(e.operation ?? ''),
      target: String(e.target ?? ''),
      valueText: e.value === undefined ? undefined : JSON.stringify(e.value),
      valueEnc: 'json' as const,
    })),
  };
}

function xmlPatch(text: string): { id: string; edits: PatchEdit[] } {
  const [root] = readXml(text);
  if (root.name !== 'yang-patch') throw new YangError({ tag: 'malformed-message', type: 'protocol', message: 'the body must be a <yang-patch> element' });
  const child = (el: typeof root, name: string) => el.children.find((c) => c.name === name);
  const edits = root.children.filter((c) => c.name === 'edit');
  if (!edits.length) throw new YangError({ tag: 'missing-element', type: 'protocol', message: 'a yang-patch needs at least one edit' });
  return {
    id: child(root, 'patch-id')?.text.trim() ?? '',
    edits: edits.map((e) => {
      const value = child(e, 'value')?.children[0];
      return {
        id: child(e, 'edit-id')?.text.trim() ?? '',
        operation: child(e, 'operation')?.text.trim() ?? '',
        target: child(e, 'target')?.text.trim() ?? '',
        valueText: value ? serializeElement(value) : undefined,
        valueEnc: 'xml' as const,
      };
    }),
  };
}

/** Re-serializes a parsed element (with its namespace) so the data decoder can read it. */
function serializeElement(el: ReturnType<typeof readXml>[number]): string {
  const attrs = el.ns ? ` xmlns="${el.ns}"` : '';
  const prefixes = [...el.scope].filter(([p]) => p).map(([p, ns]) => ` xmlns:${p}="${ns}"`).join('');
  const inner = el.children.length ? el.children.map(serializeElement).join('') : el.text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
  return `<${el.name}${attrs}${prefixes}>${inner}</${el.name}>`;
}
