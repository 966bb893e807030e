import { loadConfig, type Config } from '../../src/config.ts';
import { startController, type Controller } from '../../src/controller.ts';
import pino from 'pino';
import { tempDir } from './tmp.ts';

/**
 * Plugin-owned HTTP listeners (Tacker's API...) on free ports in tests. Through the environment:
 * unlike a flag, a variable no loaded plugin declares is not an error (tests that load only some
 * plugins pass it too).
 */
export const TEST_LISTENER_ENV: Record<string, string> = { SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' };

/** Config for an in-process controller under test: memory or LevelDB in a private dir, quiet log. */
export function testConfig(t: { teardown(fn: () => void): void }, flags: string[] = []): Config {
  // Port 0: every test controller listens on a free port of its own, never a default one.
  return loadConfig([`--data-dir=${tempDir(t)}`, '--log-level=silent', '--restconf-port=0', '--netconf-port=0', '--ovsdb-port=0', '--openflow-port=0', ...flags], TEST_LISTENER_ENV, { deferUnknown: true });
}

/** Starts a controller in this process and stops it when the test ends. */
export async function testController(t: { teardown(fn: () => unknown): void }, flags: string[] = []): Promise<Controller> {
  const config = testConfig(t, flags);
  const c = await startController(config, pino({ level: 'silent' }));
  t.teardown(() => c.stop());
  return c;
}
