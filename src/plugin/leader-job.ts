/**
 * A periodic job that only the elected leader runs (a synchronisation, an evaluation): started
 * when this member becomes leader, stopped when it stops leading, one run at a time (a slow run
 * makes the next tick skip, never pile up). With N instances the job runs once per interval, not
 * N times. Writes the job makes should be `leaderOnly` transactions, so a member that lost the
 * lead mid-run cannot commit them.
 */
import type { PluginContext } from './api.ts';

export class LeaderJob {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private offLeadership?: () => void;

  constructor(
    private readonly ctx: PluginContext,
    private readonly intervalMs: number,
    private readonly run: () => Promise<unknown>,
    /** What the job is, for the log line of a failed run. */
    private readonly what: string,
  ) {}

  start(): void {
    this.offLeadership = this.ctx.cluster.onLeadership((leader) => {
      if (leader && !this.timer) this.timer = this.ctx.timers.setInterval(() => this.tick(), this.intervalMs);
      else if (!leader && this.timer) {
        this.ctx.timers.clear(this.timer);
        this.timer = undefined;
      }
    });
  }

  /** Stops ticking and waits for a run in progress. */
  async stop(): Promise<void> {
    this.offLeadership?.();
    if (this.timer) this.ctx.timers.clear(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One tick: a run if this member leads and none is in progress (resolves when it ends). */
  tick(): Promise<void> | undefined {
    if (this.running || !this.ctx.cluster.isLeader()) return;
    this.running = this.run()
      .then(() => undefined)
      .catch((err: unknown) => this.ctx.log.warn({ err }, `${this.ctx.name}: ${this.what} failed`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
