/**
 * What a client may ask of a VNF instance, whichever way it came (Tacker's API, the manager's own
 * heals): each request's checks, then the start of an operation occurrence. Starting one is a
 * compare-and-set in the datastore, with no lock anywhere: the transaction that creates the
 * occurrence reads the instance's `current-operation` and writes it, so of two operations asked at
 * once on one VNF, on one controller instance or two, one commits and the other, retried on the
 * conflict, finds the instance busy (409). Operations on different VNFs touch different entries
 * and never wait for each other. The occurrence is then run by the instance's owner (executor.ts).
 *
 * Errors are SOL013 ProblemDetails (`ProblemError`), raised before anything is written.
 */
import { randomUUID } from 'node:crypto';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import { YangError } from '../../src/errors.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import {
  FINAL_STATES,
  isObject,
  instancePath,
  now,
  opOccPath,
  packageOfInstance,
  packagePath,
  ROLLBACK_OPERATIONS,
  scaleLevels,
  VIMS,
  VNFLCM,
  vnfdOf,
  type LcmOperation,
  type VnfInstance,
  type VnfLcmOpOcc,
  type VnfPackage,
} from './model.ts';
import type { Vnfd } from './vnfd.ts';

/** A SOL013 ProblemDetails with its HTTP status. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail);
  }

  body(): { status: number; title: string; detail: string } {
    return { status: this.status, title: this.title, detail: this.detail };
  }
}

export const badRequest = (detail: string) => new ProblemError(400, 'Bad Request', detail);
export const notFound = (detail: string) => new ProblemError(404, 'Not Found', detail);
export const conflict = (detail: string) => new ProblemError(409, 'Conflict', detail);

/** A datastore error met while serving a request, in ProblemDetails terms. */
export function problemOf(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  if (err instanceof YangError) {
    if (err.tag === 'data-missing') return notFound(err.message);
    if (['data-exists', 'in-use', 'lock-denied', 'resource-denied'].includes(err.tag)) return conflict(err.message);
    if (err.tag === 'operation-failed' || err.tag === 'operation-not-supported') return new ProblemError(500, 'Internal Server Error', err.message);
    return badRequest(err.message);
  }
  return new ProblemError(500, 'Internal Server Error', (err as Error)?.message ?? String(err));
}

// ----- reading ---------------------------------------------------------------------------------

export function readInstance(ctx: PluginContext, id: string): VnfInstance {
  const inst = ctx.data.read('config', instancePath(id));
  if (!inst) throw notFound(`VNF instance ${id} not found.`);
  return inst;
}

export function readOpOcc(ctx: PluginContext, id: string): VnfLcmOpOcc {
  const occ = ctx.data.read('config', opOccPath(id));
  if (!occ) throw notFound(`VNF LCM operation occurrence ${id} not found.`);
  return occ;
}

/** The VNFD an instance was created from (its package must still hold it). */
export function vnfdOfInstance(ctx: PluginContext, inst: VnfInstance): Vnfd {
  const pkg = packageOfInstance((id) => ctx.data.read('config', packagePath(id)), () => ctx.data.read('config', VNFLCM.vnfPackage()) ?? [], inst);
  const vnfd = vnfdOf(pkg);
  if (!vnfd) throw conflict(`The VNFD ${inst['vnfd-id']} of VNF instance ${inst.id} is not onboarded.`);
  return vnfd;
}

// ----- instances -------------------------------------------------------------------------------

export interface CreateInstanceRequest {
  vnfdId: string;
  name?: string;
  description?: string;
  metadata?: Record<string, unknown>;
}

