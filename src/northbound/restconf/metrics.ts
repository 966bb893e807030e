/**
 * `GET /metrics` on the RESTCONF port: the controller's Prometheus exposition (text format
 * 0.0.4). With `auth: 'basic'` it takes the northbound credentials like every other route (the
 * edge's one check; Prometheus' `basic_auth` scrape setting sends them); with `auth: 'none'` it is
 * public, for scrapers that send none. It sits in the RESTCONF context, so a refusal is the
 * same RESTCONF error (401 access-denied) every route of the port answers.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../telemetry/metrics.ts';

export type MetricsAuth = 'basic' | 'none';

export async function metricsPlugin(app: FastifyInstance, metrics: Metrics, auth: MetricsAuth): Promise<void> {
  app.get('/metrics', { config: { public: auth === 'none' } }, async (_req, reply) => {
    const text = await metrics.exposition();
    return reply.type(metrics.contentType).send(text);
  });
}
