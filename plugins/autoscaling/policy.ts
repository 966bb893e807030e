/**
 * The policies a cluster's actions pass through, and Senlin's arithmetic, applied to this
 * plugin's data: which policies are bound and in what order, how many nodes a scaling changes
 * (scaling policy, cooldown, the size limits), which nodes go (deletion policy), what a resize
 * asks for, and the status rollup after an action. Senlin's rules themselves live in senlin.ts.
 */
import type { PluginContext } from '../../src/plugin/api.ts';
import { clusterState, policyPath, type ClusteringCluster, type ClusteringPolicy, type Node } from './model.ts';

export type Outcome = { ok: true; reason?: string; outputs?: Record<string, unknown> } | { ok: false; reason: string };

/** Senlin's default priorities by policy type (lower is checked first). */
const PRIORITY = { scaling: 100, deletion: 400 } as const;

export interface BoundPolicy {
  policy: ClusteringPolicy;
  enabled: boolean;
  priority: number;
}

/** The policies bound to a cluster, enabled ones, in the order Senlin checks them. */
export function policiesOf(ctx: PluginContext, cluster: ClusteringCluster): BoundPolicy[] {
  const out: BoundPolicy[] = [];
  for (const b of cluster.policy ?? []) {
    const policy = ctx.data.read('config', policyPath(b.policy));
    if (!policy || b.enabled === false) continue;
    const kind = policy.scaling ? 'scaling' : 'deletion';
    out.push({ policy, enabled: true, priority: b.priority ?? PRIORITY[kind] });
  }
  return out.sort((a, b) => a.priority - b.priority);
}

const maxOf = (cluster: ClusteringCluster, limit: number) => (cluster['max-size'] === undefined || cluster['max-size'] < 0 ? limit : cluster['max-size']);
const failed = (name: string, reason: string): { ok: false; reason: string } => ({ ok: false, reason: `Failed policy '${name}': ${reason}` });

/**
 * How many nodes a scale-out or scale-in changes, as Senlin decides it: the request's count,
 * else the scaling policy's adjustment for the event, else 1; the policy's cooldown; and the
 * size limits (best_effort clamps, otherwise the action fails).
 */
export function scaleCount(
  ctx: PluginContext,
  cluster: ClusteringCluster,
  action: 'CLUSTER_SCALE_OUT' | 'CLUSTER_SCALE_IN',
  current: number,
  requested: unknown,
  limit: number,
): { ok: true; count: number; policies: string[] } | { ok: false; reason: string } {
  const event = action;
  const bound = policiesOf(ctx, cluster).filter((p) => p.policy.scaling?.event === event);
  const state = ctx.data.read('operational', clusterState(cluster.id));
  let count = requested === undefined || requested === null || requested === '' ? undefined : Number(requested);
  if (count !== undefined && (!Number.isInteger(count) || count <= 0)) return { ok: false, reason: `Invalid count (${String(requested)}) for scaling: it must be a positive integer.` };
  const used: string[] = [];
  for (const { policy } of bound) {
    const s = policy.scaling!;
    const last = state?.binding?.find((b) => b.policy === policy.id)?.['last-op'];
    if (s.cooldown && last && Date.now() - Date.parse(last) < s.cooldown * 1000) return failed(policy.name!, 'Policy check failure: the cluster is in cooldown.');
    if (count === undefined) {
      const n = s.number ?? 1;
      if (s['adjustment-type'] === 'EXACT_CAPACITY') count = Math.abs(n - current);
      else if (s['adjustment-type'] === 'CHANGE_IN_PERCENTAGE') {
        const raw = (current * n) / 100;
        count = Math.max(raw >= 1 ? Math.floor(raw) : Math.ceil(raw), s['min-step'] ?? 0);
      } else count = n;
    }
    const target = action === 'CLUSTER_SCALE_OUT' ? current + count : current - count;
    const max = maxOf(cluster, limit);
    const min = cluster['min-size'] ?? 0;
    if (target > max || target < min) {
      if (!s['best-effort']) {
        return failed(policy.name!, target > max ? `The target capacity (${target}) is greater than the cluster's max_size (${max}).` : `The target capacity (${target}) is less than the cluster's min_size (${min}).`);
      }
      count = action === 'CLUSTER_SCALE_OUT' ? max - current : current - min;
    }
    used.push(policy.id);
  }
  count ??= 1;
  const target = action === 'CLUSTER_SCALE_OUT' ? current + count : current - count;
  const max = maxOf(cluster, limit);
  const min = cluster['min-size'] ?? 0;
  if (target > max) return { ok: false, reason: `The target capacity (${target}) is greater than the cluster's max_size (${max}).` };
  if (target < min) return { ok: false, reason: `The target capacity (${target}) is less than the cluster's min_size (${min}).` };
  return { ok: true, count, policies: used };
}

