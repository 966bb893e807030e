/**
 * HTTP conditional requests (RFC 7232) on data resources: If-Match, If-None-Match,
 * If-Unmodified-Since, If-Modified-Since, evaluated in the order of RFC 7232 section 6 against a
 * resource's entity tag (entity-tag.ts) and change times (Datastore.lastChanged). Pure: the
 * caller reads the state from the snapshot its write goes into, so the check and the write see
 * the same data (data.ts).
 *
 * Decisions: a malformed If-Match or If-None-Match is refused with 400 malformed-message rather
 * than ignored, since ignoring it would turn a conditional write into an unconditional one; a
 * date header that is not an HTTP-date is ignored (RFC 7232 3.3, 3.4).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeTimes } from '../../datastore/datastore.ts';
import { YangError } from '../../errors.ts';

/** What the preconditions are evaluated against. */
export interface ResourceState {
  /** The resource's entity tag; undefined when it does not exist. */
  tag?: string;
  changed: ChangeTimes;
}

/** A precondition was false: 412, nothing written. */
export class PreconditionFailed extends YangError {
  constructor(header: string, why: string, path: string) {
    super({ tag: 'operation-failed', type: 'protocol', appTag: 'precondition-failed', message: `precondition ${header} failed: ${why}`, path });
  }
}

const HEADERS = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'] as const;

/** True when the request carries any precondition (the common request carries none and pays nothing). */
export function isConditional(req: FastifyRequest): boolean {
  const h = req.headers;
  return HEADERS.some((name) => h[name] !== undefined);
}

interface EntityTag {
  weak: boolean;
  opaque: string;
}

const ENTITY_TAG = /^[ \t]*(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)/;

/** `*` or a list of entity tags (empty list elements allowed, RFC 7230 7); throws when malformed. */
function entityTags(name: string, value: string | string[]): '*' | EntityTag[] {
  const text = [value].flat().join(',');
  if (text.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  let rest = text;
  while (rest.trim() !== '') {
    const empty = /^[ \t]*,/.exec(rest);
    if (empty) {
      rest = rest.slice(empty[0].length);
      continue;
    }
    const m = ENTITY_TAG.exec(rest);
    if (!m) throw new YangError({ tag: 'malformed-message', type: 'protocol', message: `${name} must be "*" or a list of quoted entity tags: ${text}` });
    tags.push({ weak: m[1] !== undefined, opaque: m[2] });
    rest = rest.slice(m[0].length);
  }
  if (!tags.length) throw new YangError({ tag: 'malformed-message', type: 'protocol', message: `${name} is empty` });
  return tags;
}

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d\\d:\\d\\d:\\d\\d';
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d\\d ${MONTH} \\d{4} ${TIME} GMT$`), // IMF-fixdate
  new RegExp(`^${LONG_DAY}, \\d\\d-${MONTH}-\\d\\d ${TIME} GMT$`), // obsolete RFC 850
  new RegExp(`^${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4}$`), // obsolete asctime (UTC)
];

/** The date in ms, or undefined when the header is absent or not an HTTP-date (then ignored). */
function httpDate(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!HTTP_DATE.some((re) => re.test(text))) return undefined;
  const ms = Date.parse(HTTP_DATE[2].test(text) ? `${text} GMT` : text);
  return Number.isNaN(ms) ? undefined : ms;
}

const second = (ms: number) => Math.floor(ms / 1000);

/**
 * Modified after the date (whole seconds)? Dates have one-second resolution, so when the latest
 * change falls in the date's second and another change did too, the client may hold either
 * version: it counts as modified (a stale 304 or a lost update would be worse than a spare 200
 * or 412).
 */
function modifiedSince(changed: ChangeTimes, date: number): boolean {
  const last = second(changed.last);
  return last > second(date) || (last === second(date) && changed.previous > 0 && second(changed.previous) === last);
}

/** The Last-Modified value of a resource. */
export function lastModified(changed: ChangeTimes): string {
  return new Date(second(Math.min(changed.last, Date.now())) * 1000).toUTCString();
}

/**
 * Evaluates the request's preconditions (RFC 7232 section 6). Returns 'not-modified' when a GET
 * or HEAD should be answered 304; throws PreconditionFailed (412) or a malformed-message (400).
 */
export function evaluatePreconditions(req: FastifyRequest, state: ResourceState, pathText: string): 'proceed' | 'not-modified' {
  const h = req.headers;
  const safe = req.method === 'GET' || req.method === 'HEAD';
  const exists = state.tag !== undefined;
  const opaque = state.tag?.slice(1, -1);
  // Parsed up front: a malformed list is refused whichever branch would read it.
  const ifMatch = h['if-match'] !== undefined ? entityTags('If-Match', h['if-match']) : undefined;
  const ifNoneMatch = h['if-none-match'] !== undefined ? entityTags('If-None-Match', h['if-none-match']) : undefined;
  if (ifMatch !== undefined) {
    // Strong comparison: a weak tag never matches.
    const ok = exists && (ifMatch === '*' || ifMatch.some((t) => !t.weak && t.opaque === opaque));
    if (!ok) throw new PreconditionFailed('If-Match', exists ? `the resource's entity tag is ${state.tag}` : 'the resource does not exist', pathText);
  } else {
    const since = httpDate(h['if-unmodified-since']);
    if (since !== undefined && exists && modifiedSince(state.changed, since)) {
      throw new PreconditionFailed('If-Unmodified-Since', `the resource was modified at ${lastModified(state.changed)}`, pathText);
    }
  }
  if (ifNoneMatch !== undefined) {
    // Weak comparison; `*` matches any current representation.
    const matches = exists && (ifNoneMatch === '*' || ifNoneMatch.some((t) => t.opaque === opaque));
    if (matches) {
      if (safe) return 'not-modified';
      throw new PreconditionFailed('If-None-Match', ifNoneMatch === '*' ? 'the resource exists' : `the resource's entity tag is ${state.tag}`, pathText);
    }
  } else if (safe) {
    const since = httpDate(h['if-modified-since']);
    // A date in the future is invalid (RFC 7232 3.3): ignored.
    if (since !== undefined && since <= Date.now() && exists && !modifiedSince(state.changed, since)) return 'not-modified';
  }
  return 'proceed';
}

/** Sets the validators of a resource on a reply. */
export function setValidators(reply: FastifyReply, state: ResourceState): FastifyReply {
  if (state.tag !== undefined) reply.header('ETag', state.tag).header('Last-Modified', lastModified(state.changed));
  return reply;
}
