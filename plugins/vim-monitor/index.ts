/**
 * vim-monitor: VIM registration and reachability after the Tacker spec "Scalable VIM Monitor
 * using Mistral": one long-lived monitor action per VIM (action.ts), run by the VIM's owner in a
 * cluster (monitor.ts), reporting through the conductor rpc update-vim with its action id
 * (conductor.ts), and Tacker's /v1.0/vims API (tacker.ts). See README.md.
 */
import { join } from 'node:path';
import type { Change } from '../../src/datastore/datastore.ts';
import type { PhaseView, PhaseWriter } from '../../src/datastore/phases.ts';
import { YangError } from '../../src/errors.ts';
import { definePlugin, phase, type PluginContext } from '../../src/plugin/api.ts';
import { ANY } from '../../src/yang/binding.ts';
import { updateVim } from './conductor.ts';
import { DEFAULT_VIM_EXISTS, parseAuthUrl, seconds, VIM_STATES, VIM_STATUSES, VIMS, vimPath, type Vim } from './model.ts';
import { VimMonitor } from './monitor.ts';
import { SecretBox, type Secrets } from './secrets.ts';
import { registerTackerApi } from './tacker.ts';

export interface VimMonitorState {
  monitor: VimMonitor;
  secrets: SecretBox;
}

/**
 * Refuses what the YANG types cannot say: a usable auth-url, a timeout shorter than the interval,
 * and a second default VIM.
 */
function validateVims(changes: Change<Vim>[], view: PhaseView): void {
  const madeDefault = new Set(changes.filter((c) => c.after?.['is-default'] === true && c.before?.['is-default'] !== true).map((c) => c.after!['vim-id']));
  if (madeDefault.size) {
    const defaults = (view.read(VIMS.vim()) ?? []).filter((v) => v['is-default'] === true);
    if (defaults.length > 1) {
      const existing = defaults.find((v) => !madeDefault.has(v['vim-id'])) ?? defaults[0];
      const added = defaults.find((v) => v !== existing)!;
      throw new YangError({ tag: 'invalid-value', appTag: DEFAULT_VIM_EXISTS, message: `Default VIM already exists ${existing['vim-id']}: only one VIM can be the default`, path: vimPath(added['vim-id']).isDefault().text });
    }
  }
  for (const c of changes) {
    const vim = c.after;
    if (!vim) continue;
    const id = vim['vim-id'];
    const url = parseAuthUrl(vim['auth-url']);
    if (typeof url === 'string') throw new YangError({ tag: 'invalid-value', appTag: 'bad-auth-url', message: `VIM ${id}: ${url}`, path: vimPath(id).authUrl().text });
    const m = vim.monitor ?? {};
    if (m.probe === 'http' && url.protocol === 'tcp:') throw new YangError({ tag: 'invalid-value', message: `VIM ${id}: an http probe needs an http or https auth-url`, path: vimPath(id).monitor().probe().text });
    const interval = seconds(m.interval, 10);
    const timeout = seconds(m.timeout, 2);
    if (timeout >= interval) {
      throw new YangError({ tag: 'invalid-value', appTag: 'timeout-not-below-interval', message: `VIM ${id}: the probe timeout (${timeout / 1000} s) must be shorter than the interval (${interval / 1000} s)`, path: vimPath(id).monitor().timeout().text });
    }
  }
}

/** Secrets are write-only: sealed into encrypted-secret in the same commit, the clear text never stored. */
function sealSecrets(box: SecretBox) {
  return (changes: Change<Vim>[], tx: PhaseWriter): void => {
    for (const c of changes) {
      const cred = c.after?.['auth-cred'];
      if (!cred || (cred.password === undefined && cred['bearer-token'] === undefined)) continue;
      const id = c.after!['vim-id'];
      const kept: Secrets = box.open(cred['encrypted-secret'] ?? c.before?.['auth-cred']?.['encrypted-secret']) ?? {};
      if (cred.password !== undefined) kept.password = cred.password;
      if (cred['bearer-token'] !== undefined) kept['bearer-token'] = cred['bearer-token'];
      if (cred.password !== undefined) tx.remove(vimPath(id).authCred().password());
      if (cred['bearer-token'] !== undefined) tx.remove(vimPath(id).authCred().bearerToken());
      tx.merge(vimPath(id).authCred(), { 'encrypted-secret': box.seal(kept) });
    }
  };
}

export default definePlugin({
  name: 'vim-monitor',
  console: join(import.meta.dirname, 'console'),
  yang: ['sextant-nfv-vim'],
  provides: ['sextant-nfv-vim'],
  options: {
    'check-interval': { kind: 'int', default: 60, help: 'seconds: an action reports at least this often, to learn whether it is still the wanted one' },
    'secret-key': { kind: 'string', default: '', help: 'passphrase the VIM secrets are encrypted under (the same on every cluster member)' },
  },
  http: { tacker: { port: 9890, help: "Tacker's API (/v1.0/vims)" } },
  rpcs: {
    'sextant-nfv-vim:update-vim': async (input, ctx) => ({
      status: await updateVim(ctx, String(input['vim-id']), input.status as 'REACHABLE' | 'UNREACHABLE', String(input['action-id']), input.error as string | undefined),
    }),
  },
  phases: [
    phase<Vim>('config', VIMS.vim(ANY), { validate: (changes, view) => validateVims(changes, view) }),
    phase<Vim, VimMonitorState>('config', VIMS.vim(ANY), { prepare: (changes, tx, _ctx, state) => sealSecrets(state.secrets)(changes, tx) }),
  ],
  start(ctx): VimMonitorState {
    if (ctx.options['check-interval'] < 1) throw new Error('--vim-monitor-check-interval must be at least 1 (seconds)');
    if (!ctx.options['secret-key']) ctx.log.warn('vim-monitor: no --vim-monitor-secret-key given; VIM secrets are encrypted under a built-in key, which only obscures them');
    const secrets = new SecretBox(ctx.options['secret-key']);
    ctx.metrics.countEntries({
      name: 'sextant_vims',
      help: 'VIMs per monitored status (PENDING, REACHABLE, UNREACHABLE), from the operational vim-states',
      store: 'operational',
      path: VIM_STATES.vimState(ANY),
      labelNames: ['status'],
      labels: (v) => (v.status ? { status: v.status } : undefined),
      always: VIM_STATUSES.map((status) => ({ status })),
    });
    const monitor = new VimMonitor(ctx, ctx.options['check-interval'] * 1000);
    monitor.start();
    registerTackerApi(ctx, ctx.http('tacker'));
    return { monitor, secrets };
  },
  stop(_ctx, state) {
    state.monitor.stop();
  },
});
