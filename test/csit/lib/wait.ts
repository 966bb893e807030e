/**
 * Retrying an async check until it succeeds: Robot Framework's `Wait Until Keyword Succeeds`,
 * which the OpenDaylight CSIT suites use for everything eventually consistent.
 */

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  constructor(
    readonly timeoutMs: number,
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    const last = lastError instanceof Error ? lastError.message : String(lastError);
    super(`check did not succeed within ${timeoutMs} ms (${attempts} attempts); last error: ${last}`);
    this.cause = lastError;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `check` until it resolves without throwing (a result of `false` also counts as a
 * failure), waiting `intervalMs` between attempts; returns the first successful result. When
 * `timeoutMs` has passed it fails with a WaitTimeoutError carrying the last error. The check
 * always runs at least once, and a running attempt is not cut short.
 */
export async function waitUntil<T>(timeoutMs: number, intervalMs: number, check: (attempt: number) => T | Promise<T>): Promise<Exclude<T, false>> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let lastError: unknown;
  for (;;) {
    attempts++;
    try {
      const v = await check(attempts);
      if (v !== false) return v as Exclude<T, false>;
      lastError = new Error('check returned false');
    } catch (e) {
      lastError = e;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(timeoutMs, attempts, lastError);
    await sleep(Math.min(intervalMs, left));
  }
}
