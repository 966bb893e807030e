/**
 * The probes a monitor action runs: non-blocking, bounded by a timeout, no thread or process.
 * `http`: a GET of the auth-url; any HTTP answer (a 401 included) means the VIM is there.
 * `tcp`: a connect to the auth-url's host and port. Connections are kept alive per origin, so
 * thousands of VIMs behind a few endpoints cost a handful of sockets.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

export interface ProbeTarget {
  url: URL;
  probe: 'http' | 'tcp';
  timeoutMs: number;
  certVerify: boolean;
  /** Sent as User-Agent (which member probes: operators and tests can tell). */
  agent: string;
}

export type ProbeResult = { ok: true } | { ok: false; error: string };

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
const httpsAgents = new Map<boolean, HttpsAgent>();
const httpsAgent = (verify: boolean) => {
  let a = httpsAgents.get(verify);
  if (!a) httpsAgents.set(verify, (a = new HttpsAgent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: verify })));
  return a;
};

export function defaultPort(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** One probe; resolves (never rejects) within about `timeoutMs`, or at once when `signal` aborts. */
export function probe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  return target.probe === 'tcp' ? tcpProbe(target, signal) : httpProbe(target, signal);
}

/**
 * One probe's outcome, settled once: by the probe itself, by its timeout, or by `signal` (the
 * action stopped). `cleanup` frees the socket or request whichever way it ends.
 */
function settleOnce(target: ProbeTarget, signal: AbortSignal, timeoutMessage: string, cleanup: () => void) {
  let resolve!: (r: ProbeResult) => void;
  const result = new Promise<ProbeResult>((r) => (resolve = r));
  let done = false;
  const finish = (r: ProbeResult) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    cleanup();
    resolve(r);
  };
  const timer = setTimeout(() => finish({ ok: false, error: timeoutMessage }), target.timeoutMs);
  const onAbort = () => finish({ ok: false, error: 'stopped' });
  signal.addEventListener('abort', onAbort);
  const failed = (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ? `${e.code}: ${e.message}` : e.message });
  return { result, finish, failed };
}

function httpProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  const https = target.url.protocol === 'https:';
  const req = (https ? httpsRequest : httpRequest)(target.url, {
    method: 'GET',
    agent: https ? httpsAgent(target.certVerify) : httpAgent,
    headers: { 'user-agent': target.agent, accept: 'application/json' },
  });
  // A request that got its answer keeps its (kept-alive) socket; any other is destroyed.
  let answered = false;
  const { result, finish, failed } = settleOnce(target, signal, `no answer within ${target.timeoutMs} ms`, () => {
    if (!answered) req.destroy();
  });
  req.on('response', (res) => {
    // Any answer is the VIM being there; the body is not needed (drained so the socket is reused).
    answered = true;
    res.resume();
    finish({ ok: true });
  });
  req.on('error', failed);
  req.end();
  return result;
}

function tcpProbe(target: ProbeTarget, signal: AbortSignal): Promise<ProbeResult> {
  const socket = connect({ host: target.url.hostname.replace(/^\[|\]$/g, ''), port: defaultPort(target.url) });
  const { result, finish, failed } = settleOnce(target, signal, `no connection within ${target.timeoutMs} ms`, () => socket.destroy());
  socket.once('connect', () => finish({ ok: true }));
  socket.once('error', failed);
  return result;
}
