/**
 * OpenDaylight's legacy RESTCONF under `/restconf` (draft-bierman-02 as ODL served it):
 * `/restconf/config|operational/<path>` with keys as segments, `/restconf/operations` (the list)
 * and `/restconf/operations/<rpc>`,
 * `/restconf/modules`. Errors in ODL's dialect: missing data 404, error-path as the api-path.
 */
import type { FastifyInstance } from 'fastify';
import type { StoreName } from '../../datastore/datastore.ts';
import type { InstancePath } from '../../yang/path.ts';
import { DataVerbs, rawRest, type DataResource } from './data.ts';
import { errorHandler, notFoundHandler, type ErrorDialect } from './errors.ts';
import { legacyPath } from './legacy-path.ts';
import { DATA_TYPE, responseEncoding } from './negotiation.ts';
import { invokeOperation, listOperations } from './operations.ts';
import { useReplyCache } from './reply-cache.ts';
import type { RestconfContext } from './server.ts';

/** The legacy URL form of a path: keys as extra segments. */
function legacyText(path: InstancePath): string {
  let out = '';
  for (const s of path) {
    out += `/${s.member}`;
    if (s.key !== undefined) out += `/${s.key.split(',').join('/')}`;
  }
  return out;
}

/** Registered with prefix `/restconf`. */
export async function legacyPlugin(app: FastifyInstance, ctx: RestconfContext): Promise<void> {
  const dialect: ErrorDialect = { dialect: 'legacy', schema: ctx.schema, dataMissingIs404: ctx.dataMissingIs404 };
  app.setErrorHandler(errorHandler(dialect, ctx.maxBody));
  app.setNotFoundHandler(notFoundHandler(dialect));
  useReplyCache(app, ctx.cache, ctx.data);

  const verbs = new DataVerbs(ctx);
  for (const store of ['config', 'operational'] as const satisfies StoreName[]) {
    const prefix = new RegExp(`^/restconf/${store}/?`);
    const data: DataResource = {
      dialect: 'legacy',
      store,
      path: (req) => legacyPath(ctx.schema, rawRest(req, prefix)),
      location: (path) => `/restconf/${store}${legacyText(path)}`,
    };
    const url = `/${store}/*`;
    app.get(url, { config: { replyCache: true } }, (req, reply) => verbs.get(data, req, reply));
    app.put(url, (req, reply) => verbs.put(data, req, reply));
    app.post(url, (req, reply) => verbs.post(data, req, reply));
    app.delete(url, (req, reply) => verbs.delete(data, req, reply));
    // POST on the store itself creates a top-level node.
    app.post(`/${store}`, (req, reply) => verbs.post(data, req, reply));
  }
  app.get('/operations', (req, reply) => listOperations(ctx, 'legacy', req, reply));
  app.post('/operations/*', (req, reply) => invokeOperation(ctx, decodeURIComponent(rawRest(req, /^\/restconf\/operations\//)), 'legacy', req, reply));
  app.get('/modules', (req, reply) => {
    const modules = [...ctx.schema.modules.values()].map((m) => ({ name: m.name, revision: m.revision ?? '', namespace: m.namespace }));
    if (responseEncoding(req) === 'xml') {
      const items = modules.map((m) => `<module><name>${m.name}</name><revision>${m.revision}</revision><namespace>${m.namespace}</namespace></module>`).join('');
      return reply.type(DATA_TYPE.xml).send(`<modules xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">${items}</modules>`);
    }
    return reply.type(DATA_TYPE.json).send(JSON.stringify({ modules: { module: modules } }));
  });
}
