import type { Test } from 'tap';
import { YangError } from '../../src/errors.ts';

/** Asserts that fn throws a YangError with this tag and (optionally) matching fields. */
export function throwsYang(t: Test, what: string, fn: () => unknown, tag: string, match: { path?: string | RegExp; message?: RegExp; appTag?: string } = {}): void {
  try {
    fn();
    t.fail(`${what}: should have failed with ${tag}`);
  } catch (e) {
    checkYang(t, what, e, tag, match);
  }
}

/** Asserts that the promise rejects with a YangError with this tag. */
export async function rejectsYang(t: Test, what: string, p: Promise<unknown>, tag: string, match: { path?: string | RegExp; message?: RegExp; appTag?: string } = {}): Promise<void> {
  try {
    await p;
    t.fail(`${what}: should have failed with ${tag}`);
  } catch (e) {
    checkYang(t, what, e, tag, match);
  }
}

function checkYang(t: Test, what: string, e: unknown, tag: string, match: { path?: string | RegExp; message?: RegExp; appTag?: string }): void {
  if (!(e instanceof YangError)) {
    t.fail(`${what}: expected a YangError, got ${String(e)}`);
    return;
  }
  t.equal(e.tag, tag, `${what}: error-tag ${tag} (${e.message})`);
  if (match.path !== undefined) t.match(e.path ?? '', match.path, `${what}: path`);
  if (match.message) t.match(e.message, match.message, `${what}: message`);
  if (match.appTag) t.equal(e.appTag, match.appTag, `${what}: error-app-tag`);
}
