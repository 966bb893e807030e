/**
 * Entity tags of data resources (RFC 8040 3.4.1.1, 3.5.2): a tag names the DATA at a path, not
 * the bytes of a reply, so it is computed from the internal tree and is the same for JSON and XML
 * and for every query parameter (which only select a representation; with another query the URI,
 * hence the HTTP resource, differs). It is a hash of content, so any instance holding the same
 * data (another cluster member, the same store after a restart) gives the same tag, and a change
 * at the resource or anywhere under it changes it; a change elsewhere does not.
 *
 * Hashes are Merkle-style: a subtree's digest is remembered per object. Published trees are never
 * changed in place and unchanged subtrees keep their identity (tree.ts), so after a commit only
 * the objects on the changed paths are hashed again. The memo is keyed by object identity and
 * holds a pure function of the content, so sharing it between controllers in one process is
 * harmless; it must only ever see published trees (never a transaction's working objects).
 */
import { createHash } from 'node:crypto';
import type { DataValue } from '../../yang/schema.ts';

const digests = new WeakMap<object, string>();

/** Unambiguous text of a leaf value: type letter, then for strings their length. */
function leafText(v: unknown): string {
  if (typeof v === 'string') return `s${v.length}:${v}`;
  if (typeof v === 'number') return `n${v}`;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return 'z'; // the null of an `empty` leaf's [null]
}

function digestOf(v: DataValue | null): string {
  if (typeof v !== 'object' || v === null) return leafText(v);
  const known = digests.get(v);
  if (known !== undefined) return known;
  const h = createHash('sha256');
  if (v instanceof Map) {
    // List entries in their order: for ordered-by-user lists the order is data.
    h.update('L');
    for (const [key, entry] of v) h.update(`${key.length}:${key}=${digestOf(entry)};`);
  } else if (Array.isArray(v)) {
    h.update('A');
    for (const item of v) h.update(`${digestOf(item as DataValue | null)};`);
  } else {
    // Members sorted: the order in which edits built an object is not data.
    h.update('O');
    for (const member of Object.keys(v).sort()) h.update(`${member.length}:${member}=${digestOf(v[member])};`);
  }
  const d = h.digest('base64url');
  digests.set(v, d);
  return d;
}

/**
 * The strong entity tag (quoted, RFC 7232 2.3) of the data a resource shows: its subtree in each
 * store the URL reads (`undefined` = that store is not read, `null` = read, nothing there).
 */
export function entityTag(config: DataValue | null | undefined, operational: DataValue | null | undefined): string {
  const part = (v: DataValue | null | undefined) => (v === undefined ? '-' : v === null ? '0' : digestOf(v));
  const tag = createHash('sha256').update(`${part(config)}|${part(operational)}`).digest('base64url').slice(0, 22);
  return `"${tag}"`;
}
