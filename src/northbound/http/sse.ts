/**
 * Server-sent events (the WHATWG `text/event-stream` format), the one writer behind every stream
 * the listeners serve: RESTCONF's notification stream and the console's change feed.
 *
 * What both need, kept here once: the response headers, a comment line every `keepaliveMs` (so
 * proxies and the socket's idle timeout do not close a quiet stream), and a bound on what waits for
 * a client that stops reading: past `maxBuffered` bytes the stream is ended instead of growing the
 * server (EventSource reconnects by itself; RESTCONF clients resume with `start-time`).
 */
import type { Writable } from 'node:stream';

export const EVENT_STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // nginx would otherwise buffer the stream and deliver events late.
  'x-accel-buffering': 'no',
} as const;

/** A comment line this often keeps proxies and the socket's idle timeout from closing the stream. */
export const KEEPALIVE_MS = 15_000;
/** Bytes queued for a client that does not read, before its stream is cut. */
export const MAX_BUFFERED = 64 * 1024 * 1024;

export interface EventStreamOptions {
  keepaliveMs?: number;
  maxBuffered?: number;
  /** Runs once, however the stream ends (client gone, cut for not reading, closed by us). */
  onClose?: () => void;
}

export class EventStream {
  private ended = false;
  private readonly keepalive: NodeJS.Timeout;
  private readonly maxBuffered: number;

  constructor(
    private readonly out: Writable,
    private readonly options: EventStreamOptions = {},
  ) {
    this.maxBuffered = options.maxBuffered ?? MAX_BUFFERED;
    this.keepalive = setInterval(() => this.comment('keepalive'), options.keepaliveMs ?? KEEPALIVE_MS);
    this.keepalive.unref();
    out.once('close', () => this.close());
  }

  get closed(): boolean {
    return this.ended;
  }

  /** One event: `data` as JSON (one line, so it never breaks the framing), with an `event:` name if given. */
  send(data: unknown, event?: string): void {
    this.write(`${event !== undefined ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    this.write(`: ${text}\n\n`);
  }

  /** The reconnection delay EventSource should use. */
  retry(ms: number): void {
    this.write(`retry: ${ms}\n\n`);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepalive);
    this.options.onClose?.();
    this.out.end();
  }

  private write(chunk: string): void {
    if (this.ended) return;
    if (this.out.writableLength > this.maxBuffered) return this.close();
    this.out.write(chunk);
  }
}
