/**
 * Finds plugins under plugins/<name>/index.ts, checks what they declare against the schema,
 * registers their rpcs and listeners and starts them. A plugin that fails (bad declaration,
 * missing module, throwing start) is reported by name and taken out; the others go on.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin, PluginContext } from './api.ts';

export interface LoadedPlugin {
  name: string;
  plugin: Plugin;
  ctx: PluginContext;
  unsubscribe: (() => void)[];
}

export interface PluginFailure {
  name: string;
  error: string;
}

export interface PluginSet {
  loaded: LoadedPlugin[];
  failed: PluginFailure[];
  stop(): Promise<void>;
}

/** Imports every plugin folder (sorted by name) and returns the module objects. */
export async function discoverPlugins(dir: string): Promise<{ folder: string; plugin?: Plugin; error?: string }[]> {
  if (!existsSync(dir)) return [];
  const folders = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const out: { folder: string; plugin?: Plugin; error?: string }[] = [];
  for (const folder of folders) {
    const entry = join(resolve(dir), folder, 'index.ts');
    if (!existsSync(entry)) continue;
    try {
      const mod = (await import(pathToFileURL(entry).href)) as { default?: Plugin };
      if (!mod.default || typeof mod.default !== 'object' || typeof mod.default.name !== 'string') {
        out.push({ folder, error: 'index.ts does not default-export a plugin object with a name' });
      } else out.push({ folder, plugin: mod.default });
    } catch (e) {
      out.push({ folder, error: `cannot be imported: ${(e as Error).message}` });
    }
  }
  return out;
}

export async function startPlugins(
  candidates: { folder: string; plugin?: Plugin; error?: string }[],
  ctx: PluginContext,
  rpcs: { register(name: string, h: (input: Record<string, unknown>) => unknown, owner: string): void; unregisterOwner(owner: string): void },
): Promise<PluginSet> {
  const loaded: LoadedPlugin[] = [];
  const failed: PluginFailure[] = [];
  for (const c of candidates) {
    const name = c.plugin?.name ?? c.folder;
    if (!c.plugin) {
      failed.push({ name, error: c.error! });
      ctx.log.error({ plugin: name }, `plugin ${name} failed: ${c.error}`);
      continue;
    }
    const plugin = c.plugin;
    const log = ctx.log.child({ plugin: name });
    const pctx: PluginContext = { ...ctx, log };
    const lp: LoadedPlugin = { name, plugin, ctx: pctx, unsubscribe: [] };
    try {
      for (const m of plugin.yang ?? []) {
        if (!ctx.schema.modules.has(m)) throw new Error(`needs YANG module "${m}", which is not in yang/`);
      }
      for (const [rpc, fn] of Object.entries(plugin.rpcs ?? {})) rpcs.register(rpc, (input) => fn(input, pctx), name);
      for (const l of plugin.listeners ?? []) {
        lp.unsubscribe.push(
          ctx.data.subscribe(l.store, l.path, (changes) => l.handler(changes, pctx), {
            onError: (e) => log.error({ err: e }, `listener on ${l.store} ${l.path} failed`),
          }),
        );
      }
      await plugin.start?.(pctx);
      loaded.push(lp);
      log.info(`plugin ${name} started`);
    } catch (e) {
      rpcs.unregisterOwner(name);
      for (const u of lp.unsubscribe) u();
      const error = (e as Error).message;
      failed.push({ name, error });
      log.error({ err: e }, `plugin ${name} failed to start: ${error}`);
    }
  }
  return {
    loaded,
    failed,
    async stop() {
      for (const lp of [...loaded].reverse()) {
        for (const u of lp.unsubscribe) u();
        try {
          await lp.plugin.stop?.(lp.ctx);
        } catch (e) {
          ctx.log.error({ err: e, plugin: lp.name }, `plugin ${lp.name} failed to stop`);
        }
      }
    },
  };
}
