/**
 * Cluster membership as plugins see it. A single instance is always the leader and owns every
 * entity; the etcd-backed implementation (cluster mode) keeps this interface.
 */
export interface Cluster {
  readonly memberId: string;
  isLeader(): boolean;
  /** Called now with the current state and again on every change of leadership. */
  onLeadership(fn: (leader: boolean) => void): () => void;
  /** True when this instance is responsible for the entity (e.g. one OVSDB node). */
  owns(entity: string): boolean;
}

export class SingleNodeCluster implements Cluster {
  readonly memberId = 'single';

  isLeader(): boolean {
    return true;
  }

  onLeadership(fn: (leader: boolean) => void): () => void {
    fn(true);
    return () => undefined;
  }

  owns(_entity: string): boolean {
    return true;
  }
}
