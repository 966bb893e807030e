/**
 * Which monitor actions run here. Every member sees every VIM (the config store is shared); the
 * owner of a VIM id (rendezvous over the live members, ctx.cluster.owns) gives it a new wanted
 * action id through the conductor and runs the action. A member that stops owning a VIM stops
 * its action; the new owner's new id makes any late report of the old one bad_action. Changes of
 * the entry (deregistration, monitoring disabled, a new auth-url or new parameters) reach the
 * owner's action through the datastore at once, not only at its next report.
 *
 * Local bookkeeping only (which action runs in this process, one placement per VIM at a time);
 * the shared state is written by the conductor's compare-and-set transactions.
 */
import type { PluginContext } from '../../src/plugin/api.ts';
import type { Change } from '../../src/datastore/datastore.ts';
import { ANY } from '../../src/yang/binding.ts';
import { MonitorAction } from './action.ts';
import { forget, newAction, noAction, updateVim } from './conductor.ts';
import { monitorEnabled, sameTarget, statePath, targetOf, VIM_STATES, VIMS, vimPath, type Vim, type VimState } from './model.ts';

export const ENTITY_KIND = 'vim';
/**
 * Placements (each a small commit) in flight at once: enough to fill the datastore's group
 * commits, few enough that registering or taking over thousands of VIMs does not build
 * thousands of transactions at the same time.
 */
const PLACEMENTS_AT_ONCE = 64;

export class VimMonitor {
  readonly actions = new Map<string, MonitorAction>();
  private readonly known = new Set<string>();
  private readonly chains = new Map<string, Promise<void>>();
  private joined = false;
  private stopped = false;
  private readonly offs: (() => void)[] = [];

  constructor(
    private readonly ctx: PluginContext,
    private readonly checkMs: number,
  ) {}

  start(): void {
    // What is registered now (the listener's replay of it arrives later, asynchronously).
    for (const v of this.ctx.data.read('config', VIMS.vim()) ?? []) this.known.add(v['vim-id']);
    this.ctx.cluster.entities.set(ENTITY_KIND, this.known);
    this.offs.push(
      this.ctx.data.subscribe('config', VIMS.vim(ANY), (changes: Change<Vim>[]) => {
        for (const c of changes) {
          const id = String(c.keys[0][0]);
          if (c.after) this.known.add(id);
          else this.known.delete(id);
          const fresh = !!c.before && !!c.after && c.before['auth-url'] !== c.after['auth-url'];
          if (this.joined) this.place(id, fresh ? 'auth-url changed' : c.before ? 'the VIM changed' : 'registered', fresh);
        }
        this.ctx.cluster.entities.set(ENTITY_KIND, this.known);
      }),
    );
    // Another action made the wanted one (an owner with a different view of the members):
    // ours stops now rather than at its next report.
    this.offs.push(
      this.ctx.data.subscribe('operational', VIM_STATES.vimState(ANY), (changes: Change<VimState>[]) => {
        for (const c of changes) {
          const id = String(c.keys[0][0]);
          const local = this.actions.get(id);
          if (local && c.after?.['action-id'] !== local.actionId && c.after !== undefined) {
            local.stop();
            this.actions.delete(id);
            if (this.ctx.cluster.owns(id)) this.later(id);
          }
        }
      }, { replay: false }),
    );
    this.offs.push(this.ctx.cluster.onMembership(() => this.placeAll('members changed')));
    // Ownership means something once this member knows who else is alive.
    void this.ctx.cluster.joined().then(() => {
      if (this.stopped) return;
      this.joined = true;
      this.placeAll('started');
    });
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
    for (const a of this.actions.values()) a.stop();
    this.actions.clear();
    this.ctx.cluster.entities.delete(ENTITY_KIND);
  }

  private placeAll(why: string): void {
    if (!this.joined) return;
    for (const id of this.known) this.place(id, why, false);
    for (const id of this.actions.keys()) if (!this.known.has(id)) this.place(id, why, false);
    // States of VIMs deregistered while their owner was gone: their new owner removes them.
    for (const s of this.ctx.data.read('operational', VIM_STATES.vimState()) ?? []) {
      if (!this.known.has(s['vim-id']) && !this.actions.has(s['vim-id'])) this.place(s['vim-id'], why, false);
    }
  }

  private later(id: string): void {
    const t = setTimeout(() => this.place(id, 'taking over again', false), 1000);
    t.unref();
  }

  /** Placements running now, and those waiting for a slot (ten thousand VIMs at start). */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= PLACEMENTS_AT_ONCE) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  /** One placement per VIM at a time, in the order asked. */
  private place(id: string, why: string, fresh: boolean): void {
    if (this.stopped) return;
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev
      .then(() => this.slot(() => this.placeNow(id, why, fresh)))
      .catch((err: unknown) => {
        this.ctx.log.error({ err, vim: id }, `vim-monitor: placing the monitor action of ${id} failed; trying again`);
        this.later(id);
      })
      .finally(() => {
        if (this.chains.get(id) === next) this.chains.delete(id);
      });
    this.chains.set(id, next);
  }

  private async placeNow(id: string, why: string, fresh: boolean): Promise<void> {
    if (this.stopped) return;
    const vim = this.ctx.data.read('config', vimPath(id));
    const local = this.actions.get(id);
    const owns = this.ctx.cluster.owns(id);
    const drop = () => {
      local?.stop();
      this.actions.delete(id);
    };
    if (!vim) {
      drop();
      if (owns) await forget(this.ctx, id);
      return;
    }
    if (!owns) return drop();
    if (!monitorEnabled(vim)) {
      drop();
      await noAction(this.ctx, id);
      return;
    }
    const target = targetOf(vim);
    if (!target) return drop(); // refused at commit; only data from an older model gets here
    const state = this.ctx.data.read('operational', statePath(id));
    if (!fresh && local?.running && sameTarget(local.target, target) && state?.['action-id'] === local.actionId) return;
    drop();
    const actionId = await newAction(this.ctx, id, fresh || (local !== undefined && local.target.url.href !== target.url.href), why);
    if (this.stopped || !this.ctx.cluster.owns(id)) return;
    const action: MonitorAction = new MonitorAction(id, actionId, target, this.checkMs, `sextant-vim-monitor/${this.ctx.cluster.memberId}`, {
      report: (status, error) => updateVim(this.ctx, id, status, actionId, error),
      ended: (reason) => {
        if (this.actions.get(id) === action) this.actions.delete(id);
        this.ctx.log.info({ vim: id, action: actionId }, `vim-monitor: the action of ${id} ended: ${reason}`);
        if (this.ctx.cluster.owns(id) && this.ctx.data.read('config', vimPath(id))) this.later(id);
      },
      log: (err, message) => this.ctx.log.warn({ err, vim: id }, message),
    });
    this.actions.set(id, action);
    action.start();
  }
}
