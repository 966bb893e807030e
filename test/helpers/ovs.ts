/**
 * Simulated OpenStack computes for the tap tests: each a real ovsdb-server with its own
 * Open_vSwitch database (and, with `vswitchd`, an ovs-vswitchd on a dummy datapath). The logic lives in scripts/sim-computes.ts (also the
 * CLI behind scripts/sim-computes); this module re-exports it and ties it to a test's lifetime.
 */
import { startComputes, vsctl, type SimCompute, type SimComputes, type StartOptions } from '../../scripts/sim-computes.ts';

export {
  startComputes,
  vsctl,
  killCompute,
  restartCompute,
  setManager,
  startVswitchd,
  killVswitchd,
  ovsEnv,
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

/** The iface-ids of the interfaces in a compute's real OVS database (read with ovs-vsctl). */
export async function ifaceIds(sw: SimCompute): Promise<string[]> {
  const out = await vsctl(sw, '--format=json', '--columns=external_ids', 'list', 'Interface');
  const rows = (JSON.parse(out) as { data: [[string, [string, string][]]][] }).data;
  return rows.flatMap(([[, pairs]]) => pairs.filter(([k]) => k === 'iface-id').map(([, v]) => v));
}
