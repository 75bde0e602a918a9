// `sandbox-executor probe`: which backends work here, which one is selected, and what it enforces.
import { parseArgs } from 'node:util';
import { NoUsableBackendError } from '../sandbox/index.js';
import { loadConfig } from '../config.js';
import { isolationOption, sandboxHostFor } from './sandbox-from-cli.js';

export async function probeCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { backend: { type: 'string' } }, strict: true });
  const config = loadConfig();
  const isolation = isolationOption(values.backend, config);
  try {
    // Probe bwrap as well (unless ruled out by configuration), so the report covers every backend.
    const { host } = await sandboxHostFor(isolation, { probeAll: true });
    const out = {
      selected: host.backend.name,
      isolation,
      backends: host.probes,
      enforced: host.protections,
      seccomp_denied_syscalls: host.seccompDeniedSyscalls(),
      host_uid: host.identity.uid,
      server_is_root: host.identity.serverIsRoot,
    };
    process.stdout.write(`${JSON.stringify(out, bigintSafe, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof NoUsableBackendError) {
      process.stdout.write(`${JSON.stringify({ selected: null, isolation, backends: error.probes, error: error.message }, bigintSafe, 2)}\n`);
      return 1;
    }
    throw error;
  }
}

export function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
