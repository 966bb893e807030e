/**
 * Thin wrappers around the system `yanglint` (libyang 2.1.30) used as the reference validator
 * for the YANG cross-check corpus in test/yang/corpus. See test/yang/corpus/README.md for why
 * the data command line looks the way it does.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const YANGLINT = '/usr/bin/yanglint';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CORPUS_DIR = path.join(here, 'corpus');
export const CORPUS_MODELS_DIR = path.join(CORPUS_DIR, 'models');
export const CORPUS_MODULES = [
  'sextant-test@2026-11-22.yang',
  'sextant-test-aug@2026-11-22.yang',
];
/** Features the harness enables; `sextant-test:legacy` stays disabled on purpose. */
export const CORPUS_FEATURES = ['sextant-test:extended'];
/** Every corpus document is a configuration datastore: state (config false) data is rejected. */
export const CORPUS_DATA_TYPE = 'config';

/** Arguments given to yanglint before the document path when validating a corpus document. */
export function corpusArgs(): string[] {
  return [
    '-D',
    '-p', CORPUS_MODELS_DIR,
    ...CORPUS_FEATURES.flatMap((f) => ['-F', f]),
    '-t', CORPUS_DATA_TYPE,
    ...CORPUS_MODULES.map((m) => path.join(CORPUS_MODELS_DIR, m)),
  ];
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(YANGLINT, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        // Spawn failure (ENOENT and the like), not a validation verdict.
        reject(err);
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Validate one RFC 7951 JSON instance document against the corpus models. Exit code 0 = valid. */
export async function yanglintValidate(docPath: string): Promise<{ valid: boolean; message: string }> {
  const r = await run([...corpusArgs(), docPath]);
  return { valid: r.code === 0, message: (r.stderr + r.stdout).trim() };
}

/**
 * Compile one YANG module with `searchDir` as the module search path. `ok` requires exit code 0
 * and no diagnostics at all (warnings count as failure).
 */
export async function yanglintModule(modulePath: string, searchDir: string): Promise<{ ok: boolean; message: string }> {
  const r = await run(['-p', searchDir, modulePath]);
  const message = (r.stderr + r.stdout).trim();
  return { ok: r.code === 0 && message === '', message };
}
