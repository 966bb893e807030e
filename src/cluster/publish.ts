/**
 * Cluster state for operators: the live members, the leader and how many entities of each
 * declared kind every member owns, as this instance sees them,
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
    const members = cluster.members();
    const counts = cluster.entities.counts(members.map((m) => m.id));
    const state: ClusterJson = {
      'cluster-name': clusterName,
      'member-count': members.length,
      member: members.map((m) => {
        const owned = [...counts.get(m.id)!].map(([kind, count]) => ({ 'entity-type': kind, count }));
        return { 'member-id': m.id, address: m.address, ...(m.since ? { since: m.since } : {}), leader: m.leader, ...(owned.length ? { owned } : {}) };
      }),
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
  // Applications declare their entities as their data changes: counted once per burst.
  let soon: NodeJS.Immediate | undefined;
  const offEntities = cluster.entities.onChange(() => {
    soon ??= setImmediate(() => {
      soon = undefined;
      write();
    });
  });
  write();
  return () => {
    offMembers();
    offLeader();
    offEntities();
    if (soon) clearImmediate(soon);
  };
}
