// Table-driven tests for plugins/autoscaling/senlin.ts. Every expected value
// was worked out by hand from Senlin's rules (openstack/senlin ec5fae99);
// each row's `why` says how, and is the assertion message.
import t from 'tap';
import {
  adjustmentCount,
  calculateDesired,
  checkScaleAdmission,
  checkScaleRequest,
  checkSizeParams,
  DELETION_POLICY_DEFAULTS,
  deletionParams,
  evalStatus,
  filterErrorNodes,
  getPositiveInt,
  inCooldown,
  nodesByProfileAge,
  parseResizeParams,
  planScale,
  policyCheckFailure,
  policyFailure,
  resize,
  resolveDeletionPolicySpec,
  resolveScalingPolicySpec,
  scalingCount,
  scalingPolicyNeedsCheck,
  selectVictims,
  truncateDesired,
  validateDeletionPolicySpec,
  validateScalingPolicySpec,
  type AdjustmentSpec,
  type AdjustmentType,
  type DeletionCriteria,
  type NodeInfo,
  type ResizeRequest,
  type ScaleEvent,
} from '../../plugins/autoscaling/senlin.ts';

const nodes = (...statuses: string[]) => statuses.map((status) => ({ status }));

t.test('evalStatus (Cluster.eval_status)', async (t) => {
  const rows: { why: string; c: [number, number, number]; n: string[]; op?: string; status: string; reason: string }[] = [
    { why: 'no nodes, min 0, desired 0: 0 is not below either, max -1 is unlimited -> ACTIVE', c: [0, -1, 0], n: [], op: 'CLUSTER_CREATE', status: 'ACTIVE', reason: 'CLUSTER_CREATE: number of active nodes is equal or above desired_capacity (0).' },
    { why: 'no nodes but min 1: 0 < min_size -> ERROR', c: [1, -1, 1], n: [], op: 'CLUSTER_CREATE', status: 'ERROR', reason: 'CLUSTER_CREATE: number of active nodes is below min_size (1).' },
    { why: 'one ACTIVE among ERROR/WARNING, min 2: only ACTIVE counts, 1 < 2 -> ERROR', c: [2, 5, 3], n: ['ACTIVE', 'ERROR', 'WARNING'], op: 'CLUSTER_SCALE_IN', status: 'ERROR', reason: 'CLUSTER_SCALE_IN: number of active nodes is below min_size (2).' },
    { why: '2 active, min 1, desired 3: at least min but below desired -> WARNING', c: [1, 5, 3], n: ['ACTIVE', 'ACTIVE', 'CREATING'], op: 'CLUSTER_SCALE_OUT', status: 'WARNING', reason: 'CLUSTER_SCALE_OUT: number of active nodes is below desired_capacity (3).' },
    { why: 'exactly desired (2) and <= max -> ACTIVE', c: [1, 5, 2], n: ['ACTIVE', 'ACTIVE'], op: 'CLUSTER_SCALE_OUT', status: 'ACTIVE', reason: 'CLUSTER_SCALE_OUT: number of active nodes is equal or above desired_capacity (2).' },
    { why: '4 active, desired 2, max 5: above desired is still ACTIVE while <= max', c: [1, 5, 2], n: ['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE'], op: 'CLUSTER_RESIZE', status: 'ACTIVE', reason: 'CLUSTER_RESIZE: number of active nodes is equal or above desired_capacity (2).' },
    { why: '3 active == max 3: the max test is <=, so ACTIVE', c: [1, 3, 2], n: ['ACTIVE', 'ACTIVE', 'ACTIVE'], op: 'CLUSTER_RESIZE', status: 'ACTIVE', reason: 'CLUSTER_RESIZE: number of active nodes is equal or above desired_capacity (2).' },
    { why: '3 active > max 2 -> WARNING above max_size', c: [1, 2, 2], n: ['ACTIVE', 'ACTIVE', 'ACTIVE'], op: 'CLUSTER_ADD_NODES', status: 'WARNING', reason: 'CLUSTER_ADD_NODES: number of active nodes is above max_size (2).' },
    { why: 'max 0 is a real limit (only < 0 is unlimited): 1 active > 0 -> WARNING', c: [0, 0, 0], n: ['ACTIVE'], op: 'CLUSTER_CHECK', status: 'WARNING', reason: 'CLUSTER_CHECK: number of active nodes is above max_size (0).' },
    { why: 'max -1 never caps: 6 active, desired 2 -> ACTIVE', c: [0, -1, 2], n: Array(6).fill('ACTIVE'), op: 'CLUSTER_CHECK', status: 'ACTIVE', reason: 'CLUSTER_CHECK: number of active nodes is equal or above desired_capacity (2).' },
    { why: 'WARNING nodes are not active: 0 < desired 2 -> WARNING', c: [0, -1, 2], n: ['WARNING', 'WARNING'], op: 'CLUSTER_RECOVER', status: 'WARNING', reason: 'CLUSTER_RECOVER: number of active nodes is below desired_capacity (2).' },
    { why: 'no operation given: our default prefix is CLUSTER_CHECK', c: [0, -1, 0], n: [], status: 'ACTIVE', reason: 'CLUSTER_CHECK: number of active nodes is equal or above desired_capacity (0).' },
  ];
  for (const r of rows) {
    const [minSize, maxSize, desiredCapacity] = r.c;
    t.same(evalStatus({ minSize, maxSize, desiredCapacity }, nodes(...r.n), r.op), { status: r.status, reason: r.reason }, r.why);
  }
});

t.test('calculateDesired (scaleutils.calculate_desired)', async (t) => {
  const rows: { why: string; current: number; type: AdjustmentType; number: number; minStep?: number | null; want: number }[] = [
    { why: 'EXACT_CAPACITY is the number itself', current: 3, type: 'EXACT_CAPACITY', number: 5, want: 5 },
    { why: 'EXACT_CAPACITY 0 empties the cluster', current: 3, type: 'EXACT_CAPACITY', number: 0, want: 0 },
    { why: 'CHANGE_IN_CAPACITY +2: 3 + 2', current: 3, type: 'CHANGE_IN_CAPACITY', number: 2, want: 5 },
    { why: 'CHANGE_IN_CAPACITY -2: 3 - 2', current: 3, type: 'CHANGE_IN_CAPACITY', number: -2, want: 1 },
    { why: '50% of 4 = 2.0, not below 1 -> floor 2', current: 4, type: 'CHANGE_IN_PERCENTAGE', number: 50, want: 6 },
    { why: '20% of 4 = 0.8 < 1 -> rounds UP to 1 (a small change still moves one node)', current: 4, type: 'CHANGE_IN_PERCENTAGE', number: 20, want: 5 },
    { why: '-20% of 4 = -0.8, |x| < 1 -> floor -1 (away from zero)', current: 4, type: 'CHANGE_IN_PERCENTAGE', number: -20, want: 3 },
    { why: '30% of 5 = 1.5 >= 1 -> floor 1 (truncates)', current: 5, type: 'CHANGE_IN_PERCENTAGE', number: 30, want: 6 },
    { why: '-30% of 5 = -1.5, |x| >= 1 -> ceil -1 (toward zero)', current: 5, type: 'CHANGE_IN_PERCENTAGE', number: -30, want: 4 },
    { why: '150% of 3 = 4.5 -> floor 4', current: 3, type: 'CHANGE_IN_PERCENTAGE', number: 150, want: 7 },
    { why: '10% of 10 = 1.0 exactly: not < 1 -> floor 1', current: 10, type: 'CHANGE_IN_PERCENTAGE', number: 10, want: 11 },
    { why: '0.5% of 100 = 0.5 -> ceil 1 (fractional numbers stay for percentages)', current: 100, type: 'CHANGE_IN_PERCENTAGE', number: 0.5, want: 101 },
    { why: '25% of 10 = 2.5 -> 2; min_step 3 > 2 -> step +3', current: 10, type: 'CHANGE_IN_PERCENTAGE', number: 25, minStep: 3, want: 13 },
    { why: '-25% of 10 = -2.5 -> ceil -2; min_step 3 > 2 -> step -3', current: 10, type: 'CHANGE_IN_PERCENTAGE', number: -25, minStep: 3, want: 7 },
    { why: '25% of 10 -> 2; min_step 2 is not > 2 -> stays +2', current: 10, type: 'CHANGE_IN_PERCENTAGE', number: 25, minStep: 2, want: 12 },
    { why: '20% of 4 -> +1; min_step 0 is not > 1 -> +1', current: 4, type: 'CHANGE_IN_PERCENTAGE', number: 20, minStep: 0, want: 5 },
    { why: '50% of 0 = 0 -> 0; min_step 2 > 0 and the sign test is `rounded > 0`, false -> -2 (a grow request shrinks!)', current: 0, type: 'CHANGE_IN_PERCENTAGE', number: 50, minStep: 2, want: -2 },
    { why: '50% of 0 with no min_step: 0 change', current: 0, type: 'CHANGE_IN_PERCENTAGE', number: 50, minStep: null, want: 0 },
    { why: 'min_step only applies to percentages: CHANGE_IN_CAPACITY +1 ignores min_step 5', current: 3, type: 'CHANGE_IN_CAPACITY', number: 1, minStep: 5, want: 4 },
  ];
  for (const r of rows) t.equal(calculateDesired(r.current, r.type, r.number, r.minStep), r.want, r.why);
  t.ok(Object.is(calculateDesired(0, 'CHANGE_IN_PERCENTAGE', -10), 0), '-10% of 0 = -0.0 -> floor gives -0; Python int() has no -0, we must give +0');
});

