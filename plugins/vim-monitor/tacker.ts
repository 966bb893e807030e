/** Tacker's /v1.0/vims API over the vim entries (being written). */
import type { PluginContext } from '../../src/plugin/api.ts';
import type { PluginHttp } from '../../src/plugin/http.ts';

export function registerTackerApi(_ctx: PluginContext, _http: PluginHttp): void {}
