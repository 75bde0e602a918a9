#!/usr/bin/env node
// sandbox-executor: serve | probe | run | healthcheck (the benchmarks are a tool of their own: tools/bench)
import { ConfigError } from '../config.js';
import { NoUsableBackendError } from '../sandbox/index.js';
import { probeCommand } from './probe-command.js';
import { runCommand } from './run-command.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: sandbox-executor <command> [options]

  serve                                   start the HTTP executor (configured from the environment)
  probe [--backend B]                     JSON: each backend's availability and what is enforced
  run [--backend B] [--timeout SEC] [--memory-mb N] [--workspace DIR] [--json] -- CMD [ARGS...]
                                          run one command in a sandbox with the default policy
  healthcheck [--url URL]                 exit 0 when the local server is healthy, 1 otherwise

backends: auto (default: native, else bwrap unless DISABLE_BWRAP=true), native, bwrap, none
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  probe: probeCommand,
  run: runCommand,
  serve: async (args) => (await import('./serve-command.js')).serveCommand(args),
  healthcheck: async (args) => (await import('./healthcheck-command.js')).healthcheckCommand(args),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`sandbox-executor: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`sandbox-executor ${name}: ${(error as Error).message}\n(see sandbox-executor --help)\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`sandbox-executor: ${error.message}\n`);
      return 2;
    }
    if (error instanceof NoUsableBackendError) {
      process.stderr.write(`sandbox-executor: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`sandbox-executor ${name}: ${(error as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`sandbox-executor: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  },
);
