/**
 * OpenStack Senlin's autoscaling model as pure functions: cluster status
 * roll-up, size arithmetic, scaling- and deletion-policy decisions, the
 * request checks that answer 400/409, and policy spec validation.
 *
 * No I/O, no datastore, no clock (callers pass `now`), no global randomness
 * (callers may inject `random`). The rules, branches, rounding and message
 * texts were read from openstack/senlin at ec5fae99 (the last commit with
 * code before the project was retired); every function names the Senlin
 * function it reproduces. Where JavaScript cannot represent a Python
 * distinction (int 2 vs float 2.0, microsecond timestamps) the comment says
 * which way we lean.
 */

// ---------------------------------------------------------------------------
// Constants and domain types (senlin/common/consts.py)
// ---------------------------------------------------------------------------

/** Default of the `max_nodes_per_cluster` option (senlin/conf/base.py). */
export const MAX_NODES_PER_CLUSTER = 1000;

/** consts.CLUSTER_STATUSES, in Senlin's order. OPERATING is part of the set
 * (used while a CLUSTER_OPERATION runs) even though eval_status never sets it. */
export const CLUSTER_STATUSES = [
  'INIT', 'ACTIVE', 'CREATING', 'UPDATING', 'RESIZING', 'DELETING',
  'CHECKING', 'RECOVERING', 'CRITICAL', 'ERROR', 'WARNING', 'OPERATING',
] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

/** consts.NODE_STATUSES. Nodes have no CRITICAL status. */
export const NODE_STATUSES = [
  'INIT', 'ACTIVE', 'ERROR', 'WARNING', 'CREATING', 'UPDATING',
  'DELETING', 'RECOVERING', 'OPERATING',
] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** consts.ADJUSTMENT_TYPES. */
export const ADJUSTMENT_TYPES = ['EXACT_CAPACITY', 'CHANGE_IN_CAPACITY', 'CHANGE_IN_PERCENTAGE'] as const;
export type AdjustmentType = (typeof ADJUSTMENT_TYPES)[number];

/** DeletionPolicy.CRITERIA_VALUES. */
export const DELETION_CRITERIA = ['OLDEST_FIRST', 'OLDEST_PROFILE_FIRST', 'YOUNGEST_FIRST', 'RANDOM'] as const;
export type DeletionCriteria = (typeof DELETION_CRITERIA)[number];

/** consts.CLUSTER_SCALE_ACTIONS; also the scaling policy's allowed `event`s. */
export const SCALE_EVENTS = ['CLUSTER_SCALE_IN', 'CLUSTER_SCALE_OUT'] as const;
export type ScaleEvent = (typeof SCALE_EVENTS)[number];

/** Action statuses that count as "still running" for conflict checks
 * (db/sqlalchemy/api.py action_get_all_active_by_target / action_list_active_scaling). */
export const ACTIVE_ACTION_STATUSES = ['READY', 'WAITING', 'RUNNING', 'WAITING_LIFECYCLE_COMPLETION'] as const;

/** Reasons the cluster actions record (engine/actions/cluster_action.py do_resize,
 * do_scale_out, do_scale_in), so the plugin's status texts match Senlin's. */
export const ACTION_REASONS = {
  resizeStarted: 'Cluster resize started.',
  resizeSucceeded: 'Cluster resize succeeded.',
  scaleOutStarted: 'Cluster scale out started.',
  scaleInStarted: 'Cluster scale in started.',
  scalingSucceeded: 'Cluster scaling succeeded.',
  policyChecksCompleted: 'Completed policy checking.',
  scalingRequestValidated: 'Scaling request validated.',
  candidatesGenerated: 'Candidates generated',
} as const;

/** What the deletion policy needs to know about a node. `createdAt` null or
 * absent means the node was never created (Senlin's created_at None). */
export interface NodeInfo {
  id: string;
  status: NodeStatus | string;
  /** ISO-8601 text or epoch milliseconds. */
  createdAt?: string | number | null;
  /** When the node's profile was created; only OLDEST_PROFILE_FIRST reads it. */
  profileCreatedAt?: string | number | null;
  tainted?: boolean;
}

/** The cluster size properties the checks read. `desiredCapacity` is only
 * consulted by the branches of check_size_params that have no target size. */
export interface ClusterSize {
  minSize: number;
  /** -1 means unlimited. */
  maxSize: number;
  desiredCapacity?: number;
}

/** Senlin's None: JSON null or a missing value. */
type Opt<T> = T | null | undefined;
const isSet = <T>(v: Opt<T>): v is T => v !== null && v !== undefined;

// ---------------------------------------------------------------------------
// Python rendering helpers: Senlin formats values with '%s', so messages show
// Python's str() of the value (None, True, ['a'], {'k': 1}).
// ---------------------------------------------------------------------------

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

function pyRepr(v: unknown): string {
  if (typeof v === 'string') return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/'/g, "\\'")}'`;
  return pyStr(v);
}

/** Python's str() of a JSON value. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return String(v);
}

function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** Python truthiness of a JSON value. */
function pyTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** int(text) as Python parses a string (surrounding blanks, sign and digit
 * underscores allowed); undefined where Python raises ValueError. */
function pyIntFromString(s: string): number | undefined {
  const t = s.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}

/** float(text) as Python parses a string; undefined on ValueError. */
function pyFloatFromString(s: string): number | undefined {
  const t = s.trim().replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/**
 * oslo strutils.is_int_like followed by senlin.common.utils.get_positive_int:
 * str(int(v)) must equal str(v), so "2" passes but "02", " 2", "2.5", 2.5 and
 * True do not; the integer must then be > 0.
 * (A Python float 2.0 fails is_int_like; JavaScript cannot tell 2.0 from 2,
 * so a JS number that is an integer passes.)
 */
export function getPositiveInt(v: unknown): { ok: true; value: number } | { ok: false } {
  let n: number | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^(0|-?[1-9]\d*)$/.test(v)) n = Number(v);
  return n !== undefined && n > 0 ? { ok: true, value: n } : { ok: false };
}

// ---------------------------------------------------------------------------
// Cluster status roll-up (senlin/engine/cluster.py Cluster.eval_status)
// ---------------------------------------------------------------------------

/**
 * Re-evaluates the cluster's status from its nodes after an operation,
 * as Cluster.eval_status does. Only ACTIVE nodes count: a WARNING or
 * CREATING node is not "active". The reason is prefixed with the operation
 * name (Senlin passes the action name, e.g. CLUSTER_SCALE_OUT); when none is
 * given we use CLUSTER_CHECK, the operation under which Senlin re-evaluates a
 * cluster without changing it. The cluster values passed in are the ones to
 * judge against (eval_status lets a caller override desired/min/max the same way).
 * eval_status never yields CRITICAL; an empty cluster with min 0 and desired 0 is ACTIVE.
 */
