/**
 * Tracing set-up. Code depends on @opentelemetry/api only; without a registered SDK every span
 * is a no-op and costs next to nothing. The SDK (an OTLP/HTTP exporter) is wired here, and only
 * here, when `--otlp-endpoint` is set (startTraceExport).
 */
import { context, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { ReadableSpan, Sampler, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';

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

/**
 * Trace export over OTLP/HTTP (JSON, to `<endpoint>/v1/traces`), the one place the SDK is wired.
 *
 * The OpenTelemetry API's tracer provider is process-wide, and every component took its tracer
 * from it at import time, so the SDK provider is registered once per process and never replaced
 * (the API's proxies keep the first provider they were given). Each exporting controller attaches
 * its own batch processor, exporter and resource (service.name, service.instance.id) to it and
 * detaches at stop, after flushing. While nothing is attached the sampler records nothing, so
 * spans cost what the no-op API costs. Two exporting controllers in one process each receive
 * every span of the process (the API cannot tell whose a span is); one controller per process,
 * as `npm start` runs, exports exactly its own.
 */
const attachedExports = new Set<SpanProcessor>();
let registered: Promise<boolean> | undefined;

/**
 * The SDK's modules, loaded on the first export only: importing them costs ~100 ms, which every
 * start without `--otlp-endpoint` would pay for nothing.
 */
async function loadSdk() {
  const [base, otlp, resources, hooks] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/context-async-hooks'),
  ]);
  return { base, otlp, resources, hooks };
}
type Sdk = Awaited<ReturnType<typeof loadSdk>>;

/** Hands every ended span to each attached export. */
const fanOut: SpanProcessor = {
  onStart: () => undefined,
  onEnd: (span) => {
    for (const p of attachedExports) p.onEnd(span);
  },
  forceFlush: async () => {
    await Promise.all([...attachedExports].map((p) => p.forceFlush()));
  },
  shutdown: async () => undefined,
};

function registerProvider({ base, hooks }: Sdk): boolean {
  const recordWhileExporting: Sampler = {
    shouldSample: () => ({ decision: attachedExports.size ? base.SamplingDecision.RECORD_AND_SAMPLED : base.SamplingDecision.NOT_RECORD }),
    toString: () => 'sextant: recorded while a trace export is attached',
  };
  const provider = new base.BasicTracerProvider({ sampler: recordWhileExporting, spanProcessors: [fanOut] });
  // False when someone else (a test's in-memory provider) registered first: then we export nothing.
  if (!trace.setGlobalTracerProvider(provider)) return false;
  // Without a context manager no span would know its parent (a commit inside its request).
  context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable());
  return true;
}

/** How long one export may take (the exporter's retries included). */
const EXPORT_TIMEOUT_MS = 5_000;
/** How long a stop waits for the last spans to go out. */
const STOP_FLUSH_MS = 2_000;

export interface TraceExportOptions {
  /** Collector base URL (`http://host:4318`); spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** Resource attributes: service.name (default `sextant`), service.instance.id (the member id). */
  serviceName?: string;
  instanceId: string;
  log: Logger;
}

export interface TraceExport {
  /** Sends what is buffered, then detaches; later spans are not exported by this controller. */
  shutdown(): Promise<void>;
}

export async function startTraceExport(opts: TraceExportOptions): Promise<TraceExport> {
  const sdk = await loadSdk();
  registered ??= Promise.resolve(registerProvider(sdk));
  if (!(await registered)) {
    opts.log.warn('--otlp-endpoint: another OpenTelemetry tracer provider is registered in this process; spans go to it, not to the endpoint');
    return { shutdown: async () => undefined };
  }
  const url = `${opts.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const resource = sdk.resources.resourceFromAttributes({ 'service.name': opts.serviceName ?? 'sextant', 'service.instance.id': opts.instanceId });
  // A collector that is down must not hold a request's work nor the controller's stop for long.
  const batch = new sdk.base.BatchSpanProcessor(new sdk.otlp.OTLPTraceExporter({ url, timeoutMillis: EXPORT_TIMEOUT_MS }), { exportTimeoutMillis: EXPORT_TIMEOUT_MS });
  // The provider's resource is the process's; each export labels the spans with its controller's.
  const attached: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => batch.onEnd(Object.create(span, { resource: { value: resource } }) as ReadableSpan),
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  };
  attachedExports.add(attached);
  opts.log.info({ url }, 'exporting traces over OTLP/HTTP');
  let stopped = false;
  return {
    async shutdown() {
      if (stopped) return;
      stopped = true;
      attachedExports.delete(attached);
      // The last spans get a bounded chance: a stop does not wait out a collector that is down.
      let timer: NodeJS.Timeout | undefined;
      const flushed = batch.shutdown().then(
        () => true,
        (e: unknown) => {
          opts.log.warn({ err: e, url }, 'the last spans could not be exported');
          return true;
        },
      );
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), STOP_FLUSH_MS)));
      if (!(await Promise.race([flushed, late]))) opts.log.warn({ url }, `the last spans were not exported within ${STOP_FLUSH_MS} ms; stopping without them`);
      clearTimeout(timer);
    },
  };
}
