/**
 * `designated-switch:plan-tombstones`: what the elections would write if DPNs were tombstoned
 * now, planned by Elections.plan (the code a real batch runs) and written nowhere. Scale-in's
 * impact preview (cloudscaler's `scalein-computes-preview`) asks it, so that the preview and what
 * a following `scalein-computes-start` does cannot disagree.
 */
import { YangError } from '../../src/errors.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { uint64 } from '../../src/yang/binding.ts';
import type { ElectionsState } from './index.ts';
import { compareWorkKeys } from './model.ts';

/** How long a preview waits for the elections to finish the work already queued. */
const CONVERGE_MS = 10_000;

export async function planTombstones(input: Record<string, unknown>, ctx: PluginContext, state: ElectionsState) {
  // Only the leader elects: a follower's designations and flows are as of its start.
  if (!ctx.cluster.isLeader()) {
    throw new YangError({ tag: 'operation-failed', message: 'plan-tombstones is answered by the cluster leader (the member that elects); ask it' });
  }
  // The plan starts from converged elections: every commit seen by the listeners and every
  // queued key worked on, else the preview would leave out work a start would also trigger.
  await ctx.data.settled();
  let timer: NodeJS.Timeout | undefined;
  const converged = await Promise.race([
    state.queue.idle().then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), CONVERGE_MS))),
  ]);
  clearTimeout(timer);
  if (!converged) {
    throw new YangError({
      tag: 'in-use',
      message: `the elections have not converged within ${CONVERGE_MS} ms (${state.queue.pending} service(s) pending): a plan now would not be what start does; try again`,
    });
  }
  const dpns = ((input['dpn-ids'] as string[] | undefined) ?? []).map((d) => BigInt(d));
  const plan = state.elections.planTombstones(dpns, compareWorkKeys);
  return {
    'config-revision': uint64(plan.revision),
    designation: plan.moves.map((m) => ({
      'service-type': m.type,
      'service-id': m.id,
      'from-dpn-id': uint64(m.from),
      'to-dpn-id': uint64(m.to),
      candidates: m.candidates.map(uint64),
      reason: m.reason,
    })),
    'flow-changes': [...plan.flows]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([dpn, c]) => ({ 'dpn-id': uint64(dpn), added: c.added, removed: c.removed, modified: c.modified })),
  };
}
