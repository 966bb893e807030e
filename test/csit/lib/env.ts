/**
 * Where the controller under test is, after OpenDaylight CSIT's Variables.robot:
 *
 *   ODL_SYSTEM_IP          host of a running controller; when unset each suite starts its own
 *                          controller in this process (memory datastore, any free port)
 *   RESTCONFPORT           its RESTCONF port (default 8181)
 *   ODL_RESTCONF_USER      user (default admin)
 *   ODL_RESTCONF_PASSWORD  password (default admin)
 *
 * Against an external controller the suites clean up what they write, but they share its
 * datastore: run them one at a time (`npx tap --jobs=1 test/csit/`), and the tests that need
 * controller flags (a small body limit, data-missing as 404) are skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Controller } from '../../../src/controller.ts';
import { Session, setDefaultSession, type Credentials } from './requests.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export interface OdlEnv {
  /** `http://host:port`, or undefined when no external controller is configured. */
  baseUrl?: string;
  credentials: Credentials;
}

/** Reads the CSIT variables from the environment. */
export function odlEnv(env: NodeJS.ProcessEnv = process.env): OdlEnv {
  const credentials = { user: env.ODL_RESTCONF_USER || 'admin', password: env.ODL_RESTCONF_PASSWORD ?? 'admin' };
  const ip = env.ODL_SYSTEM_IP?.trim();
  if (!ip) return { credentials };
  const host = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
  const port = env.RESTCONFPORT?.trim() || '8181';
  return { baseUrl: `http://${host}:${port}`, credentials };
}

export interface SuiteController {
  /** Base URL, e.g. `http://127.0.0.1:34567`. */
  url: string;
  credentials: Credentials;
  /** A session on url with the credentials (also made the default session). */
  session: Session;
  /** The in-process controller; undefined when testing an external one. */
  controller?: Controller;
  /** True when ODL_SYSTEM_IP points at an external controller. */
  external: boolean;
  /** False when extraFlags were asked for but could not be applied (external controller). */
  flagsApplied: boolean;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * The controller a suite talks to: the external one named by ODL_SYSTEM_IP, or a fresh
 * in-process one (stopped at the end of `t`) started with the test model and `extraFlags`.
 */
export async function startSuiteController(t: Teardown, extraFlags: string[] = []): Promise<SuiteController> {
  const env = odlEnv();
  if (env.baseUrl) {
    const session = new Session(env.baseUrl, env.credentials);
    setDefaultSession(session);
    return { url: env.baseUrl, credentials: env.credentials, session, external: true, flagsApplied: extraFlags.length === 0 };
  }
  const { loadConfig } = await import('../../../src/config.ts');
  const { startController } = await import('../../../src/controller.ts');
  const { default: pino } = await import('pino');
  const clusterSize = Number(process.env.SEXTANT_CSIT_CLUSTER ?? 0);
  if (clusterSize >= 1) {
    // The same suite against a cluster: N in-process instances on a test etcd, calls spread.
    const { startEtcd, ETCD_TEST_SETTINGS } = await import('../../helpers/etcd.ts');
    const etcd = await startEtcd(t, { members: 1 });
    const cs: Controller[] = [];
    for (let i = 0; i < clusterSize; i++) {
      const config = loadConfig(
        ['--restconf-port=0', '--ovsdb-port=0', '--openflow-port=0', '--netconf-port=0', '--log-level=silent', `--yang-dir=${REPO_ROOT}/yang,${REPO_ROOT}/test/fixtures/yang`, `--datastore=etcd://${etcd.endpoints[0].replace('http://', '')}`, '--cluster-name=csit', `--member-id=csit-${i + 1}`, `--etcd-max-txn-ops=${ETCD_TEST_SETTINGS.maxTxnOps}`, `--etcd-max-request-bytes=${ETCD_TEST_SETTINGS.maxRequestBytes}`, ...extraFlags],
        { SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' },
        { deferUnknown: true },
      );
      const c = await startController(config, pino({ level: 'silent' }));
      t.teardown(() => c.stop());
      cs.push(c);
    }
    const url = cs.map((c) => c.restconf.url).join(',');
    const credentials = { user: 'admin', password: 'admin' };
    const session = new Session(url, credentials);
    setDefaultSession(session);
    return { url: cs[0].restconf.url, credentials, session, controller: cs[0], external: false, flagsApplied: true };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'sextant-csit-'));
  let c: Controller;
  try {
    const config = loadConfig(
      [
        '--restconf-port=0',
        '--ovsdb-port=0', '--openflow-port=0',
        '--netconf-port=0',
        '--datastore=memory',
        '--log-level=silent',
        `--data-dir=${tmp}`,
        `--yang-dir=${REPO_ROOT}/yang,${REPO_ROOT}/test/fixtures/yang`,
        ...extraFlags,
      ],
      { SEXTANT_TACKER_PORT: '0', SEXTANT_CLUSTERING_PORT: '0', SEXTANT_NEUTRON_PORT: '0' },
      { deferUnknown: true },
    );
    c = await startController(config, pino({ level: 'silent' }));
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  t.teardown(async () => {
    try {
      await c.stop();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
  const url = c.restconf!.url;
  const credentials = { user: c.config.username, password: c.config.password };
  const session = new Session(url, credentials);
  setDefaultSession(session);
  return { url, credentials, session, controller: c, external: false, flagsApplied: true };
}
