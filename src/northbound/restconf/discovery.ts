/** RFC 8040 section 3.1 root discovery: `/.well-known/host-meta` (XRD) and its JSON form. */
import type { FastifyInstance } from 'fastify';
import { errorHandler } from './errors.ts';
import type { RestconfContext } from './server.ts';

export async function discoveryPlugin(app: FastifyInstance, ctx: RestconfContext): Promise<void> {
  app.setErrorHandler(errorHandler({ dialect: 'rfc8040', schema: ctx.schema, dataMissingIs404: ctx.dataMissingIs404 }, ctx.maxBody));
  app.get('/.well-known/host-meta', (_req, reply) =>
    reply.type('application/xrd+xml').send('<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0"><Link rel="restconf" href="/rests"/></XRD>'),
  );
  app.get('/.well-known/host-meta.json', (_req, reply) => reply.type('application/json').send({ links: [{ rel: 'restconf', href: '/rests' }] }));
}
