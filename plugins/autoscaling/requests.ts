/**
 * What a client may ask of a cluster, whichever way it came (the rpcs in index.ts, Senlin's API
 * in senlin-api.ts, a webhook): Senlin's 400s before anything is written, its 409s inside the
 * transaction that records the action, then the action the engine runs. The rules are
 * senlin.ts's (through policy.ts); this is the one place that applies them to a request.
 */
import { randomUUID } from 'node:crypto';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import { YangError } from '../../src/errors.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { actionEntry, createAction, nodesOf } from './engine.ts';
import { actionPath, clusterPath, STATE, type Action, type ClusteringCluster } from './model.ts';
import { scaleConflict, scaleRequestError, sizeOf } from './policy.ts';
import { checkResizeRequest, checkSizeParams, type ResizeRequest, type ScaleEvent } from './senlin.ts';

/** Senlin's cause of what a client asked for (consts.CAUSE_RPC). */
export const CAUSE_RPC = 'RPC Request';

const maxNodes = (ctx: PluginContext) => ctx.options['max-nodes-per-cluster'] as number;
const badRequest = (message: string) => new YangError({ tag: 'invalid-value', message });

/** Which of Senlin's 409s a refused scaling is (the API names them ActionConflict / ActionCooldown). */
export const CONFLICT_APP_TAG = 'action-conflict';
export const COOLDOWN_APP_TAG = 'action-cooldown';

/** Senlin's 409 (an action of the cluster still active, or a cooldown) as in-use. */
function conflictIn(ctx: PluginContext, tx: Transaction, event: ScaleEvent, cluster: ClusteringCluster): void {
  const message = scaleConflict(ctx, tx, event, cluster);
  if (message) throw new YangError({ tag: 'in-use', appTag: /cooldown/i.test(message) ? COOLDOWN_APP_TAG : CONFLICT_APP_TAG, message, path: clusterPath(cluster.id).text });
}

/**
 * A scale-out or scale-in of `count` nodes (undefined or null: what the scaling policies say, else
 * 1); `count` as the client sent it, a JSON number or a string ("2"). Resolves to the action's id.
 */
export async function requestScale(ctx: PluginContext, event: ScaleEvent, cluster: ClusteringCluster, count: unknown, cause = CAUSE_RPC): Promise<string> {
  const bad = scaleRequestError(event, cluster, count ?? undefined, maxNodes(ctx));
  if (bad) throw badRequest(bad);
  const inputs = count !== undefined && count !== null ? { count: Number(count) } : {};
  return createAction(ctx, { cluster: cluster.id, action: event, cause, inputs }, (tx) => conflictIn(ctx, tx, event, cluster));
}

/**
 * A resize, its request in Senlin's names (adjustment_type, number, min_size, max_size, min_step,
 * strict; strict defaults to true as Senlin's API has it). The action records the checked request
 * in the rpc's names, which is what the engine reads back.
 */
export async function requestResize(ctx: PluginContext, cluster: ClusteringCluster, request: ResizeRequest, cause = CAUSE_RPC): Promise<string> {
  const checked = checkResizeRequest(request, sizeOf(cluster), nodesOf(ctx, cluster.id).length, maxNodes(ctx));
  if (!checked.ok) throw badRequest(checked.message);
  const r = checked.inputs;
  const inputs: Record<string, unknown> = { strict: r.strict };
  if (r.adjustment_type !== null) inputs['adjustment-type'] = r.adjustment_type;
  if (r.number !== null) inputs.number = r.number;
  if (r.min_size !== null) inputs['min-size'] = r.min_size;
  if (r.max_size !== null) inputs['max-size'] = r.max_size;
  if (r.min_step !== null) inputs['min-step'] = r.min_step;
  return createAction(ctx, { cluster: cluster.id, action: 'CLUSTER_RESIZE', cause, inputs });
}