t.test('truncateDesired (scaleutils.truncate_desired)', async (t) => {
  const rows: { why: string; cluster: [number, number]; desired: number; min?: number | null; max?: number | null; want: number }[] = [
    { why: 'below the given min_size 2 -> 2', cluster: [0, 10], desired: 1, min: 2, want: 2 },
    { why: 'no min given: below the cluster min 3 -> 3', cluster: [3, 10], desired: 1, want: 3 },
    { why: 'a given min 0 replaces the cluster min 3: 1 stays', cluster: [3, 10], desired: 1, min: 0, want: 1 },
    { why: 'above the given max 10 -> 10', cluster: [0, 20], desired: 12, max: 10, want: 10 },
    { why: 'a given max 0 is not a clamp (test is max_size > 0)', cluster: [0, 20], desired: 12, max: 0, want: 12 },
    { why: 'a given max -1 is unlimited', cluster: [0, 5], desired: 12, max: -1, want: 12 },
    { why: 'no max given: above the cluster max 10 -> 10', cluster: [0, 10], desired: 12, want: 10 },
    { why: 'no max given, cluster max -1: unlimited', cluster: [0, -1], desired: 12, want: 12 },
    { why: 'no max given, cluster max 0: not a clamp either', cluster: [0, 0], desired: 12, want: 12 },
    { why: 'inside the range: unchanged', cluster: [1, 10], desired: 5, want: 5 },
  ];
  for (const r of rows) {
    t.equal(truncateDesired({ minSize: r.cluster[0], maxSize: r.cluster[1] }, r.desired, r.min, r.max), r.want, r.why);
  }
});

t.test('checkSizeParams (scaleutils.check_size_params)', async (t) => {
  const C = { minSize: 1, maxSize: 5, desiredCapacity: 3 };
  type Row = { why: string; c?: typeof C; d?: number; min?: number; max?: number; strict?: boolean; limit?: number; want: string | undefined };
  const rows: Row[] = [
    { why: 'target above the global 1000 nodes', c: C, d: 1001, want: 'The target capacity (1001) is greater than the maximum number of nodes allowed per cluster (1000).' },
    { why: 'target exactly 1000 with an unlimited cluster passes (> test)', c: { ...C, maxSize: -1 }, d: 1000, want: undefined },
    { why: 'the global limit is configurable (10 here)', c: C, d: 11, limit: 10, want: 'The target capacity (11) is greater than the maximum number of nodes allowed per cluster (10).' },
    { why: 'below a GIVEN min_size fails even when not strict', c: C, d: 2, min: 3, want: 'The target capacity (2) is less than the specified min_size (3).' },
    { why: 'below the cluster min only fails when strict', c: C, d: 0, strict: true, want: "The target capacity (0) is less than the cluster's min_size (1)." },
    { why: 'below the cluster min, not strict: passes', c: C, d: 0, want: undefined },
    { why: 'above a GIVEN max_size fails even when not strict', c: C, d: 7, max: 6, want: 'The target capacity (7) is greater than the specified max_size (6).' },
    { why: 'a given max -1 means unlimited (needs max >= 0)', c: C, d: 7, max: -1, want: undefined },
    { why: 'above the cluster max 5, strict', c: C, d: 6, strict: true, want: "The target capacity (6) is greater than the cluster's max_size (5)." },
    { why: 'above the cluster max, not strict: passes', c: C, d: 6, want: undefined },
    { why: 'given min 4 > given max 2', c: C, min: 4, max: 2, want: 'The specified min_size (4) is greater than the specified max_size (2).' },
    { why: 'given min 6 > the cluster max 5', c: C, min: 6, want: 'The specified min_size (6) is greater than the current max_size (5) of the cluster.' },
    { why: 'no target, strict: given min 4 > desired_capacity 3', c: C, min: 4, strict: true, want: 'The specified min_size (4) is greater than the current desired_capacity (3) of the cluster.' },
    { why: 'same, not strict: passes (the target will be truncated)', c: C, min: 4, want: undefined },
    { why: 'given max 1001 > the global limit', c: C, max: 1001, want: 'The specified max_size (1001) is greater than the maximum number of nodes allowed per cluster (1000).' },
    { why: 'given max 1 < the cluster min 2 (checked even when not strict)', c: { ...C, minSize: 2 }, max: 1, want: 'The specified max_size (1) is less than the current min_size (2) of the cluster.' },
    { why: 'no target, strict: given max 2 < desired_capacity 3', c: C, max: 2, strict: true, want: 'The specified max_size (2) is less than the current desired_capacity (3) of the cluster.' },
    { why: 'same, not strict: passes', c: C, max: 2, want: undefined },
    { why: 'no cluster at all: only the given values are checked', d: 5, strict: true, want: undefined },
    { why: 'consistent target and limits, strict', c: C, d: 4, min: 2, max: 6, strict: true, want: undefined },
  ];
  for (const r of rows) t.equal(checkSizeParams(r.c, r.d, r.min, r.max, r.strict ?? false, r.limit), r.want, r.why);
});

