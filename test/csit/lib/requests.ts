/**
 * HTTP requests from template folders, after OpenDaylight CSIT's TemplatedRequests library.
 *
 * A template folder holds:
 *   location.uri      the request path (e.g. `/rests/data/mod:top/item=$NAME`), may hold `$VAR`
 *   data.json|xml     the body to PUT / PATCH / POST, and the body a GET expects when there is
 *                     no response file
 *   post_data.json|xml  a POST body that differs from the data (optional)
 *   response.json|xml what a GET expects (optional), or what a write answers when the write is
 *                     asked to verify (operations)
 *   status            the status codes a write may answer, e.g. `201` or `201 204` (optional;
 *                     ALLOWED_STATUS_CODES otherwise)
 *   normalize.json    comparison options (optional):
 *                     `{"unorderedLists": true | ["tags", ...], "unordered": true | ["registry"]}`
 *                     (JSON arrays / XML children compared as sets)
 *
 * `$VAR` and `${VAR}` are replaced from the mapping (`$$` is a literal `$`, unknown names are
 * left alone, like Python's Template.safe_substitute that CSIT uses). In the URI the values are
 * percent-encoded as RFC 8040 encodes list keys; in bodies they go in verbatim. Each file's one
 * final newline is dropped.
 *
 * Relative folders are taken under `test/csit/restconf/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { compareJson, type NormalizeJsonOptions } from './json.ts';
import { childText, compareXml, parseXml, type NormalizeXmlOptions } from './xml.ts';

/** Used by PUT, POST, PATCH and DELETE when the resource should be (or have been) there. */
export const ALLOWED_STATUS_CODES: readonly number[] = [200, 201, 204];
/** What a DELETE of a missing resource may answer: RESTCONF data-missing is 409, or 404. */
export const DELETED_STATUS_CODES: readonly number[] = [404, 409];
/** A DELETE that does not care whether the resource was there. */
export const ALLOWED_DELETE_STATUS_CODES: readonly number[] = [...ALLOWED_STATUS_CODES, ...DELETED_STATUS_CODES];
/** A user error in the data. */
export const DATA_VALIDATION_ERROR: readonly number[] = [400];
export const UNAUTHORIZED_STATUS_CODES: readonly number[] = [401];

export const TEMPLATE_ROOT = resolve(import.meta.dirname, '../restconf');

export const JSON_TYPE = 'application/yang-data+json';
export const XML_TYPE = 'application/yang-data+xml';

export type Mapping = Record<string, string | number | bigint | boolean>;
export type Format = 'json' | 'xml';

export interface Credentials {
  user: string;
  password: string;
}

// ---------------------------------------------------------------------------------------------
// Substitution and encoding

/** Percent-encodes a list key value as RFC 8040 section 3.5.3 asks (also `!'()*`). */
export function encodeKey(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const PLACEHOLDER = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/**
 * Replaces `$VAR` / `${VAR}` with mapping values, each passed through `encode` (verbatim by
 * default). `$$` becomes `$`; a name not in the mapping is left as written.
 */
export function substitute(text: string, mapping: Mapping = {}, encode: (v: string) => string = (v) => v): string {
  return text.replace(PLACEHOLDER, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare;
    if (name === undefined) return '$';
    if (!Object.prototype.hasOwnProperty.call(mapping, name)) return whole;
    return encode(String(mapping[name]));
  });
}

/** A URI template with the mapping's values percent-encoded. */
export function resolveUri(template: string, mapping: Mapping = {}): string {
  return substitute(template.trim(), mapping, encodeKey);
}

/** A body template with the mapping's values inserted verbatim. */
export function resolveBody(template: string, mapping: Mapping = {}): string {
  return substitute(template, mapping);
}

// ---------------------------------------------------------------------------------------------
// Template folders

export interface Template {
  folder: string;
  uri: string;
  data: Partial<Record<Format, string>>;
  postData: Partial<Record<Format, string>>;
  response: Partial<Record<Format, string>>;
  status?: number[];
  normalize: NormalizeJsonOptions & NormalizeXmlOptions;
}

