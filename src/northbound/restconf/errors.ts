/**
 * The one place where errors become RESTCONF responses: YANG error-tag -> HTTP status (RFC 8040
 * section 7 with OpenDaylight's choices) and the `errors` body in JSON (key `errors`, as ODL
 * sends it) or XML (ietf-restconf namespace). Each RESTCONF plugin installs `errorHandler` with
 * its own dialect: RFC 8040 (error-path an instance-identifier, section 7.1) or OpenDaylight's
 * legacy URLs (error-path as the api-path, missing data 404).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asYangError, YangError, type ErrorTag } from '../../errors.ts';
import { jsonInstanceIdentifier, resolvedApiPath, xmlInstanceIdentifier, xmlnsAttributes } from '../../yang/instance-identifier.ts';
import type { Schema } from '../../yang/schema.ts';
import { escapeXml } from '../../yang/xml.ts';
import { isUnauthorized } from '../http/edge.ts';
import { DATA_TYPE, NotAcceptable, responseEncoding } from './negotiation.ts';
import { PreconditionFailed } from './preconditions.ts';

export type Dialect = 'rfc8040' | 'legacy';

const STATUS: Record<ErrorTag, number> = {
  'in-use': 409,
  'invalid-value': 400,
  'too-big': 413,
  'missing-attribute': 400,
  'bad-attribute': 400,
  'unknown-attribute': 400,
  'missing-element': 400,
  'bad-element': 400,
  'unknown-element': 400,
  'unknown-namespace': 400,
  'access-denied': 403,
  'lock-denied': 409,
  'resource-denied': 409,
  'rollback-failed': 500,
  'data-exists': 409,
  'data-missing': 409,
  'operation-not-supported': 501,
  'operation-failed': 500,
  'partial-operation': 500,
  'malformed-message': 400,
};

export interface ErrorOptions {
  dialect: Dialect;
  dataMissingIs404: boolean;
}

export function statusOf(e: YangError, opts: ErrorOptions): number {
  // ODL's legacy endpoints answered a missing node with 404, as does the 404 option.
  if (e.tag === 'data-missing' && (opts.dialect === 'legacy' || opts.dataMissingIs404)) return 404;
  // The shared datastore (etcd, cluster mode) cannot be reached: the request may work later.
  if (e.appTag === 'datastore-unavailable') return 503;
  return STATUS[e.tag] ?? 500;
}

/** The error's path as an RFC 8040 instance-identifier when the schema resolves it, else as it came. */
function resolved(e: YangError, schema: Schema | undefined) {
  return e.path && schema ? resolvedApiPath(schema, e.path) : undefined;
}

/** The `error` object of the JSON body. `schema` given: error-path as an instance-identifier (RFC 8040 7.1). */
export function errorObject(e: YangError, schema?: Schema): Record<string, unknown> {
  const error: Record<string, unknown> = { 'error-type': e.type, 'error-tag': e.tag, 'error-message': e.message };
  if (e.appTag) error['error-app-tag'] = e.appTag;
  if (e.path) {
    const steps = resolved(e, schema);
    error['error-path'] = steps ? jsonInstanceIdentifier(steps) || '/' : e.path;
  }
  if (e.info) error['error-info'] = e.info;
  return error;
}

export function errorJson(e: YangError, schema?: Schema): string {
  return JSON.stringify({ errors: { error: [errorObject(e, schema)] } });
}

export function errorXml(e: YangError, schema?: Schema): string {
  let s = `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf"><error><error-type>${e.type}</error-type><error-tag>${e.tag}</error-tag>`;
  if (e.appTag) s += `<error-app-tag>${escapeXml(e.appTag)}</error-app-tag>`;
  if (e.path) {
    const steps = resolved(e, schema);
    if (steps && schema) {
      const id = xmlInstanceIdentifier(schema, steps);
      s += `<error-path${xmlnsAttributes(id)}>${escapeXml(id.text || '/')}</error-path>`;
    } else s += `<error-path>${escapeXml(e.path)}</error-path>`;
  }
  s += `<error-message>${escapeXml(e.message)}</error-message>`;
  if (e.info) {
    s += '<error-info>';
    for (const [k, v] of Object.entries(e.info)) s += `<${k}>${escapeXml(v)}</${k}>`;
    s += '</error-info>';
  }
  return `${s}</error></errors>`;
}

/** How one RESTCONF plugin answers errors. */
export interface ErrorDialect extends ErrorOptions {
  schema: Schema;
}

/** The path form of a dialect: RFC 8040 converts to instance-identifiers, legacy keeps api-paths. */
function pathSchema(d: ErrorDialect): Schema | undefined {
  return d.dialect === 'rfc8040' ? d.schema : undefined;
}

/** Sends `e` as an errors document in the encoding the client reads. */
export function sendError(req: FastifyRequest, reply: FastifyReply, e: YangError, d: ErrorDialect, status?: number): FastifyReply {
  const enc = responseEncoding(req, true);
  return reply
    .code(status ?? statusOf(e, d))
    .type(DATA_TYPE[enc])
    .send(enc === 'xml' ? errorXml(e, pathSchema(d)) : errorJson(e, pathSchema(d)));
}

/** The error handler of one RESTCONF plugin: everything its routes and hooks throw, and fastify's refusals. */
export function errorHandler(d: ErrorDialect, maxBody: number) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (isUnauthorized(err)) return sendError(req, reply, new YangError({ tag: 'access-denied', type: 'protocol', message: err.message }), d, 401);
    if (err instanceof NotAcceptable) return sendError(req, reply, err, d, 406);
    if (err instanceof PreconditionFailed) return sendError(req, reply, err, d, 412);
    if (err instanceof YangError) return sendError(req, reply, err, d);
    // fastify's own refusals: body too large, unsupported media type, unparsable request.
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendError(req, reply, new YangError({ tag: 'too-big', type: 'transport', message: `request body larger than ${maxBody} bytes` }), d);
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || err.statusCode === 415) {
      return sendError(req, reply, new YangError({ tag: 'invalid-value', type: 'protocol', message: `unsupported content-type ${String(req.headers['content-type'])}` }), d, 415);
    }
    if (err.statusCode && err.statusCode < 500) {
      return sendError(req, reply, new YangError({ tag: 'malformed-message', type: 'rpc', message: err.message }), d, err.statusCode);
    }
    return sendError(req, reply, asYangError(err), d);
  };
}

/** The answer for a URL no route of the plugin serves. */
export function notFoundHandler(d: ErrorDialect) {
  return (req: FastifyRequest, reply: FastifyReply): FastifyReply =>
    sendError(req, reply, new YangError({ tag: 'invalid-value', type: 'protocol', message: `no RESTCONF resource at ${req.method} ${req.url}` }), d, 404);
}