export function evalStatus(
  cluster: { minSize: number; maxSize: number; desiredCapacity: number },
  nodes: readonly { status: string }[],
  opName = 'CLUSTER_CHECK',
): { status: ClusterStatus; reason: string } {
  const active = nodes.filter((n) => n.status === 'ACTIVE').length;
  const { minSize, maxSize, desiredCapacity } = cluster;
  if (active < minSize) {
    return { status: 'ERROR', reason: `${opName}: number of active nodes is below min_size (${minSize}).` };
  }
  if (active < desiredCapacity) {
    return { status: 'WARNING', reason: `${opName}: number of active nodes is below desired_capacity (${desiredCapacity}).` };
  }
  if (maxSize < 0 || active <= maxSize) {
    return { status: 'ACTIVE', reason: `${opName}: number of active nodes is equal or above desired_capacity (${desiredCapacity}).` };
  }
  return { status: 'WARNING', reason: `${opName}: number of active nodes is above max_size (${maxSize}).` };
}

// ---------------------------------------------------------------------------
// Size arithmetic (senlin/common/scaleutils.py)
// ---------------------------------------------------------------------------

/**
 * scaleutils.calculate_desired: the target size for a resize.
 * Percentages: a change smaller than one node rounds away from zero (to +1 or
 * -1, so a small percentage still moves the cluster), a larger one truncates
 * toward zero. min_step (percentage only) then raises the step to at least
 * min_step nodes; note Senlin's sign test is `rounded > 0`, so a zero change
 * (0 nodes, or 0%) becomes a shrink by min_step.
 */
export function calculateDesired(current: number, adjType: AdjustmentType, number: number, minStep?: number | null): number {
  if (adjType === 'EXACT_CAPACITY') return number;
  if (adjType === 'CHANGE_IN_CAPACITY') return current + number;
  const delta = (number * current) / 100.0;
  let rounded: number;
  if (delta > 0.0) rounded = Math.abs(delta) < 1.0 ? Math.ceil(delta) : Math.floor(delta);
  else rounded = Math.abs(delta) < 1.0 ? Math.floor(delta) : Math.ceil(delta);
  rounded += 0; // Python's int() has no negative zero
  if (isSet(minStep) && minStep > Math.abs(rounded)) {
    return current + (rounded > 0 ? minStep : -minStep);
  }
  return current + rounded;
}

/**
 * scaleutils.truncate_desired: a non-strict resize clamps the target into the
 * new (or else the current) range. A max of 0 is not clamped to (Senlin tests
 * `max_size > 0`), unlike check_size_params which treats 0 as a real limit.
 */
export function truncateDesired(cluster: { minSize: number; maxSize: number }, desired: number, minSize?: number | null, maxSize?: number | null): number {
  let d = desired;
  if (isSet(minSize) && d < minSize) d = minSize;
  if (!isSet(minSize) && d < cluster.minSize) d = cluster.minSize;
  if (isSet(maxSize) && maxSize > 0 && d > maxSize) d = maxSize;
  if (!isSet(maxSize) && d > cluster.maxSize && cluster.maxSize > 0) d = cluster.maxSize;
  return d;
}

/**
 * scaleutils.check_size_params: undefined when the sizes are consistent,
 * else Senlin's message. Limits given with the request are always enforced;
 * the cluster's current limits only when `strict`. Checks run in Senlin's
 * order, so the first failing rule names the message.
 */
