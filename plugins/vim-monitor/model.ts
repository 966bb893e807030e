/**
 * The VIM monitor's data contract (module sextant-nfv-vim): paths, and what a VIM entry means
 * for its monitor action. One place for both, so the conductor, the actions and the Tacker API
 * read a VIM the same way.
 */
import { vimStates, vims, type Vim, type VimState, type VimStatus } from '../../src/bindings/sextant-nfv-vim.ts';

export { type Vim, type VimState, type VimStatus };
export const VIMS = vims();
export const VIM_STATES = vimStates();
export const vimPath = (id: string) => VIMS.vim(id);
export const statePath = (id: string) => VIM_STATES.vimState(id);
/** Every status a VIM can be in (a Record, so tsc complains when the YANG enumeration grows). */
export const VIM_STATUSES = Object.keys({ PENDING: true, REACHABLE: true, UNREACHABLE: true } satisfies Record<VimStatus, true>) as VimStatus[];
export const UPDATE_VIM = 'sextant-nfv-vim:update-vim';
export const STATUS_CHANGED = 'sextant-nfv-vim:vim-status-changed';
/** The error app-tag of a second default VIM (Tacker's VimDefaultDuplicateException). */
export const DEFAULT_VIM_EXISTS = 'default-vim-exists';
/** Status changes kept per VIM (the YANG list's max-elements). */
export const MAX_EVENTS = 32;

/** What one VIM's monitor action does: derived from the entry, compared to tell a restart is due. */
export interface MonitorTarget {
  url: URL;
  probe: 'http' | 'tcp';
  intervalMs: number;
  timeoutMs: number;
  count: number;
  certVerify: boolean;
}

export const seconds = (s: string | number | undefined, dflt: number): number => Math.round(Number(s ?? dflt) * 1000);

export function monitorEnabled(vim: Vim): boolean {
  return vim.monitor?.['monitor-enabled'] !== false;
}

/** The auth-url as a URL we can probe, or why not. */
export function parseAuthUrl(text: string | undefined): URL | string {
  if (!text) return 'auth-url is missing';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `auth-url "${text}" is not a URL`;
  }
  if (!['http:', 'https:', 'tcp:'].includes(url.protocol)) return `auth-url "${text}": the scheme must be http, https or tcp`;
  if (!url.hostname) return `auth-url "${text}" names no host`;
  if (url.protocol === 'tcp:' && !url.port) return `auth-url "${text}": a tcp URL needs a port`;
  return url;
}

export function targetOf(vim: Vim): MonitorTarget | undefined {
  const url = parseAuthUrl(vim['auth-url']);
  if (typeof url === 'string') return undefined;
  const m = vim.monitor ?? {};
  return {
    url,
    probe: m.probe ?? (url.protocol === 'tcp:' ? 'tcp' : 'http'),
    intervalMs: seconds(m.interval, 10),
    timeoutMs: seconds(m.timeout, 2),
    count: m.count ?? 1,
    certVerify: vim['auth-cred']?.['cert-verify'] !== false,
  };
}

export function sameTarget(a: MonitorTarget, b: MonitorTarget): boolean {
  return a.url.href === b.url.href && a.probe === b.probe && a.intervalMs === b.intervalMs && a.timeoutMs === b.timeoutMs && a.count === b.count && a.certVerify === b.certVerify;
}
