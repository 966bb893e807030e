/**
 * The JSON Tacker's clients see: SOL005 VnfPkgInfo, SOL003 VnfInstance, VnfLcmOpOcc and
 * LccnSubscription, rendered from the sextant-vnflcm entries. Pure functions of the entries (and
 * the base URL the client reached us at, for `_links`), so every route shows one shape.
 *
 * v1 (SOL003 v2.6.1, Tacker's /vnflcm/v1) and v2 (SOL003 v3.3.1, /vnflcm/v2) differ here only
 * where a client would trip on it: `vimConnectionInfo` is a list in v1 and a map keyed by the
 * connection id in v2 (as the client gave it is kept, and converted for the other major). The
 * rest (v2's extra links, vnfConfigurableProperties, CHANGE_VNFPKG) is not rendered.
 */
import { isObject, ROLLBACK_OPERATIONS, type Json, type Subscription, type VnfInstance, type VnfLcmOpOcc, type VnfPackage } from './model.ts';

export type Major = 'v1' | 'v2';
type Link = { href: string };

const parsed = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));
const parsedObject = (text: string | undefined): Json => {
  const v = parsed(text);
  return isObject(v) ? v : {};
};

// ----- packages (SOL005 v2.6.1 VnfPkgInfo) -----------------------------------------------------

export function renderPackage(base: string, pkg: VnfPackage, inUse: boolean) {
  const self = `${base}/vnfpkgm/v1/vnf_packages/${pkg.id}`;
  const onboarded = pkg['onboarding-state'] === 'ONBOARDED';
  return {
    id: pkg.id,
    ...(onboarded
      ? { vnfdId: pkg['vnfd-id'], vnfProvider: pkg['vnf-provider'], vnfProductName: pkg['vnf-product-name'], vnfSoftwareVersion: pkg['vnf-software-version'], vnfdVersion: pkg['vnfd-version'] }
      : {}),
    onboardingState: pkg['onboarding-state'] ?? 'CREATED',
    operationalState: pkg['operational-state'] ?? 'DISABLED',
    usageState: inUse ? 'IN_USE' : 'NOT_IN_USE',
    userDefinedData: parsedObject(pkg['user-defined-data']),
    _links: { self: { href: self }, packageContent: { href: `${self}/package_content` }, ...(onboarded ? { vnfd: { href: `${self}/vnfd` } } : {}) },
  };
}

// ----- instances (SOL003 VnfInstance) ----------------------------------------------------------

interface Connection {
  id: string;
  vimId?: string;
  vimType?: string;
  [k: string]: unknown;
}

/** The instance's VIM connections as a list, whichever form the client gave (or the VIM it is on). */
function connectionsOf(inst: VnfInstance): Connection[] {
  const given = parsed(inst['vim-connection-info']);
  const list: Connection[] = Array.isArray(given)
    ? given.filter(isObject).map((c, i) => ({ ...c, id: typeof c.id === 'string' ? c.id : `vim-${i}` }))
    : isObject(given)
      ? Object.entries(given).map(([id, c]) => ({ ...(isObject(c) ? c : {}), id }))
      : [];
  if (!list.length && inst['vim-id']) list.push({ id: inst['vim-id'], vimId: inst['vim-id'], vimType: 'openstack' });
  return list;
}

export function renderInstance(base: string, major: Major, inst: VnfInstance, pkg: VnfPackage | undefined) {
  const self = `${base}/vnflcm/${major}/vnf_instances/${inst.id}`;
  const instantiated = inst['instantiation-state'] === 'INSTANTIATED';
  const connections = connectionsOf(inst);
  const vimConnectionInfo = major === 'v1' ? connections : Object.fromEntries(connections.map(({ id, ...c }) => [id, c]));
  const info = inst['instantiated-vnf-info'];
  const link = (op: string): Record<string, Link> => ({ [op]: { href: `${self}/${op}` } });
  return {
    id: inst.id,
    vnfInstanceName: inst.name ?? '',
    vnfInstanceDescription: inst.description ?? '',
    vnfdId: inst['vnfd-id'],
    vnfProvider: pkg?.['vnf-provider'] ?? '',
    vnfProductName: pkg?.['vnf-product-name'] ?? '',
    vnfSoftwareVersion: pkg?.['vnf-software-version'] ?? '',
    vnfdVersion: pkg?.['vnfd-version'] ?? '',
    vnfPkgId: inst['vnf-pkg-id'],
    instantiationState: inst['instantiation-state'] ?? 'NOT_INSTANTIATED',
    vimConnectionInfo,
    metadata: parsedObject(inst.metadata),
    ...(instantiated
      ? {
          instantiatedVnfInfo: {
            flavourId: inst['flavour-id'],
            vnfState: 'STARTED',
            scaleStatus: (info?.['scale-status'] ?? []).map((s) => ({ aspectId: s['aspect-id'], scaleLevel: s['scale-level'] ?? 0 })),
            vnfcResourceInfo: (info?.['vnfc-resource-info'] ?? []).map((v) => ({
              id: v.id,
              vduId: v['vdu-id'],
              computeResource: { vimConnectionId: connections[0]?.id, resourceId: v.port, vimLevelResourceType: 'OS::Nova::Server' },
              metadata: { compute: v.compute },
            })),
          },
        }
      : {}),
    _links: {
      self: { href: self },
      ...(instantiated ? { ...link('terminate'), ...link('scale'), ...link('heal') } : link('instantiate')),
    },
  };
}

