/**
 * Cluster state for operators: the live members and the leader, as this instance sees them,
 * in the operational `sextant-cluster:cluster` container (readable over RESTCONF and NETCONF),
 * rewritten whenever membership or leadership changes, by the leader only: in cluster mode the
 * operational store is shared and every member sees the same membership. Only where the module
 * is loaded.
 */
import { cluster as clusterPath, type Cluster as ClusterJson } from '../bindings/sextant-cluster.ts';
import { retryOnConflict, type Datastore } from '../datastore/datastore.ts';
import type { Cluster } from './cluster.ts';

export function publishClusterState(data: Datastore, cluster: Cluster, clusterName: string, onError: (e: unknown) => void): () => void {
  if (!data.schema.modules.has('sextant-cluster')) return () => undefined;
  let last = '';
  let writing = Promise.resolve();
  const write = () => {
    if (!cluster.isLeader()) return;
    const state: ClusterJson = {
      'cluster-name': clusterName,
      'member-count': cluster.members().length,
      member: cluster.members().map((m) => ({ 'member-id': m.id, address: m.address, ...(m.since ? { since: m.since } : {}), leader: m.leader })),
    };
    const text = JSON.stringify(state);
    if (text === last) return;
    last = text;
    // One write at a time, in order, so an older view never lands after a newer one.
    writing = writing
      .then(() => retryOnConflict(() => data.transaction('operational').put(clusterPath(), state).commit()))
      .then(() => undefined, onError);
  };
  const offMembers = cluster.onMembership(write);
  const offLeader = cluster.onLeadership(write);
  write();
  return () => {
    offMembers();
    offLeader();
  };
}
