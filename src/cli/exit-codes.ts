/**
 * The `sextant` CLI's exit codes: a contract for scripts (documented in `sextant --help` and the
 * README), so each one means one thing and none is reused.
 */
export const EXIT = {
  OK: 0,
  /** Anything unexpected (a bug, an answer the CLI cannot read). */
  FAILED: 1,
  /** Bad command line: unknown command or option, missing argument. */
  USAGE: 2,
  /** The controller refused the credentials (401) or the access (403). */
  AUTH: 3,
  /** The controller answered with an error: unknown compute, no such VNF, an rpc-error. */
  ERROR: 4,
  /** `--wait` (or a request) ran out of time. */
  TIMEOUT: 5,
  /** No controller answered at --url. */
  UNREACHABLE: 6,
  /** `scalein end` without --wait answered INPROGRESS (ports or VNFCs still on the computes). */
  IN_PROGRESS: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_HELP = `Exit codes:
  0  success
  1  unexpected failure
  2  usage error (unknown command or option, missing argument)
  3  authentication failed (wrong user or password: 401, or 403)
  4  the controller answered an error (unknown or ambiguous compute, not found, rpc-error)
  5  timed out (scalein end --wait, or a request)
  6  controller unreachable at --url
  7  scalein end answered INPROGRESS (without --wait)`;

export class CliError extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
    readonly detail: { status?: number; tag?: string } = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}