// ----- operation occurrences (SOL003 VnfLcmOpOcc) ----------------------------------------------

export function renderOpOcc(base: string, major: Major, occ: VnfLcmOpOcc) {
  const self = `${base}/vnflcm/${major}/vnf_lcm_op_occs/${occ.id}`;
  const failedTemp = occ['operation-state'] === 'FAILED_TEMP';
  const resourceChanges = parsed(occ['resource-changes']);
  return {
    id: occ.id,
    operationState: occ['operation-state'],
    stateEnteredTime: occ['state-entered-time'],
    startTime: occ['start-time'],
    vnfInstanceId: occ['vnf-instance'],
    grantId: null,
    operation: occ.operation,
    isAutomaticInvocation: occ['is-automatic-invocation'] ?? false,
    operationParams: parsed(occ['operation-params']) ?? {},
    isCancelPending: occ['is-cancel-pending'] ?? false,
    ...(occ.error ? { error: { status: occ.error.status, title: occ.error.title, detail: occ.error.detail, ...(occ.error.type ? { type: occ.error.type } : {}) } } : {}),
    ...(resourceChanges !== undefined ? { resourceChanges } : {}),
    _links: {
      self: { href: self },
      vnfInstance: { href: `${base}/vnflcm/${major}/vnf_instances/${occ['vnf-instance']}` },
      ...(failedTemp
        ? {
            retry: { href: `${self}/retry` },
            ...(ROLLBACK_OPERATIONS.has(occ.operation!) ? { rollback: { href: `${self}/rollback` } } : {}),
            fail: { href: `${self}/fail` },
          }
        : {}),
    },
  };
}

// ----- subscriptions (SOL003 LccnSubscription) -------------------------------------------------

/** Never the authentication: SOL003 4.5.2.3 keeps the subscriber's credentials out of every answer. */
export function renderSubscription(base: string, major: Major, sub: Subscription) {
  return {
    id: sub.id,
    filter: parsedObject(sub.filter),
    callbackUri: sub['callback-uri'],
    _links: { self: { href: `${base}/vnflcm/${major}/subscriptions/${sub.id}` } },
  };
}

/** The top-level attributes a list's `filter` may name (SOL013 5.2), per resource. */
export const PACKAGE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id', 'vnfdId', 'vnfProvider', 'vnfProductName', 'vnfSoftwareVersion', 'vnfdVersion', 'onboardingState', 'operationalState', 'usageState', 'userDefinedData',
]);
export const INSTANCE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id', 'vnfInstanceName', 'vnfInstanceDescription', 'vnfdId', 'vnfProvider', 'vnfProductName', 'vnfSoftwareVersion', 'vnfdVersion', 'vnfPkgId', 'instantiationState',
  'vimConnectionInfo', 'metadata', 'instantiatedVnfInfo',
]);
export const OP_OCC_ATTRIBUTES: ReadonlySet<string> = new Set([
  'id', 'operationState', 'stateEnteredTime', 'startTime', 'vnfInstanceId', 'grantId', 'operation', 'isAutomaticInvocation', 'operationParams', 'isCancelPending', 'error',
  'resourceChanges',
]);
export const SUBSCRIPTION_ATTRIBUTES: ReadonlySet<string> = new Set(['id', 'filter', 'callbackUri']);
