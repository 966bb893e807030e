/**
 * RFC 8040 under `/rests`: the data resource (`/rests/data/<api-path>`), operations (listed by
 * GET, run by POST), and module
 * text (`/rests/modules/<module>[/<revision>]`). Errors in the RFC 8040 dialect: error-path as an
 * instance-identifier (section 7.1), data-missing 409 unless --data-missing-is-404.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { YangError } from '../../errors.ts';
import { formatPath, parseApiPath, resolvePath } from '../../yang/path.ts';
import { rawRest, DataVerbs, type DataResource } from './data.ts';
import { errorHandler, notFoundHandler, type ErrorDialect } from './errors.ts';
import { invokeOperation, listOperations } from './operations.ts';
import { useReplyCache } from './reply-cache.ts';
import type { RestconfContext } from './server.ts';

/** Registered with prefix `/rests`. */
export async function rfc8040Plugin(app: FastifyInstance, ctx: RestconfContext): Promise<void> {
  const dialect: ErrorDialect = { dialect: 'rfc8040', schema: ctx.schema, dataMissingIs404: ctx.dataMissingIs404 };
  app.setErrorHandler(errorHandler(dialect, ctx.maxBody));
  app.setNotFoundHandler(notFoundHandler(dialect));
  useReplyCache(app, ctx.cache, ctx.data);

  const verbs = new DataVerbs(ctx);
  const data: DataResource = {
    dialect: 'rfc8040',
    path: (req) => {
      const rest = rawRest(req, /^\/rests\/data\/?/);
      return resolvePath(ctx.schema, parseApiPath(rest), `/${rest}`);
    },
    location: (path) => `/rests/data${formatPath(path)}`,
  };
  for (const url of ['/data', '/data/*']) {
    app.get(url, { config: { replyCache: true } }, (req, reply) => verbs.get(data, req, reply));
    app.put(url, (req, reply) => verbs.put(data, req, reply));
    app.post(url, (req, reply) => verbs.post(data, req, reply));
    app.patch(url, (req, reply) => verbs.patch(data, req, reply));
    app.delete(url, (req, reply) => verbs.delete(data, req, reply));
    app.options(url, (req, reply) => verbs.options(data, req, reply));
  }

  const operationName = (req: FastifyRequest) => decodeURIComponent(rawRest(req, /^\/rests\/operations\//));
  app.get('/operations', (req, reply) => listOperations(ctx, 'rfc8040', req, reply));
  app.get('/operations/*', (req, reply) => listOperations(ctx, 'rfc8040', req, reply, operationName(req) || undefined));
  app.post('/operations/*', (req, reply) => invokeOperation(ctx, operationName(req), 'rfc8040', req, reply));
  app.options('/operations', (_req, reply) => reply.code(200).header('Allow', 'GET, HEAD, OPTIONS').send());
  app.options('/operations/*', (_req, reply) => reply.code(200).header('Allow', 'GET, HEAD, OPTIONS, POST').send());

  const moduleText = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const { module, revision } = req.params as { module: string; revision?: string };
    const info = ctx.schema.modules.get(module);
    if (info && (revision === undefined || revision === info.revision)) return reply.type('application/yang').send(info.text);
    for (const m of ctx.schema.modules.values()) {
      const sub = m.submodules.find((s) => s.name === module && (revision === undefined || s.revision === revision));
      if (sub) return reply.type('application/yang').send(readFileSync(sub.file, 'utf8'));
    }
    throw new YangError({ tag: 'data-missing', type: 'protocol', message: `no module ${module}${revision ? `@${revision}` : ''}` });
  };
  app.get('/modules/:module/:revision', moduleText);
  app.get('/modules/:module', moduleText);
}
