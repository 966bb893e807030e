/**
 * Tracing set-up. Code depends on @opentelemetry/api only; without a registered SDK every span
 * is a no-op and costs next to nothing. An SDK (exporter) is wired here when one is configured.
 */
import { trace, type Tracer } from '@opentelemetry/api';

export function tracer(name = 'sextant'): Tracer {
  return trace.getTracer(name);
}
