/**
 * Stand-ins for VIMs the monitor probes: real HTTP servers on loopback that answer what Keystone
 * answers at its version URL, counting every probe by path and by the probing member (the
 * monitor's User-Agent names it). `stop()` refuses connections from then on (keep-alive sockets
 * included), `start()` listens on the same port again, `hang()` keeps accepting but never
 * answers. Also used by the VIM benchmark.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const VERSION_DOC = JSON.stringify({ version: { id: 'v3.14', status: 'stable', links: [{ rel: 'self', href: '/identity/v3/' }], 'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }] } });

export interface VimServer {
  port: number;
  /** The URL of a path on it (each VIM its own path, so probes are counted per VIM). */
  url(path: string): string;
  /** Probes answered or held, per path. */
  probes(path: string): number;
  /** Probes per path from one member (`sextant-vim-monitor/<member>`). */
  probesBy(member: string, path: string): number;
  /** When each probe of a path arrived (ms since the epoch), in order. */
  times(path: string): number[];
  /** Members that probed a path. */
  probers(path: string): Set<string>;
  total(): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** From now on, accept and never answer. */
  hang(): void;
  /** Answer again. */
  answer(): void;
}

export async function startVimServer(t: { teardown(fn: () => unknown): void } | undefined, port = 0): Promise<VimServer> {
  const counts = new Map<string, number>();
  const arrivals = new Map<string, number[]>();
  const byMember = new Map<string, Map<string, number>>();
  const sockets = new Set<Socket>();
  let hanging = false;
  let total = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    counts.set(path, (counts.get(path) ?? 0) + 1);
    let at = arrivals.get(path);
    if (!at) arrivals.set(path, (at = []));
    if (at.length < 10_000) at.push(Date.now());
    total++;
    const m = /^sextant-vim-monitor\/(.+)$/.exec(req.headers['user-agent'] ?? '');
    if (m) {
      let per = byMember.get(m[1]);
      if (!per) byMember.set(m[1], (per = new Map()));
      per.set(path, (per.get(path) ?? 0) + 1);
    }
    if (hanging) return; // accepted, never answered
    // Keystone answers its version document to anyone; the monitor only needs an answer.
    res.writeHead(path.endsWith('/secure') ? 401 : 200, { 'content-type': 'application/json' });
    res.end(VERSION_DOC);
  };
  let server: Server;
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer(handler);
      server.keepAliveTimeout = 60_000;
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
  const actual = await listen(port);
  let up = true;
  const stop = async () => {
    if (!up) return;
    up = false;
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.teardown(stop);
  return {
    port: actual,
    url: (path) => `http://127.0.0.1:${actual}${path}`,
    probes: (path) => counts.get(path) ?? 0,
    times: (path) => [...(arrivals.get(path) ?? [])],
    probesBy: (member, path) => byMember.get(member)?.get(path) ?? 0,
    probers: (path) => new Set([...byMember].filter(([, per]) => per.has(path)).map(([m]) => m)),
    total: () => total,
    stop,
    async start() {
      if (up) return;
      await listen(actual);
      up = true;
    },
    hang: () => void (hanging = true),
    answer: () => void (hanging = false),
  };
}
