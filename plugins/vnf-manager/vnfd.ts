// Placeholder replaced by the VNFD reader (branch vnfd): the types the rest of the plugin uses.
export interface VnfdVdu { id: string; name: string; min: number; max: number; initial: number; cps: string[]; virtualLinks: string[]; image?: string; flavor?: string }
export interface VnfdAspect { id: string; name: string; maxScaleLevel: number; deltas: Record<string, number[]> }
export interface Vnfd {
  form: 'sol001' | 'tacker-legacy';
  vnfdId: string; provider: string; productName: string; softwareVersion: string; vnfdVersion: string;
  flavourId: string;
  vdus: VnfdVdu[];
  virtualLinks: { id: string; network: string }[];
  aspects: VnfdAspect[];
}
export class VnfdError extends Error {}
export function parseVnfd(_text: string): Vnfd { throw new VnfdError('not yet'); }
export function parseVnfdPackage(_pkg: { entry: string; files: Map<string, string> }): Vnfd { throw new VnfdError('not yet'); }
export function instancesAt(vnfd: Vnfd, vduId: string, levels: Record<string, number>): number {
  const vdu = vnfd.vdus.find((v) => v.id === vduId)!;
  let n = vdu.initial;
  for (const a of vnfd.aspects) for (let i = 0; i < (levels[a.id] ?? 0); i++) n += a.deltas[vduId]?.[i] ?? 0;
  return n;
}
