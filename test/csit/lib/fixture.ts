/**
 * Helpers the RESTCONF suites share about the test model (sextant-fixture) and toaster.
 */
import type { Test } from 'tap';
import { startSuiteController, type SuiteController } from './env.ts';
import { compareJson } from './json.ts';
import { ALLOWED_DELETE_STATUS_CODES, DELETED_STATUS_CODES, defaultSession, expectStatus, type HttpResponse, type Session } from './requests.ts';

export const FX = 'sextant-fixture';
export const FX_NS = 'urn:sextant:fixture';
export const TOASTER_NS = 'http://netconfcentral.org/ns/toaster';
export const REGISTRY = `/rests/data/${FX}:registry`;

/** Removes everything the suites write to the fixture model (config and state). */
export async function cleanFixture(session: Session = defaultSession()): Promise<void> {
  for (const p of [`/rests/data/${FX}:registry`, `/restconf/operational/${FX}:registry`, `/restconf/operational/${FX}:counters`]) {
    expectStatus(await session.delete(p), ALLOWED_DELETE_STATUS_CODES);
  }
}

/**
 * The controller of a suite that writes the fixture model: started (or reached), the fixture
 * emptied before the suite and again when it ends, pass or fail.
 */
export async function startFixtureSuite(t: { teardown(fn: () => unknown): void }): Promise<SuiteController> {
  const sc = await startSuiteController(t);
  await cleanFixture(sc.session);
  t.teardown(() => cleanFixture(sc.session).catch(() => undefined));
  return sc;
}

/**
 * Serves sextant-fixture:echo (it answers its input) in the in-process controller. Against an
 * external controller it asks whether that one serves echo; false when it answers 501.
 */
export async function serveEcho(sc: SuiteController): Promise<boolean> {
  const rpc = sc.controller?.rpc;
  if (rpc) {
    if (!rpc.has(`${FX}:echo`)) rpc.register(`${FX}:echo`, (input) => input, 'csit');
    return true;
  }
  const res = await sc.session.postJson(`/rests/operations/${FX}:echo`, { [`${FX}:input`]: { message: 'probe' } });
  return res.status !== 501;
}

/**
 * What the configuration of the registry is now, as comparable text: the normalised JSON of a
 * GET, or `<missing>` when it has no data. Used to show that a rejected request wrote nothing.
 */
export async function registrySnapshot(session: Session = defaultSession()): Promise<string> {
  const res = await session.getJson(`${REGISTRY}?content=config`);
  if (DELETED_STATUS_CODES.includes(res.status)) return '<missing>';
  expectStatus(res, [200]);
  return JSON.stringify(sortDeep(res.json()), null, 1);
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** Asserts that a GET of the path finds no data (409, or 404 where the server says so). */
export async function assertMissing(t: Test, path: string, what: string, session: Session = defaultSession()): Promise<void> {
  const res = await session.getJson(path);
  t.ok(DELETED_STATUS_CODES.includes(res.status), `${what}: GET ${path} finds nothing (got ${res.status})`);
}

/** Asserts a JSON body equals the expected value (normalised, types kept). */
export function assertJson(t: Test, res: HttpResponse, expected: unknown, what: string, unorderedLists?: boolean | string[]): void {
  const diff = compareJson(res.body, expected, { unorderedLists });
  t.notOk(diff, diff ? `${what}: ${diff}` : what);
}

/** Runs an async check as one assertion: passes when it resolves, fails with its error's message. */
export async function step(t: Test, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
    t.pass(what);
  } catch (e) {
    t.fail(`${what}: ${(e as Error).message}`);
  }
}
