/**
 * JSON normalisation for response comparison, in the spirit of OpenDaylight CSIT's norm_json:
 * object member order never matters; arrays keep their order unless the comparison says they
 * are sets (all of them, or those under the named members). Types are kept exactly: the number
 * 7 and the string "7" differ, as RFC 7951 makes them different (uint64 is a string, uint32 is
 * a number).
 */

export interface NormalizeJsonOptions {
  /**
   * Compare arrays as sets (sorted by their canonical text): true for every array, or the member
   * names (with or without a `module:` prefix) whose array values are compared without order.
   */
  unorderedLists?: boolean | string[];
}

function unorderedUnder(member: string | undefined, opts: NormalizeJsonOptions): boolean {
  const u = opts.unorderedLists;
  if (u === true) return true;
  if (!Array.isArray(u) || member === undefined) return false;
  const local = member.includes(':') ? member.slice(member.indexOf(':') + 1) : member;
  return u.includes(member) || u.includes(local);
}

/** Returns a copy with object members sorted by name and the chosen arrays sorted. */
export function normalizeJson(value: unknown, opts: NormalizeJsonOptions = {}, member?: string): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v) => normalizeJson(v, opts, member));
    if (!unorderedUnder(member, opts)) return items;
    return items
      .map((v) => [JSON.stringify(v), v] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, v]) => v);
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = normalizeJson((value as Record<string, unknown>)[k], opts, k);
    return out;
  }
  return value;
}

/** Canonical text: normalised and pretty-printed, so equal documents have equal text. */
export function canonicalJson(value: unknown, opts: NormalizeJsonOptions = {}): string {
  return JSON.stringify(normalizeJson(value, opts), null, 2);
}

/**
 * Compares a response body (text or parsed) with the expected value; undefined when equal,
 * else a message showing both in canonical form.
 */
export function compareJson(actual: unknown, expected: unknown, opts: NormalizeJsonOptions = {}): string | undefined {
  let a = actual;
  if (typeof actual === 'string') {
    try {
      a = JSON.parse(actual);
    } catch (e) {
      return `actual body is not JSON (${(e as Error).message}):\n${actual}`;
    }
  }
  const ca = canonicalJson(a, opts);
  const cx = canonicalJson(expected, opts);
  if (ca === cx) return undefined;
  return `JSON differs\n--- expected (normalised)\n${cx}\n--- actual (normalised)\n${ca}`;
}