/** A resize's new size and limits (Senlin's parse_resize_params and check_size_params). */
export function resizeTarget(cluster: ClusteringCluster, current: number, inputs: Record<string, unknown>, limit: number): { ok: true; desired: number; minSize: number; maxSize: number } | { ok: false; reason: string } {
  const minSize = inputs['min-size'] !== undefined ? Number(inputs['min-size']) : cluster['min-size'] ?? 0;
  const maxSize = inputs['max-size'] !== undefined ? Number(inputs['max-size']) : cluster['max-size'] ?? -1;
  let desired = current;
  const n = inputs.number !== undefined ? Number(inputs.number) : undefined;
  if (inputs['adjustment-type'] === 'EXACT_CAPACITY' && n !== undefined) desired = n;
  else if (inputs['adjustment-type'] === 'CHANGE_IN_CAPACITY' && n !== undefined) desired = current + n;
  else if (inputs['adjustment-type'] === 'CHANGE_IN_PERCENTAGE' && n !== undefined) {
    const delta = (current * n) / 100;
    const step = Number(inputs['min-step'] ?? 0);
    const rounded = delta > 0 ? Math.max(Math.floor(delta) || Math.ceil(delta), step) : -Math.max(Math.floor(-delta) || Math.ceil(-delta), step);
    desired = current + rounded;
  }
  const max = maxSize < 0 ? limit : maxSize;
  if (minSize > max) return { ok: false, reason: `The specified min_size (${minSize}) is greater than the specified max_size (${maxSize}).` };
  if (desired > max || desired < minSize) {
    if (inputs.strict === true) return { ok: false, reason: desired > max ? `The target capacity (${desired}) is greater than the specified max_size (${max}).` : `The target capacity (${desired}) is less than the specified min_size (${minSize}).` };
    desired = Math.min(max, Math.max(minSize, desired));
  }
  return { ok: true, desired, minSize, maxSize };
}

/** Which nodes go: ERROR/WARNING and tainted first, then the deletion policy's criteria (else random). */
export function victims(ctx: PluginContext, cluster: ClusteringCluster, nodes: Node[], count: number): Node[] {
  const deletion = policiesOf(ctx, cluster).find((p) => p.policy.deletion)?.policy.deletion;
  const bad = nodes.filter((n) => n.status === 'ERROR' || n.status === 'WARNING' || n.tainted === true);
  const good = nodes.filter((n) => !bad.includes(n));
  const criteria = deletion?.criteria ?? 'RANDOM';
  const byAge = [...good].sort((a, b) => ((a['created-at'] ?? '') < (b['created-at'] ?? '') ? -1 : 1));
  const ordered = criteria === 'OLDEST_FIRST' || criteria === 'OLDEST_PROFILE_FIRST' ? byAge : criteria === 'YOUNGEST_FIRST' ? byAge.reverse() : [...good].sort(() => Math.random() - 0.5);
  return [...bad, ...ordered].slice(0, count);
}

/** Senlin's status rollup after an action (eval_status). */
export function clusterStatus(cluster: ClusteringCluster, nodes: Node[], limit: number, action: string, outcome: Outcome): { status: 'ACTIVE' | 'ERROR' | 'WARNING' | 'CRITICAL'; reason: string } {
  const active = nodes.filter((n) => n.status === 'ACTIVE').length;
  const min = cluster['min-size'] ?? 0;
  const max = maxOf(cluster, limit);
  const desired = cluster['desired-capacity'] ?? min;
  const op = action.replace(/^CLUSTER_/, '').toLowerCase().replace(/_/g, ' ');
  if (!outcome.ok && active < min) return { status: 'ERROR', reason: outcome.reason };
  if (active < min) return { status: 'ERROR', reason: `${op}: number of active nodes is below min_size (${min}).` };
  if (active < desired) return { status: 'WARNING', reason: `${op}: number of active nodes is below desired_capacity (${desired}).` };
  if (active > max) return { status: 'WARNING', reason: `${op}: number of active nodes is above max_size (${max}).` };
  return { status: outcome.ok ? 'ACTIVE' : 'WARNING', reason: outcome.ok ? `${op} succeeded.` : outcome.reason };
}
