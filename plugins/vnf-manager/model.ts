/**
 * The VNF manager's data contract (module sextant-vnflcm) and the paths of the other modules it
 * reads or writes: the clusters that realise VDUs (sextant-clustering), the VIMs and their status
 * (sextant-nfv-vim), the registered computes and their tombstones (cloudscaler-rpc), and what
 * Open vSwitch reports (ovsdb:1). One place for all of them.
 */
import { computeNodes, type ComputeNode } from '../../src/bindings/cloudscaler-rpc.ts';
import { clustering, clusteringState, type Action, type ClusteringCluster, type Node } from '../../src/bindings/sextant-clustering.ts';
import { vimStates, vims, type Vim } from '../../src/bindings/sextant-nfv-vim.ts';
import {
  vnflcm,
  vnflcmState,
  type LcmOperation,
  type OperationState,
  type Subscription,
  type VnfcResourceInfo,
  type VnfInstance,
  type VnfLcmOpOcc,
  type VnfPackage,
} from '../../src/bindings/sextant-vnflcm.ts';
import { ovsdbTopology, vmPortOf } from '../../src/southbound/ovsdb/topology.ts';
import type { Vnfd } from './vnfd.ts';

export type { Action, ClusteringCluster, ComputeNode, LcmOperation, Node, OperationState, Subscription, Vim, VnfcResourceInfo, VnfInstance, VnfLcmOpOcc, VnfPackage };

export const VNFLCM = vnflcm();
export const VNFLCM_STATE = vnflcmState();
/** Every operation state (a Record, so tsc complains when the YANG enumeration grows). */
export const OPERATION_STATES = Object.keys({ STARTING: true, PROCESSING: true, COMPLETED: true, FAILED_TEMP: true, FAILED: true, ROLLING_BACK: true, ROLLED_BACK: true } satisfies Record<OperationState, true>) as OperationState[];
export const packagePath = (id: string) => VNFLCM.vnfPackage(id);
export const instancePath = (id: string) => VNFLCM.vnfInstance(id);
export const opOccPath = (id: string) => VNFLCM.vnfLcmOpOcc(id);
export const subscriptionPath = (id: string) => VNFLCM.subscription(id);

export const CLUSTERING = clustering();
export const CLUSTERING_STATE = clusteringState();
export const COMPUTES = computeNodes();
export const VIMS = vims();
export const VIM_STATES = vimStates();
export { ovsdbTopology };

export const LCM_NOTIFICATION = 'sextant-vnflcm:vnf-lcm-operation-occurrence';
export const DRIFT_NOTIFICATION = 'sextant-vnflcm:vnf-drift-detected';

/** States an occurrence never leaves. */
export const FINAL_STATES: ReadonlySet<OperationState> = new Set(['COMPLETED', 'FAILED', 'ROLLED_BACK']);
/** States in which the occurrence's owner is working on it. */
export const ACTIVE_STATES: ReadonlySet<OperationState> = new Set(['STARTING', 'PROCESSING', 'ROLLING_BACK']);
/** The operations this manager runs. */
export const OPERATIONS: ReadonlySet<LcmOperation> = new Set(['INSTANTIATE', 'SCALE', 'HEAL', 'TERMINATE', 'MODIFY_INFO']);
/** Operations a FAILED_TEMP occurrence of may be rolled back (SOL003 5.4.15: not HEAL, not TERMINATE). */
export const ROLLBACK_OPERATIONS: ReadonlySet<LcmOperation> = new Set(['INSTANTIATE', 'SCALE', 'MODIFY_INFO']);

/** An autoscaling action's end states. */
export const ACTION_DONE = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** The VNFD a package was onboarded with, as vnfd.ts read it. */
export function vnfdOf(pkg: VnfPackage | undefined): Vnfd | undefined {
  return pkg?.vnfd ? (JSON.parse(pkg.vnfd) as Vnfd) : undefined;
}

/** The package holding an instance's VNFD. */
export function packageOfInstance(read: (id: string) => VnfPackage | undefined, all: () => VnfPackage[], inst: VnfInstance): VnfPackage | undefined {
  if (inst['vnf-pkg-id']) return read(inst['vnf-pkg-id']);
  return all().find((p) => p['vnfd-id'] === inst['vnfd-id'] && p['onboarding-state'] === 'ONBOARDED');
}

export const scaleLevels = (inst: VnfInstance | undefined): Record<string, number> =>
  Object.fromEntries((inst?.['instantiated-vnf-info']?.['scale-status'] ?? []).map((s) => [s['aspect-id'], s['scale-level'] ?? 0]));

/** The ports (Neutron port uuids, `external_ids:iface-id`) a bridge reports; undefined: not connected. */
export function reportedPorts(tps: { 'termination-point'?: Parameters<typeof vmPortOf>[0][] } | undefined): Set<string> | undefined {
  if (!tps) return undefined;
  const out = new Set<string>();
  for (const tp of tps['termination-point'] ?? []) {
    const port = vmPortOf(tp);
    if (port) out.add(port);
  }
  return out;
}

export const now = () => new Date().toISOString();

/** A JSON object as the client gave it (SOL KeyValuePairs, request bodies). */
export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