/** SOL003 5.4.2 POST vnf_instances: the package must be ONBOARDED and ENABLED. */
export async function createInstance(ctx: PluginContext, req: CreateInstanceRequest): Promise<VnfInstance> {
  const pkg = (ctx.data.read('config', VNFLCM.vnfPackage()) ?? []).find((p) => p['vnfd-id'] === req.vnfdId && p['onboarding-state'] === 'ONBOARDED');
  if (!pkg) throw badRequest(`VNFD ${req.vnfdId} is not onboarded: no VNF package holds it.`);
  if (pkg['operational-state'] !== 'ENABLED') throw conflict(`VNF package ${pkg.id} holding VNFD ${req.vnfdId} is DISABLED.`);
  const inst: VnfInstance = {
    id: randomUUID(),
    'vnfd-id': req.vnfdId,
    'vnf-pkg-id': pkg.id,
    'instantiation-state': 'NOT_INSTANTIATED',
    'created-at': now(),
    ...(req.name !== undefined ? { name: req.name } : {}),
    ...(req.description !== undefined ? { description: req.description } : {}),
    ...(req.metadata !== undefined ? { metadata: JSON.stringify(req.metadata) } : {}),
  };
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    tx.put(instancePath(inst.id), inst);
    await tx.commit();
  });
  return inst;
}

/** SOL003 5.4.3 DELETE: only a NOT_INSTANTIATED instance with no operation holding it. */
export async function deleteInstance(ctx: PluginContext, id: string): Promise<void> {
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    const inst = tx.read(instancePath(id));
    if (!inst) throw notFound(`VNF instance ${id} not found.`);
    if (inst['instantiation-state'] === 'INSTANTIATED') throw conflict(`VNF instance ${id} is INSTANTIATED: terminate it before deleting it.`);
    const held = busyWith(tx, inst);
    if (held) throw conflict(`VNF instance ${id} is busy: operation ${held.operation} ${held.id} is ${held['operation-state']}.`);
    tx.remove(instancePath(id));
    await tx.commit();
  });
}

/** The occurrence holding an instance, if one does (any state but a final one). */
function busyWith(tx: Transaction, inst: VnfInstance): VnfLcmOpOcc | undefined {
  const cur = inst['current-operation'];
  if (!cur) return undefined;
  const occ = tx.read(opOccPath(cur));
  return occ && !FINAL_STATES.has(occ['operation-state']!) ? occ : undefined;
}

// ----- starting an operation -------------------------------------------------------------------

export interface OperationRequest {
  vnfId: string;
  operation: LcmOperation;
  params: Record<string, unknown>;
  /** Started by the manager itself (a heal for scale-in or drift). */
  automatic?: boolean;
  /** The operation's own checks against the instance as this transaction reads it; throws a ProblemError. */
  check?: (inst: VnfInstance, tx: Transaction) => void;
  /** Changes to the instance made in the same commit (MODIFY_INFO's, INSTANTIATE's VIM). */
  instance?: (inst: VnfInstance, tx: Transaction) => Partial<VnfInstance>;
}

/** The compare-and-set that starts an operation: resolves to the new occurrence's id. */
export async function startOperation(ctx: PluginContext, req: OperationRequest): Promise<string> {
  const id = randomUUID();
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    try {
      const inst = tx.read(instancePath(req.vnfId));
      if (!inst) throw notFound(`VNF instance ${req.vnfId} not found.`);
      const held = busyWith(tx, inst);
      if (held) throw conflict(`VNF instance ${req.vnfId} is busy: operation ${held.operation} ${held.id} is ${held['operation-state']}.`);
      req.check?.(inst, tx);
      const at = now();
      const occ: VnfLcmOpOcc = {
        id,
        operation: req.operation,
        'operation-state': 'STARTING',
        'vnf-instance': req.vnfId,
        'start-time': at,
        'state-entered-time': at,
        'is-automatic-invocation': req.automatic === true,
        'operation-params': JSON.stringify(req.params),
        attempt: 0,
        before: JSON.stringify(snapshotOf(inst)),
      };
      tx.put(opOccPath(id), occ);
      tx.merge(instancePath(req.vnfId), { ...(req.instance?.(inst, tx) ?? {}), 'current-operation': id });
    } catch (e) {
      tx.cancel();
      throw e;
    }
    await tx.commit();
  });
  return id;
}

/** What a rollback returns to. */
export interface InstanceSnapshot {
  state: VnfInstance['instantiation-state'];
  levels: Record<string, number>;
}

