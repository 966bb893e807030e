/**
 * This plugin's data through Senlin's rules (senlin.ts): which policies are bound to a cluster
 * and in what order, what a scaling or a resize may do, which nodes go, the 409s of a scaling
 * request, and the status rollup after an action. Only the translation lives here (YANG leaves
 * to Senlin's spec properties); the rules are senlin.ts's.
 */
import type { PluginContext } from '../../src/plugin/api.ts';
import type { Transaction } from '../../src/datastore/datastore.ts';
import { actionPath, clusterState, policyPath, STATE, type ClusteringCluster, type ClusteringPolicy, type Node } from './model.ts';
import {
  checkScaleAdmission,
  checkScaleRequest,
  evalStatus,
  parseResizeParams,
  planScale,
  policyFailure,
  scalingCount,
  scalingPolicyNeedsCheck,
  selectVictims,
  type ClusterStatus,
  type ResizeInputs,
  type ScaleEvent,
} from './senlin.ts';

export type Outcome = { ok: true; reason?: string; outputs?: Record<string, unknown> } | { ok: false; reason: string };

/** Senlin's default priorities by policy type (lower is checked first). */
const PRIORITY = { scaling: 100, deletion: 400 } as const;

export interface BoundPolicy {
  policy: ClusteringPolicy;
  priority: number;
}

/** The enabled policies bound to a cluster, in the order Senlin checks them. */
export function policiesOf(ctx: PluginContext, cluster: ClusteringCluster): BoundPolicy[] {
  const out: BoundPolicy[] = [];
  for (const b of cluster.policy ?? []) {
    const policy = ctx.data.read('config', policyPath(b.policy));
    if (!policy || b.enabled === false) continue;
    out.push({ policy, priority: b.priority ?? PRIORITY[policy.scaling ? 'scaling' : 'deletion'] });
  }
  return out.sort((a, b) => a.priority - b.priority);
}

export const sizeOf = (cluster: ClusteringCluster) => ({ minSize: cluster['min-size'] ?? 0, maxSize: cluster['max-size'] ?? -1, desiredCapacity: cluster['desired-capacity'] ?? cluster['min-size'] ?? 0 });

const lastOpAt = (ctx: PluginContext, cluster: string, policy: string) => {
  const at = ctx.data.read('operational', clusterState(cluster))?.binding?.find((b) => b.policy === policy)?.['last-op'];
  return at ? Date.parse(at) : undefined;
};

/** A scaling policy's properties as Senlin's spec has them. */
function scalingSpec(p: ClusteringPolicy) {
  const s = p.scaling!;
  return { event: s.event, adjustment: { type: s['adjustment-type'] ?? 'CHANGE_IN_CAPACITY', number: s.number ?? 1, min_step: s['min-step'] ?? 1, best_effort: s['best-effort'] ?? false, cooldown: s.cooldown ?? 0 } };
}

/** The 400s of a scaling request (Senlin's API and conductor), before any action exists. */
export function scaleRequestError(event: ScaleEvent, cluster: ClusteringCluster, count: unknown, maxNodes: number): string | undefined {
  return checkScaleRequest(event, sizeOf(cluster), count, maxNodes)?.message;
}

/**
 * The 409s of a scaling request (Senlin's Action.create): any action of the cluster still
 * active, or a matching scaling policy in its cooldown. Read inside the transaction that records
 * the new action, which also writes the cluster's scaling-action leaf: two requests at once
 * conflict there, and the retry sees the first one's action.
 */
export function scaleConflict(ctx: PluginContext, tx: Transaction, event: ScaleEvent, cluster: ClusteringCluster): string | undefined {
  const state = tx.read(clusterState(cluster.id));
  const last = state?.['scaling-action'];
  const actions = (ctx.data.read('operational', STATE.action()) ?? []).filter((a) => a.target === cluster.id).map((a) => ({ id: a.id, action: a.action ?? '', status: a.status ?? '' }));
  const lastAction = last ? tx.read(actionPath(last)) : undefined;
  if (lastAction && !actions.some((a) => a.id === lastAction.id)) actions.push({ id: lastAction.id, action: lastAction.action ?? '', status: lastAction.status ?? '' });
  const bindings = policiesOf(ctx, cluster)
    .filter((b) => b.policy.scaling)
    .map((b) => ({ policyId: b.policy.id, enabled: true, priority: b.priority, event: b.policy.scaling!.event, cooldown: b.policy.scaling!.cooldown ?? 0, lastOpAt: lastOpAt(ctx, cluster.id, b.policy.id) }));
  return checkScaleAdmission(event, cluster.id, { actions, bindings, now: Date.now() })?.message;
}

