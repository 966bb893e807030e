/**
 * Errors of the HTTP APIs plugins serve in a dialect of their own (Tacker's, Senlin's, Neutron's,
 * ETSI's ProblemDetails). What an error means in HTTP terms is decided here, once: the platform's
 * 401, fastify's own client errors (a body over the limit, a bad content length...), and the
 * datastore's YANG verdicts; each API then only words the result in its dialect.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { asYangError, YangError } from '../errors.ts';
import { isUnauthorized } from '../northbound/http/edge.ts';
import { refuseDeepJson } from '../yang/json.ts';
import type { PluginContext } from './api.ts';

/** webob's exception class name per status: the type OpenStack APIs give an error nothing names better. */
export const WEBOB_TYPE: Readonly<Record<number, string>> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  500: 'HTTPInternalServerError',
  503: 'HTTPServiceUnavailable',
};

/** YANG error-tags that say the client's data is wrong (400), or that it clashes with what is there (409). */
const BAD_INPUT_TAGS = new Set(['invalid-value', 'missing-element', 'bad-element', 'unknown-element', 'missing-attribute', 'bad-attribute', 'unknown-attribute', 'unknown-namespace', 'malformed-message', 'data-missing']);
/** operation-failed app-tags that are the client's data too (a list too short or long, a must). */
const BAD_INPUT_APP_TAGS = new Set(['too-few-elements', 'too-many-elements', 'must-violation']);
const CONFLICT_TAGS = new Set(['data-exists', 'in-use', 'lock-denied', 'resource-denied']);

/** What an error means to an API client. */
export type ApiErrorClass =
  | { kind: 'unauthorized'; status: 401; message: string }
  /** fastify's own 4xx, with its message. */
  | { kind: 'http'; status: number; message: string }
  /** A YANG verdict (or anything unexpected, as operation-failed), with the status it calls for. */
  | { kind: 'yang'; status: 400 | 403 | 409 | 413 | 500 | 503; error: YangError; message: string };

export function classifyApiError(err: unknown): ApiErrorClass {
  if (isUnauthorized(err)) return { kind: 'unauthorized', status: 401, message: (err as Error).message };
  const status = err instanceof YangError ? undefined : (err as FastifyError | null)?.statusCode;
  if (status && status >= 400 && status < 500) return { kind: 'http', status, message: (err as Error).message };
  const e = asYangError(err);
  const yang = (s: 400 | 403 | 409 | 413 | 500 | 503): ApiErrorClass => ({ kind: 'yang', status: s, error: e, message: e.message });
  if (e.appTag === 'datastore-unavailable') return yang(503);
  if (BAD_INPUT_TAGS.has(e.tag) || (e.tag === 'operation-failed' && e.appTag && BAD_INPUT_APP_TAGS.has(e.appTag))) return yang(400);
  if (CONFLICT_TAGS.has(e.tag)) return yang(409);
  if (e.tag === 'too-big') return yang(413);
  if (e.tag === 'access-denied') return yang(403);
  return yang(500);
}

/** An answer in an API's dialect. */
export interface DialectReply {
  status: number;
  /** The media type of `body`. */
  type: string;
  body: unknown;
}

/**
 * Sets up one encapsulated fastify scope of such an API: bodies are read as text and parsed by
 * the routes (so a bad one is the dialect's 400 like any other bad input, and a body-less
 * request with a JSON content type is no error), a body nested too deep refused first (413); every error and every unknown route is
 * answered in the dialect; a 5xx is logged with the request, under `label`.
 */
export function errorDialect(
  ctx: PluginContext,
  app: FastifyInstance,
  label: string,
  dialect: { error(err: unknown): DialectReply; notFound(req: FastifyRequest): DialectReply },
): void {
  app.removeAllContentTypeParsers();
  // The routes parse JSON themselves; what nests too deep for any of them is refused here, once.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      refuseDeepJson(body as string);
      done(null, body);
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.setErrorHandler((err, req, reply) => {
    const r = dialect.error(err);
    if (r.status >= 500) ctx.log.error({ err, url: req.url }, `${label}: ${req.method} ${req.url} failed`);
    return reply.code(r.status).type(r.type).send(r.body);
  });
  app.setNotFoundHandler((req, reply) => {
    const r = dialect.notFound(req);
    return reply.code(r.status).type(r.type).send(r.body);
  });
}
