// The sandbox host the spawn suite measures: both backends probed (bwrap is compared even where
// the server would not pick it), state in a temporary directory so a benchmark never needs or
// touches the server's state dir.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { limitsFromConfig } from '../../src/sandbox/limits.js';
import { SandboxHost } from '../../src/sandbox/sandbox-host.js';

export async function spawnHost(): Promise<{ host: SandboxHost; close(): void }> {
  const config = loadConfig();
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-bench-state-'));
  try {
    const host = await SandboxHost.start({
      isolation: 'auto',
      disableBwrap: false,
      network: false,
      stateDir,
      rootServerUid: config.rootServerSandboxUid,
      rootServerGid: config.rootServerSandboxGid,
      limits: limitsFromConfig(config, config.limits.defaultTimeoutSeconds),
      serverAutogroupNice: config.serverAutogroupNice,
      probeAll: true,
    });
    return { host, close: () => rmSync(stateDir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(stateDir, { recursive: true, force: true });
    throw error;
  }
}