function dropFinalNewline(s: string): string {
  return s.endsWith('\r\n') ? s.slice(0, -2) : s.endsWith('\n') ? s.slice(0, -1) : s;
}

export function templateFolder(folder: string): string {
  return isAbsolute(folder) ? folder : join(TEMPLATE_ROOT, folder);
}

/** Reads a template folder (without substituting anything). */
export function readTemplate(folder: string): Template {
  const dir = templateFolder(folder);
  const read = (name: string): string | undefined => {
    const p = join(dir, name);
    return existsSync(p) ? dropFinalNewline(readFileSync(p, 'utf8')) : undefined;
  };
  const uri = read('location.uri');
  if (uri === undefined) throw new Error(`template folder ${dir} has no location.uri`);
  const pick = (base: string): Partial<Record<Format, string>> => {
    const out: Partial<Record<Format, string>> = {};
    const j = read(`${base}.json`);
    const x = read(`${base}.xml`);
    if (j !== undefined) out.json = j;
    if (x !== undefined) out.xml = x;
    return out;
  };
  const statusText = read('status');
  const status = statusText
    ?.split(/[\s,]+/)
    .filter(Boolean)
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n)) throw new Error(`template folder ${dir}: bad status "${s}"`);
      return n;
    });
  const normText = read('normalize.json');
  return {
    folder: dir,
    uri: uri.trim(),
    data: pick('data'),
    postData: pick('post_data'),
    response: pick('response'),
    status,
    normalize: normText ? (JSON.parse(normText) as NormalizeJsonOptions & NormalizeXmlOptions) : {},
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP

export class HttpResponse {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
  ) {}

  get contentType(): string {
    return this.headers.get('content-type') ?? '';
  }

  get location(): string | null {
    return this.headers.get('location');
  }

  /** The body parsed as JSON; throws with the body in the message when it is not JSON. */
  json<T = unknown>(): T {
    try {
      return JSON.parse(this.body) as T;
    } catch (e) {
      throw new Error(`${this.describe()}: body is not JSON (${(e as Error).message})`);
    }
  }

  describe(): string {
    const body = this.body.length > 2000 ? `${this.body.slice(0, 2000)}...` : this.body;
    return `${this.method} ${this.url} -> ${this.status} ${this.contentType}\n${body}`;
  }
}

export interface RequestOptions {
  /** The request body; a string (even an empty one) makes fetch send text/plain unless contentType is set. */
  body?: string;
  contentType?: string;
  /** The Accept header; omitted when undefined (fetch then sends its own). */
  accept?: string;
  headers?: Record<string, string>;
  /** Credentials for this request: undefined uses the session's, null sends no Authorization. */
  auth?: Credentials | null;
  timeoutMs?: number;
}

export function basicAuth(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`, 'utf8').toString('base64')}`;
}

/** A base URL with credentials: the CSIT "default session". */
export class Session {
  readonly baseUrl: string;
  private readonly spread: string[];
  private turn = 0;

  /**
   * `baseUrl` may list several instances of one cluster (comma-separated): each request then goes
   * to the next one in turn, as a client spreading its calls over a cluster does.
   */
  constructor(baseUrl: string, readonly auth: Credentials | null = { user: 'admin', password: 'admin' }) {
    this.spread = baseUrl.split(',').map((u) => u.trim().replace(/\/+$/, ''));
    this.baseUrl = this.spread[0];
  }

