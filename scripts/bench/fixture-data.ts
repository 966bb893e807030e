/** Data for the datastore benchmarks, on the test fixture model (test/fixtures/yang). */
import { join } from 'node:path';

export const FIXTURE = join(import.meta.dirname, '../../test/fixtures/yang');

const name = (i: number) => `host-${String(i).padStart(7, '0')}`;

/** One registry host; every host but the first names the one before it as its backup (a leafref). */
export function hostEntry(i: number): Record<string, unknown> {
  const h: Record<string, unknown> = {
    name: name(i),
    address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    dpn: String(BigInt(i) * 7919n + 18446744000000000000n),
    weight: `${i % 100}.25`,
    colour: i % 2 ? 'sextant-fixture:red' : 'sextant-fixture:green',
    tags: ['bench'],
  };
  if (i > 0) h.backup = name(i - 1);
  return h;
}

/** An RFC 7951 document with `n` hosts. */
export function registryDocument(n: number): string {
  const hosts: string[] = [];
  for (let i = 0; i < n; i++) hosts.push(JSON.stringify(hostEntry(i)));
  return `{"sextant-fixture:registry":{"host":[\n${hosts.join(',\n')}\n]}}\n`;
}
