// `sandbox-executor serve`: the HTTP executor, configured from the environment. SIGTERM (the
// orchestrator) and SIGINT (Ctrl-C) start a graceful shutdown; a second signal exits at once.
import { loadConfig } from '../config.js';
import type { ExitReason } from '../controlplane/lifecycle-events.js';
import { startServer } from '../server.js';

type StopSignal = 'SIGTERM' | 'SIGINT';
const STOP_SIGNALS: StopSignal[] = ['SIGTERM', 'SIGINT'];

/** The contract has no `sigint`: Ctrl-C is an operator's deliberate stop, so `normal`. */
const EXIT_REASONS: Record<StopSignal, ExitReason> = { SIGTERM: 'sigterm', SIGINT: 'normal' };

/**
 * A second signal cuts the graceful shutdown short: the shell's code for "interrupted". Running
 * sandboxes die with the process; the next start on this STATE_PATH records them crashed.
 */
const FORCED_EXIT_CODE = 130;

export async function serveCommand(_args: string[]): Promise<number> {
  const config = loadConfig();
  const server = await startServer(config);
  const signal = await new Promise<StopSignal>((resolve) => {
    const first = (received: StopSignal) => {
      for (const s of STOP_SIGNALS) process.off(s, first);
      resolve(received);
    };
    for (const s of STOP_SIGNALS) process.on(s, first);
  });
  for (const s of STOP_SIGNALS) {
    process.on(s, (second: StopSignal) => {
      // synchronous (stderr is a pipe or a tty): the process ends right after
      process.stderr.write(`sandbox-executor: ${second} during the graceful shutdown: exiting now (${FORCED_EXIT_CODE})\n`);
      process.exit(FORCED_EXIT_CODE);
    });
  }
  server.logger.info({ signal }, 'signal received: graceful shutdown (a second signal exits at once)');
  await server.shutdown(EXIT_REASONS[signal]);
  return 0;
}