export const snapshotOf = (inst: VnfInstance): InstanceSnapshot => ({ state: inst['instantiation-state'] ?? 'NOT_INSTANTIATED', levels: scaleLevels(inst) });

// ----- the operations' checks ------------------------------------------------------------------

const mustBe = (inst: VnfInstance, state: 'INSTANTIATED' | 'NOT_INSTANTIATED', what: string) => {
  if ((inst['instantiation-state'] ?? 'NOT_INSTANTIATED') !== state) throw conflict(`VNF instance ${inst.id} is ${inst['instantiation-state'] ?? 'NOT_INSTANTIATED'}: ${what} needs it ${state}.`);
};

/**
 * The VIM an instantiation goes to: the one its vimConnectionInfo names (SOL003 v1: a list of
 * VimConnectionInfo; v2: a map of them), else the default VIM.
 */
export function resolveVim(ctx: PluginContext, vimConnectionInfo: unknown): string {
  const entries = Array.isArray(vimConnectionInfo) ? vimConnectionInfo : isObject(vimConnectionInfo) ? Object.values(vimConnectionInfo) : [];
  const named = entries.map((e) => (isObject(e) ? e.vimId : undefined)).find((v) => typeof v === 'string' && v) as string | undefined;
  const all = ctx.data.read('config', VIMS.vim()) ?? [];
  if (named) {
    if (!all.some((v) => v['vim-id'] === named)) throw badRequest(`VIM ${named} named in vimConnectionInfo is not registered.`);
    return named;
  }
  const dflt = all.find((v) => v['is-default'] === true);
  if (!dflt) throw badRequest('No vimConnectionInfo names a VIM and no default VIM is registered.');
  return dflt['vim-id'];
}

export async function requestInstantiate(ctx: PluginContext, vnfId: string, body: Record<string, unknown>, automatic = false): Promise<string> {
  const inst = readInstance(ctx, vnfId);
  const vnfd = vnfdOfInstance(ctx, inst);
  if (body.flavourId !== undefined && typeof body.flavourId !== 'string') throw badRequest('flavourId must be a string.');
  const flavour = (body.flavourId as string | undefined) ?? vnfd.flavourId;
  if (flavour !== vnfd.flavourId) throw badRequest(`flavourId ${flavour} is not a deployment flavour of VNFD ${vnfd.vnfdId} (it has ${vnfd.flavourId}).`);
  const vim = resolveVim(ctx, body.vimConnectionInfo);
  const props = isObject(body.vnfConfigurableProperties) ? body.vnfConfigurableProperties : {};
  if (props.isAutohealEnabled !== undefined && typeof props.isAutohealEnabled !== 'boolean') throw badRequest('vnfConfigurableProperties.isAutohealEnabled must be a boolean.');
  return startOperation(ctx, {
    vnfId,
    operation: 'INSTANTIATE',
    params: body,
    automatic,
    check: (cur) => mustBe(cur, 'NOT_INSTANTIATED', 'instantiate'),
    instance: () => ({
      'vim-id': vim,
      'flavour-id': flavour,
      ...(body.vimConnectionInfo !== undefined ? { 'vim-connection-info': JSON.stringify(body.vimConnectionInfo) } : {}),
      ...(props.isAutohealEnabled !== undefined ? { 'auto-heal': props.isAutohealEnabled as boolean } : {}),
    }),
  });
}