/**
 * How many nodes a scale-out or scale-in changes: every bound scaling policy of the event
 * decides in priority order (cooldown, adjustment, best_effort, the limits; the first failure
 * aborts as "Failed policy '<name>': ..."), then the action's own count and size check.
 */
export function scaleCount(ctx: PluginContext, cluster: ClusteringCluster, event: ScaleEvent, current: number, requested: unknown, maxNodes: number): { ok: true; count: number; stamp: string[] } | { ok: false; reason: string } {
  let policyCount: number | undefined;
  const stamp: string[] = [];
  for (const { policy } of policiesOf(ctx, cluster)) {
    if (!policy.scaling) continue;
    // Every scaling policy's cooldown restarts after any scaling (its AFTER check).
    if (scalingPolicyNeedsCheck(policy.scaling.event!, event, 'AFTER')) stamp.push(policy.id);
    if (!scalingPolicyNeedsCheck(policy.scaling.event!, event, 'BEFORE')) continue;
    const d = scalingCount(scalingSpec(policy), event, current, sizeOf(cluster), requested as number | undefined, { lastOpAt: lastOpAt(ctx, cluster.id, policy.id), now: Date.now(), policyId: policy.id, maxNodesPerCluster: maxNodes });
    if (!d.ok) return { ok: false, reason: policyFailure(policy.name ?? policy.id, d.reason) };
    policyCount = d.count;
  }
  const plan = planScale(event, current, sizeOf(cluster), { policyCount, inputCount: requested }, maxNodes);
  return plan.ok ? { ok: true, count: plan.count, stamp } : plan;
}

/** The resize request in Senlin's terms, from the rpc's input. */
export function resizeInputs(input: Record<string, unknown>): ResizeInputs {
  const num = (v: unknown) => (v === undefined ? null : Number(v));
  return {
    adjustment_type: (input['adjustment-type'] as ResizeInputs['adjustment_type']) ?? null,
    number: num(input.number),
    min_size: num(input['min-size']),
    max_size: num(input['max-size']),
    min_step: num(input['min-step']),
    strict: input.strict === true,
  };
}

/** What a resize action does: the new size and limits, or why it fails. */
export function resizeTarget(cluster: ClusteringCluster, current: number, inputs: ResizeInputs, maxNodes: number): { ok: true; desired: number; minSize: number; maxSize: number } | { ok: false; reason: string } {
  const r = parseResizeParams(inputs, sizeOf(cluster), current, maxNodes);
  return r.ok ? { ok: true, desired: r.desired, minSize: r.minSize, maxSize: r.maxSize } : { ok: false, reason: r.message };
}

/** Which nodes go: ERROR, WARNING and tainted first, then the deletion policy's criteria (RANDOM without one). */
export function victims(ctx: PluginContext, cluster: ClusteringCluster, nodes: Node[], count: number): Node[] {
  const criteria = policiesOf(ctx, cluster).find((p) => p.policy.deletion)?.policy.deletion?.criteria ?? 'RANDOM';
  const ids = selectVictims(
    nodes.map((n) => ({ id: n.id, status: n.status ?? 'INIT', createdAt: n['created-at'] ?? null, tainted: n.tainted === true })),
    count,
    criteria,
  );
  return ids.map((id) => nodes.find((n) => n.id === id)!);
}

/** Senlin's rollup after an action (eval_status, with the action's name). */
export function clusterStatus(cluster: ClusteringCluster, nodes: Node[], action: string): { status: ClusterStatus; reason: string } {
  return evalStatus(sizeOf(cluster), nodes.map((n) => ({ status: n.status ?? 'INIT' })), action);
}
