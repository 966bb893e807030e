/**
 * Tracing set-up. Code depends on @opentelemetry/api only; without a registered SDK every span
 * is a no-op and costs next to nothing. An SDK (exporter) is wired here when one is configured.
 */
import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';

export function tracer(name = 'sextant'): Tracer {
  return trace.getTracer(name);
}

/** Runs `fn` in an active span that records a thrown error and always ends. */
export function inSpan<T>(t: Tracer, name: string, fn: (span: Span) => Promise<T>): Promise<T> {
  return t.startActiveSpan(name, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.recordException(e as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      throw e;
    } finally {
      span.end();
    }
  });
}
