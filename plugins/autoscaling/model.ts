/**
 * The autoscaling plugin's data contract (module sextant-clustering) and the paths of others'
 * data it writes or reads: Neutron ports and the config OVSDB topology (what a node is), the
 * registered computes (where a node may go). One place for all of them.
 */
import { clustering, clusteringState, type Action, type ClusteringCluster, type ClusteringPolicy, type Node, type Profile } from '../../src/bindings/sextant-clustering.ts';
import { computeNodes, type ComputeNode } from '../../src/bindings/cloudscaler-rpc.ts';
import { neutron } from '../../src/bindings/neutron.ts';
import { ovsdbTopology, terminationPointPath } from '../../src/southbound/ovsdb/topology.ts';

export type { Action, ClusteringCluster, ClusteringPolicy, ComputeNode, Node, Profile };

export const CLUSTERING = clustering();
export const STATE = clusteringState();
export const clusterPath = (id: string) => CLUSTERING.cluster(id);
export const profilePath = (id: string) => CLUSTERING.profile(id);
export const policyPath = (id: string) => CLUSTERING.policy(id);
export const clusterState = (id: string) => STATE.cluster(id);
export const nodeState = (cluster: string, node: string) => STATE.cluster(cluster).node(node);
export const actionPath = (id: string) => STATE.action(id);
export const COMPUTES = computeNodes();
export const neutronPort = (uuid: string) => neutron().ports().port(uuid);
export const vmPortTp = terminationPointPath;
export { ovsdbTopology };

/** The device-owner of the Neutron ports nodes realise: Nova's, so the network applications treat them as VMs. */
export const NODE_DEVICE_OWNER = 'compute:nova';

/** Actions that change a cluster's size (one of them at a time; Senlin 1.11's 409). */
export const SCALING_ACTIONS = new Set(['CLUSTER_SCALE_OUT', 'CLUSTER_SCALE_IN', 'CLUSTER_RESIZE']);

/** An action's end states. */
export const DONE = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
