/**
 * Named HTTP listeners for plugins (`ctx.http('tacker')`): plugins that serve an API of their own
 * (Tacker's, Senlin's) get it from the platform, never a server of their own. A listener is
 * declared by the plugins that use it (`http: { tacker: { port: 9890, help } }`), its port is
 * the option `--<name>-port`, several plugins add routes to one listener, and each listener is
 * an HTTP edge made like RESTCONF's (same auth on every route, body limit, a span per request,
 * graceful stop). Listeners start after every plugin has added its routes; one nobody added a
 * route to is not started.
 */
import type { FastifyPluginAsync, FastifyRegisterOptions, RouteOptions } from 'fastify';
import type { HttpEdge } from '../northbound/http/edge.ts';

/** What the platform gives a plugin on one listener. */
export interface PluginHttp {
  /** Adds a route; the platform's auth hook runs before its handler. */
  route(route: RouteOptions): void;
  /**
   * Adds an encapsulated fastify plugin (routes under a prefix with the plugin's own error
   * handler, as an API with its own error dialect wants); the auth hook covers it too.
   */
  register(fn: FastifyPluginAsync, opts?: FastifyRegisterOptions<Record<never, never>>): void;
  /** The listener's base URL once it listens (after every plugin started). */
  url(): string;
}

export class HttpListeners {
  private readonly edges = new Map<string, { edge: HttpEdge; owners: Set<string> }>();

  constructor(private readonly make: (name: string, port: number) => HttpEdge) {}

  /** A plugin's handle on listener `name` (declared by it, with `port` from its option). */
  forPlugin(owner: string, name: string, port: number): PluginHttp {
    let entry = this.edges.get(name);
    if (!entry) {
      entry = { edge: this.make(name, port), owners: new Set() };
      this.edges.set(name, entry);
    }
    const { edge, owners } = entry;
    return {
      route(route) {
        owners.add(owner);
        edge.app.route(route);
      },
      register(fn, opts) {
        owners.add(owner);
        void edge.app.register(fn, opts ?? {});
      },
      url: () => edge.url,
    };
  }

  /** Starts every listener that has routes. */
  async listen(): Promise<void> {
    for (const { edge, owners } of this.edges.values()) if (owners.size) await edge.listen();
  }

  /** Listener name -> its edge, for the ready line and the route-enumerating auth test. */
  listening(): Map<string, HttpEdge> {
    return new Map([...this.edges].filter(([, e]) => e.owners.size).map(([n, e]) => [n, e.edge]));
  }

  async close(): Promise<void> {
    for (const { edge } of this.edges.values()) await edge.close();
    this.edges.clear();
  }
}
