/**
 * What every route of Tacker's ETSI APIs (vnfpkgm, vnflcm) shares: the one mapping of whatever a
 * request raises to a SOL013 ProblemDetails answer, how a JSON body is read, the base URL links
 * are made of, and a list's filter and paging (listing.ts) with its `Link` header.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PluginContext } from '../../src/plugin/api.ts';
import { classifyApiError, errorDialect } from '../../src/plugin/api-errors.ts';
import { badRequest, notFound, ProblemError, problemOf } from './lifecycle.ts';
import { matches, page, parseFilter, type SortKey } from './listing.ts';
import { isObject, type Json } from './model.ts';

export type Query = Record<string, string | string[] | undefined>;

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
};

/** The one error mapper: the edge's 401, fastify's own 4xx (a body over the limit...), then problemOf. */
export function problemOfRequest(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  const c = classifyApiError(err);
  if (c.kind === 'unauthorized') return new ProblemError(401, TITLES[401]!, 'The request you have made requires authentication: send X-Auth-Token or Basic credentials.');
  if (c.kind === 'http') return new ProblemError(c.status, TITLES[c.status] ?? 'Client Error', c.message);
  // A body the platform refused as too big for it (nested too deep): 413, as on every API.
  if (c.status === 413) return new ProblemError(413, TITLES[413]!, c.message);
  return problemOf(err);
}

/**
 * Error handling and body parsing for one encapsulated scope: every error a ProblemDetails with
 * `application/problem+json`; bodies read as text and parsed by the route (a bad one is then a
 * ProblemDetails 400 like any other bad input).
 */
export function problemScope(ctx: PluginContext, app: FastifyInstance): void {
  const answer = (p: ProblemError) => ({ status: p.status, type: 'application/problem+json', body: p.body() });
  errorDialect(ctx, app, 'tacker API', {
    error: (err) => answer(problemOfRequest(err)),
    notFound: (req) => answer(notFound(`No such resource: ${req.method} ${req.url.split('?')[0]}.`)),
  });
}

/** The request body as a JSON object (what every ETSI request body is). */
export function jsonObject(body: unknown, what: string): Json {
  if (typeof body !== 'string' || body.trim() === '') throw badRequest(`The request needs a JSON body (${what}).`);
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    throw badRequest(`The body is not JSON (${(e as Error).message}).`);
  }
  if (!isObject(v)) throw badRequest(`The body must be a JSON object (${what}).`);
  return v;
}

/** The URL the client reached us at: links and Location point back there. */
export const baseUrl = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

const single = (q: Query, name: string): string | undefined => {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest(`${name} may be given once.`);
  return v;
};

/** An entry of a list: where it sorts, and the JSON the client sees (what the filter reads). */
export interface Listed {
  key: SortKey;
  json: unknown;
}

/** The page of `all` the request asks for; a `Link` to the next page when there is one. */
export function listPage(req: FastifyRequest, reply: FastifyReply, all: Listed[], attributes: ReadonlySet<string>, pageSize: number): unknown[] {
  const q = req.query as Query;
  const filter = single(q, 'filter');
  const conditions = filter === undefined ? [] : parseFilter(filter, attributes);
  const { entries, next } = page(
    all.filter((e) => matches(e.json, conditions)),
    (e) => e.key,
    single(q, 'nextpage_opaque_marker'),
    pageSize,
  );
  if (next) {
    const [path, search] = req.url.split('?') as [string, string | undefined];
    const params = new URLSearchParams(search);
    params.set('nextpage_opaque_marker', next);
    reply.header('Link', `<${baseUrl(req)}${path}?${params}>; rel="next"`);
  }
  return entries.map((e) => e.json);
}