t.test('resize: API/conductor 400s and the action parse (parse_resize_params)', async (t) => {
  const RC = { minSize: 1, maxSize: 10, desiredCapacity: 4 };
  type Row = { why: string; body: ResizeRequest; c?: typeof RC; nodes?: number; want: unknown };
  const bad = (message: string) => ({ ok: false, badRequest: true, message });
  const rows: Row[] = [
    { why: 'nothing to do', body: {}, want: bad('Not enough parameters to do resize action.') },
    { why: 'strict alone is not a parameter', body: { strict: false }, want: bad('Not enough parameters to do resize action.') },
    { why: 'min_step without a percentage type is dropped, leaving nothing', body: { min_step: 2 }, want: bad('Not enough parameters to do resize action.') },
    { why: 'unknown adjustment type (field coercion)', body: { adjustment_type: 'BOGUS', number: 1 }, want: bad("Value 'BOGUS' is not acceptable for field 'adjustment_type'.") },
    { why: 'type without number', body: { adjustment_type: 'CHANGE_IN_CAPACITY' }, want: bad('Missing number value for size adjustment.') },
    { why: 'number without type', body: { number: 2 }, want: bad('Missing adjustment_type value for size adjustment.') },
    { why: 'min_size field minimum is 0', body: { min_size: -1 }, want: bad('The value for the min_size field must be greater than or equal to 0.') },
    { why: 'max_size field minimum is -1', body: { max_size: -2 }, want: bad('The value for the max_size field must be greater than or equal to -1.') },
    { why: 'max_size field maximum is the global 1000', body: { max_size: 1001 }, want: bad('The value for the max_size field must be less than or equal to 1000.') },
    { why: 'a fractional min_size passes int() coercion but fails the JSON schema type', body: { min_size: 2.5 }, want: bad("2.5 is not of type 'integer', 'string'") },
    { why: 'negative min_step with a percentage', body: { adjustment_type: 'CHANGE_IN_PERCENTAGE', number: 10, min_step: -1 }, want: bad("Value must be >= 0 for field 'min_step'.") },
    { why: 'min 5 > max 3 (API test, max > 0)', body: { min_size: 5, max_size: 3 }, want: bad('The specified min_size (5) is greater than the specified max_size (3).') },
    { why: 'min 1 > max 0: the API skips max 0, the conductor check_size_params catches it', body: { min_size: 1, max_size: 0 }, want: bad('The specified min_size (1) is greater than the specified max_size (0).') },
    { why: 'EXACT_CAPACITY must be >= 0', body: { adjustment_type: 'EXACT_CAPACITY', number: -1 }, want: bad("The 'number' must be non-negative integer for adjustment type 'EXACT_CAPACITY'.") },
    { why: 'strict defaults to TRUE at the API: 12 > cluster max 10 is refused', body: { adjustment_type: 'EXACT_CAPACITY', number: 12 }, want: bad("The target capacity (12) is greater than the cluster's max_size (10).") },
    { why: 'strict false: the conductor lets 12 through, the action truncates to the cluster max 10: 4 -> 10 creates 6', body: { adjustment_type: 'EXACT_CAPACITY', number: 12, strict: false }, want: { ok: true, desired: 10, minSize: 1, maxSize: 10, creation: 6 } },
    { why: 'strict false does not save a target above a GIVEN max (checked before truncation)', body: { adjustment_type: 'EXACT_CAPACITY', number: 12, max_size: 11, strict: false }, want: bad('The target capacity (12) is greater than the specified max_size (11).') },
    { why: 'strict shrink 4 - 4 = 0 < cluster min 1', body: { adjustment_type: 'CHANGE_IN_CAPACITY', number: -4 }, want: bad("The target capacity (0) is less than the cluster's min_size (1).") },
    { why: 'non-strict shrink to 0 is truncated to min 1: deletes 3', body: { adjustment_type: 'CHANGE_IN_CAPACITY', number: -4, strict: false }, want: { ok: true, desired: 1, minSize: 1, maxSize: 10, deletion: 3 } },
    { why: 'CHANGE_IN_CAPACITY goes through int(): 2.7 -> 2, 4 + 2 = 6', body: { adjustment_type: 'CHANGE_IN_CAPACITY', number: 2.7 }, want: { ok: true, desired: 6, minSize: 1, maxSize: 10, creation: 2 } },
    { why: 'min_step is ignored (not even validated) without a percentage: +1 -> 5', body: { adjustment_type: 'CHANGE_IN_CAPACITY', number: 1, min_step: -1 }, want: { ok: true, desired: 5, minSize: 1, maxSize: 10, creation: 1 } },
    { why: '20% of 4 = 0.8 -> +1', body: { adjustment_type: 'CHANGE_IN_PERCENTAGE', number: 20 }, want: { ok: true, desired: 5, minSize: 1, maxSize: 10, creation: 1 } },
    { why: '-10% of 4 = -0.4 -> -1; min_step 2 > 1 -> -2: deletes 2', body: { adjustment_type: 'CHANGE_IN_PERCENTAGE', number: -10, min_step: 2 }, want: { ok: true, desired: 2, minSize: 1, maxSize: 10, deletion: 2 } },
    { why: 'new range only: desired stays 4, nothing created', body: { min_size: 2, max_size: 8 }, want: { ok: true, desired: 4, minSize: 2, maxSize: 8, creation: 0 } },
    { why: 'strict: new min 5 > desired_capacity 4', body: { min_size: 5 }, want: bad('The specified min_size (5) is greater than the current desired_capacity (4) of the cluster.') },
    { why: 'non-strict: new min 5 pulls desired 4 up to 5: creates 1', body: { min_size: 5, strict: false }, want: { ok: true, desired: 5, minSize: 5, maxSize: 10, creation: 1 } },
    { why: '0 nodes: the conductor computes from 0 (0 + 1 = 1, ok), the action falls back to desired_capacity 3 (Python `or`): 3 + 1 = 4, creates 1', body: { adjustment_type: 'CHANGE_IN_CAPACITY', number: 1 }, c: { minSize: 1, maxSize: 10, desiredCapacity: 3 }, nodes: 0, want: { ok: true, desired: 4, minSize: 1, maxSize: 10, creation: 1 } },
    { why: '0 nodes, desired 5, max 5: conductor 0 + 2 = 2 passes; the action computes 5 + 2 = 7 > 5 and FAILS (no 400)', body: { adjustment_type: 'CHANGE_IN_CAPACITY', number: 2 }, c: { minSize: 0, maxSize: 5, desiredCapacity: 5 }, nodes: 0, want: { ok: false, badRequest: false, message: "The target capacity (7) is greater than the cluster's max_size (5)." } },
  ];
  for (const r of rows) t.same(resize(r.body, r.c ?? RC, r.nodes ?? 4), r.want, r.why);

  // parse_resize_params on its own: absent `strict` means false there.
  t.same(
    parseResizeParams({ adjustment_type: 'EXACT_CAPACITY', number: 0 }, RC, 4),
    { ok: true, desired: 1, minSize: 1, maxSize: 10, deletion: 3 },
    'action inputs without strict: EXACT 0 is truncated to min 1, deleting 3 of 4',
  );
});

t.test('checkScaleRequest (conductor cluster_scale_out/in)', async (t) => {
  const C = { desiredCapacity: 3, minSize: 1, maxSize: 5 };
  const rows: { why: string; e: ScaleEvent; count?: unknown; c?: typeof C; want: string | undefined }[] = [
    { why: 'no count: nothing to check here', e: 'CLUSTER_SCALE_OUT', want: undefined },
    { why: 'count 0 out', e: 'CLUSTER_SCALE_OUT', count: 0, want: 'Count for scale-out request cannot be 0.' },
    { why: 'count 0 in', e: 'CLUSTER_SCALE_IN', count: 0, want: 'Count for scale-in request cannot be 0.' },
    { why: 'negative count (NonNegativeInteger field)', e: 'CLUSTER_SCALE_IN', count: -1, want: "Value must be >= 0 for field 'count'." },
    { why: 'not an integer string', e: 'CLUSTER_SCALE_OUT', count: 'abc', want: "The value for count must be an integer: 'abc'." },
    { why: 'an integer string is accepted', e: 'CLUSTER_SCALE_OUT', count: '3', want: undefined },
    { why: 'fractional: int() coerces, the JSON schema type refuses', e: 'CLUSTER_SCALE_OUT', count: 2.5, want: "2.5 is not of type 'integer', 'string'" },
    { why: 'desired 3 + 998 = 1001 > the global limit', e: 'CLUSTER_SCALE_OUT', count: 998, c: { ...C, maxSize: -1 }, want: 'The target capacity (1001) is greater than the maximum number of nodes allowed per cluster (1000).' },
    { why: '3 + 10 = 13 > max 5 is NOT refused here: the check is non-strict', e: 'CLUSTER_SCALE_OUT', count: 10, want: undefined },
    { why: '3 - 10 = -7 is not refused here either', e: 'CLUSTER_SCALE_IN', count: 10, want: undefined },
  ];
  for (const r of rows) t.equal(checkScaleRequest(r.e, r.c ?? C, r.count)?.message, r.want, r.why);
  t.same(checkScaleRequest('CLUSTER_SCALE_OUT', C, 0), { status: 400, message: 'Count for scale-out request cannot be 0.' }, 'these are 400 Bad Request');
});

