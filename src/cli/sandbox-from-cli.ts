// A SandboxHost for one-off CLI commands, configured from the environment like the server.
import { loadConfig, type Config } from '../config.js';
import { limitsFromConfig, SandboxHost, type Isolation } from '../sandbox/index.js';
import { UsageError } from './usage-error.js';

const BACKENDS = ['auto', 'native', 'bwrap', 'none'];

export function isolationOption(value: string | undefined, config: Config): Isolation {
  if (value === undefined) return config.isolation;
  if (!BACKENDS.includes(value)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${value}'`);
  return value as Isolation;
}

export async function sandboxHostFor(isolation: Isolation | undefined, overrides: { disableBwrap?: boolean; probeAll?: boolean } = {}): Promise<{ host: SandboxHost; config: Config }> {
  const config = loadConfig();
  const host = await SandboxHost.start({
    isolation: isolation ?? config.isolation,
    disableBwrap: overrides.disableBwrap ?? (isolation === 'bwrap' ? false : config.disableBwrap),
    network: config.network,
    stateDir: config.stateDir,
    rootServerUid: config.rootServerSandboxUid,
    rootServerGid: config.rootServerSandboxGid,
    limits: limitsFromConfig(config, config.limits.defaultTimeoutSeconds),
    // one command from a terminal: raising the group would raise the user's whole shell session
    serverAutogroupNice: 0,
    probeAll: overrides.probeAll ?? false,
  });
  return { host, config };
}
