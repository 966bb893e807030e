/**
 * Actions, Senlin's way, without locks. An action is an operational entry (READY -> RUNNING ->
 * SUCCEEDED / FAILED). The owner of a cluster (ctx.cluster.owns(cluster id)) runs its actions,
 * one at a time per cluster: claiming one is a compare-and-set in the datastore (the claim writes
 * the cluster's `running-action` and the action's `owner`; two claims on one cluster touch the
 * same leaf, so of two instances claiming at once one commits and the other sees it taken). When a
 * member dies, the new owner fails only the actions the dead member was running (Senlin's
 * gc_by_engine), not every running action.
 */
import { randomUUID } from 'node:crypto';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import { YangError } from '../../src/errors.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { ACTION_REASONS } from './senlin.ts';
import { createPort, deletePort, place, portReported, recordedNodes, tapName, type Placed } from './driver.ts';
import {
  actionPath,
  CLUSTERING,
  clusterPath,
  clusterState,
  COMPUTES,
  DONE,
  nodeState,
  ovsdbTopology,
  profilePath,
  STATE,
  type Action,
  type ClusteringCluster,
  type ComputeNode,
  type Node,
} from './model.ts';
import { clusterStatus, policiesOf, resizeInputs, resizeTarget, scaleCount, victims, type Outcome } from './policy.ts';

const now = () => new Date().toISOString();

export interface EngineOptions {
  /** What max-size -1 means. */
  maxNodesPerCluster: number;
  /** How long a new node's port may take to appear in Open vSwitch before the node is ERROR. */
  portWaitMs: number;
  /** Ended actions kept (they are also the Senlin API's events); the oldest go as new ones end. */
  actionsKept: number;
}

/** What an action is asked to do. */
export interface ActionRequest {
  cluster: string;
  action: string;
  cause: string;
  inputs?: Record<string, unknown>;
}

/** A new action entry, named as Senlin names actions (`scale_out_<cluster id prefix>`). */
export function actionEntry(id: string, req: ActionRequest, status: 'READY' | 'SUCCEEDED' | 'FAILED'): Action {
  return {
    id,
    name: `${req.action.toLowerCase().replace(/^cluster_/, '')}_${req.cluster.slice(0, 8)}`,
    target: req.cluster,
    action: req.action,
    cause: req.cause,
    status,
    inputs: JSON.stringify(req.inputs ?? {}),
    'created-at': now(),
  };
}

/**
 * Writes a READY action; the cluster's owner runs it. `exclusive`: a scaling request (Senlin
 * 1.11), refused with in-use while the cluster's last scaling action has not ended; the check and
 * the claim of the cluster's scaling-action leaf are one transaction, so of two requests at once,
 * on one instance or two, one is refused.
 */
export async function createAction(ctx: PluginContext, req: ActionRequest, exclusive?: (tx: Transaction) => void): Promise<string> {
  const id = randomUUID();
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('operational');
    if (exclusive) {
      try {
        exclusive(tx);
      } catch (e) {
        tx.cancel();
        throw e;
      }
      tx.merge(clusterState(req.cluster), { id: req.cluster, 'scaling-action': id });
    }
    tx.put(actionPath(id), actionEntry(id, req, 'READY'));
    await tx.commit();
  });
  return id;
}

/** A cluster by id or name (Senlin accepts both). */
export function findCluster(ctx: PluginContext, idOrName: string): ClusteringCluster | undefined {
  const all = ctx.data.read('config', CLUSTERING.cluster()) ?? [];
  return all.find((c) => c.id === idOrName) ?? all.find((c) => c.name === idOrName);
}

export function nodesOf(ctx: PluginContext, cluster: string): Node[] {
  return ctx.data.read('operational', clusterState(cluster))?.node ?? [];
}

export class Engine {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly offs: (() => void)[] = [];
  private joined = false;
  private stopped = false;
  /** Ended actions in the store, as the action changes tell (the subscription replays those there at start; see pruneEnded). */
  private endedCount = 0;

  constructor(
    private readonly ctx: PluginContext,
    private readonly opts: EngineOptions,
  ) {}

