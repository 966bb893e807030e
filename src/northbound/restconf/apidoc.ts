/**
 * The API description: `/openapi.json` (OpenAPI 3 generated from the loaded YANG, built once)
 * and a browsable explorer at `/apidoc` (swagger-ui, served from the installed package).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { YangError } from '../../errors.ts';
import { errorHandler, sendError, type ErrorDialect } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import type { RestconfContext } from './server.ts';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'application/javascript',
  'swagger-ui-standalone-preset.js': 'application/javascript',
};
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Sextant RESTCONF API</title>
<link rel="stylesheet" href="/apidoc/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/apidoc/swagger-ui-bundle.js"></script>
<script src="/apidoc/swagger-ui-standalone-preset.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });</script>
</body></html>
`;

export async function apidocPlugin(app: FastifyInstance, ctx: RestconfContext): Promise<void> {
  const dialect: ErrorDialect = { dialect: 'rfc8040', schema: ctx.schema, dataMissingIs404: ctx.dataMissingIs404 };
  app.setErrorHandler(errorHandler(dialect, ctx.maxBody));
  let openapi: string | undefined;
  app.get('/openapi.json', (_req, reply) => reply.type('application/json').send((openapi ??= JSON.stringify(openApiDocument(ctx.schema)))));
  app.get('/apidoc', (_req, reply) => reply.type('text/html').send(PAGE));
  app.get('/apidoc/:asset', (req, reply) => {
    const asset = (req.params as { asset: string }).asset;
    const type = ASSETS[asset];
    if (!type) return sendError(req, reply, new YangError({ tag: 'invalid-value', type: 'protocol', message: `no asset ${asset}` }), dialect, 404);
    return reply.type(type).send(readFileSync(join(swaggerUiDir, asset)));
  });
}
