// Placeholder: Tacker's vnfpkgm/vnflcm API is being written on branch vnfapi.
import type { PluginContext } from '../../src/plugin/api.ts';
import type { PluginHttp } from '../../src/plugin/http.ts';
export function registerVnfApi(_ctx: PluginContext, _http: PluginHttp): void {}
