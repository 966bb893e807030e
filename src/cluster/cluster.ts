/**
 * Cluster membership as plugins see it (`ctx.cluster`). A single instance is always the leader
 * and owns every entity; the etcd-backed implementation (etcd.ts, cluster mode) keeps this
 * interface: members registered under leases, one leader elected with fencing, entities spread
 * over the live members by rendezvous hashing.
 */
import { createHash } from 'node:crypto';

export interface Member {
  id: string;
  /** Where the member serves RESTCONF. */
  address: string;
  /** When it joined (ISO 8601). */
  since: string;
  leader: boolean;
}

/**
 * What a leader-only write carries so that only the current leader's writes commit: the leader
 * key and the revision at which this member created it. A write guarded by it fails once another
 * member has become leader, even when the old one wakes from a pause still believing it leads.
 */
export interface Fence {
  key: string;
  createRevision: string;
}

export interface Cluster {
  readonly memberId: string;
  /** The entities applications shard over the members, by kind (counted in the cluster state). */
  readonly entities: EntityKinds;
  isLeader(): boolean;
  /** Called now with the current state and again on every change of leadership. */
  onLeadership(fn: (leader: boolean) => void): () => void;
  /** True when this instance is responsible for the entity (e.g. one OVSDB node, one VIM). */
  owns(entity: string): boolean;
  /** The member responsible for an entity (undefined while no member is known). */
  ownerOf(entity: string): string | undefined;
  /**
   * Resolves once this member has joined and knows the live members, so owns() answers for the
   * cluster, not for a member alone (at once for a single instance).
   */
  joined(): Promise<void>;
  /** Called after the live members changed (ownership may have moved). */
  onMembership(fn: (members: Member[]) => void): () => void;
  members(): Member[];
  /** The fence of this member's leadership, while it leads. */
  fence(): Fence | undefined;
}

/**
 * The entities a cluster spreads over its members, by kind: an application that shards its work
 * with owns() declares the whole set of one kind (every member sees the same set, from the shared
 * store), so the cluster state can say how many each member owns. Declaring changes nothing about
 * who owns what: ownership is a function of the entity and the live members only.
 */
export class EntityKinds {
  private readonly kinds = new Map<string, ReadonlySet<string>>();
  private readonly fns = new Set<() => void>();

  /** Replaces the set of entities of one kind: the strings the application passes to owns(). */
  set(kind: string, ids: Iterable<string>): void {
    const next = new Set(ids);
    // A kind with nothing in it is not shown.
    if (!next.size) return this.delete(kind);
    const old = this.kinds.get(kind);
    if (old && old.size === next.size && [...next].every((id) => old.has(id))) return;
    this.kinds.set(kind, next);
    this.changed();
  }

  /** Forgets a kind (its application stopped). */
  delete(kind: string): void {
    if (this.kinds.delete(kind)) this.changed();
  }

  onChange(fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  /** For each member, how many entities of each declared kind it owns (kinds in name order). */
  counts(members: readonly string[]): Map<string, Map<string, number>> {
    const out = new Map(members.map((m) => [m, new Map<string, number>()]));
    for (const kind of [...this.kinds.keys()].sort()) {
      for (const m of members) out.get(m)!.set(kind, 0);
      for (const id of this.kinds.get(kind)!) {
        const owner = rendezvousOwner(id, members);
        if (owner !== undefined) out.get(owner)!.set(kind, out.get(owner)!.get(kind)! + 1);
      }
    }
    return out;
  }

  private changed(): void {
    for (const fn of this.fns) fn();
  }
}

/**
 * Rendezvous (highest-random-weight) hashing: each entity goes to the member whose hash of
 * (member, entity) is highest, so a member joining or leaving moves only the entities it wins or
 * held, about 1/N of them, and every member computes the same owner without talking.
 */
export function rendezvousOwner(entity: string, members: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const m of members) {
    const weight = createHash('sha256').update(m).update('\u0000').update(entity).digest().readBigUInt64BE(0);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = weight;
    }
  }
  return best;
}

export class SingleNodeCluster implements Cluster {
  readonly entities = new EntityKinds();
  private readonly since = new Date().toISOString();

  constructor(
    readonly memberId = 'single',
    /** Where this instance serves RESTCONF (known once it listens). */
    private readonly address: () => string = () => '',
  ) {}

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

  ownerOf(_entity: string): string {
    return this.memberId;
  }

  onMembership(_fn: (members: Member[]) => void): () => void {
    return () => undefined;
  }

  joined(): Promise<void> {
    return Promise.resolve();
  }

  members(): Member[] {
    return [{ id: this.memberId, address: this.address(), since: this.since, leader: true }];
  }

  fence(): undefined {
    return undefined;
  }
}
