/**
 * `GET /metrics` on the RESTCONF port: the controller's Prometheus exposition (text format
 * 0.0.4). With `auth: 'basic'` it takes the northbound credentials like every other route (the
 * edge's one check; Prometheus' `basic_auth` scrape setting sends them); with `auth: 'none'` it is
 * public, for scrapers that send none. Its own encapsulated context answers in plain text, the
 * way Prometheus endpoints do, not in RESTCONF's error format.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { isUnauthorized } from '../http/edge.ts';
import type { Metrics } from '../../telemetry/metrics.ts';

export type MetricsAuth = 'basic' | 'none';

export const METRICS_AUTH: readonly MetricsAuth[] = ['basic', 'none'];

export async function metricsPlugin(app: FastifyInstance, metrics: Metrics, auth: MetricsAuth): Promise<void> {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const status = isUnauthorized(err) ? 401 : err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    return reply.code(status).type('text/plain; charset=utf-8').send(`${err.message}\n`);
  });
  app.get('/metrics', { config: { public: auth === 'none' } }, async (_req, reply) => {
    const text = await metrics.exposition();
    return reply.type(metrics.contentType).send(text);
  });
}
