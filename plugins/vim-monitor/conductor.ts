/**
 * The conductor: the one place that writes a VIM's state. A monitor action never touches the
 * datastore; it reports through update-vim with its action id, and the report is stored only if
 * that id is the VIM's wanted action (compare-and-set: the check and the write are one
 * transaction on the state entry, which the owner's "new action" writes too, so of two racing
 * commits one wins and the other retries and sees the truth; no lock anywhere). Any other caller
 * is answered bad_action and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { YangError } from '../../src/errors.ts';
import { retryOnConflict, type Transaction } from '../../src/datastore/datastore.ts';
import type { PluginContext } from '../../src/plugin/api.ts';
import type { Event } from '../../src/bindings/sextant-nfv-vim.ts';
import { MAX_EVENTS, STATUS_CHANGED, statePath, vimPath, type VimState, type VimStatus } from './model.ts';

export type Answer = VimStatus | 'bad_action';

const now = () => new Date().toISOString();

/** Appends a status change to the VIM's bounded event log (in the same transaction). */
function logEvent(tx: Transaction, vimId: string, state: VimState | undefined, event: Omit<Event, 'seq' | 'time'>): void {
  const events = state?.event ?? [];
  const last = events.reduce((max, e) => (BigInt(e.seq) > max ? BigInt(e.seq) : max), 0n);
  const sorted = [...events].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  for (const old of sorted.slice(0, Math.max(0, sorted.length + 1 - MAX_EVENTS))) tx.remove(statePath(vimId).event(old.seq));
  tx.put(statePath(vimId).event(`${last + 1n}`), { seq: `${last + 1n}`, time: now(), ...event });
}

export async function updateVim(ctx: PluginContext, vimId: string, status: 'REACHABLE' | 'UNREACHABLE', actionId: string, error?: string): Promise<Answer> {
  if (!ctx.data.read('config', vimPath(vimId))) {
    throw new YangError({ tag: 'data-missing', message: `no VIM ${vimId} is registered`, path: vimPath(vimId).text });
  }
  return retryOnConflict(async () => {
    const tx = ctx.data.transaction('operational');
    const state = tx.read(statePath(vimId));
    if (!state || state['action-id'] !== actionId) {
      tx.cancel();
      return 'bad_action';
    }
    const at = now();
    const changed = state.status !== status;
    tx.merge(statePath(vimId), { 'vim-id': vimId, status, 'last-report': at, ...(changed ? { since: at } : {}) });
    if (status === 'UNREACHABLE' && error) tx.merge(statePath(vimId), { 'last-error': error });
    else if (state['last-error'] !== undefined && status === 'REACHABLE') tx.remove(statePath(vimId).lastError());
    if (changed) logEvent(tx, vimId, state, { status, 'action-id': actionId, ...(error ? { detail: error } : {}) });
    await tx.commit();
    if (changed) {
      ctx.notifications.emit(STATUS_CHANGED, { 'vim-id': vimId, status, ...(state.status ? { 'previous-status': state.status } : {}), 'action-id': actionId });
    }
    return status;
  });
}

/**
 * The owner's side: a new wanted action for the VIM (registration, a changed auth-url, a restart,
 * a take-over). From then on only the returned id's reports are accepted. `fresh`: the VIM is to
 * be treated as new (PENDING), as after a changed auth-url; otherwise the last status stays until
 * the new action reports.
 */
export async function newAction(ctx: PluginContext, vimId: string, fresh: boolean, why: string): Promise<string> {
  const actionId = randomUUID();
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('operational');
    const state = tx.read(statePath(vimId));
    const at = now();
    const pending = fresh || !state?.status;
    tx.merge(statePath(vimId), {
      'vim-id': vimId,
      'action-id': actionId,
      owner: ctx.cluster.memberId,
      ...(pending ? { status: 'PENDING' as const, since: at } : {}),
    });
    if (pending && state?.['last-error'] !== undefined) tx.remove(statePath(vimId).lastError());
    logEvent(tx, vimId, state, { status: pending ? 'PENDING' : state!.status!, 'action-id': actionId, detail: why });
    await tx.commit();
  });
  return actionId;
}

/** No action is wanted (monitoring disabled): every report from now on is bad_action. */
export async function noAction(ctx: PluginContext, vimId: string): Promise<void> {
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('operational');
    const state = tx.read(statePath(vimId));
    if (!state?.['action-id']) return tx.cancel();
    tx.remove(statePath(vimId).actionId());
    logEvent(tx, vimId, state, { ...(state.status ? { status: state.status } : {}), detail: 'monitoring disabled' });
    await tx.commit();
  });
}

/** The VIM was deregistered: its state goes, and with it any wanted action. */
export async function forget(ctx: PluginContext, vimId: string): Promise<void> {
  await retryOnConflict(async () => {
    const tx = ctx.data.transaction('operational');
    if (!tx.read(statePath(vimId))) return tx.cancel();
    tx.remove(statePath(vimId));
    await tx.commit();
  });
}