  start(): void {
    const { ctx } = this;
    this.offs.push(
      ctx.data.subscribe('operational', STATE.action(ANY), (changes: Change<Action>[]) => {
        for (const c of changes) {
          this.endedCount += Number(DONE.has(c.after?.status ?? '')) - Number(DONE.has(c.before?.status ?? ''));
          if (c.after?.status === 'READY' && c.after.target) this.kick(c.after.target);
          // A claim by a member that is already gone, seen only after the membership change
          // (a replica learns the claim and the death in either order): failed here too.
          else if (this.orphaned(c.after)) void this.failOrphan(c.after!);
        }
      }),
      ctx.data.subscribe('config', CLUSTERING.cluster(ANY), (changes: Change<ClusteringCluster>[]) => {
        for (const c of changes) {
          const id = String(c.keys[0][0]);
          if (!this.joined || !ctx.cluster.owns(id)) continue;
          if (c.after && !c.before) void this.request({ cluster: id, action: 'CLUSTER_CREATE', cause: 'RPC Request' });
          else if (!c.after) void this.request({ cluster: id, action: 'CLUSTER_DELETE', cause: 'RPC Request' });
        }
      }, { replay: false }),
      // A compute being scaled in: its nodes are replaced elsewhere, so scale-in can end.
      ctx.data.subscribe('config', COMPUTES.computeNode(ANY), (changes: Change<ComputeNode>[]) => {
        for (const c of changes) {
          if (c.after?.tombstoned !== true || c.before?.tombstoned === true) continue;
          this.replaceOn(c.after['compute-name']);
        }
      }, { replay: false }),
      ctx.cluster.onMembership(() => this.sweep()),
      // Health: a node whose port vanished from its compute's OVS, or whose compute is not
      // connected, is ERROR (and ACTIVE again when it is back); polled from what the southbound
      // reports, coalesced.
      ctx.data.subscribe('operational', ovsdbTopology.node(ANY), () => this.healthSoon(), { replay: false }),
    );
    void ctx.cluster.joined().then(() => {
      if (this.stopped) return;
      this.joined = true;
      this.sweep();
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.healthTimer);
    for (const off of this.offs.splice(0)) off();
  }

  private healthTimer?: NodeJS.Timeout;

  private healthSoon(): void {
    if (this.healthTimer || !this.joined || this.stopped) return;
    this.healthTimer = setTimeout(() => {
      this.healthTimer = undefined;
      // One read of each compute's bridge for the whole sweep, not one per cluster.
      const seen = new Map<string, Set<string> | undefined>();
      for (const s of this.ctx.data.read('operational', STATE.cluster()) ?? []) {
        if (this.ctx.cluster.owns(s.id) && !this.chains.has(s.id)) void this.checkNodes(s.id, seen).catch((err: unknown) => this.ctx.log.warn({ err, cluster: s.id }, 'autoscaling: a health check failed'));
      }
    }, 200);
    this.healthTimer.unref();
  }

  /**
   * A node's health from what OVS reports: its compute connected and its port there. `seen`
   * caches, per compute, the ports its bridge reports (undefined: not connected), so a check of a
   * thousand nodes reads each compute's bridge once.
   */
  private nodeHealth(n: Node, seen: Map<string, Set<string> | undefined>): { status: 'ACTIVE' | 'ERROR'; reason: string } {
    const name = n.compute ?? '';
    if (!seen.has(name)) {
      const bridge = this.ctx.data.read('config', COMPUTES.computeNode(name))?.nodeid;
      const reported = bridge ? this.ctx.data.read('operational', ovsdbTopology.node(bridge)) : undefined;
      seen.set(name, reported ? new Set((reported['termination-point'] ?? []).map((tp) => tp['tp-id'])) : undefined);
    }
    const ports = seen.get(name);
    if (!ports) return { status: 'ERROR', reason: `its compute ${n.compute} is not connected` };
    if (!n.port || !ports.has(tapName(n.port))) return { status: 'ERROR', reason: `its port is gone from ${n.compute}'s Open vSwitch` };
    return { status: 'ACTIVE', reason: 'Node is healthy' };
  }

  /**
   * Settled nodes (ACTIVE or ERROR) take the status their health says; the rollup follows.
   * `seen` may be shared by the checks of one sweep (all read in the same tick, before any await).
   */
  private async checkNodes(cluster: string, seen = new Map<string, Set<string> | undefined>()): Promise<void> {
    const changed = nodesOf(this.ctx, cluster)
      .filter((n) => n.status === 'ACTIVE' || n.status === 'ERROR')
      .map((n) => ({ n, h: this.nodeHealth(n, seen) }))
      .filter(({ n, h }) => n.status !== h.status);
    if (!changed.length) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      for (const { n, h } of changed) if (tx.read(nodeState(cluster, n.id))) tx.merge(nodeState(cluster, n.id), { status: h.status, 'status-reason': h.reason });
      const config = this.ctx.data.read('config', clusterPath(cluster));
      const s = tx.read(clusterState(cluster));
      if (config && s) {
        const rolled = clusterStatus(config, (s.node ?? []).map((x) => changed.find((c) => c.n.id === x.id) ? { ...x, status: changed.find((c) => c.n.id === x.id)!.h.status } : x), 'CLUSTER_CHECK');
        tx.merge(clusterState(cluster), { status: rolled.status, 'status-reason': rolled.reason });
      }
      await tx.commit();
    });
  }

  private async request(req: ActionRequest): Promise<void> {
    try {
      await createAction(this.ctx, req);
    } catch (err) {
      this.ctx.log.error({ err, cluster: req.cluster }, `autoscaling: could not queue ${req.action}`);
    }
  }

  private replaceOn(compute: string): void {
    if (!this.joined) return;
    for (const s of this.ctx.data.read('operational', STATE.cluster()) ?? []) {
      if (!this.ctx.cluster.owns(s.id)) continue;
      // A cluster whose nodes another application moves itself (a VNF manager's heal).
      if (this.ctx.data.read('config', clusterPath(s.id))?.['replace-on-scale-in'] === false) continue;
      const on = (s.node ?? []).filter((n) => n.compute === compute).map((n) => n.id);
      if (on.length) void this.request({ cluster: s.id, action: 'CLUSTER_REPLACE_NODES', cause: `compute ${compute} is being scaled in`, inputs: { nodes: on } });
    }
  }

  /**
   * After a start or a membership change: actions a dead member was running on clusters this
   * member owns now fail (the dead member's only), new clusters get their create action, and
   * the READY actions of owned clusters run.
   */
  private sweep(): void {
    if (!this.joined || this.stopped) return;
    const actions = this.ctx.data.read('operational', STATE.action()) ?? [];
    for (const a of actions) if (this.orphaned(a)) void this.failOrphan(a);
    const states = new Set((this.ctx.data.read('operational', STATE.cluster()) ?? []).map((s) => s.id));
    const hasCreate = new Set(actions.filter((a) => a.action === 'CLUSTER_CREATE').map((a) => a.target));
    let recorded: Map<string, Node[]> | undefined;
    for (const c of this.ctx.data.read('config', CLUSTERING.cluster()) ?? []) {
      if (!this.ctx.cluster.owns(c.id)) continue;
      if (states.has(c.id) || hasCreate.has(c.id)) {
        this.kick(c.id);
        continue;
      }
      // No state, no creation: a new cluster, or one whose state a restart lost (a single
      // instance's operational store is volatile); its nodes are in the config topology then.
      recorded ??= recordedNodes(this.ctx);
      const nodes = recorded.get(c.id);
      if (nodes?.length) void this.recover(c, nodes);
      else void this.request({ cluster: c.id, action: 'CLUSTER_CREATE', cause: 'RPC Request' });
    }
  }

  /** RUNNING on a member that is no longer live, for a cluster this member owns. */
  private orphaned(a: Action | undefined): boolean {
    if (!this.joined || a?.status !== 'RUNNING' || !a.owner || !a.target || !this.ctx.cluster.owns(a.target)) return false;
    return !this.ctx.cluster.members().some((m) => m.id === a.owner);
  }

  /**
   * A cluster's state rebuilt from the nodes its config records, ERROR until the health check sees
   * their ports in Open vSwitch again (it then makes them ACTIVE), so no node is made twice.
   */
  private async recover(cluster: ClusteringCluster, nodes: Node[]): Promise<void> {
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      if (tx.read(clusterState(cluster.id))) return tx.cancel();
      tx.put(clusterState(cluster.id), { id: cluster.id, status: 'WARNING', 'status-reason': 'recovered after a restart', 'created-at': now(), node: nodes.map((n) => ({ ...n, 'created-at': now() })) });
      await tx.commit();
    }).catch((err: unknown) => this.ctx.log.error({ err, cluster: cluster.id }, 'autoscaling: recovering a cluster state failed'));
    this.healthSoon();
  }

  private async failOrphan(a: Action): Promise<void> {
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      const cur = tx.read(actionPath(a.id));
      if (cur?.status !== 'RUNNING' || cur.owner !== a.owner) return tx.cancel();
      tx.merge(actionPath(a.id), { status: 'FAILED', 'status-reason': `the engine running it (${a.owner}) stopped`, interrupted: true, 'end-time': now() });
      const s = tx.read(clusterState(a.target!));
      if (s?.['running-action'] === a.id) tx.remove(clusterState(a.target!).runningAction());
      // Nodes it was making are ERROR, not CREATING for ever: a health check makes one whose port
      // did appear ACTIVE again, a recovery recreates the others.
      for (const n of s?.node ?? []) if (n.status === 'CREATING') tx.merge(nodeState(a.target!, n.id), { status: 'ERROR', 'status-reason': `its creation was interrupted: the engine making it (${a.owner}) stopped` });
      if (s?.status === 'CREATING') tx.merge(clusterState(a.target!), { status: 'ERROR', 'status-reason': `creation interrupted: the engine running it (${a.owner}) stopped` });
      await tx.commit();
    }).catch((err: unknown) => this.ctx.log.error({ err, action: a.id }, 'autoscaling: failing an orphaned action failed'));
    this.kick(a.target!);
  }

  /** Runs the cluster's READY actions here, one after the other, if this member owns it. */
  private kick(cluster: string): void {
    if (!this.joined || this.stopped || !this.ctx.cluster.owns(cluster) || this.chains.has(cluster)) return;
    const run = (async () => {
      for (;;) {
        if (this.stopped || !this.ctx.cluster.owns(cluster)) return;
        const next = (this.ctx.data.read('operational', STATE.action()) ?? [])
          .filter((a) => a.target === cluster && a.status === 'READY')
          .sort((a, b) => ((a['created-at'] ?? '') < (b['created-at'] ?? '') ? -1 : 1))[0];
        if (!next) return;
        if (!(await this.claim(next.id, cluster))) return; // another runs; its end kicks again
        await this.runClaimed(next);
      }
    })()
      .catch((err: unknown) => this.ctx.log.error({ err, cluster }, 'autoscaling: running actions failed'))
      .finally(() => {
        this.chains.delete(cluster);
      });
    this.chains.set(cluster, run);
  }

  /** The compare-and-set: this action becomes the cluster's running one, or nothing happens. */
  private async claim(id: string, cluster: string): Promise<boolean> {
    try {
      return await retryOnConflict(async () => {
        const tx = this.ctx.data.transaction('operational');
        const action = tx.read(actionPath(id));
        const state = tx.read(clusterState(cluster));
        const running = state?.['running-action'];
        const busy = running !== undefined && running !== id && !DONE.has(tx.read(actionPath(running))?.status ?? 'FAILED');
        if (action?.status !== 'READY' || busy) {
          tx.cancel();
          return false;
        }
        tx.merge(clusterState(cluster), { id: cluster, 'running-action': id });
        tx.merge(actionPath(id), { status: 'RUNNING', owner: this.ctx.cluster.memberId, 'start-time': now() });
        await tx.commit();
        return true;
      });
    } catch (err) {
      this.ctx.log.warn({ err, action: id }, 'autoscaling: claiming an action failed');
      return false;
    }
  }

  private async runClaimed(a: Action): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.execute(a);
    } catch (err) {
      outcome = { ok: false, reason: (err as Error).message };
    }
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      const end = now();
      tx.merge(actionPath(a.id), {
        status: outcome.ok ? 'SUCCEEDED' : 'FAILED',
        'status-reason': outcome.ok ? outcome.reason ?? 'Action completed successfully.' : outcome.reason,
        'end-time': end,
        ...(outcome.ok && outcome.outputs ? { outputs: JSON.stringify(outcome.outputs) } : {}),
      });
      const s = tx.read(clusterState(a.target!));
      if (s) {
        if (s['running-action'] === a.id) tx.remove(clusterState(a.target!).runningAction());
        const cluster = this.ctx.data.read('config', clusterPath(a.target!));
        if (cluster) {
          const rolled = clusterStatus(cluster, s.node ?? [], a.action!);
          tx.merge(clusterState(a.target!), { status: rolled.status, 'status-reason': rolled.reason, 'updated-at': end });
        }
      }
      await tx.commit();
    });
    await this.pruneEnded();
  }

  /**
   * Ended actions are kept to a bound (they are also the events the Senlin API lists): the oldest
   * go, in a commit of their own after the one that ended an action. Not in that commit: on many
   * members at once, each end would then touch the same old entries, and ends would fail on the
   * conflicts instead of only the pruning, which any later end does again.
   */
  private async pruneEnded(): Promise<void> {
    // Counted from the changes (every member sees every end): no read of every action per end
    // until there is something to prune; past the bound by a tenth, so prunes come in batches.
    if (this.endedCount <= this.opts.actionsKept + Math.floor(this.opts.actionsKept / 10)) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      const ended = (tx.read(STATE.action()) ?? []).filter((x) => DONE.has(x.status ?? ''));
      if (ended.length <= this.opts.actionsKept) return tx.cancel();
      ended.sort((x, y) => ((x['end-time'] ?? '') < (y['end-time'] ?? '') ? -1 : 1));
      for (const old of ended.slice(0, ended.length - this.opts.actionsKept)) tx.remove(actionPath(old.id));
      await tx.commit();
    }).catch((err: unknown) => this.ctx.log.info({ err }, 'autoscaling: pruning ended actions failed; a later end prunes them'));
  }

  // ----- what each action does ---------------------------------------------------------------

  private async execute(a: Action): Promise<Outcome> {
    const id = a.target!;
    const inputs = JSON.parse(a.inputs ?? '{}') as Record<string, unknown>;
    if (a.action === 'CLUSTER_DELETE') return this.deleteCluster(id);
    const cluster = this.ctx.data.read('config', clusterPath(id));
    if (!cluster) return { ok: false, reason: `The cluster ${id} could not be found.` };
    await this.ensureState(cluster);
    const nodes = nodesOf(this.ctx, id);
    const current = nodes.length;
    switch (a.action) {
      case 'CLUSTER_CREATE': {
        const desired = cluster['desired-capacity'] ?? cluster['min-size'] ?? 0;
        return this.resizeTo(cluster, desired, 'Cluster creation succeeded.');
      }
      case 'CLUSTER_SCALE_OUT':
      case 'CLUSTER_SCALE_IN': {
        const decided = scaleCount(this.ctx, cluster, a.action, current, inputs.count, this.opts.maxNodesPerCluster);
        if (!decided.ok) return decided;
        const target = a.action === 'CLUSTER_SCALE_OUT' ? current + decided.count : current - decided.count;
        const out = await this.resizeTo(cluster, target, ACTION_REASONS.scalingSucceeded);
        if (out.ok) await this.markPolicies(cluster, decided.stamp);
        return out;
      }
      case 'CLUSTER_RESIZE': {
        const decided = resizeTarget(cluster, current, resizeInputs(inputs), this.opts.maxNodesPerCluster);
        if (!decided.ok) return decided;
        await this.updateLimits(cluster, decided);
        return this.resizeTo({ ...cluster, 'min-size': decided.minSize, 'max-size': decided.maxSize }, decided.desired, 'Cluster resize succeeded.');
      }
      case 'CLUSTER_REPLACE_NODES':
        return this.replace(cluster, (inputs.nodes as string[] | undefined) ?? []);
      case 'CLUSTER_DEL_NODES': {
        // Senlin's do_del_nodes: the named nodes go (here always destroyed: a node exists only as a
        // member), the size may not drop below min_size, and desired_capacity follows unless the
        // deletion policy says reduce_desired_capacity false.
        const ids = (inputs.nodes as string[] | undefined) ?? [];
        const gone = nodes.filter((n) => ids.includes(n.id));
        const missing = ids.filter((id) => !gone.some((n) => n.id === id));
        if (missing.length) return { ok: false, reason: `Nodes not members of specified cluster: ${missing.join(', ')}.` };
        const min = cluster['min-size'] ?? 0;
        if (current - gone.length < min) return { ok: false, reason: `The target capacity (${current - gone.length}) is less than the cluster's min_size (${min}).` };
        await this.deleteNodes(id, gone);
        const deletion = policiesOf(this.ctx, cluster).find((p) => p.policy.deletion)?.policy.deletion;
        if (deletion?.['reduce-desired-capacity'] !== false) await this.setDesired(id, Math.max(min, (cluster['desired-capacity'] ?? current) - gone.length));
        return { ok: true, reason: 'Completed deleting nodes.' };
      }
      case 'CLUSTER_CHECK':
        await this.checkNodes(cluster.id);
        return { ok: true, reason: 'Cluster checking completed.' };
      case 'CLUSTER_RECOVER': {
        // Senlin's default recovery: RECREATE each node found unhealthy (a new port, placed again).
        await this.checkNodes(cluster.id);
        const bad = nodesOf(this.ctx, id).filter((n) => n.status === 'ERROR' || n.status === 'WARNING');
        if (!bad.length) return { ok: true, reason: 'Cluster recovery succeeded.' };
        const made = await this.replace(cluster, bad.map((n) => n.id));
        return made.ok ? { ok: true, reason: 'Cluster recovery succeeded.', outputs: made.outputs } : made;
      }
      default:
        return { ok: false, reason: `Unsupported action ${a.action}.` };
    }
  }

  private async ensureState(cluster: ClusteringCluster): Promise<void> {
    if (this.ctx.data.read('operational', clusterState(cluster.id))?.['created-at']) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      tx.merge(clusterState(cluster.id), { id: cluster.id, status: 'CREATING', 'status-reason': 'Creation in progress', 'created-at': now() });
      await tx.commit();
    });
  }

  /** Adds or removes nodes until the cluster has `desired`; desired-capacity follows. */
  private async resizeTo(cluster: ClusteringCluster, desired: number, success: string): Promise<Outcome> {
    const nodes = nodesOf(this.ctx, cluster.id);
    if (desired > nodes.length) {
      const made = await this.createNodes(cluster, desired - nodes.length);
      if (!made.ok) return made;
    } else if (desired < nodes.length) {
      const gone = victims(this.ctx, cluster, nodes, nodes.length - desired);
      await this.deleteNodes(cluster.id, gone);
    }
    await this.setDesired(cluster.id, desired);
    return { ok: true, reason: success };
  }

  private async setDesired(cluster: string, desired: number): Promise<void> {
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      if (!tx.read(clusterPath(cluster))) return tx.cancel();
      tx.merge(clusterPath(cluster), { 'desired-capacity': desired });
      await tx.commit();
    });
  }

  private async updateLimits(cluster: ClusteringCluster, d: { minSize: number; maxSize: number }): Promise<void> {
    if (cluster['min-size'] === d.minSize && cluster['max-size'] === d.maxSize) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      tx.merge(clusterPath(cluster.id), { 'min-size': d.minSize, 'max-size': d.maxSize });
      await tx.commit();
    });
  }

  private async markPolicies(cluster: ClusteringCluster, policies: string[]): Promise<void> {
    if (!policies.length) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      for (const p of policies) tx.merge(clusterState(cluster.id).binding(p), { policy: p, 'last-op': now() });
      await tx.commit();
    });
  }

  /** New nodes: placed, recorded CREATING, their ports written, ACTIVE once OVS reports them. */
  private async createNodes(cluster: ClusteringCluster, count: number, avoid = new Set<string>()): Promise<Outcome & { created?: Node[] }> {
    const profile = this.ctx.data.read('config', profilePath(cluster.profile!));
    if (!profile?.network) return { ok: false, reason: `The profile ${cluster.profile} names no network.` };
    const existing = nodesOf(this.ctx, cluster.id);
    const all = (this.ctx.data.read('operational', STATE.cluster()) ?? []).flatMap((s) => s.node ?? []);
    const placed = place(this.ctx, count, existing.filter((n) => !avoid.has(n.id)), all);
    if (typeof placed === 'string') return { ok: false, reason: `Failed in creating nodes: ${placed}.` };
    let index = existing.reduce((m, n) => Math.max(m, n.index ?? 0), 0);
    const nodes: (Node & { at: Placed })[] = placed.map((at) => {
      const id = randomUUID();
      index++;
      return { id, name: `node-${id.slice(0, 8)}`, index, status: 'CREATING' as const, 'created-at': now(), compute: at.compute, port: randomUUID(), at };
    });
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      for (const { at: _at, ...n } of nodes) tx.put(nodeState(cluster.id, n.id), n);
      await tx.commit();
    });
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      for (const n of nodes) createPort(tx, { id: n.id, port: n.port!, cluster: cluster.id, index: n.index! }, profile.network!, n.at);
      await tx.commit();
    });
    const appeared = await this.waitFor(() => nodes.every((n) => portReported(this.ctx, n, n.at.bridge)), this.opts.portWaitMs);
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      for (const n of nodes) {
        const ok = appeared || portReported(this.ctx, n, n.at.bridge);
        tx.merge(nodeState(cluster.id, n.id), ok ? { status: 'ACTIVE', 'status-reason': 'Creation succeeded' } : { status: 'ERROR', 'status-reason': `the port did not appear in Open vSwitch on ${n.compute} within ${this.opts.portWaitMs} ms` });
      }
      await tx.commit();
    });
    const failed = nodes.filter((n) => !(appeared || portReported(this.ctx, n, n.at.bridge)));
    if (failed.length) return { ok: false, reason: `Failed in creating nodes: ${failed.map((n) => n.id).join(', ')}.` };
    return { ok: true, created: nodes };
  }

  private async deleteNodes(cluster: string, nodes: Node[]): Promise<void> {
    if (!nodes.length) return;
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      for (const n of nodes) tx.merge(nodeState(cluster, n.id), { status: 'DELETING', 'status-reason': 'Deletion in progress' });
      await tx.commit();
    });
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('config');
      for (const n of nodes) deletePort(this.ctx, tx, n);
      await tx.commit();
    });
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      for (const n of nodes) tx.remove(nodeState(cluster, n.id));
      await tx.commit();
    });
  }

  /** Nodes on a compute being scaled in: a new one elsewhere for each, then the old ones go. */
  private async replace(cluster: ClusteringCluster, ids: string[]): Promise<Outcome> {
    const old = nodesOf(this.ctx, cluster.id).filter((n) => ids.includes(n.id));
    if (!old.length) return { ok: true, reason: 'Nothing to replace.' };
    const made = await this.createNodes(cluster, old.length, new Set(old.map((n) => n.id)));
    if (!made.ok) return made;
    await this.deleteNodes(cluster.id, old);
    return { ok: true, reason: 'Completed replacing nodes.', outputs: { replaced: Object.fromEntries(old.map((n, i) => [n.id, made.created![i].id])) } };
  }

  private async deleteCluster(id: string): Promise<Outcome> {
    const nodes = nodesOf(this.ctx, id);
    await this.deleteNodes(id, nodes);
    await retryOnConflict(async () => {
      const tx = this.ctx.data.transaction('operational');
      if (tx.read(clusterState(id))) tx.remove(clusterState(id));
      await tx.commit();
    });
    return { ok: true, reason: 'Cluster deletion succeeded.' };
  }

  private waitFor(check: () => boolean, ms: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const off = this.ctx.data.subscribe('operational', ovsdbTopology.node(ANY), () => {
        if (check()) finish(true);
      }, { replay: false });
      const timer = setTimeout(() => finish(check()), ms);
      timer.unref();
      let done = false;
      const finish = (v: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        resolve(v);
      };
    });
  }
}

export function requireCluster(ctx: PluginContext, idOrName: string): ClusteringCluster {
  const c = findCluster(ctx, idOrName);
  if (!c) throw new YangError({ tag: 'data-missing', message: `The cluster '${idOrName}' could not be found.`, path: clusterPath(idOrName).text });
  return c;
}

