/**
 * One VIM's monitor action: a timer and a probe, no thread, no loop. Every interval it runs a
 * round (up to `count` probes, one after the other, until one reaches the VIM) and reports
 * through the conductor only when the status changed, or when `checkMs` passed since its last
 * report (the spec's "am I still the wanted action?" question). The answer bad_action (or the
 * VIM being gone) ends it: it cannot be stopped from outside when it runs elsewhere, so it must
 * learn it by itself. Run here, the monitor also stops it at once (stop()).
 */
import { probe, type ProbeResult } from './probe.ts';
import type { MonitorTarget, VimStatus } from './model.ts';
import type { Answer } from './conductor.ts';

export interface ActionHooks {
  report(status: 'REACHABLE' | 'UNREACHABLE', error: string | undefined): Promise<Answer>;
  /** Called once when the action ends by itself (bad_action, the VIM gone). */
  ended(why: string): void;
  log(err: unknown, message: string): void;
}

export class MonitorAction {
  private timer?: NodeJS.Timeout;
  private readonly abort = new AbortController();
  private stopped = false;
  private reported?: VimStatus;
  private reportedAt = 0;
  /** Rounds run, for tests and the bench (how often the VIM was probed). */
  rounds = 0;

  constructor(
    readonly vimId: string,
    readonly actionId: string,
    readonly target: MonitorTarget,
    private readonly checkMs: number,
    private readonly agent: string,
    private readonly hooks: ActionHooks,
  ) {}

  /**
   * The first round within a second (or the interval, if shorter), at a random point: a thousand
   * VIMs registered or taken over together do not all probe and report in the same instant.
   */
  start(): void {
    this.schedule(Math.floor(Math.random() * Math.min(1000, this.target.intervalMs)));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  get running(): boolean {
    return !this.stopped;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.round(), delay);
    this.timer.unref();
  }

  private async round(): Promise<void> {
    const started = Date.now();
    this.rounds++;
    let result: ProbeResult = { ok: false, error: 'no probe' };
    for (let i = 0; i < this.target.count && !this.stopped; i++) {
      result = await probe({ url: this.target.url, probe: this.target.probe, timeoutMs: this.target.timeoutMs, certVerify: this.target.certVerify, agent: this.agent }, this.abort.signal);
      if (result.ok) break;
    }
    if (this.stopped) return;
    const status = result.ok ? 'REACHABLE' : 'UNREACHABLE';
    if (status !== this.reported || Date.now() - this.reportedAt >= this.checkMs) {
      let answer: Answer;
      try {
        answer = await this.hooks.report(status, result.ok ? undefined : result.error);
      } catch (e) {
        if ((e as { tag?: string }).tag === 'data-missing') return this.end('the VIM is no longer registered');
        // The conductor could not be reached (the datastore is down): report again next round.
        this.hooks.log(e, `vim ${this.vimId}: report failed; trying again next round`);
        this.schedule(Math.max(0, started + this.target.intervalMs - Date.now()));
        return;
      }
      if (answer === 'bad_action') return this.end('bad_action: another action is wanted for this VIM');
      this.reported = status;
      this.reportedAt = Date.now();
    }
    this.schedule(Math.max(0, started + this.target.intervalMs - Date.now()));
  }

  private end(why: string): void {
    if (this.stopped) return;
    this.stop();
    this.hooks.ended(why);
  }
}