export async function requestScale(ctx: PluginContext, vnfId: string, body: Record<string, unknown>): Promise<string> {
  const inst = readInstance(ctx, vnfId);
  const vnfd = vnfdOfInstance(ctx, inst);
  if (body.type !== 'SCALE_OUT' && body.type !== 'SCALE_IN') throw badRequest('type must be SCALE_OUT or SCALE_IN.');
  if (typeof body.aspectId !== 'string') throw badRequest('aspectId is missing.');
  const aspect = vnfd.aspects.find((a) => a.id === body.aspectId);
  if (!aspect) throw badRequest(`aspectId ${body.aspectId} is not a scaling aspect of VNFD ${vnfd.vnfdId} (it has ${vnfd.aspects.map((a) => a.id).join(', ') || 'none'}).`);
  const steps = body.numberOfSteps ?? 1;
  if (!Number.isInteger(steps) || (steps as number) < 1) throw badRequest('numberOfSteps must be a positive integer.');
  return startOperation(ctx, {
    vnfId,
    operation: 'SCALE',
    params: { ...body, numberOfSteps: steps },
    check: (cur) => {
      mustBe(cur, 'INSTANTIATED', 'scale');
      const level = scaleLevels(cur)[aspect.id] ?? 0;
      const target = body.type === 'SCALE_OUT' ? level + (steps as number) : level - (steps as number);
      if (target > aspect.maxScaleLevel) throw badRequest(`Scaling ${aspect.id} out by ${steps} step(s) from level ${level} would pass its max_scale_level ${aspect.maxScaleLevel}.`);
      if (target < 0) throw badRequest(`Scaling ${aspect.id} in by ${steps} step(s) from level ${level} would go below level 0.`);
    },
  });
}

export async function requestHeal(ctx: PluginContext, vnfId: string, body: Record<string, unknown>, automatic = false): Promise<string> {
  readInstance(ctx, vnfId);
  const ids = body.vnfcInstanceId;
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((v) => typeof v !== 'string'))) throw badRequest('vnfcInstanceId must be a list of strings.');
  if (body.cause !== undefined && typeof body.cause !== 'string') throw badRequest('cause must be a string.');
  return startOperation(ctx, {
    vnfId,
    operation: 'HEAL',
    params: body,
    automatic,
    check: (cur) => {
      mustBe(cur, 'INSTANTIATED', 'heal');
      const known = new Set((cur['instantiated-vnf-info']?.['vnfc-resource-info'] ?? []).map((v) => v.id));
      const unknown = ((ids as string[] | undefined) ?? []).filter((v) => !known.has(v));
      if (unknown.length) throw badRequest(`vnfcInstanceId ${unknown.join(', ')}: no such VNFC in VNF instance ${vnfId}.`);
    },
  });
}

export async function requestTerminate(ctx: PluginContext, vnfId: string, body: Record<string, unknown>): Promise<string> {
  readInstance(ctx, vnfId);
  if (body.terminationType !== 'FORCEFUL' && body.terminationType !== 'GRACEFUL') throw badRequest('terminationType must be FORCEFUL or GRACEFUL.');
  const grace = body.gracefulTerminationTimeout;
  if (grace !== undefined && (!Number.isInteger(grace) || (grace as number) < 0)) throw badRequest('gracefulTerminationTimeout must be a non-negative integer.');
  return startOperation(ctx, { vnfId, operation: 'TERMINATE', params: body, check: (cur) => mustBe(cur, 'INSTANTIATED', 'terminate') });
}