/**
 * A replacement of named member nodes (Senlin's replace_nodes, as a heal: the replacements are made
 * by the cluster's own profile and placement). Unknown or foreign nodes are Senlin's 400, before
 * anything is written.
 */
export async function requestReplace(ctx: PluginContext, cluster: ClusteringCluster, nodes: string[], cause = CAUSE_RPC): Promise<string> {
  const members = new Set(nodesOf(ctx, cluster.id).map((n) => n.id));
  const missing = nodes.filter((n) => !members.has(n));
  if (!nodes.length) throw badRequest('No nodes to replace are given.');
  if (missing.length) throw badRequest(`Nodes not members of specified cluster: ${missing.join(', ')}.`);
  return createAction(ctx, { cluster: cluster.id, action: 'CLUSTER_REPLACE_NODES', cause, inputs: { nodes: [...new Set(nodes)] } });
}

/** Senlin's CLUSTER_RECOVER: a check, then the default RECREATE of the nodes found unhealthy. */
export function requestRecover(ctx: PluginContext, cluster: ClusteringCluster, inputs?: Record<string, unknown>, cause = CAUSE_RPC): Promise<string> {
  return createAction(ctx, { cluster: cluster.id, action: 'CLUSTER_RECOVER', cause, ...(inputs ? { inputs } : {}) });
}

/** The size limits of a new cluster, as Senlin's cluster_create checks them (check_size_params, strict). */
export function newClusterSizeError(ctx: PluginContext, desired: number | undefined, minSize: number | undefined, maxSize: number | undefined): string | undefined {
  return checkSizeParams(undefined, desired ?? null, minSize ?? null, maxSize ?? null, true, maxNodes(ctx));
}

/**
 * An action done as soon as it is asked for (a policy binding, an update of names, a check): the
 * change is the config commit the caller made, so nothing is left for the engine; the entry is
 * written already ended, so Senlin's clients can follow it like any other.
 */
export async function recordDoneAction(ctx: PluginContext, req: { cluster: string; action: string; cause?: string; inputs?: Record<string, unknown>; ok: boolean; reason: string }): Promise<string> {
  const id = randomUUID();
  const at = new Date().toISOString();
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('operational');
    tx.put(actionPath(id), { ...actionEntry(id, { cluster: req.cluster, action: req.action, cause: req.cause ?? CAUSE_RPC, inputs: req.inputs }, req.ok ? 'SUCCEEDED' : 'FAILED'), 'status-reason': req.reason, 'created-at': at, 'start-time': at, 'end-time': at });
    await tx.commit();
  });
  return id;
}

/**
 * The action the engine queues by itself for a config change (CLUSTER_CREATE when a cluster is
 * written, CLUSTER_DELETE when it is removed), on whichever instance owns the cluster. Start
 * watching before the commit, then wait: resolves to its id, or undefined after `ms`.
 */
export function watchEngineAction(ctx: PluginContext, cluster: string, action: string): { wait(ms: number): Promise<string | undefined>; cancel(): void } {
  let found: string | undefined;
  let wake: ((id: string) => void) | undefined;
  const since = new Date().toISOString();
  const off = ctx.data.subscribe('operational', STATE.action(ANY), (changes) => {
    for (const c of changes) {
      const a = c.after as Action | undefined;
      if (a && a.target === cluster && a.action === action && !found) {
        found = a.id;
        wake?.(a.id);
      }
    }
  }, { replay: false });
  const existing = () => (ctx.data.read('operational', STATE.action()) ?? []).find((a) => a.target === cluster && a.action === action && (a['created-at'] ?? '') >= since)?.id;
  return {
    async wait(ms) {
      try {
        found ??= existing();
        if (found) return found;
        return await new Promise<string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(found ?? existing()), ms);
          timer.unref();
          wake = (id) => {
            clearTimeout(timer);
            resolve(id);
          };
        });
      } finally {
        off();
      }
    },
    cancel: off,
  };
}
