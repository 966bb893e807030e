/**
 * The web console at `/console` on the RESTCONF listener, behind the same authentication (the
 * edge's root hook: the page, its assets and its event stream are never public). The platform
 * part knows no application: it serves a page shell and its generic browser modules (`assets/`:
 * the event stream client, RESTCONF calls, the confirmation dialog, a JSON renderer), the view
 * modules plugins contribute (`Plugin.console`, served under `/console/views/<plugin>/`), and
 * one generic stream of datastore changes (events.ts). The views read only the published YANG
 * data and call rpcs over RESTCONF, as any client does.
 *
 *   GET /console                      the page (its views in plugin start order)
 *   GET /console/assets/<file>        the shell's modules and style
 *   GET /console/views/<plugin>/<file> a plugin's view modules
 *   GET /console/events?watch=[...]   server-sent events (events.ts)
 *
 * Files are read once at start: no build step, nothing looked up on disk per request, and no
 * path a request names can leave the folders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Datastore } from '../../datastore/datastore.ts';
import { YangError } from '../../errors.ts';
import type { Schema } from '../../yang/schema.ts';
import { isUnauthorized } from '../http/edge.ts';
import { errorHandler, sendError, type ErrorDialect } from '../restconf/errors.ts';
import { ConsoleStreams } from './events.ts';

/** A plugin's contribution: its name and the folder of its browser modules. */
export interface ConsoleView {
  plugin: string;
  dir: string;
}

export interface ConsoleDeps {
  schema: Schema;
  data: Datastore;
  views: ConsoleView[];
  dataMissingIs404: boolean;
  maxBody: number;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** The servable files of a folder (not recursive), by name. */
function readAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[extname(d.name)];
    if (d.isFile() && type) out.set(d.name, { type, body: readFileSync(join(dir, d.name)) });
  }
  return out;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(views: string[]): string {
  const list = JSON.stringify(views).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sextant console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<link rel="modulepreload" href="/console/assets/console.js">
${views.map((v) => `<link rel="modulepreload" href="${escapeHtml(v)}">`).join('\n')}
</head>
<body>
<header><h1>Sextant</h1><span id="stream-state" class="state">connecting</span><span id="summary"></span></header>
<main id="panels"></main>
<dialog id="confirm"></dialog>
<script type="module">
import { startConsole } from '/console/assets/console.js';
startConsole(${list});
</script>
</body></html>
`;
}

export async function consolePlugin(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const dialect: ErrorDialect = { dialect: 'rfc8040', schema: deps.schema, dataMissingIs404: deps.dataMissingIs404 };
  const restconfErrors = errorHandler(dialect, deps.maxBody);
  // A browser shown a RESTCONF JSON error for the page offers it as a download: a browser (it
  // asks for HTML) is told in a line of text; other clients get the RESTCONF error as anywhere
  // on this listener. The edge has set the Basic challenge either way, so the browser asks.
  app.setErrorHandler((err: FastifyError, req, reply) =>
    isUnauthorized(err) && /text\/html/.test(req.headers.accept ?? '')
      ? reply.code(401).type('text/plain; charset=utf-8').send('Sextant console: authentication required (the RESTCONF credentials)\n')
      : restconfErrors(err, req, reply),
  );
  const notFound = (what: string) => new YangError({ tag: 'invalid-value', type: 'protocol', message: `no console ${what}` });

  const shell = readAssets(join(import.meta.dirname, 'assets'));
  const views = new Map(deps.views.map((v) => [v.plugin, readAssets(v.dir)]));
  const entries = [...views].filter(([, files]) => files.has('view.js')).map(([plugin]) => `/console/views/${encodeURIComponent(plugin)}/view.js`);
  const html = page(entries);
  const streams = new ConsoleStreams(deps.data);

  // A stream never ends by itself: closing the listener ends them, or close would wait forever.
  app.addHook('preClose', (done) => {
    streams.closeAll();
    done();
  });

  app.get('/console', (_req, reply) => reply.type(TYPES['.html']).header('Cache-Control', 'no-cache').send(html));
  app.get('/console/assets/:file', (req, reply) => {
    const { file } = req.params as { file: string };
    const asset = shell.get(file);
    if (!asset) return sendError(req, reply, notFound(`asset ${escapeHtml(file)}`), dialect, 404);
    return reply.type(asset.type).header('Cache-Control', 'no-cache').send(asset.body);
  });
  app.get('/console/views/:plugin/:file', (req, reply) => {
    const { plugin, file } = req.params as { plugin: string; file: string };
    const asset = views.get(plugin)?.get(file);
    if (!asset) return sendError(req, reply, notFound(`view ${escapeHtml(plugin)}/${escapeHtml(file)}`), dialect, 404);
    return reply.type(asset.type).header('Cache-Control', 'no-cache').send(asset.body);
  });
  app.get('/console/events', (req, reply) => streams.open(req, reply));
}
