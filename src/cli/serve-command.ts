// `sandbox-executor serve`: the HTTP executor, configured from the environment.
import { loadConfig } from '../config.js';
import { startServer } from '../server.js';

export async function serveCommand(_args: string[]): Promise<number> {
  const config = loadConfig();
  const server = await startServer(config);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      server.logger.info({ signal }, 'stopping');
      server.service.stopAccepting();
      server.service.killAll('shutdown');
      void server.service.drained().then(() => server.close()).then(resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}