t.test('checkScaleAdmission (Action.create: 409s)', async (t) => {
  const now = 1_700_000_000_000;
  const out = 'CLUSTER_SCALE_OUT' as const;
  type State = Parameters<typeof checkScaleAdmission>[2];
  const rows: { why: string; state: Omit<State, 'now'>; want: [string, string] | undefined }[] = [
    { why: 'nothing running, no policies', state: {}, want: undefined },
    { why: 'cluster locked', state: { locked: true }, want: ['ResourceIsLocked', "CLUSTER_SCALE_OUT for cluster 'c1' cannot be completed because it is already locked."] },
    { why: 'the lock is checked before running actions', state: { locked: true, actions: [{ id: 'a1', action: 'CLUSTER_UPDATE', status: 'RUNNING' }] }, want: ['ResourceIsLocked', "CLUSTER_SCALE_OUT for cluster 'c1' cannot be completed because it is already locked."] },
    { why: 'ANY running action conflicts, not only scaling ones', state: { actions: [{ id: 'a1', action: 'CLUSTER_UPDATE', status: 'RUNNING' }] }, want: ['ActionConflict', 'The CLUSTER_SCALE_OUT action for target c1 conflicts with the following action(s): a1'] },
    { why: 'READY and WAITING_LIFECYCLE_COMPLETION are active, SUCCEEDED is not; ids joined with ","', state: { actions: [{ id: 'a1', action: 'CLUSTER_SCALE_IN', status: 'READY' }, { id: 'a0', action: 'CLUSTER_CHECK', status: 'SUCCEEDED' }, { id: 'a2', action: 'CLUSTER_SCALE_OUT', status: 'WAITING_LIFECYCLE_COMPLETION' }] }, want: ['ActionConflict', 'The CLUSTER_SCALE_OUT action for target c1 conflicts with the following action(s): a1,a2'] },
    { why: 'finished actions never conflict', state: { actions: [{ id: 'a1', action: 'CLUSTER_SCALE_OUT', status: 'SUCCEEDED' }, { id: 'a2', action: 'CLUSTER_SCALE_OUT', status: 'FAILED' }, { id: 'a3', action: 'CLUSTER_SCALE_OUT', status: 'CANCELLED' }] }, want: undefined },
    { why: 'scale-out policy, cooldown 60 s, last op 30 s ago', state: { bindings: [{ policyId: 'p1', enabled: true, event: out, cooldown: 60, lastOpAt: now - 30_000 }] }, want: ['ActionCooldown', 'The CLUSTER_SCALE_OUT action for cluster c1 cannot be processed due to Policy p1 cooldown still in progress'] },
    { why: 'exactly 60 s ago: not OLDER than 60 s yet, still cooling down', state: { bindings: [{ policyId: 'p1', enabled: true, event: out, cooldown: 60, lastOpAt: now - 60_000 }] }, want: ['ActionCooldown', 'The CLUSTER_SCALE_OUT action for cluster c1 cannot be processed due to Policy p1 cooldown still in progress'] },
    { why: '60.001 s ago: over', state: { bindings: [{ policyId: 'p1', enabled: true, event: out, cooldown: 60, lastOpAt: now - 60_001 }] }, want: undefined },
    { why: "a scale-IN policy's cooldown does not block a scale-out request", state: { bindings: [{ policyId: 'p1', enabled: true, event: 'CLUSTER_SCALE_IN', cooldown: 60, lastOpAt: now }] }, want: undefined },
    { why: 'cooldown 0 is falsy: never checked here', state: { bindings: [{ policyId: 'p1', enabled: true, event: out, cooldown: 0, lastOpAt: now }] }, want: undefined },
    { why: 'disabled bindings are not loaded', state: { bindings: [{ policyId: 'p1', enabled: false, event: out, cooldown: 60, lastOpAt: now }] }, want: undefined },
    { why: 'no last_op yet: no cooldown', state: { bindings: [{ policyId: 'p1', enabled: true, event: out, cooldown: 60 }] }, want: undefined },
    { why: 'bindings are visited by priority: p2 (10) before p1 (20)', state: { bindings: [{ policyId: 'p1', enabled: true, priority: 20, event: out, cooldown: 60, lastOpAt: now }, { policyId: 'p2', enabled: true, priority: 10, event: out, cooldown: 60, lastOpAt: now }] }, want: ['ActionCooldown', 'The CLUSTER_SCALE_OUT action for cluster c1 cannot be processed due to Policy p2 cooldown still in progress'] },
  ];
  for (const r of rows) {
    const got = checkScaleAdmission(out, 'c1', { ...r.state, now });
    t.same(got && [got.error, got.message], r.want, r.why);
    if (got) t.equal(got.status, 409, `${r.why}: 409`);
  }
});

t.test('inCooldown (timeutils.is_older_than)', async (t) => {
  const now = 1_000_000;
  const rows: { why: string; last: number | undefined; cd: number; want: boolean }[] = [
    { why: 'never operated', last: undefined, cd: 60, want: false },
    { why: 'elapsed 0, cooldown 0: 0 > 0 is false, still "in cooldown" for that instant', last: now, cd: 0, want: true },
    { why: 'elapsed 1 ms, cooldown 0: over', last: now - 1, cd: 0, want: false },
    { why: 'elapsed 59.999 s of 60', last: now - 59_999, cd: 60, want: true },
    { why: 'elapsed exactly 60 s: needs strictly more', last: now - 60_000, cd: 60, want: true },
    { why: 'elapsed 60.001 s: over', last: now - 60_001, cd: 60, want: false },
    { why: 'last op in the future (clock skew): negative elapsed is not older', last: now + 5_000, cd: 60, want: true },
  ];
  for (const r of rows) t.equal(inCooldown(r.last, r.cd, now), r.want, r.why);
});

