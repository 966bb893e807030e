/**
 * Simulated OpenStack computes for the tap tests: each a real ovsdb-server with its own
 * Open_vSwitch database (no ovs-vswitchd). The logic lives in scripts/sim-computes.ts (also the
 * CLI behind scripts/sim-computes); this module re-exports it and ties it to a test's lifetime.
 */
import { startComputes, type SimComputes, type StartOptions } from '../../scripts/sim-computes.ts';

export {
  startComputes,
  vsctl,
  killCompute,
  restartCompute,
  setManager,
  type SimCompute,
  type SimComputes,
  type SimVm,
  type StartOptions,
} from '../../scripts/sim-computes.ts';

/**
 * startComputes, stopped at the test's teardown (by pid, SIGTERM then SIGKILL) whether the test
 * passes or fails, so no ovsdb-server outlives it. Never binds a default port: each server gets a
 * free loopback port, and the manager is only set when opts.controller is given.
 */
export async function computesForTest(t: { teardown(fn: () => unknown): void }, opts: StartOptions): Promise<SimComputes> {
  const sims = await startComputes(opts); // on failure, startComputes has already cleaned up
  t.teardown(() => sims.stop());
  return sims;
}
