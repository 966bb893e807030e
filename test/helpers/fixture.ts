import { join } from 'node:path';
import { loadSchema } from '../../src/yang/compiler.ts';

export const FIXTURE_YANG = join(import.meta.dirname, '../fixtures/yang');

/** The test fixture model (sextant-fixture) compiled alone. */
export function fixtureSchema() {
  return loadSchema(FIXTURE_YANG);
}