export function checkSizeParams(
  cluster: ClusterSize | undefined,
  desired?: number | null,
  minSize?: number | null,
  maxSize?: number | null,
  strict = false,
  maxNodesPerCluster = MAX_NODES_PER_CLUSTER,
): string | undefined {
  const c = cluster;
  if (isSet(desired)) {
    if (desired > maxNodesPerCluster) {
      return `The target capacity (${desired}) is greater than the maximum number of nodes allowed per cluster (${maxNodesPerCluster}).`;
    }
    if (isSet(minSize) && desired < minSize) {
      return `The target capacity (${desired}) is less than the specified min_size (${minSize}).`;
    }
    if (!isSet(minSize) && c && desired < c.minSize && strict) {
      return `The target capacity (${desired}) is less than the cluster's min_size (${c.minSize}).`;
    }
    if (isSet(maxSize) && desired > maxSize && maxSize >= 0) {
      return `The target capacity (${desired}) is greater than the specified max_size (${maxSize}).`;
    }
    if (!isSet(maxSize) && c && desired > c.maxSize && c.maxSize >= 0 && strict) {
      return `The target capacity (${desired}) is greater than the cluster's max_size (${c.maxSize}).`;
    }
  }
  if (isSet(minSize)) {
    if (isSet(maxSize) && maxSize >= 0 && minSize > maxSize) {
      return `The specified min_size (${minSize}) is greater than the specified max_size (${maxSize}).`;
    }
    if (!isSet(maxSize) && c && c.maxSize >= 0 && minSize > c.maxSize) {
      return `The specified min_size (${minSize}) is greater than the current max_size (${c.maxSize}) of the cluster.`;
    }
    if (!isSet(desired) && c && c.desiredCapacity !== undefined && minSize > c.desiredCapacity && strict) {
      return `The specified min_size (${minSize}) is greater than the current desired_capacity (${c.desiredCapacity}) of the cluster.`;
    }
  }
  if (isSet(maxSize)) {
    if (maxSize > maxNodesPerCluster) {
      return `The specified max_size (${maxSize}) is greater than the maximum number of nodes allowed per cluster (${maxNodesPerCluster}).`;
    }
    if (!isSet(minSize) && c && maxSize >= 0 && maxSize < c.minSize) {
      return `The specified max_size (${maxSize}) is less than the current min_size (${c.minSize}) of the cluster.`;
    }
    if (!isSet(desired) && c && c.desiredCapacity !== undefined && maxSize >= 0 && maxSize < c.desiredCapacity && strict) {
      return `The specified max_size (${maxSize}) is less than the current desired_capacity (${c.desiredCapacity}) of the cluster.`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Resize: the API/conductor checks (HTTP 400) and the action's parsing
// ---------------------------------------------------------------------------

/** A resize request body as the API receives it (api/openstack/v1/clusters.py _do_resize). */
export interface ResizeRequest {
  adjustment_type?: string | null;
  number?: number | null;
  min_size?: number | null;
  max_size?: number | null;
  min_step?: number | null;
  strict?: boolean | null;
}

/** The inputs the conductor stores on the CLUSTER_RESIZE action. */
export interface ResizeInputs {
  adjustment_type?: AdjustmentType | null;
  number?: number | null;
  min_size?: number | null;
  max_size?: number | null;
  min_step?: number | null;
  /** Absent means false for the action (parse_resize_params' default). */
  strict?: boolean;
}

export type ResizeCheck =
  | { ok: true; inputs: Required<ResizeInputs> }
  | { ok: false; badRequest: true; message: string };

export type ResizeResult =
  | { ok: true; desired: number; minSize: number; maxSize: number; creation?: number; deletion?: number }
  /** badRequest: the API answers 400 and no action is created; otherwise the
   * action was accepted (202) and then fails with `message` as its reason. */
  | { ok: false; badRequest: boolean; message: string };

/** objects/fields.py Capacity.coerce: int() truncates, then the range test. */
function capacityCoerceError(attr: string, v: number, minimum: number, maximum: number): string | undefined {
  const i = Math.trunc(v);
  if (i < minimum) return `The value for the ${attr} field must be greater than or equal to ${minimum}.`;
  if (i > maximum) return `The value for the ${attr} field must be less than or equal to ${maximum}.`;
  return undefined;
}

/** objects/fields.py NonNegativeInteger.coerce. */
function nonNegativeIntegerCoerceError(attr: string, v: unknown): string | undefined {
  let i: number | undefined;
  if (typeof v === 'number' && Number.isFinite(v)) i = Math.trunc(v);
  else if (typeof v === 'string') i = pyIntFromString(v);
  if (i === undefined) return `The value for ${attr} must be an integer: '${pyStr(v)}'.`;
  if (i < 0) return `Value must be >= 0 for field '${attr}'.`;
  return undefined;
}

/** The request's JSON schema check, run after coercion: integer fields are
 * typed ['integer', 'string'], so a fractional number is refused there. */
function integerTypeError(v: unknown): string | undefined {
  return typeof v === 'number' && !Number.isInteger(v) ? `${pyNumber(v)} is not of type 'integer', 'string'` : undefined;
}

/**
 * The synchronous half of a resize, all answered with 400 Bad Request:
 * api/openstack/v1/clusters.py ClusterController._do_resize (+ the
 * ClusterResizeRequest field coercion) and conductor/service.py
 * ConductorService.cluster_resize. Note the API defaults `strict` to true,
 * and checks the un-truncated target against limits given in the request
 * even when strict is false. `currentNodes` is the cluster's node count.
 */
export function checkResizeRequest(
  body: ResizeRequest,
  cluster: ClusterSize,
  currentNodes: number,
  maxNodesPerCluster = MAX_NODES_PER_CLUSTER,
): ResizeCheck {
  const bad = (message: string): ResizeCheck => ({ ok: false, badRequest: true, message });
  // _do_resize keeps only non-null values; min_step only rides with a percentage.
  const type = isSet(body.adjustment_type) ? body.adjustment_type : undefined;
  const number = isSet(body.number) ? body.number : undefined;
  const minSize = isSet(body.min_size) ? body.min_size : undefined;
  const maxSize = isSet(body.max_size) ? body.max_size : undefined;
  const minStep = type === 'CHANGE_IN_PERCENTAGE' && isSet(body.min_step) ? body.min_step : undefined;
  if (type === undefined && number === undefined && minSize === undefined && maxSize === undefined && minStep === undefined) {
    return bad('Not enough parameters to do resize action.');
  }
  const strictIn = isSet(body.strict) ? body.strict : undefined;

  // ClusterResizeRequest field coercion, in the order the body was built.
  if (type !== undefined && !(ADJUSTMENT_TYPES as readonly string[]).includes(type)) {
    return bad(`Value '${type}' is not acceptable for field 'adjustment_type'.`);
  }
  const coerceErr =
    (minSize !== undefined ? capacityCoerceError('min_size', minSize, 0, maxNodesPerCluster) : undefined) ??
    (maxSize !== undefined ? capacityCoerceError('max_size', maxSize, -1, maxNodesPerCluster) : undefined) ??
    (minStep !== undefined ? nonNegativeIntegerCoerceError('min_step', minStep) : undefined) ??
    integerTypeError(minSize) ?? integerTypeError(maxSize) ?? integerTypeError(minStep);
  if (coerceErr) return bad(coerceErr);

  if (type !== undefined && number === undefined) return bad('Missing number value for size adjustment.');
  if (number !== undefined && type === undefined) return bad('Missing adjustment_type value for size adjustment.');
  // The API's own min/max test only applies to a positive max_size; the
  // conductor's check_size_params below catches max_size 0.
  if (minSize !== undefined && maxSize !== undefined && maxSize > 0 && minSize > maxSize) {
    return bad(`The specified min_size (${minSize}) is greater than the specified max_size (${maxSize}).`);
  }

  // ConductorService.cluster_resize
  const adjType = type as AdjustmentType | undefined;
  let num: number | null = null;
  if (adjType !== undefined) {
    if (adjType === 'EXACT_CAPACITY' && (number as number) < 0) {
      return bad(`The 'number' must be non-negative integer for adjustment type '${adjType}'.`);
    }
    // Only a percentage keeps a fractional number; the others go through int().
    num = adjType === 'CHANGE_IN_PERCENTAGE' ? (number as number) : Math.trunc(number as number) + 0;
  }
  const strict = strictIn ?? true;
  const desired = adjType !== undefined ? calculateDesired(currentNodes, adjType, num as number, minStep ?? null) : undefined;
  const err = checkSizeParams(cluster, desired, minSize, maxSize, strict, maxNodesPerCluster);
  if (err) return bad(err);
  return {
    ok: true,
    inputs: {
      adjustment_type: adjType ?? null,
      number: num,
      min_size: minSize !== undefined ? Math.trunc(minSize) : null,
      max_size: maxSize !== undefined ? Math.trunc(maxSize) : null,
      min_step: minStep !== undefined ? Math.trunc(minStep) : null,
      strict,
    },
  };
}

/**
 * scaleutils.parse_resize_params as ClusterAction.do_resize runs it: the
 * action-time half of a resize. A non-strict resize truncates the target into
 * range first; errors here fail the action (no 400). `currentNodes` is the
 * node count; Senlin falls back to desired_capacity when it is 0 (Python `or`).
 * minSize/maxSize are the limits the cluster will have afterwards.
 */
export function parseResizeParams(
  inputs: ResizeInputs,
  cluster: ClusterSize & { desiredCapacity: number },
  currentNodes?: number,
  maxNodesPerCluster = MAX_NODES_PER_CLUSTER,
): ResizeResult {
  const minSize = inputs.min_size ?? null;
  const maxSize = inputs.max_size ?? null;
  const strict = inputs.strict ?? false;
  const current = currentNodes || cluster.desiredCapacity;
  let desired = isSet(inputs.adjustment_type)
    ? calculateDesired(current, inputs.adjustment_type, inputs.number as number, inputs.min_step)
    : current;
  if (strict === false) desired = truncateDesired(cluster, desired, minSize, maxSize);
  const err = checkSizeParams(cluster, desired, minSize, maxSize, strict, maxNodesPerCluster);
  if (err) return { ok: false, badRequest: false, message: err };
  const count = current - desired;
  const out = { ok: true as const, desired, minSize: minSize ?? cluster.minSize, maxSize: maxSize ?? cluster.maxSize };
  return count > 0 ? { ...out, deletion: count } : { ...out, creation: Math.abs(count) };
}

/** A whole resize: the 400 checks, then the action's parsing. */
export function resize(
  body: ResizeRequest,
  cluster: ClusterSize & { desiredCapacity: number },
  currentNodes: number,
  maxNodesPerCluster = MAX_NODES_PER_CLUSTER,
): ResizeResult {
  const checked = checkResizeRequest(body, cluster, currentNodes, maxNodesPerCluster);
  if (!checked.ok) return checked;
  return parseResizeParams(checked.inputs, cluster, currentNodes, maxNodesPerCluster);
}

// ---------------------------------------------------------------------------
// Scale-in / scale-out requests (conductor/service.py, engine/actions/base.py)
// ---------------------------------------------------------------------------

/**
 * ConductorService.cluster_scale_out / cluster_scale_in (+ the request's
 * NonNegativeInteger `count` field): the 400 checks of a scale request.
 * The size check is non-strict and starts from desired_capacity, so only the
 * global node limit can fail here; the cluster's min/max are enforced later
 * by the scaling policy or the action.
 */
export function checkScaleRequest(
  event: ScaleEvent,
  cluster: { desiredCapacity: number; minSize: number; maxSize: number },
  count?: unknown,
  maxNodesPerCluster = MAX_NODES_PER_CLUSTER,
): undefined | { status: 400; message: string } {
  if (count === undefined || count === null) return undefined;
  const fieldErr = nonNegativeIntegerCoerceError('count', count) ?? integerTypeError(count);
  if (fieldErr) return { status: 400, message: fieldErr };
  const n = typeof count === 'number' ? Math.trunc(count) : (pyIntFromString(count as string) as number);
  const word = event === 'CLUSTER_SCALE_OUT' ? 'scale-out' : 'scale-in';
  if (n === 0) return { status: 400, message: `Count for ${word} request cannot be 0.` };
  const target = event === 'CLUSTER_SCALE_OUT' ? cluster.desiredCapacity + n : cluster.desiredCapacity - n;
  const err = checkSizeParams({ ...cluster }, target, null, null, false, maxNodesPerCluster);
  return err ? { status: 400, message: err } : undefined;
}

export interface ActionInfo {
  id: string;
  action: string;
  status: string;
}

/** A policy attached to the cluster, as the admission check sees it. */
export interface PolicyBindingInfo {
  policyId: string;
  enabled: boolean;
  /** Bindings are visited in priority order (lower first). */
  priority?: number;
  /** Scaling policies only. */
  event?: string;
  cooldown?: number;
  /** Epoch ms of the binding's last_op (set after each scale action). */
  lastOpAt?: number;
}

export interface Conflict {
  status: 409;
  error: 'ResourceIsLocked' | 'ActionConflict' | 'ActionCooldown';
  message: string;
}

/**
 * Action.create (engine/actions/base.py) for CLUSTER_SCALE_IN/OUT: the 409s a
 * scale request can get before any action is stored, in Senlin's order:
 *  1. _check_action_lock: the cluster is locked;
 *  2. _check_conflicting_actions: ANY action on the cluster is still
 *     READY/WAITING/RUNNING/WAITING_LIFECYCLE_COMPLETION (not only scaling ones);
 *  3. validate_scaling_action: an active scaling action (already covered by 2),
 *     then an enabled scaling policy for this event with a non-zero cooldown
 *     whose last_op is not older than the cooldown.
 * Senlin does this whatever the request's microversion (1.11 only documents
 * it), and webhook-triggered scaling goes through the same check.
 */
export function checkScaleAdmission(
  event: ScaleEvent,
  clusterId: string,
  state: { locked?: boolean; actions?: readonly ActionInfo[]; bindings?: readonly PolicyBindingInfo[]; now: number },
): Conflict | undefined {
  if (state.locked) {
    return { status: 409, error: 'ResourceIsLocked', message: `${event} for cluster '${clusterId}' cannot be completed because it is already locked.` };
  }
  const active = (state.actions ?? []).filter((a) => (ACTIVE_ACTION_STATUSES as readonly string[]).includes(a.status));
  if (active.length > 0) {
    return {
      status: 409,
      error: 'ActionConflict',
      message: `The ${event} action for target ${clusterId} conflicts with the following action(s): ${active.map((a) => a.id).join(',')}`,
    };
  }
  const bindings = (state.bindings ?? []).filter((b) => b.enabled).sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  for (const b of bindings) {
    if (b.cooldown && b.event === event && inCooldown(b.lastOpAt, b.cooldown, state.now)) {
      return {
        status: 409,
        error: 'ActionCooldown',
        message: `The ${event} action for cluster ${clusterId} cannot be processed due to Policy ${b.policyId} cooldown still in progress`,
      };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Scaling policy (senlin/policies/scaling_policy.py)
// ---------------------------------------------------------------------------

export interface AdjustmentSpec {
  type?: AdjustmentType;
  number?: number;
  min_step?: number | null;
  best_effort?: boolean;
  cooldown?: number | null;
}

/** The `properties` of a senlin.policy.scaling 1.0 spec. */
export interface ScalingPolicyProperties {
  event?: ScaleEvent;
  adjustment?: AdjustmentSpec;
}

/** ScalingPolicy.properties_schema defaults for `adjustment`. */
export const SCALING_ADJUSTMENT_DEFAULTS = {
  type: 'CHANGE_IN_CAPACITY',
  number: 1,
  min_step: 1,
  best_effort: false,
  cooldown: 0,
} as const satisfies Required<AdjustmentSpec>;

function adjustmentWithDefaults(a: AdjustmentSpec | undefined) {
  return {
    type: a?.type ?? SCALING_ADJUSTMENT_DEFAULTS.type,
    number: a?.number ?? SCALING_ADJUSTMENT_DEFAULTS.number,
    minStep: a?.min_step ?? SCALING_ADJUSTMENT_DEFAULTS.min_step,
    bestEffort: a?.best_effort ?? SCALING_ADJUSTMENT_DEFAULTS.best_effort,
    cooldown: a?.cooldown ?? SCALING_ADJUSTMENT_DEFAULTS.cooldown,
  };
}

/**
 * ScalingPolicy._calculate_adjustment_count: how many nodes the policy adds
 * or removes. Unlike calculate_desired (resize), a percentage is simply
 * truncated (int()) and then raised to min_step, so 20% of 4 nodes is 0.8 ->
 * 0 -> 1 with the default min_step. EXACT_CAPACITY counts the distance to the
 * number and may be zero or negative (pre_op then refuses it).
 */
export function adjustmentCount(adjustment: AdjustmentSpec | undefined, event: ScaleEvent, current: number): number {
  const a = adjustmentWithDefaults(adjustment);
  if (a.type === 'EXACT_CAPACITY') return event === 'CLUSTER_SCALE_IN' ? current - a.number : a.number - current;
  if (a.type === 'CHANGE_IN_CAPACITY') return a.number;
  let count = Math.trunc((a.number * current) / 100.0) + 0;
  if (count < a.minStep) count = a.minStep;
  return count;
}

/**
 * oslo timeutils.is_older_than as the scaling policy uses it: a last
 * operation holds the cluster until strictly more than `cooldownSeconds`
 * have passed, so at exactly the cooldown it is still cooling down (even a
 * cooldown of 0 holds for the instant of the last operation). No last_op, no cooldown.
 */
export function inCooldown(lastOpAt: number | undefined, cooldownSeconds: number, now: number): boolean {
  if (lastOpAt === undefined || lastOpAt === null) return false;
  return !(now - lastOpAt > cooldownSeconds * 1000);
}

/**
 * ScalingPolicy.need_check: the BEFORE check (pre_op) runs only for the
 * policy's own event; the AFTER check (post_op, which stamps last_op and so
 * restarts the cooldown) runs after both scale-in and scale-out.
 */
export function scalingPolicyNeedsCheck(policyEvent: ScaleEvent, action: string, when: 'BEFORE' | 'AFTER'): boolean {
  if (!(SCALE_EVENTS as readonly string[]).includes(action)) return false;
  return when === 'BEFORE' ? policyEvent === action : true;
}

export type ScalingDecision = { ok: true; count: number } | { ok: false; reason: string };

/**
 * ScalingPolicy.pre_op: the count a scaling policy approves for a scale
 * action on a cluster of `current` nodes (Senlin uses len(cluster.nodes)).
 *  - cooldown first, when `opts.lastOpAt` is given;
 *  - a count in the request replaces the policy's own calculation (and still
 *    goes through best_effort and the size check below);
 *  - the count must be a positive integer;
 *  - best_effort clamps the count to what the limits allow (max -1 meaning
 *    max_nodes_per_cluster) and checks non-strictly; without it the new size
 *    is checked strictly against the cluster's min/max and refused with
 *    check_size_params' message. A best-effort clamp can reach 0 (or below,
 *    if the cluster is already outside its limits): Senlin approves that count.
 * The reason is the policy's own; wrap it with policyFailure(name, reason).
 */
export function scalingCount(
  policySpec: ScalingPolicyProperties,
  event: ScaleEvent,
  current: number,
  cluster: { minSize: number; maxSize: number },
  requestedCount?: number | string,
  opts: { lastOpAt?: number; now?: number; policyId?: string; maxNodesPerCluster?: number } = {},
): ScalingDecision {
  const a = adjustmentWithDefaults(policySpec.adjustment);
  const maxNodes = opts.maxNodesPerCluster ?? MAX_NODES_PER_CLUSTER;
  if (opts.lastOpAt !== undefined && inCooldown(opts.lastOpAt, a.cooldown ?? 0, opts.now ?? Date.now())) {
    return { ok: false, reason: `Policy ${opts.policyId ?? 'None'} cooldown is still in progress.` };
  }
  const countValue = requestedCount ?? adjustmentCount(policySpec.adjustment, event, current);
  const positive = getPositiveInt(countValue);
  if (!positive.ok) return { ok: false, reason: `Invalid count (${pyStr(countValue)}) for action '${event}'.` };
  let count = positive.value;
  const maxSize = cluster.maxSize === -1 ? maxNodes : cluster.maxSize;
  let err: string | undefined;
  if (event === 'CLUSTER_SCALE_IN') {
    if (a.bestEffort) count = Math.min(count, current - cluster.minSize);
    err = checkSizeParams(cluster, current - count, null, null, !a.bestEffort, maxNodes);
  } else {
    if (a.bestEffort) count = Math.min(count, maxSize - current);
    err = checkSizeParams(cluster, current + count, null, null, !a.bestEffort, maxNodes);
  }
  return err ? { ok: false, reason: err } : { ok: true, count };
}

/**
 * ClusterAction.do_scale_out / do_scale_in: the count the action finally
 * uses. A policy decision (scaling policy's count, deletion policy's
 * candidates) wins over the request's count, which defaults to 1; a scale-in
 * never removes more nodes than exist; the resulting size is checked strictly.
 */
export function planScale(
  event: ScaleEvent,
  currentNodes: number,
  cluster: { minSize: number; maxSize: number },
  decision: { policyCount?: number; candidates?: readonly string[]; inputCount?: unknown } = {},
  maxNodesPerCluster = MAX_NODES_PER_CLUSTER,
): { ok: true; count: number; newSize: number } | { ok: false; reason: string } {
  // Scale-out reads the scaling policy's `creation`; scale-in the `deletion`
  // that a scaling and/or deletion policy filled in.
  const fromPolicy = decision.policyCount !== undefined || (event === 'CLUSTER_SCALE_IN' && (decision.candidates?.length ?? 0) > 0);
  let count: number;
  if (fromPolicy) {
    count = event === 'CLUSTER_SCALE_IN'
      ? (decision.candidates?.length || (decision.policyCount as number))
      : (decision.policyCount as number);
  } else {
    const value = decision.inputCount ?? 1;
    const p = getPositiveInt(value);
    if (!p.ok) return { ok: false, reason: `Invalid count (${pyStr(value)}) for scaling ${event === 'CLUSTER_SCALE_OUT' ? 'out' : 'in'}.` };
    count = p.value;
  }
  if (event === 'CLUSTER_SCALE_IN' && count > currentNodes) count = currentNodes;
  const newSize = event === 'CLUSTER_SCALE_OUT' ? currentNodes + count : currentNodes - count;
  const err = checkSizeParams(cluster, newSize, null, null, true, maxNodesPerCluster);
  return err ? { ok: false, reason: err } : { ok: true, count, newSize };
}

/** Action.policy_check (engine/actions/base.py): how a failing policy's reason is reported. */
export function policyFailure(name: string, reason: string): string {
  return `Failed policy '${name}': ${reason}`;
}

/** ClusterAction._execute: the action's status reason when a policy check failed. */
export function policyCheckFailure(reason: string): string {
  return `Policy check failure: ${reason}`;
}

// ---------------------------------------------------------------------------
// Deletion: victim selection (scaleutils.py) and the deletion policy
// ---------------------------------------------------------------------------

function toMs(v: string | number): number {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (Number.isNaN(ms)) throw new TypeError(`not a timestamp: ${String(v)}`);
  return ms;
}

/**
 * scaleutils.filter_error_nodes: the nodes to sacrifice first, and the rest.
 * First ERROR, WARNING or tainted nodes (in the given order), then nodes never
 * created (no created_at); everything else is a candidate for the criteria.
 */
export function filterErrorNodes(nodes: readonly NodeInfo[]): { selected: string[]; candidates: NodeInfo[] } {
  const bad: string[] = [];
  const notCreated: string[] = [];
  const good: NodeInfo[] = [];
  for (const n of nodes) {
    if (n.status === 'ERROR' || n.status === 'WARNING' || n.tainted) bad.push(n.id);
    else if (n.createdAt === null || n.createdAt === undefined) notCreated.push(n.id);
    else good.push(n);
  }
  return { selected: [...bad, ...notCreated], candidates: good };
}

function takeFirst(selected: string[], count: number): string[] | undefined {
  // Python's selected[:count]; JS slice treats a negative end the same way.
  return count <= selected.length ? selected.slice(0, count) : undefined;
}

/** scaleutils.nodes_by_random; random.randrange(n) becomes floor(random() * n). */
export function nodesByRandom(nodes: readonly NodeInfo[], count: number, random: () => number = Math.random): string[] {
  const { selected, candidates } = filterErrorNodes(nodes);
  const early = takeFirst(selected, count);
  if (early) return early;
  const pool = [...candidates];
  for (let i = count - selected.length; i > 0; i--) {
    if (pool.length === 0) throw new RangeError('empty range for randrange()');
    const k = Math.floor(random() * pool.length);
    selected.push(pool[k].id);
    pool.splice(k, 1);
  }
  return selected;
}

/** scaleutils.nodes_by_age: a stable sort by created_at; oldest or youngest first. */
export function nodesByAge(nodes: readonly NodeInfo[], count: number, oldFirst: boolean): string[] {
  const { selected, candidates } = filterErrorNodes(nodes);
  const early = takeFirst(selected, count);
  if (early) return early;
  const sorted = candidates.map((n) => ({ n, t: toMs(n.createdAt as string | number) })).sort((x, y) => x.t - y.t);
  const need = count - selected.length;
  if (need > sorted.length) throw new RangeError('list index out of range');
  for (let i = 0; i < need; i++) selected.push((oldFirst ? sorted[i] : sorted[sorted.length - 1 - i]).n.id);
  return selected;
}

/**
 * scaleutils.nodes_by_profile_age: oldest profile first (stable). Senlin sorts
 * the profile timestamps as its uniformly formatted strings, i.e. by time; we
 * compare the instants. A missing profile time among several candidates
 * cannot be ordered (Python raises TypeError) and throws here too.
 */
export function nodesByProfileAge(nodes: readonly NodeInfo[], count: number): string[] {
  const { selected, candidates } = filterErrorNodes(nodes);
  const early = takeFirst(selected, count);
  if (early) return early;
  if (candidates.length > 1 && candidates.some((n) => n.profileCreatedAt === null || n.profileCreatedAt === undefined)) {
    throw new TypeError('cannot order nodes by profile age: a candidate has no profileCreatedAt');
  }
  const sorted = candidates
    .map((n) => ({ n, t: candidates.length > 1 ? toMs(n.profileCreatedAt as string | number) : 0 }))
    .sort((x, y) => x.t - y.t);
  const need = count - selected.length;
  if (need > sorted.length) throw new RangeError('list index out of range');
  for (let i = 0; i < need; i++) selected.push(sorted[i].n.id);
  return selected;
}

/**
 * DeletionPolicy.pre_op's victim choice (without regions/zones): the count is
 * capped at the number of nodes, then bad nodes go first (filterErrorNodes)
 * and the criteria order the rest. Senlin's last branch is "anything else",
 * which is YOUNGEST_FIRST.
 */
export function selectVictims(nodes: readonly NodeInfo[], count: number, criteria: DeletionCriteria, random: () => number = Math.random): string[] {
  const n = count > nodes.length ? nodes.length : count;
  if (criteria === 'RANDOM') return nodesByRandom(nodes, n, random);
  if (criteria === 'OLDEST_PROFILE_FIRST') return nodesByProfileAge(nodes, n);
  if (criteria === 'OLDEST_FIRST') return nodesByAge(nodes, n, true);
  return nodesByAge(nodes, n, false);
}

export interface DeletionHooks {
  type?: 'zaqar' | 'webhook';
  params?: { queue?: string; url?: string };
  timeout?: number | null;
}

/** The `properties` of a senlin.policy.deletion 1.0/1.1 spec (same schema for both). */
export interface DeletionPolicyProperties {
  criteria: DeletionCriteria;
  destroy_after_deletion: boolean;
  grace_period: number | null;
  reduce_desired_capacity: boolean;
  hooks: DeletionHooks;
}

/** DeletionPolicy.properties_schema defaults. An absent `hooks` stays {} (no
 * hook); a given `hooks` map gets type 'zaqar', params {} and timeout 0. */
export const DELETION_POLICY_DEFAULTS: Readonly<DeletionPolicyProperties> = Object.freeze({
  criteria: 'RANDOM',
  destroy_after_deletion: true,
  grace_period: 0,
  reduce_desired_capacity: true,
  hooks: Object.freeze({}),
});

/**
 * What happens to removed nodes, per action (ClusterAction.do_scale_in,
 * do_resize, do_del_nodes and _delete_nodes):
 *  - destroyAfterDeletion false makes the nodes leave the cluster (NODE_LEAVE)
 *    instead of being deleted;
 *  - gracePeriod seconds are waited before removal (null waits nothing);
 *  - reduceDesiredCapacity only matters for CLUSTER_DEL_NODES: scale-in and
 *    resize always lower desired_capacity to the new size.
 * Without a deletion policy, CLUSTER_DEL_NODES keeps nodes unless the request
 * asked for destroy_after_deletion, while scale-in/resize delete them.
 */
export function deletionParams(
  policy: Partial<DeletionPolicyProperties> | undefined,
  action: 'CLUSTER_SCALE_IN' | 'CLUSTER_RESIZE' | 'CLUSTER_DEL_NODES' = 'CLUSTER_SCALE_IN',
  inputs: { destroy_after_deletion?: boolean } = {},
): { destroyAfterDeletion: boolean; gracePeriod: number; reduceDesiredCapacity: boolean } {
  const delNodes = action === 'CLUSTER_DEL_NODES';
  if (!policy) {
    return { destroyAfterDeletion: delNodes ? (inputs.destroy_after_deletion ?? false) : true, gracePeriod: 0, reduceDesiredCapacity: true };
  }
  const p = { ...DELETION_POLICY_DEFAULTS, ...policy };
  return {
    destroyAfterDeletion: p.destroy_after_deletion,
    gracePeriod: p.grace_period ?? 0,
    reduceDesiredCapacity: delNodes ? p.reduce_desired_capacity : true,
  };
}

// ---------------------------------------------------------------------------
// Policy spec validation (senlin/common/schema.py, policies/base.py and the
// two policies' properties_schema / validate)
// ---------------------------------------------------------------------------

/** Carries Senlin's message out of the schema walk. */
class SpecError extends Error {}

interface Field {
  kind: 'String' | 'Integer' | 'Number' | 'Boolean' | 'Map';
  /** undefined: no default (Senlin's None). */
  default?: unknown;
  required?: boolean;
  allowed?: readonly string[];
  schema?: Record<string, Field>;
}

const TRUE_STRINGS = ['1', 't', 'true', 'on', 'y', 'yes'];
const FALSE_STRINGS = ['0', 'f', 'false', 'off', 'n', 'no'];

function typeErrorInt(v: unknown): SpecError {
  return new SpecError(`int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(v)}'`);
}

/** schema.<Type>.resolve */
function resolveField(f: Field, v: unknown): unknown {
  switch (f.kind) {
    case 'String':
      return v === null || v === undefined ? null : pyStr(v);
    case 'Integer': {
      if (v === null || v === undefined) return null;
      if (typeof v === 'boolean') return v ? 1 : 0; // bool is an int in Python
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new SpecError(`The value '${pyNumber(v)}' is not a valid Integer`);
        return Math.trunc(v) + 0; // int(2.7) == 2
      }
      if (typeof v === 'string') {
        const i = pyIntFromString(v);
        if (i === undefined) throw new SpecError(`The value '${v}' is not a valid Integer`);
        return i;
      }
      throw typeErrorInt(v);
    }
    case 'Number': {
      if (typeof v === 'number') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string') {
        const n = pyIntFromString(v) ?? pyFloatFromString(v);
        if (n === undefined) throw new SpecError(`The value '${v}' is not a valid number.`);
        return n;
      }
      throw typeErrorInt(v);
    }
    case 'Boolean': {
      if (typeof v === 'boolean') return v;
      const s = pyStr(v).trim().toLowerCase();
      if (TRUE_STRINGS.includes(s)) return true;
      if (FALSE_STRINGS.includes(s)) return false;
      throw new SpecError(`The value '${pyStr(v)}' is not a valid Boolean`);
    }
    case 'Map': {
      if (!isMapping(v)) throw new SpecError(`'${pyStr(v)}' is not a Map`);
      return f.schema ? validateSpec(f.schema, v) : v;
    }
  }
}

/** schema.<Type>.validate */
function validateField(f: Field, v: unknown): void {
  switch (f.kind) {
    case 'String':
      if (v === null || v === undefined) throw new SpecError("The value 'None' is not a valid string.");
      if (f.allowed) {
        // AllowedValues compares str(value). (Senlin lets a list of allowed
        // values through and then stringifies the list; we refuse lists.)
        if (Array.isArray(v) || !f.allowed.includes(pyStr(v))) {
          throw new SpecError(`'${pyStr(v)}' must be one of the allowed values: ${f.allowed.join(', ')}`);
        }
      }
      return;
    case 'Integer':
    case 'Number':
    case 'Boolean':
      resolveField(f, v);
      return;
    case 'Map':
      if (!isMapping(v)) throw new SpecError(`'${pyStr(v)}' is not a Map`);
      if (!f.schema) return;
      // Map.validate only looks at truthy children; resolve looks at all.
      for (const [k, child] of Object.entries(f.schema)) if (pyTruthy(v[k])) validateField(child, v[k]);
      return;
  }
}

const has = (data: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(data, key) && data[key] !== undefined;

/** schema.Spec.resolve_value */
function resolveValue(schema: Record<string, Field>, data: Record<string, unknown>, key: string): unknown {
  const f = schema[key];
  if (has(data, key)) {
    validateField(f, data[key]);
    return resolveField(f, data[key]);
  }
  // Map.get_default hands back the default as is (hooks: {}), unresolved.
  if (f.default !== undefined) return f.kind === 'Map' ? { ...(f.default as object) } : resolveField(f, f.default);
  if (f.required) throw new SpecError(`Required spec item '${key}' not provided`);
  return null;
}

/** schema.Spec.validate: every item resolves, then no unknown items. */
function validateSpec(schema: Record<string, Field>, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(schema)) out[k] = resolveValue(schema, data, k);
  for (const k of Object.keys(data)) {
    if (!(k in schema)) throw new SpecError(`Unrecognizable spec item '${k}'`);
  }
  return out;
}

/** Policy.spec_schema (policies/base.py). */
const POLICY_SPEC_SCHEMA: Record<string, Field> = {
  type: { kind: 'String', required: true },
  version: { kind: 'String', required: true },
  description: { kind: 'String', default: '' },
  properties: { kind: 'Map', required: true },
};

const SCALING_SCHEMA: Record<string, Field> = {
  event: { kind: 'String', required: true, allowed: SCALE_EVENTS },
  adjustment: {
    kind: 'Map',
    schema: {
      type: { kind: 'String', allowed: ADJUSTMENT_TYPES, default: 'CHANGE_IN_CAPACITY' },
      number: { kind: 'Number', default: 1 },
      min_step: { kind: 'Integer', default: 1 },
      best_effort: { kind: 'Boolean', default: false },
      cooldown: { kind: 'Integer', default: 0 },
    },
  },
};

const DELETION_SCHEMA: Record<string, Field> = {
  criteria: { kind: 'String', default: 'RANDOM', allowed: DELETION_CRITERIA },
  destroy_after_deletion: { kind: 'Boolean', default: true },
  grace_period: { kind: 'Integer', default: 0 },
  reduce_desired_capacity: { kind: 'Boolean', default: true },
  hooks: {
    kind: 'Map',
    default: {},
    schema: {
      type: { kind: 'String', default: 'zaqar', allowed: ['zaqar', 'webhook'] },
      params: {
        kind: 'Map',
        default: {},
        schema: { queue: { kind: 'String', default: '' }, url: { kind: 'String', default: '' } },
      },
      timeout: { kind: 'Integer', default: 0 },
    },
  },
};

/** The policy types the registry knows (setup.cfg senlin.policies entry points we model). */
const KNOWN_TYPES: Record<string, 'scaling' | 'deletion'> = {
  'senlin.policy.scaling-1.0': 'scaling',
  'senlin.policy.deletion-1.0': 'deletion',
  'senlin.policy.deletion-1.1': 'deletion',
};

/**
 * schema.get_spec_version + Environment.get_policy: the spec must be a map
 * with `type` and `version`, naming a known plugin. A numeric version is
 * rendered as Python would render the float a YAML/JSON "1.0" becomes ("1.0");
 * JavaScript cannot tell it from an int 1, which Senlin would call '1'.
 */
function policyType(spec: unknown, want: 'scaling' | 'deletion'): Record<string, unknown> {
  if (!isMapping(spec)) throw new SpecError('The provided spec is not a map.');
  if (!('type' in spec)) throw new SpecError("The 'type' key is missing from the provided spec map.");
  if (!('version' in spec)) throw new SpecError("The 'version' key is missing from the provided spec map.");
  const v = spec.version;
  const version = typeof v === 'number' && Number.isInteger(v) ? `${v}.0` : pyStr(v);
  if (typeof spec.type !== 'string') throw new SpecError(`sequence item 0: expected str instance, ${pyTypeName(spec.type)} found`);
  const typeStr = `${spec.type}-${version}`;
  if (KNOWN_TYPES[typeStr] !== want) throw new SpecError(`The policy_type '${typeStr}' could not be found.`);
  return spec;
}

/** spec.get('properties', {}); a non-map is reported as spec validation would
 * report it (Senlin itself fails less gracefully on some of these). */
function propertiesOf(spec: Record<string, unknown>): Record<string, unknown> {
  if (!has(spec, 'properties')) return {};
  const p = spec.properties;
  if (!isMapping(p)) throw new SpecError(`'${pyStr(p)}' is not a Map`);
  return p;
}

/** Policy.validate's first half: the outer spec, then the properties. */
function validateOuter(spec: Record<string, unknown>, schema: Record<string, Field>, props: Record<string, unknown>): void {
  validateSpec(POLICY_SPEC_SCHEMA, spec);
  validateSpec(schema, props);
}

export type SpecResolution<P> = { ok: true; properties: P } | { ok: false; message: string };

function attempt<P>(fn: () => P): SpecResolution<P> {
  try {
    return { ok: true, properties: fn() };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, message: e.message };
    throw e;
  }
}

/**
 * Validates a whole senlin.policy.scaling 1.0 spec ({type, version,
 * description?, properties}) in Senlin's order (ScalingPolicy.__init__ reads
 * event then adjustment, then Policy.validate walks the spec, then
 * ScalingPolicy.validate checks the numbers) and returns the properties with
 * defaults applied. A spec without `adjustment` is refused: Senlin crashes on
 * it (500) with the Python error we return as the message.
 */
export function resolveScalingPolicySpec(spec: unknown): SpecResolution<{ event: ScaleEvent; adjustment: Required<AdjustmentSpec> }> {
  return attempt(() => {
    const s = policyType(spec, 'scaling');
    const props = propertiesOf(s);
    const event = resolveValue(SCALING_SCHEMA, props, 'event') as ScaleEvent;
    const adjustment = resolveValue(SCALING_SCHEMA, props, 'adjustment') as Required<AdjustmentSpec> | null;
    if (adjustment === null) throw new SpecError("'NoneType' object is not subscriptable");
    validateOuter(s, SCALING_SCHEMA, props);
    const cmp = (v: unknown) => {
      if (v === null) throw new SpecError("'<' not supported between instances of 'NoneType' and 'int'");
      return v as number;
    };
    if (adjustment.number <= 0) throw new SpecError("the 'number' for 'adjustment' must be > 0");
    if (cmp(adjustment.min_step) < 0) throw new SpecError("the 'min_step' for 'adjustment' must be >= 0");
    if (cmp(adjustment.cooldown) < 0) throw new SpecError("the 'cooldown' for 'adjustment' must be >= 0");
    return { event, adjustment };
  });
}

/**
 * Validates a whole senlin.policy.deletion 1.0 or 1.1 spec (one schema serves
 * both versions) in Senlin's order and returns the properties with defaults.
 * The deletion policy adds no checks of its own: a negative grace_period is accepted.
 */
export function resolveDeletionPolicySpec(spec: unknown): SpecResolution<DeletionPolicyProperties> {
  return attempt(() => {
    const s = policyType(spec, 'deletion');
    const props = propertiesOf(s);
    // DeletionPolicy.__init__ reads the properties in this order.
    const out = {
      criteria: resolveValue(DELETION_SCHEMA, props, 'criteria'),
      grace_period: resolveValue(DELETION_SCHEMA, props, 'grace_period'),
      destroy_after_deletion: resolveValue(DELETION_SCHEMA, props, 'destroy_after_deletion'),
      reduce_desired_capacity: resolveValue(DELETION_SCHEMA, props, 'reduce_desired_capacity'),
      hooks: resolveValue(DELETION_SCHEMA, props, 'hooks'),
    };
    validateOuter(s, DELETION_SCHEMA, props);
    return out as unknown as DeletionPolicyProperties;
  });
}

/** Senlin's message for an invalid scaling policy spec, or undefined. */
export function validateScalingPolicySpec(spec: unknown): string | undefined {
  const r = resolveScalingPolicySpec(spec);
  return r.ok ? undefined : r.message;
}

/** Senlin's message for an invalid deletion policy spec, or undefined. */
export function validateDeletionPolicySpec(spec: unknown): string | undefined {
  const r = resolveDeletionPolicySpec(spec);
  return r.ok ? undefined : r.message;
}
