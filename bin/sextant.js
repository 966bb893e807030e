#!/usr/bin/env node
// The `sextant` command (package.json "bin"): loads the TypeScript CLI through tsx, resolved from
// this package, so `npx sextant` works from any directory.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');
const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  env: process.env,
  signal: stop.signal,
});
