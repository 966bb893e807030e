/**
 * The CLI's RESTCONF client: JSON reads of the data resource, rpcs, and the notification stream,
 * with Basic auth. Every failure becomes a CliError carrying the exit code scripts rely on
 * (exit-codes.ts), with a message that says what to do.
 */
import { CliError, EXIT } from './exit-codes.ts';

export interface Connection {
  url: string;
  user: string;
  password: string;
  /** Per request (ms). */
  timeoutMs: number;
}

interface RestconfErrorBody {
  errors?: { error?: { 'error-tag'?: string; 'error-message'?: string; 'error-path'?: string }[] };
}

export class RestconfClient {
  private readonly base: string;

  constructor(private readonly conn: Connection) {
    this.base = conn.url.replace(/\/+$/, '');
  }

  get url(): string {
    return this.base;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Basic ${Buffer.from(`${this.conn.user}:${this.conn.password}`).toString('base64')}`, ...extra };
  }

  private async send(method: string, path: string, body?: unknown, signal?: AbortSignal, accept = 'application/yang-data+json'): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: this.headers({ accept, ...(body !== undefined ? { 'content-type': 'application/yang-data+json' } : {}) }),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ?? AbortSignal.timeout(this.conn.timeoutMs),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw new CliError(EXIT.TIMEOUT, `no answer from ${this.base} within ${this.conn.timeoutMs} ms (${method} ${path})`);
      }
      throw new CliError(EXIT.UNREACHABLE, `cannot reach the controller at ${this.base}: ${cause} (set --url or SEXTANT_URL)`);
    }
    if (res.status === 401) {
      await res.body?.cancel();
      throw new CliError(EXIT.AUTH, `authentication failed: ${this.base} refused user "${this.conn.user}" (401); check --user/--password or SEXTANT_USER/SEXTANT_PASSWORD`);
    }
    if (res.status === 403) {
      await res.body?.cancel();
      throw new CliError(EXIT.AUTH, `access denied to user "${this.conn.user}" (403) for ${method} ${path}`);
    }
    return res;
  }

  private async failure(res: Response, what: string): Promise<CliError> {
    const text = await res.text();
    let first: NonNullable<NonNullable<RestconfErrorBody['errors']>['error']>[number] | undefined;
    try {
      first = (JSON.parse(text) as RestconfErrorBody).errors?.error?.[0];
    } catch {
      // not a RESTCONF error body
    }
    const message = first ? `${first['error-tag'] ?? 'error'}: ${first['error-message'] ?? ''}`.trim() : `HTTP ${res.status} ${text.slice(0, 200)}`;
    return new CliError(EXIT.ERROR, `${what}: ${message}`, { status: res.status, tag: first?.['error-tag'] });
  }

  /**
   * GET of a data resource as JSON (`content` config or nonconfig); undefined when it holds no
   * data (404, or 409 data-missing as RFC 8040 answers by default).
   */
  async get<T>(apiPath: string, content?: 'config' | 'nonconfig'): Promise<T | undefined> {
    const path = `/rests/data${apiPath}${content ? `?content=${content}` : ''}`;
    const res = await this.send('GET', path);
    if (res.status === 200) {
      const json = (await res.json()) as Record<string, unknown>;
      return Object.values(json)[0] as T;
    }
    const err = await this.failure(res, `GET ${apiPath}`);
    if (err.detail.status === 404 || err.detail.tag === 'data-missing') return undefined;
    throw err;
  }

  /** Invokes `module:rpc`; the output (without its wrapper), or {} for an rpc without output. */
  async rpc<T = Record<string, unknown>>(name: string, input: Record<string, unknown>): Promise<T> {
    const res = await this.send('POST', `/rests/operations/${name}`, { input });
    if (res.status === 204) return {} as T;
    if (res.status === 200) return (Object.values((await res.json()) as Record<string, unknown>)[0] ?? {}) as T;
    throw await this.failure(res, name);
  }

  /**
   * The RESTCONF notification stream (server-sent events): calls `onEvent` with each event's
   * JSON, and `onOpen` once the replay (if `since` was given) is over. Resolves when the stream
   * ends or `signal` aborts.
   */
  async stream(onEvent: (json: Record<string, unknown>) => void, opts: { since?: string; signal: AbortSignal; onOpen?: () => void }): Promise<void> {
    const query = opts.since ? `?start-time=${encodeURIComponent(opts.since)}` : '';
    const res = await this.send('GET', `/rests/streams/json/NETCONF${query}`, undefined, opts.signal, 'text/event-stream');
    if (res.status !== 200) throw await this.failure(res, 'notification stream');
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.startsWith(': stream open')) opts.onOpen?.();
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (data) onEvent(JSON.parse(data) as Record<string, unknown>);
        }
      }
    } catch (err) {
      if (opts.signal.aborted) return;
      throw err;
    } finally {
      reader.releaseLock();
    }
  }
}
