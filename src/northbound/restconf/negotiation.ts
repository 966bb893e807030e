/**
 * Media types: which encoding a request's body is in, and which one to answer in (Accept, then
 * the body's encoding, then JSON; RFC 8040 section 5.2).
 */
import type { FastifyRequest } from 'fastify';
import { YangError } from '../../errors.ts';

export type Encoding = 'json' | 'xml';

export const JSON_TYPES = ['application/yang-data+json', 'application/json'];
export const XML_TYPES = ['application/yang-data+xml', 'application/xml', 'text/xml'];
export const PATCH_TYPES = ['application/yang-patch+json', 'application/yang-patch+xml'];
/** What bodies may be: anything else is refused with 415 before a handler runs. */
export const BODY_TYPES = [...JSON_TYPES, ...XML_TYPES, ...PATCH_TYPES];

export const DATA_TYPE: Record<Encoding, string> = { json: 'application/yang-data+json', xml: 'application/yang-data+xml' };

/** The media type of the body, without parameters. */
export function contentType(req: FastifyRequest): string {
  const header = req.headers['content-type'] ?? '';
  const semi = header.indexOf(';');
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
}

/** The encoding of the body (yang-patch types included), undefined for another media type. */
export function bodyEncoding(req: FastifyRequest): Encoding | undefined {
  const ct = contentType(req);
  if (XML_TYPES.includes(ct) || ct === 'application/yang-patch+xml') return 'xml';
  if (JSON_TYPES.includes(ct) || ct === 'application/yang-patch+json') return 'json';
  return undefined;
}

/**
 * The encoding to answer in: what Accept asks for, else the request body's encoding, else JSON.
 * Throws NotAcceptable (answered 406 by every RESTCONF error handler) when Accept names nothing we produce;
 * `lenient` (for error bodies) never refuses.
 */
export function responseEncoding(req: FastifyRequest, lenient = false): Encoding {
  const accept = req.headers.accept;
  if (accept) {
    // Most clients name one type without parameters: no list to split, weigh and sort.
    if (!accept.includes(',') && !accept.includes(';')) {
      const only = rangeEncoding(req, accept.trim().toLowerCase());
      if (only) return only;
      if (!lenient) throw new NotAcceptable(accept);
      return bodyEncoding(req) ?? 'json';
    }
    const ranges = accept
      .split(',')
      .map((part) => {
        const [type, ...params] = part.trim().split(';');
        const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
        return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
      })
      .filter((r) => r.q > 0)
      .sort((a, b) => b.q - a.q);
    for (const r of ranges) {
      const enc = rangeEncoding(req, r.type);
      if (enc) return enc;
    }
    if (!lenient) throw new NotAcceptable(accept);
  }
  return bodyEncoding(req) ?? 'json';
}

/** The encoding one Accept media range (lower case, no parameters) asks for, if we produce it. */
function rangeEncoding(req: FastifyRequest, type: string): Encoding | undefined {
  if (JSON_TYPES.includes(type) || type === 'application/yang-patch+json') return 'json';
  if (XML_TYPES.includes(type) || type === 'application/yang-patch+xml') return 'xml';
  if (type === '*/*' || type === 'application/*') return bodyEncoding(req) ?? 'json';
  return undefined;
}

/** Accept names nothing we produce: answered 406. */
export class NotAcceptable extends YangError {
  constructor(accept: string) {
    super({ tag: 'invalid-value', type: 'protocol', message: `none of the media types in Accept (${accept}) can be produced` });
  }
}