t.test('adjustmentCount (ScalingPolicy._calculate_adjustment_count)', async (t) => {
  const rows: { why: string; a: AdjustmentSpec; e: ScaleEvent; current: number; want: number }[] = [
    { why: 'EXACT 5 out from 3: 5 - 3', a: { type: 'EXACT_CAPACITY', number: 5 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: 2 },
    { why: 'EXACT 5 in from 8: 8 - 5', a: { type: 'EXACT_CAPACITY', number: 5 }, e: 'CLUSTER_SCALE_IN', current: 8, want: 3 },
    { why: 'EXACT 3 out from 5: 3 - 5, negative', a: { type: 'EXACT_CAPACITY', number: 3 }, e: 'CLUSTER_SCALE_OUT', current: 5, want: -2 },
    { why: 'CHANGE_IN_CAPACITY: the number', a: { type: 'CHANGE_IN_CAPACITY', number: 2 }, e: 'CLUSTER_SCALE_IN', current: 9, want: 2 },
    { why: '20% of 4 = 0.8 -> int() 0 -> below min_step 1 -> 1', a: { type: 'CHANGE_IN_PERCENTAGE', number: 20 }, e: 'CLUSTER_SCALE_OUT', current: 4, want: 1 },
    { why: '20% of 4, min_step 0 -> 0', a: { type: 'CHANGE_IN_PERCENTAGE', number: 20, min_step: 0 }, e: 'CLUSTER_SCALE_OUT', current: 4, want: 0 },
    { why: '150% of 3 = 4.5 -> int() 4 (truncation)', a: { type: 'CHANGE_IN_PERCENTAGE', number: 150 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: 4 },
    { why: '10% of 8 = 0.8 -> 0 -> min_step 3', a: { type: 'CHANGE_IN_PERCENTAGE', number: 10, min_step: 3 }, e: 'CLUSTER_SCALE_IN', current: 8, want: 3 },
    { why: 'no adjustment given: CHANGE_IN_CAPACITY 1', a: {}, e: 'CLUSTER_SCALE_OUT', current: 7, want: 1 },
  ];
  for (const r of rows) t.equal(adjustmentCount(r.a, r.e, r.current), r.want, r.why);
});

t.test('scalingCount (ScalingPolicy.pre_op)', async (t) => {
  const C = { minSize: 1, maxSize: 10 };
  const now = 5_000_000;
  type Row = { why: string; a: AdjustmentSpec; e: ScaleEvent; current: number; c?: { minSize: number; maxSize: number }; req?: number | string; opts?: Parameters<typeof scalingCount>[5]; want: unknown };
  const ok = (count: number) => ({ ok: true, count });
  const no = (reason: string) => ({ ok: false, reason });
  const rows: Row[] = [
    { why: '+2 out from 3 = 5 <= 10', a: { type: 'CHANGE_IN_CAPACITY', number: 2 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: ok(2) },
    { why: '-2 in from 3 = 1 >= min 1', a: { type: 'CHANGE_IN_CAPACITY', number: 2 }, e: 'CLUSTER_SCALE_IN', current: 3, want: ok(2) },
    { why: 'in 3 from 3 = 0 < min 1, no best effort: strict refusal', a: { type: 'CHANGE_IN_CAPACITY', number: 3 }, e: 'CLUSTER_SCALE_IN', current: 3, want: no("The target capacity (0) is less than the cluster's min_size (1).") },
    { why: 'same with best_effort: min(3, 3 - 1) = 2', a: { type: 'CHANGE_IN_CAPACITY', number: 3, best_effort: true }, e: 'CLUSTER_SCALE_IN', current: 3, want: ok(2) },
    { why: 'out 8 from 5 = 13 > max 10, no best effort', a: { type: 'CHANGE_IN_CAPACITY', number: 8 }, e: 'CLUSTER_SCALE_OUT', current: 5, want: no("The target capacity (13) is greater than the cluster's max_size (10).") },
    { why: 'same with best_effort: min(8, 10 - 5) = 5', a: { type: 'CHANGE_IN_CAPACITY', number: 8, best_effort: true }, e: 'CLUSTER_SCALE_OUT', current: 5, want: ok(5) },
    { why: 'best_effort with max -1 clamps to the global 1000: min(5, 1000 - 998) = 2', a: { type: 'CHANGE_IN_CAPACITY', number: 5, best_effort: true }, e: 'CLUSTER_SCALE_OUT', current: 998, c: { minSize: 0, maxSize: -1 }, want: ok(2) },
    { why: 'no best effort, max -1: 998 + 5 = 1003 hits the global limit first', a: { type: 'CHANGE_IN_CAPACITY', number: 5 }, e: 'CLUSTER_SCALE_OUT', current: 998, c: { minSize: 0, maxSize: -1 }, want: no('The target capacity (1003) is greater than the maximum number of nodes allowed per cluster (1000).') },
    { why: 'best_effort already at min: min(1, 1 - 1) = 0 and Senlin approves a count of 0', a: { type: 'CHANGE_IN_CAPACITY', number: 1, best_effort: true }, e: 'CLUSTER_SCALE_IN', current: 1, want: ok(0) },
    { why: 'EXACT 5 out from 3: 2', a: { type: 'EXACT_CAPACITY', number: 5 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: ok(2) },
    { why: 'EXACT 3 out from 5: -2 is not a positive count', a: { type: 'EXACT_CAPACITY', number: 3 }, e: 'CLUSTER_SCALE_OUT', current: 5, want: no("Invalid count (-2) for action 'CLUSTER_SCALE_OUT'.") },
    { why: 'EXACT 3 out from 3: 0 is not positive', a: { type: 'EXACT_CAPACITY', number: 3 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: no("Invalid count (0) for action 'CLUSTER_SCALE_OUT'.") },
    { why: '20% of 4 -> 0 -> min_step 1 -> 1; 5 <= 10', a: { type: 'CHANGE_IN_PERCENTAGE', number: 20 }, e: 'CLUSTER_SCALE_OUT', current: 4, want: ok(1) },
    { why: '20% of 4 with min_step 0 -> 0 -> invalid', a: { type: 'CHANGE_IN_PERCENTAGE', number: 20, min_step: 0 }, e: 'CLUSTER_SCALE_OUT', current: 4, want: no("Invalid count (0) for action 'CLUSTER_SCALE_OUT'.") },
    { why: '150% of 3 = 4.5 -> 4 (rounds DOWN here, unlike resize); 7 <= 10', a: { type: 'CHANGE_IN_PERCENTAGE', number: 150 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: ok(4) },
    { why: '60% of 5 = 3.0 -> 3; 5 - 3 = 2 >= 1', a: { type: 'CHANGE_IN_PERCENTAGE', number: 60 }, e: 'CLUSTER_SCALE_IN', current: 5, want: ok(3) },
    { why: 'CHANGE_IN_CAPACITY 1.5 (a Number in the schema): not int-like', a: { type: 'CHANGE_IN_CAPACITY', number: 1.5 }, e: 'CLUSTER_SCALE_OUT', current: 3, want: no("Invalid count (1.5) for action 'CLUSTER_SCALE_OUT'.") },
    { why: 'a count in the request replaces the policy number (1): 3', a: { type: 'CHANGE_IN_CAPACITY', number: 1 }, e: 'CLUSTER_SCALE_OUT', current: 3, req: 3, want: ok(3) },
    { why: 'a request count "2" (webhook text) is int-like', a: { number: 1 }, e: 'CLUSTER_SCALE_OUT', current: 3, req: '2', want: ok(2) },
    { why: 'a request count "02" is not int-like (str(int) != str)', a: { number: 1 }, e: 'CLUSTER_SCALE_OUT', current: 3, req: '02', want: no("Invalid count (02) for action 'CLUSTER_SCALE_OUT'.") },
    { why: 'a request count 0 is invalid', a: { number: 1 }, e: 'CLUSTER_SCALE_IN', current: 3, req: 0, want: no("Invalid count (0) for action 'CLUSTER_SCALE_IN'.") },
    { why: 'the request count is still clamped by best_effort: min(20, 10 - 5) = 5', a: { number: 1, best_effort: true }, e: 'CLUSTER_SCALE_OUT', current: 5, req: 20, want: ok(5) },
    { why: 'and still refused without it: 5 + 20 = 25 > 10', a: { number: 1 }, e: 'CLUSTER_SCALE_OUT', current: 5, req: 20, want: no("The target capacity (25) is greater than the cluster's max_size (10).") },
    { why: 'cooldown 60, last op 10 s ago: the policy id is in the reason', a: { number: 1, cooldown: 60 }, e: 'CLUSTER_SCALE_OUT', current: 3, opts: { lastOpAt: now - 10_000, now, policyId: 'p-1' }, want: no('Policy p-1 cooldown is still in progress.') },
    { why: 'cooldown is checked before the count: even an invalid count reports the cooldown', a: { type: 'EXACT_CAPACITY', number: 1, cooldown: 60 }, e: 'CLUSTER_SCALE_OUT', current: 3, opts: { lastOpAt: now, now, policyId: 'p-1' }, want: no('Policy p-1 cooldown is still in progress.') },
    { why: 'last op 61 s ago with cooldown 60: proceeds', a: { number: 1, cooldown: 60 }, e: 'CLUSTER_SCALE_OUT', current: 3, opts: { lastOpAt: now - 61_000, now, policyId: 'p-1' }, want: ok(1) },
    { why: 'empty adjustment: the defaults, +1', a: {}, e: 'CLUSTER_SCALE_OUT', current: 2, want: ok(1) },
  ];
  for (const r of rows) t.same(scalingCount({ adjustment: r.a }, r.e, r.current, r.c ?? C, r.req, r.opts), r.want, r.why);
});

t.test('planScale (ClusterAction.do_scale_out/in)', async (t) => {
  const C = { minSize: 1, maxSize: 10 };
  type Row = { why: string; e: ScaleEvent; current: number; c?: typeof C; d?: Parameters<typeof planScale>[3]; want: unknown };
  const rows: Row[] = [
    { why: 'no policy, no count: 1 node', e: 'CLUSTER_SCALE_OUT', current: 3, want: { ok: true, count: 1, newSize: 4 } },
    { why: 'request count "2"', e: 'CLUSTER_SCALE_OUT', current: 3, d: { inputCount: '2' }, want: { ok: true, count: 2, newSize: 5 } },
    { why: 'request count 0 without a policy', e: 'CLUSTER_SCALE_OUT', current: 3, d: { inputCount: 0 }, want: { ok: false, reason: 'Invalid count (0) for scaling out.' } },
    { why: 'request count -1 for scale-in', e: 'CLUSTER_SCALE_IN', current: 3, d: { inputCount: -1 }, want: { ok: false, reason: 'Invalid count (-1) for scaling in.' } },
    { why: 'policy count 3 from 8: 11 > max 10, checked strictly', e: 'CLUSTER_SCALE_OUT', current: 8, d: { policyCount: 3 }, want: { ok: false, reason: "The target capacity (11) is greater than the cluster's max_size (10)." } },
    { why: 'deletion candidates win over the policy count (len 2 is truthy)', e: 'CLUSTER_SCALE_IN', current: 5, d: { policyCount: 4, candidates: ['a', 'b'] }, want: { ok: true, count: 2, newSize: 3 } },
    { why: 'a best-effort count of 0 with no candidates: len 0 or 0 -> 0', e: 'CLUSTER_SCALE_IN', current: 1, d: { policyCount: 0, candidates: [] }, want: { ok: true, count: 0, newSize: 1 } },
    { why: 'scale-in count 10 of 3 nodes is trimmed to 3; min 0 allows 0', e: 'CLUSTER_SCALE_IN', current: 3, c: { minSize: 0, maxSize: 10 }, d: { inputCount: 10 }, want: { ok: true, count: 3, newSize: 0 } },
    { why: 'trimmed to 3 but 0 < min 1', e: 'CLUSTER_SCALE_IN', current: 3, d: { inputCount: 10 }, want: { ok: false, reason: "The target capacity (0) is less than the cluster's min_size (1)." } },
  ];
  for (const r of rows) t.same(planScale(r.e, r.current, r.c ?? C, r.d), r.want, r.why);
});

t.test('policy check messages and scalingPolicyNeedsCheck', async (t) => {
  t.equal(policyFailure('sp-out', 'Policy p1 cooldown is still in progress.'), "Failed policy 'sp-out': Policy p1 cooldown is still in progress.", 'Action.policy_check wraps the reason with the policy NAME');
  t.equal(policyCheckFailure("Failed policy 'sp-out': x"), "Policy check failure: Failed policy 'sp-out': x", 'ClusterAction._execute prefixes the wrapped reason');
  const rows: { why: string; p: ScaleEvent; a: string; w: 'BEFORE' | 'AFTER'; want: boolean }[] = [
    { why: 'BEFORE runs for the policy event', p: 'CLUSTER_SCALE_OUT', a: 'CLUSTER_SCALE_OUT', w: 'BEFORE', want: true },
    { why: 'BEFORE skips the other event', p: 'CLUSTER_SCALE_OUT', a: 'CLUSTER_SCALE_IN', w: 'BEFORE', want: false },
    { why: 'AFTER (last_op stamp) runs for both scale events', p: 'CLUSTER_SCALE_OUT', a: 'CLUSTER_SCALE_IN', w: 'AFTER', want: true },
    { why: 'resize is not a scaling policy target', p: 'CLUSTER_SCALE_OUT', a: 'CLUSTER_RESIZE', w: 'AFTER', want: false },
  ];
  for (const r of rows) t.equal(scalingPolicyNeedsCheck(r.p, r.a, r.w), r.want, r.why);
});

t.test('getPositiveInt (is_int_like + get_positive_int)', async (t) => {
  const rows: { why: string; v: unknown; want: number | undefined }[] = [
    { why: 'an int', v: 3, want: 3 },
    { why: 'canonical digits', v: '3', want: 3 },
    { why: 'leading zero: str(int("03")) is "3"', v: '03', want: undefined },
    { why: 'blank: str(int(" 3")) is "3"', v: ' 3', want: undefined },
    { why: 'fraction', v: 2.5, want: undefined },
    { why: 'True: str(int(True)) "1" != "True"', v: true, want: undefined },
    { why: 'zero is not positive', v: 0, want: undefined },
    { why: 'negative is int-like but not positive', v: '-2', want: undefined },
    { why: 'None', v: null, want: undefined },
  ];
  for (const r of rows) {
    const g = getPositiveInt(r.v);
    t.equal(g.ok ? g.value : undefined, r.want, r.why);
  }
});

// n2 ERROR, n3 tainted, n5 WARNING go first in list order, then n6 (never
// created); the good ones are n4 (oldest), n1, n7 (youngest); by profile
// age n7 (2023-01) < n1 (2023-06) < n4 (2023-09).
const FLEET: NodeInfo[] = [
  { id: 'n1', status: 'ACTIVE', createdAt: '2024-01-01T00:00:00Z', profileCreatedAt: '2023-06-01T00:00:00Z' },
  { id: 'n2', status: 'ERROR', createdAt: '2024-01-02T00:00:00Z', profileCreatedAt: '2023-06-01T00:00:00Z' },
  { id: 'n3', status: 'ACTIVE', createdAt: '2024-01-03T00:00:00Z', profileCreatedAt: '2023-06-01T00:00:00Z', tainted: true },
  { id: 'n4', status: 'ACTIVE', createdAt: Date.parse('2023-12-01T00:00:00Z'), profileCreatedAt: '2023-09-01T00:00:00Z' },
  { id: 'n5', status: 'WARNING', createdAt: '2024-01-05T00:00:00Z', profileCreatedAt: '2023-06-01T00:00:00Z' },
  { id: 'n6', status: 'CREATING', createdAt: null },
  { id: 'n7', status: 'ACTIVE', createdAt: '2024-02-01T00:00:00Z', profileCreatedAt: '2023-01-01T00:00:00Z' },
];
const BAD = ['n2', 'n3', 'n5', 'n6'];

/** A random that replays fixed draws and fails the test if asked for more. */
const draws = (...xs: number[]) => () => {
  const x = xs.shift();
  if (x === undefined) throw new Error('random() called more often than expected');
  return x;
};

t.test('filterErrorNodes (scaleutils.filter_error_nodes)', async (t) => {
  const r = filterErrorNodes(FLEET);
  t.same(r.selected, BAD, 'ERROR, tainted, WARNING in list order, then the never-created CREATING node');
  t.same(r.candidates.map((n) => n.id), ['n1', 'n4', 'n7'], 'the rest keep their order');
});

t.test('selectVictims (DeletionPolicy.pre_op + nodes_by_*)', async (t) => {
  const rows: { why: string; nodes?: NodeInfo[]; count: number; criteria: DeletionCriteria; random?: () => number; want: string[] }[] = [
    { why: 'OLDEST_FIRST 2: bad nodes first, the first two of them', count: 2, criteria: 'OLDEST_FIRST', want: ['n2', 'n3'] },
    { why: 'RANDOM 2: bad nodes first, random() never consulted', count: 2, criteria: 'RANDOM', random: draws(), want: ['n2', 'n3'] },
    { why: 'OLDEST_FIRST 4: exactly the bad + never-created nodes', count: 4, criteria: 'OLDEST_FIRST', want: BAD },
    { why: 'OLDEST_FIRST 5: then the oldest good node n4 (2023-12, given in ms)', count: 5, criteria: 'OLDEST_FIRST', want: [...BAD, 'n4'] },
    { why: 'OLDEST_FIRST 6: n4 then n1', count: 6, criteria: 'OLDEST_FIRST', want: [...BAD, 'n4', 'n1'] },
    { why: 'YOUNGEST_FIRST 5: the youngest good node n7', count: 5, criteria: 'YOUNGEST_FIRST', want: [...BAD, 'n7'] },
    { why: 'YOUNGEST_FIRST 6: n7 then n1', count: 6, criteria: 'YOUNGEST_FIRST', want: [...BAD, 'n7', 'n1'] },
    { why: 'OLDEST_PROFILE_FIRST 5: oldest profile n7', count: 5, criteria: 'OLDEST_PROFILE_FIRST', want: [...BAD, 'n7'] },
    { why: 'OLDEST_PROFILE_FIRST 6: n7 then n1', count: 6, criteria: 'OLDEST_PROFILE_FIRST', want: [...BAD, 'n7', 'n1'] },
    { why: 'RANDOM 5: pool [n1,n4,n7], floor(0.99*3) = 2 -> n7', count: 5, criteria: 'RANDOM', random: draws(0.99), want: [...BAD, 'n7'] },
    { why: 'RANDOM 6: floor(0.5*3) = 1 -> n4, pool [n1,n7], floor(0*2) = 0 -> n1', count: 6, criteria: 'RANDOM', random: draws(0.5, 0), want: [...BAD, 'n4', 'n1'] },
    { why: 'count 100 is capped to the 7 nodes: everything, good ones oldest first', count: 100, criteria: 'OLDEST_FIRST', want: [...BAD, 'n4', 'n1', 'n7'] },
    { why: 'count 0: nobody', count: 0, criteria: 'RANDOM', random: draws(), want: [] },
    { why: 'count -1: Python selected[:-1] drops the last bad node', count: -1, criteria: 'OLDEST_FIRST', want: ['n2', 'n3', 'n5'] },
    { why: 'all healthy, OLDEST_FIRST 1: n4', nodes: FLEET.filter((n) => !BAD.includes(n.id)), count: 1, criteria: 'OLDEST_FIRST', want: ['n4'] },
    { why: 'equal ages, OLDEST_FIRST: the stable sort keeps list order, first is a', nodes: [{ id: 'a', status: 'ACTIVE', createdAt: 5 }, { id: 'b', status: 'ACTIVE', createdAt: 5 }], count: 1, criteria: 'OLDEST_FIRST', want: ['a'] },
    { why: 'equal ages, YOUNGEST_FIRST takes from the END of that order: b', nodes: [{ id: 'a', status: 'ACTIVE', createdAt: 5 }, { id: 'b', status: 'ACTIVE', createdAt: 5 }], count: 1, criteria: 'YOUNGEST_FIRST', want: ['b'] },
  ];
  for (const r of rows) t.same(selectVictims(r.nodes ?? FLEET, r.count, r.criteria, r.random), r.want, r.why);
  t.throws(
    () => nodesByProfileAge([{ id: 'a', status: 'ACTIVE', createdAt: 1 }, { id: 'b', status: 'ACTIVE', createdAt: 2, profileCreatedAt: 3 }], 1),
    TypeError,
    'a missing profile time cannot be ordered (Python: None < str is a TypeError)',
  );
});

t.test('deletionParams and DELETION_POLICY_DEFAULTS', async (t) => {
  t.same(DELETION_POLICY_DEFAULTS, { criteria: 'RANDOM', destroy_after_deletion: true, grace_period: 0, reduce_desired_capacity: true, hooks: {} }, 'the schema defaults');
  const rows: { why: string; p?: Parameters<typeof deletionParams>[0]; a: Parameters<typeof deletionParams>[1]; i?: { destroy_after_deletion?: boolean }; want: [boolean, number, boolean] }[] = [
    { why: 'no policy, scale-in: _delete_nodes defaults to NODE_DELETE, no grace, desired lowered', a: 'CLUSTER_SCALE_IN', want: [true, 0, true] },
    { why: 'no policy, del-nodes: destroy_after_deletion input defaults to False', a: 'CLUSTER_DEL_NODES', want: [false, 0, true] },
    { why: 'no policy, del-nodes asking to destroy', a: 'CLUSTER_DEL_NODES', i: { destroy_after_deletion: true }, want: [true, 0, true] },
    { why: 'policy, del-nodes: all three from the policy', p: { destroy_after_deletion: false, grace_period: 30, reduce_desired_capacity: false }, a: 'CLUSTER_DEL_NODES', want: [false, 30, false] },
    { why: 'same policy, scale-in: reduce_desired_capacity is not read, desired always follows', p: { destroy_after_deletion: false, grace_period: 30, reduce_desired_capacity: false }, a: 'CLUSTER_SCALE_IN', want: [false, 30, true] },
    { why: 'empty policy: the defaults', p: {}, a: 'CLUSTER_RESIZE', want: [true, 0, true] },
    { why: 'grace_period None sleeps nothing, as 0', p: { grace_period: null }, a: 'CLUSTER_SCALE_IN', want: [true, 0, true] },
  ];
  for (const r of rows) {
    const d = deletionParams(r.p, r.a, r.i);
    t.same([d.destroyAfterDeletion, d.gracePeriod, d.reduceDesiredCapacity], r.want, r.why);
  }
});

t.test('validateScalingPolicySpec (schema + ScalingPolicy.validate)', async (t) => {
  const base = () => ({
    type: 'senlin.policy.scaling',
    version: '1.0',
    properties: { event: 'CLUSTER_SCALE_IN', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 1, min_step: 1, best_effort: false, cooldown: 3 } } as Record<string, unknown>,
  });
  const withAdj = (adj: Record<string, unknown>) => {
    const s = base();
    s.properties.adjustment = adj;
    return s;
  };
  const rows: { why: string; spec: unknown; want: string | undefined }[] = [
    { why: 'the canonical spec', spec: base(), want: undefined },
    { why: 'version as a number (YAML 1.0 arrives as 1 in JS)', spec: { ...base(), version: 1.0 }, want: undefined },
    { why: 'not a map', spec: 'x', want: 'The provided spec is not a map.' },
    { why: 'no type', spec: { version: '1.0', properties: {} }, want: "The 'type' key is missing from the provided spec map." },
    { why: 'no version', spec: { type: 'senlin.policy.scaling', properties: {} }, want: "The 'version' key is missing from the provided spec map." },
    { why: 'unknown version: the registry lookup fails', spec: { ...base(), version: '2.0' }, want: "The policy_type 'senlin.policy.scaling-2.0' could not be found." },
    { why: 'missing event (required, no default)', spec: { ...base(), properties: { adjustment: {} } }, want: "Required spec item 'event' not provided" },
    { why: 'event not in the allowed values', spec: { ...base(), properties: { event: 'CLUSTER_RESIZE', adjustment: {} } }, want: "'CLUSTER_RESIZE' must be one of the allowed values: CLUSTER_SCALE_IN, CLUSTER_SCALE_OUT" },
    { why: 'event null', spec: { ...base(), properties: { event: null, adjustment: {} } }, want: "The value 'None' is not a valid string." },
    { why: 'no adjustment: it has no default, resolves to None and Senlin crashes subscripting it', spec: { ...base(), properties: { event: 'CLUSTER_SCALE_IN' } }, want: "'NoneType' object is not subscriptable" },
    { why: 'adjustment not a map', spec: withAdj('x' as unknown as Record<string, unknown>), want: "'x' is not a Map" },
    { why: 'empty adjustment: all defaults', spec: withAdj({}), want: undefined },
    { why: 'unknown adjustment type', spec: withAdj({ type: 'BOGUS' }), want: "'BOGUS' must be one of the allowed values: EXACT_CAPACITY, CHANGE_IN_CAPACITY, CHANGE_IN_PERCENTAGE" },
    { why: 'number -1', spec: withAdj({ number: -1 }), want: "the 'number' for 'adjustment' must be > 0" },
    { why: 'number 0 (falsy, skipped by Map.validate, still resolved and then refused)', spec: withAdj({ number: 0 }), want: "the 'number' for 'adjustment' must be > 0" },
    { why: 'number not numeric', spec: withAdj({ number: 'abc' }), want: "The value 'abc' is not a valid number." },
    { why: 'number as float text', spec: withAdj({ number: '2.5' }), want: undefined },
    { why: 'number null: int(None) TypeError text', spec: withAdj({ number: null }), want: "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'" },
    { why: 'min_step -1', spec: withAdj({ min_step: -1 }), want: "the 'min_step' for 'adjustment' must be >= 0" },
    { why: 'min_step "1.5": int("1.5") fails', spec: withAdj({ min_step: '1.5' }), want: "The value '1.5' is not a valid Integer" },
    { why: 'min_step 1.5: int(1.5) = 1 is fine', spec: withAdj({ min_step: 1.5 }), want: undefined },
    { why: 'min_step -0.5: int() gives 0, which passes >= 0', spec: withAdj({ min_step: -0.5 }), want: undefined },
    { why: 'cooldown -1', spec: withAdj({ cooldown: -1 }), want: "the 'cooldown' for 'adjustment' must be >= 0" },
    { why: 'cooldown null resolves to None; None < 0 is a TypeError', spec: withAdj({ cooldown: null }), want: "'<' not supported between instances of 'NoneType' and 'int'" },
    { why: 'best_effort "yes" is a Boolean string', spec: withAdj({ best_effort: 'yes' }), want: undefined },
    { why: 'best_effort "maybe"', spec: withAdj({ best_effort: 'maybe' }), want: "The value 'maybe' is not a valid Boolean" },
    { why: 'unknown key inside adjustment', spec: withAdj({ foo: 1 }), want: "Unrecognizable spec item 'foo'" },
    { why: 'unknown property', spec: { ...base(), properties: { ...base().properties, foo: 1 } }, want: "Unrecognizable spec item 'foo'" },
    { why: 'unknown top-level key', spec: { ...base(), foo: 1 }, want: "Unrecognizable spec item 'foo'" },
    { why: 'description null', spec: { ...base(), description: null }, want: "The value 'None' is not a valid string." },
    { why: 'order: __init__ resolves event before validate checks numbers', spec: { ...base(), properties: { adjustment: { number: -1 } } }, want: "Required spec item 'event' not provided" },
    { why: 'order: number is checked before min_step', spec: withAdj({ number: -1, min_step: -1 }), want: "the 'number' for 'adjustment' must be > 0" },
    { why: 'order: a bad adjustment type (at __init__) before an unknown property (at validate)', spec: { ...base(), properties: { event: 'CLUSTER_SCALE_IN', adjustment: { type: 'X' }, foo: 1 } }, want: "'X' must be one of the allowed values: EXACT_CAPACITY, CHANGE_IN_CAPACITY, CHANGE_IN_PERCENTAGE" },
  ];
  for (const r of rows) t.equal(validateScalingPolicySpec(r.spec), r.want, r.why);

  t.same(
    resolveScalingPolicySpec(withAdj({ min_step: 1.5, best_effort: 'yes', number: '2.5' })),
    { ok: true, properties: { event: 'CLUSTER_SCALE_IN', adjustment: { type: 'CHANGE_IN_CAPACITY', number: 2.5, min_step: 1, best_effort: true, cooldown: 0 } } },
    'resolved values: defaults filled, Integer truncated, Boolean and Number strings converted',
  );
});

t.test('validateDeletionPolicySpec (schema; no extra checks)', async (t) => {
  const spec = (properties: unknown, version: unknown = '1.1') => ({ type: 'senlin.policy.deletion', version, properties });
  const rows: { why: string; spec: unknown; want: string | undefined }[] = [
    { why: '1.1 with a criteria', spec: spec({ criteria: 'OLDEST_FIRST' }), want: undefined },
    { why: '1.0 is the same class and schema', spec: spec({ criteria: 'OLDEST_FIRST' }, '1.0'), want: undefined },
    { why: 'a numeric 1.1', spec: spec({}, 1.1), want: undefined },
    { why: 'version 1.2 is not registered', spec: spec({}, '1.2'), want: "The policy_type 'senlin.policy.deletion-1.2' could not be found." },
    { why: 'unknown criteria', spec: spec({ criteria: 'NEWEST' }), want: "'NEWEST' must be one of the allowed values: OLDEST_FIRST, OLDEST_PROFILE_FIRST, YOUNGEST_FIRST, RANDOM" },
    { why: 'negative grace_period: the deletion policy has no validate() of its own', spec: spec({ grace_period: -5 }), want: undefined },
    { why: 'grace_period not an integer', spec: spec({ grace_period: 'soon' }), want: "The value 'soon' is not a valid Integer" },
    { why: 'destroy_after_deletion not a Boolean', spec: spec({ destroy_after_deletion: 'nope' }), want: "The value 'nope' is not a valid Boolean" },
    { why: 'no properties key: every property has a default, then the outer spec requires properties', spec: { type: 'senlin.policy.deletion', version: '1.1' }, want: "Required spec item 'properties' not provided" },
    { why: 'hooks type not allowed', spec: spec({ hooks: { type: 'sms' } }), want: "'sms' must be one of the allowed values: zaqar, webhook" },
    { why: 'unknown key in hooks.params', spec: spec({ hooks: { params: { queue: 'q', bogus: 1 } } }), want: "Unrecognizable spec item 'bogus'" },
    { why: 'hooks not a map', spec: spec({ hooks: 'x' }), want: "'x' is not a Map" },
    { why: 'unknown property', spec: spec({ foo: 1 }), want: "Unrecognizable spec item 'foo'" },
    { why: 'order: criteria is read first', spec: spec({ criteria: 'NEWEST', grace_period: 'soon' }), want: "'NEWEST' must be one of the allowed values: OLDEST_FIRST, OLDEST_PROFILE_FIRST, YOUNGEST_FIRST, RANDOM" },
    { why: 'order: __init__ reads grace_period BEFORE destroy_after_deletion (not schema order)', spec: spec({ destroy_after_deletion: 'nope', grace_period: 'soon' }), want: "The value 'soon' is not a valid Integer" },
  ];
  for (const r of rows) t.equal(validateDeletionPolicySpec(r.spec), r.want, r.why);

  t.same(resolveDeletionPolicySpec(spec({})), { ok: true, properties: { criteria: 'RANDOM', grace_period: 0, destroy_after_deletion: true, reduce_desired_capacity: true, hooks: {} } }, 'defaults; an absent hooks stays {}');
  t.same(
    resolveDeletionPolicySpec(spec({ hooks: {} })),
    { ok: true, properties: { criteria: 'RANDOM', grace_period: 0, destroy_after_deletion: true, reduce_desired_capacity: true, hooks: { type: 'zaqar', params: {}, timeout: 0 } } },
    'a given (even empty) hooks map gets its children defaults',
  );
});
