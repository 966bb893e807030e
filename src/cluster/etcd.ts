/**
 * Cluster membership, leader election and entity ownership over etcd (cluster mode).
 *
 * - Members: each instance holds one lease (TTL `--cluster-lease-ttl`, kept alive by the client)
 *   and registers `<prefix>members/<id>` under it. A killed instance's key goes when its lease
 *   expires; a clean stop revokes the lease at once. Every instance watches the members' prefix,
 *   so all agree on who is alive.
 * - Leader: `<prefix>leader` is created, under the lease, by whoever finds it missing (a txn
 *   comparing its create revision with 0): no lock, one winner. The others watch the key and try
 *   again when it goes. The create revision is the leadership's fence: a leader-only write that
 *   compares it commits only while that leadership lasts, so a leader paused past its lease
 *   (SIGSTOP) and then resumed cannot write, even before it learns that it lost.
 * - Ownership: rendezvous hashing of the entity over the live members (cluster.ts).
 */
import type { Etcd3, Lease, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { EntityKinds, rendezvousOwner, type Cluster, type Fence, type Member } from './cluster.ts';

export interface EtcdClusterOptions {
  client: Etcd3;
  /** Key prefix of this cluster's membership (ends with `/`), e.g. `/sextant/cluster/`. */
  prefix: string;
  memberId: string;
  /** The member's RESTCONF URL, shown to operators (read when the member registers). */
  address: string | (() => string);
  /** Lease TTL in seconds: a killed leader is replaced within about this long. */
  ttlSeconds: number;
  log: Logger;
}

interface MemberRecord {
  address: string;
  since: string;
}

export class EtcdCluster implements Cluster {
  readonly memberId: string;
  readonly entities = new EntityKinds();
  private lease?: Lease;
  private readonly live = new Map<string, MemberRecord>();
  private leaderId?: string;
  private fenceRevision?: string;
  private leaseIdText?: string;
  private readonly watchers: Watcher[] = [];
  private readonly leadershipFns = new Set<(leader: boolean) => void>();
  private readonly membershipFns = new Set<(members: Member[]) => void>();
  private readonly leaseFns = new Set<() => void>();
  private stopped = false;
  private readonly since = new Date().toISOString();
  /** Serializes campaigns and re-registrations (one at a time, in this process). */
  private work: Promise<void> = Promise.resolve();

  constructor(private readonly opts: EtcdClusterOptions) {
    this.memberId = opts.memberId;
  }

  private get membersPrefix(): string {
    return `${this.opts.prefix}members/`;
  }

  private get leaderKey(): string {
    return `${this.opts.prefix}leader`;
  }

  private joinedResolve!: () => void;
  private readonly joinedPromise = new Promise<void>((resolve) => (this.joinedResolve = resolve));

  joined(): Promise<void> {
    return this.joinedPromise;
  }

  /** Joins: lease, member key, watches, first campaign. Resolves once the member is registered. */
  async start(): Promise<void> {
    await this.register();
    const { client } = this.opts;
    const members = client.watch().prefix(this.membersPrefix);
    const leader = client.watch().key(this.leaderKey);
    // Load first, then watch from the next revision: nothing between the two is missed.
    const listing = await client.getAll().prefix(this.membersPrefix).exec();
    for (const kv of listing.kvs) this.noteMember(kv.key.toString().slice(this.membersPrefix.length), kv.value.toString());
    const rev = String(BigInt(listing.header.revision) + 1n);
    const mw = await members.startRevision(rev).create();
    mw.on('put', (kv) => {
      this.noteMember(kv.key.toString().slice(this.membersPrefix.length), kv.value.toString());
      this.membershipChanged();
    });
    mw.on('delete', (kv) => {
      const id = kv.key.toString().slice(this.membersPrefix.length);
      this.live.delete(id);
      // Our own key gone while we run: the lease was lost; register() brings it back.
      if (id === this.memberId && !this.stopped) this.enqueue(() => this.recover('our member key was deleted'));
      this.membershipChanged();
    });
    const lw = await leader.startRevision(rev).create();
    lw.on('put', (kv) => {
      this.leaderId = kv.value.toString();
      this.membershipChanged();
    });
    lw.on('delete', () => {
      this.leaderId = undefined;
      if (this.fenceRevision !== undefined) this.setLeader(undefined);
      this.membershipChanged();
      if (!this.stopped) this.enqueue(() => this.campaign());
    });
    this.watchers.push(mw, lw);
    this.membershipChanged();
    this.joinedResolve();
    await this.enqueue(() => this.campaign());
  }

  /** Leaves: gives up the leadership at once (others take over without waiting for the TTL). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.work.catch(() => undefined);
    for (const w of this.watchers.splice(0)) await w.cancel().catch(() => undefined);
    const fence = this.fenceRevision;
    this.setLeader(undefined);
    try {
      if (fence !== undefined) {
        await this.opts.client.if(this.leaderKey, 'Create', '==', fence).then(this.opts.client.delete().key(this.leaderKey)).commit();
      }
      await this.lease?.revoke();
    } catch (e) {
      this.opts.log.warn({ err: e }, 'cluster: could not resign cleanly; the lease will expire');
    }
  }

  isLeader(): boolean {
    return this.fenceRevision !== undefined;
  }

  onLeadership(fn: (leader: boolean) => void): () => void {
    this.leadershipFns.add(fn);
    fn(this.isLeader());
    return () => this.leadershipFns.delete(fn);
  }

  owns(entity: string): boolean {
    return this.ownerOf(entity) === this.memberId;
  }

  ownerOf(entity: string): string | undefined {
    return rendezvousOwner(entity, this.liveIds());
  }

  onMembership(fn: (members: Member[]) => void): () => void {
    this.membershipFns.add(fn);
    return () => this.membershipFns.delete(fn);
  }

  members(): Member[] {
    const out = new Map<string, Member>();
    for (const [id, r] of this.live) out.set(id, { id, address: r.address, since: r.since, leader: id === this.leaderId });
    if (!this.stopped && !out.has(this.memberId)) {
      out.set(this.memberId, { id: this.memberId, address: this.address(), since: this.since, leader: this.isLeader() });
    }
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The member's current lease (what this instance's ephemeral data is written under). */
  leaseId(): string | undefined {
    return this.leaseIdText;
  }

  /**
   * Called after the member registered again under a new lease (the old one was lost, and with it
   * every key written under it): what this instance wrote under its lease must be written again.
   */
  onNewLease(fn: () => void): () => void {
    this.leaseFns.add(fn);
    return () => this.leaseFns.delete(fn);
  }

  fence(): Fence | undefined {
    return this.fenceRevision === undefined ? undefined : { key: this.leaderKey, createRevision: this.fenceRevision };
  }

  // ---------------------------------------------------------------------------------------------

  private address(): string {
    return typeof this.opts.address === 'function' ? this.opts.address() : this.opts.address;
  }

  private liveIds(): string[] {
    const ids = new Set(this.live.keys());
    // We count ourselves as soon as we run, before our own watch event arrives.
    if (!this.stopped) ids.add(this.memberId);
    return [...ids];
  }

  private noteMember(id: string, value: string): void {
    try {
      const r = JSON.parse(value) as MemberRecord;
      this.live.set(id, { address: String(r.address ?? ''), since: String(r.since ?? '') });
    } catch {
      this.live.set(id, { address: '', since: '' });
    }
  }

  private membershipChanged(): void {
    const members = this.members();
    for (const fn of this.membershipFns) {
      try {
        fn(members);
      } catch (e) {
        this.opts.log.error({ err: e }, 'cluster: membership callback failed');
      }
    }
  }

  private setLeader(fence: string | undefined): void {
    const was = this.isLeader();
    this.fenceRevision = fence;
    if (fence !== undefined) this.leaderId = this.memberId;
    if (was === this.isLeader()) return;
    this.opts.log.info({ member: this.memberId }, this.isLeader() ? 'cluster: this member is the leader' : 'cluster: this member is no longer the leader');
    for (const fn of this.leadershipFns) {
      try {
        fn(this.isLeader());
      } catch (e) {
        this.opts.log.error({ err: e }, 'cluster: leadership callback failed');
      }
    }
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    const run = this.work.then(fn, fn).catch((e: unknown) => {
      this.opts.log.error({ err: e }, 'cluster: membership work failed; retrying');
      if (!this.stopped) setTimeout(() => void this.enqueue(() => this.recover('a campaign failed')), 500).unref();
    });
    this.work = run;
    return run;
  }

  /** A lease and our member key under it. */
  private async register(): Promise<void> {
    const lease = this.opts.client.lease(this.opts.ttlSeconds);
    lease.on('lost', (err) => {
      if (this.stopped || this.lease !== lease) return;
      this.opts.log.warn({ err }, 'cluster: lease lost');
      this.setLeader(undefined);
      void this.enqueue(() => this.recover('the lease was lost'));
    });
    this.leaseIdText = await lease.grant();
    this.lease = lease;
    await lease.put(`${this.membersPrefix}${this.memberId}`).value(JSON.stringify({ address: this.address(), since: this.since }));
  }

  private async recover(why: string): Promise<void> {
    if (this.stopped) return;
    this.opts.log.info({ member: this.memberId }, `cluster: registering again (${why})`);
    this.setLeader(undefined);
    const old = this.lease;
    this.lease = undefined;
    old?.release();
    await this.register();
    for (const fn of this.leaseFns) {
      try {
        fn();
      } catch (e) {
        this.opts.log.error({ err: e }, 'cluster: new-lease callback failed');
      }
    }
    await this.campaign();
  }

  /** One attempt: create the leader key if nobody holds it. */
  private async campaign(): Promise<void> {
    if (this.stopped || this.isLeader() || !this.lease) return;
    const { client } = this.opts;
    const leaseId = await this.lease.grant();
    const res = await client
      .if(this.leaderKey, 'Create', '==', 0)
      .then(client.put(this.leaderKey).value(this.memberId).lease(leaseId))
      .else(client.get(this.leaderKey))
      .commit();
    if (res.succeeded) {
      this.setLeader(String(res.header.revision));
      this.membershipChanged();
      return;
    }
    const current = res.responses[0]?.response_range?.kvs?.[0];
    this.leaderId = current?.value.toString();
    // The holder's key may have gone between our compare and our watch: look again.
    if (!current) await this.campaign();
  }
}