/** SOL003 5.4.3 PATCH: name, description, metadata (merged, null removes a key), vimConnectionInfo. */
export async function requestModify(ctx: PluginContext, vnfId: string, body: Record<string, unknown>): Promise<string> {
  readInstance(ctx, vnfId);
  const known = new Set(['vnfInstanceName', 'vnfInstanceDescription', 'metadata', 'vimConnectionInfo', 'vnfPkgId', 'extensions', 'vnfConfigurableProperties']);
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length) throw badRequest(`Unknown attribute(s) ${unknown.join(', ')} in a VnfInfoModificationRequest.`);
  if (body.vnfInstanceName !== undefined && body.vnfInstanceName !== null && typeof body.vnfInstanceName !== 'string') throw badRequest('vnfInstanceName must be a string.');
  if (body.vnfInstanceDescription !== undefined && body.vnfInstanceDescription !== null && typeof body.vnfInstanceDescription !== 'string') throw badRequest('vnfInstanceDescription must be a string.');
  if (body.metadata !== undefined && !isObject(body.metadata)) throw badRequest('metadata must be an object.');
  if (body.vnfPkgId !== undefined) throw badRequest('Changing vnfPkgId (CHANGE_VNFPKG) is not supported.');
  const props = isObject(body.vnfConfigurableProperties) ? body.vnfConfigurableProperties : undefined;
  return startOperation(ctx, {
    vnfId,
    operation: 'MODIFY_INFO',
    params: body,
    instance: (cur) => {
      const out: Partial<VnfInstance> = {};
      if (typeof body.vnfInstanceName === 'string') out.name = body.vnfInstanceName;
      if (typeof body.vnfInstanceDescription === 'string') out.description = body.vnfInstanceDescription;
      if (isObject(body.metadata)) {
        const merged: Record<string, unknown> = { ...(cur.metadata ? (JSON.parse(cur.metadata) as Record<string, unknown>) : {}) };
        for (const [k, v] of Object.entries(body.metadata)) if (v === null) delete merged[k];
        else merged[k] = v;
        out.metadata = JSON.stringify(merged);
      }
      if (body.vimConnectionInfo !== undefined) out['vim-connection-info'] = JSON.stringify(body.vimConnectionInfo);
      if (typeof props?.isAutohealEnabled === 'boolean') out['auto-heal'] = props.isAutohealEnabled;
      return out;
    },
  });
}

// ----- retry, rollback, fail of a FAILED_TEMP occurrence ---------------------------------------

/** A FAILED_TEMP occurrence moved on: to `state` (the owner runs it again), or FAILED (final). */
async function moveFailedTemp(ctx: PluginContext, occId: string, what: string, to: 'PROCESSING' | 'ROLLING_BACK' | 'FAILED'): Promise<VnfLcmOpOcc> {
  let out!: VnfLcmOpOcc;
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('config');
    try {
      const occ = tx.read(opOccPath(occId));
      if (!occ) throw notFound(`VNF LCM operation occurrence ${occId} not found.`);
      if (occ['operation-state'] !== 'FAILED_TEMP') throw conflict(`VNF LCM operation occurrence ${occId} is ${occ['operation-state']}: ${what} needs it FAILED_TEMP.`);
      if (to === 'ROLLING_BACK' && !ROLLBACK_OPERATIONS.has(occ.operation!)) throw conflict(`A ${occ.operation} cannot be rolled back.`);
      const at = now();
      out = { ...occ, 'operation-state': to, 'state-entered-time': at };
      // The owner that runs it again is whoever owns the instance then: the claim is open.
      tx.merge(opOccPath(occId), { 'operation-state': to, 'state-entered-time': at });
      if (to !== 'FAILED') tx.remove(opOccPath(occId).owner());
      else {
        const inst = tx.read(instancePath(occ['vnf-instance']!));
        if (inst?.['current-operation'] === occId) tx.remove(instancePath(inst.id).currentOperation());
      }
    } catch (e) {
      tx.cancel();
      throw e;
    }
    await tx.commit();
  });
  return out;
}

export const retryOperation = (ctx: PluginContext, occId: string) => moveFailedTemp(ctx, occId, 'retry', 'PROCESSING');
export const rollbackOperation = (ctx: PluginContext, occId: string) => moveFailedTemp(ctx, occId, 'rollback', 'ROLLING_BACK');
export const failOperation = (ctx: PluginContext, occId: string) => moveFailedTemp(ctx, occId, 'fail', 'FAILED');

// ----- packages --------------------------------------------------------------------------------

export function readPackage(ctx: PluginContext, id: string): VnfPackage {
  const pkg = ctx.data.read('config', packagePath(id));
  if (!pkg) throw notFound(`VNF package ${id} not found.`);
  return pkg;
}

/** Whether any instance uses the package (SOL005 usageState IN_USE). */
export function packageInUse(ctx: PluginContext, pkg: VnfPackage): boolean {
  return (ctx.data.read('config', VNFLCM.vnfInstance()) ?? []).some((i) => i['vnf-pkg-id'] === pkg.id);
}
