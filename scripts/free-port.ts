/**
 * Free loopback TCP ports for the processes the tests and benchmarks start (ovsdb-servers, sshd):
 * bind port 0, note the port, close. Racy by nature (another process may take it before the
 * caller binds), so callers that can tell retry. The default ports of Sextant and its peers are
 * never handed out: the machine may be shared and something may be listening there on purpose.
 */
import { createServer } from 'node:net';

export const RESERVED_PORTS: ReadonlySet<number> = new Set([22, 830, 2379, 2830, 6633, 6640, 6653, 8181]);

/** A free port that is neither reserved nor in `taken` (ports this process already handed out). */
export async function freePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    if (!RESERVED_PORTS.has(port) && !taken.has(port)) return port;
  }
}