  url(path: string): string {
    if (/^https?:\/\//.test(path)) return path;
    const base = this.spread.length > 1 ? this.spread[this.turn++ % this.spread.length] : this.baseUrl;
    return `${base}${path.startsWith('/') ? '' : '/'}${path}`;
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    const url = this.url(path);
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const auth = opts.auth === undefined ? this.auth : opts.auth;
    if (auth) headers.authorization = basicAuth(auth);
    if (opts.accept !== undefined) headers.accept = opts.accept;
    if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
    const res = await fetch(url, {
      method,
      headers,
      body: opts.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
    const body = await res.text();
    return new HttpResponse(method, url, res.status, res.headers, body);
  }

  get(path: string, opts: RequestOptions = {}) {
    return this.request('GET', path, opts);
  }
  put(path: string, body: string, opts: RequestOptions = {}) {
    return this.request('PUT', path, { ...opts, body });
  }
  post(path: string, body: string, opts: RequestOptions = {}) {
    return this.request('POST', path, { ...opts, body });
  }
  patch(path: string, body: string, opts: RequestOptions = {}) {
    return this.request('PATCH', path, { ...opts, body });
  }
  delete(path: string, opts: RequestOptions = {}) {
    return this.request('DELETE', path, opts);
  }

  /** GET with a JSON Accept; returns the response (any status). */
  getJson(path: string, opts: RequestOptions = {}) {
    return this.get(path, { accept: JSON_TYPE, ...opts });
  }
  getXml(path: string, opts: RequestOptions = {}) {
    return this.get(path, { accept: XML_TYPE, ...opts });
  }
  putJson(path: string, body: unknown, opts: RequestOptions = {}) {
    return this.put(path, typeof body === 'string' ? body : JSON.stringify(body), { contentType: JSON_TYPE, accept: JSON_TYPE, ...opts });
  }
  postJson(path: string, body: unknown, opts: RequestOptions = {}) {
    return this.post(path, typeof body === 'string' ? body : JSON.stringify(body), { contentType: JSON_TYPE, accept: JSON_TYPE, ...opts });
  }
  patchJson(path: string, body: unknown, opts: RequestOptions = {}) {
    return this.patch(path, typeof body === 'string' ? body : JSON.stringify(body), { contentType: JSON_TYPE, accept: JSON_TYPE, ...opts });
  }
  putXml(path: string, body: string, opts: RequestOptions = {}) {
    return this.put(path, body, { contentType: XML_TYPE, accept: XML_TYPE, ...opts });
  }
  postXml(path: string, body: string, opts: RequestOptions = {}) {
    return this.post(path, body, { contentType: XML_TYPE, accept: XML_TYPE, ...opts });
  }
  patchXml(path: string, body: string, opts: RequestOptions = {}) {
    return this.patch(path, body, { contentType: XML_TYPE, accept: XML_TYPE, ...opts });
  }
}

let defaultSessionValue: Session | undefined;

/** Sets the session the template helpers use when none is passed (startSuiteController does). */
export function setDefaultSession(s: Session | undefined): void {
  defaultSessionValue = s;
}

export function defaultSession(): Session {
  if (!defaultSessionValue) throw new Error('no default session: call startSuiteController(t) or setDefaultSession() first');
  return defaultSessionValue;
}

// ---------------------------------------------------------------------------------------------
// Status and errors

export class StatusError extends Error {
  override name = 'StatusError';
  constructor(
    readonly response: HttpResponse,
    readonly allowed: readonly number[],
  ) {
    super(`expected status ${allowed.join('|')}, got ${response.describe()}`);
  }
}

/** Throws unless the response's status is in the allow-list; returns the response. */
export function expectStatus(res: HttpResponse, allowList: readonly number[]): HttpResponse {
  if (!allowList.includes(res.status)) throw new StatusError(res, allowList);
  return res;
}

export interface RestconfError {
  'error-type'?: string;
  'error-tag'?: string;
  'error-app-tag'?: string;
  'error-message'?: string;
  'error-path'?: string;
  'error-info'?: unknown;
}

/**
 * The errors of a RESTCONF error body, JSON (`{"errors":{"error":[...]}}`, also with the
 * `ietf-restconf:` prefix) or XML (`<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">`).
 * Throws when the body is not an errors document.
 */
export function readErrors(res: HttpResponse | string): RestconfError[] {
  const body = (typeof res === 'string' ? res : res.body).trim();
  const where = typeof res === 'string' ? 'body' : res.describe();
  if (body.startsWith('<')) {
    const root = parseXml(body);
    if (root.name !== 'errors' || root.ns !== RESTCONF_NS) throw new Error(`not a RESTCONF errors document: ${where}`);
    return root.children
      .filter((c) => c.name === 'error')
      .map((e) => {
        const out: RestconfError = {};
        for (const f of ['error-type', 'error-tag', 'error-app-tag', 'error-message', 'error-path'] as const) {
          const v = childText(e, f);
          if (v !== undefined) out[f] = v;
        }
        const info = e.children.find((c) => c.name === 'error-info');
        if (info) out['error-info'] = info;
        return out;
      });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw new Error(`error body is neither JSON nor XML: ${where}`);
  }
  const errors = (doc as Record<string, unknown>)?.errors ?? (doc as Record<string, unknown>)?.['ietf-restconf:errors'];
  const list = (errors as { error?: unknown })?.error;
  if (!Array.isArray(list)) throw new Error(`not a RESTCONF errors document: ${where}`);
  return list as RestconfError[];
}

export const RESTCONF_NS = 'urn:ietf:params:xml:ns:yang:ietf-restconf';

/**
 * Throws unless the response has this status and an errors body with an error of this tag
 * (any tag when tag is undefined; one of them when it is a list). Returns that error.
 */
export function expectError(res: HttpResponse, status: number | readonly number[], tag?: string | readonly string[]): RestconfError {
  expectStatus(res, typeof status === 'number' ? [status] : status);
  const errors = readErrors(res);
  if (errors.length === 0) throw new Error(`errors body has no error: ${res.describe()}`);
  const tags = tag === undefined ? undefined : typeof tag === 'string' ? [tag] : tag;
  const hit = tags === undefined ? errors[0] : errors.find((e) => tags.includes(e['error-tag'] ?? ''));
  if (!hit) throw new Error(`expected error-tag ${tags!.join('|')}: ${res.describe()}`);
  if (!hit['error-type'] || !hit['error-tag']) throw new Error(`error without error-type or error-tag: ${res.describe()}`);
  return hit;
}

// ---------------------------------------------------------------------------------------------
// Templated requests

export interface TemplateOptions {
  session?: Session;
  /** Body format; default json when the folder has the JSON file, else xml. */
  format?: Format;
  /** Allowed status codes, instead of the folder's `status` file or the defaults. */
  allowed?: readonly number[];
  /** Query string appended to the URI (without `?`). */
  query?: string;
  /** Overrides the Content-Type / Accept chosen from the format. */
  contentType?: string;
  accept?: string;
  /** Comparison options, instead of the folder's normalize.json. */
  normalize?: NormalizeJsonOptions & NormalizeXmlOptions;
  auth?: Credentials | null;
  /** For PUT / POST / PATCH: also compare the response body with response.json / response.xml. */
  verify?: boolean;
}

function chooseFormat(files: Partial<Record<Format, string>>, opts: TemplateOptions): Format {
  if (opts.format) return opts.format;
  if (files.json !== undefined) return 'json';
  if (files.xml !== undefined) return 'xml';
  return 'json';
}

function uriOf(t: Template, mapping: Mapping, opts: TemplateOptions): string {
  const uri = resolveUri(t.uri, mapping);
  if (!opts.query) return uri;
  return `${uri}${uri.includes('?') ? '&' : '?'}${opts.query}`;
}

async function writeFromTemplate(
  method: 'PUT' | 'POST' | 'PATCH',
  folder: string,
  mapping: Mapping,
  opts: TemplateOptions,
): Promise<HttpResponse> {
  const t = readTemplate(folder);
  const files = method === 'POST' && (t.postData.json !== undefined || t.postData.xml !== undefined) ? t.postData : t.data;
  const format = chooseFormat(files, opts);
  const text = files[format];
  if (text === undefined) throw new Error(`template folder ${t.folder} has no ${method === 'POST' ? 'post_data or ' : ''}data.${format}`);
  const mime = format === 'json' ? JSON_TYPE : XML_TYPE;
  const res = await (opts.session ?? defaultSession()).request(method, uriOf(t, mapping, opts), {
    body: resolveBody(text, mapping),
    contentType: opts.contentType ?? mime,
    accept: opts.accept ?? mime,
    auth: opts.auth,
  });
  expectStatus(res, opts.allowed ?? t.status ?? ALLOWED_STATUS_CODES);
  if (opts.verify) {
    const expectedText = t.response[format];
    if (expectedText === undefined) throw new Error(`template folder ${t.folder} has no response.${format} to verify against`);
    const normalize = opts.normalize ?? t.normalize;
    const diff = format === 'json' ? compareJsonText(res.body, resolveBody(expectedText, mapping), t.folder, normalize) : compareXml(res.body, resolveBody(expectedText, mapping), normalize);
    if (diff) throw new Error(`${res.method} ${res.url}: ${diff}`);
  }
  return res;
}

function compareJsonText(actual: string, expectedText: string, folder: string, normalize: NormalizeJsonOptions): string | undefined {
  let expected: unknown;
  try {
    expected = JSON.parse(expectedText);
  } catch (e) {
    throw new Error(`template ${folder}: expected JSON does not parse after substitution: ${(e as Error).message}`);
  }
  return compareJson(actual, expected, normalize);
}

/** PUT of data.json / data.xml to location.uri; checks the status. */
export function putFromTemplate(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<HttpResponse> {
  return writeFromTemplate('PUT', folder, mapping, opts);
}

/** POST of post_data.* (or data.*) to location.uri; checks the status. */
export function postFromTemplate(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<HttpResponse> {
  return writeFromTemplate('POST', folder, mapping, opts);
}

/** PATCH (plain merge) of data.* to location.uri; checks the status. */
export function patchFromTemplate(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<HttpResponse> {
  return writeFromTemplate('PATCH', folder, mapping, opts);
}

/** DELETE of location.uri; allowed defaults to ALLOWED_STATUS_CODES (pass DELETED_STATUS_CODES etc.). */
export async function deleteFromTemplate(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<HttpResponse> {
  const t = readTemplate(folder);
  const res = await (opts.session ?? defaultSession()).request('DELETE', uriOf(t, mapping, opts), { accept: opts.accept, auth: opts.auth });
  return expectStatus(res, opts.allowed ?? ALLOWED_STATUS_CODES);
}

/** GET of location.uri in the given format; checks the status (200 unless told). */
export async function getFromTemplate(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<HttpResponse> {
  const t = readTemplate(folder);
  const accept = opts.accept ?? ((opts.format ?? 'json') === 'json' ? JSON_TYPE : XML_TYPE);
  const res = await (opts.session ?? defaultSession()).request('GET', uriOf(t, mapping, opts), { accept, auth: opts.auth });
  return expectStatus(res, opts.allowed ?? [200]);
}

/**
 * GET of location.uri as JSON, compared (normalised) with response.json, or data.json when the
 * folder has no response.json. Throws on a status outside `allowed` (default 200) or a
 * difference; returns the parsed body.
 */
export async function getAsJsonAndCompare(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<unknown> {
  const t = readTemplate(folder);
  const expectedText = t.response.json ?? t.data.json;
  if (expectedText === undefined) throw new Error(`template folder ${t.folder} has no response.json or data.json`);
  const res = await getFromTemplate(folder, mapping, { ...opts, format: 'json' });
  const diff = compareJsonText(res.body, resolveBody(expectedText, mapping), t.folder, opts.normalize ?? t.normalize);
  if (diff) throw new Error(`${res.method} ${res.url}: ${diff}`);
  return res.json();
}

/** The XML counterpart of getAsJsonAndCompare (response.xml, else data.xml); returns the body text. */
export async function getAsXmlAndCompare(folder: string, mapping: Mapping = {}, opts: TemplateOptions = {}): Promise<string> {
  const t = readTemplate(folder);
  const expectedText = t.response.xml ?? t.data.xml;
  if (expectedText === undefined) throw new Error(`template folder ${t.folder} has no response.xml or data.xml`);
  const res = await getFromTemplate(folder, mapping, { ...opts, format: 'xml' });
  const diff = compareXml(res.body, resolveBody(expectedText, mapping), opts.normalize ?? t.normalize);
  if (diff) throw new Error(`${res.method} ${res.url}: ${diff}`);
  return res.body;
}
