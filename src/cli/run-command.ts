// `sandbox-executor run [--backend B] [--timeout SEC] [--memory-mb N] [--workspace DIR] [--json] -- CMD [ARGS...]`
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { bind, limitsFromConfig, watchdogNotice } from '../sandbox/index.js';
import { isolationOption, sandboxHostFor } from './sandbox-from-cli.js';
import { parseIntegerOption, UsageError } from './usage-error.js';

const SEARCH_PATH = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];

/** Commands are looked up where the sandbox has them: the host's /usr, bound read-only. */
function resolveCommand(name: string): string {
  if (name.includes('/')) {
    if (!path.isAbsolute(name)) throw new UsageError(`the command must be a name or an absolute path inside the sandbox, got '${name}'`);
    return name;
  }
  for (const dir of SEARCH_PATH) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new UsageError(`command not found in the sandbox: '${name}' (searched ${SEARCH_PATH.join(':')})`);
}

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      backend: { type: 'string' },
      timeout: { type: 'string' },
      'memory-mb': { type: 'string' },
      workspace: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length === 0) throw new UsageError('nothing to run: sandbox-executor run [options] -- CMD [ARGS...]');
  const config = loadConfig();
  const isolation = isolationOption(values.backend, config);
  const timeout = parseIntegerOption('timeout', values.timeout, 1, 3600) ?? 30;
  const memoryMb = parseIntegerOption('memory-mb', values['memory-mb'], 16, 1048576);
  const argv = [resolveCommand(positionals[0]!), ...positionals.slice(1)];

  let workspace = values.workspace;
  let temporary: string | undefined;
  if (workspace !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(workspace).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--workspace ${workspace} does not exist or is not a directory`);
    workspace = path.resolve(workspace);
  }

  const { host } = await sandboxHostFor(isolation);
  if (workspace === undefined) {
    temporary = mkdtempSync(path.join(os.tmpdir(), 'sandbox-run-'));
    host.prepareWritableDir(temporary);
    workspace = temporary;
  }
  try {
    const limits = limitsFromConfig(config, timeout, memoryMb);
    const policy = host.policy([bind(workspace, '/workspace', { writable: true })!, { kind: 'tmpfs', target: '/tmp', sizeBytes: 64 * 1024 * 1024, mode: 0o1777 }], limits);
    const run = host.run(
      policy,
      { argv, env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/workspace', LANG: 'C.UTF-8', TMPDIR: '/tmp' }, cwd: '/workspace' },
      {
        timeoutMs: timeout * 1000,
        captureBytesPerStream: config.limits.outputBytesPerStream,
        maxTotalOutputBytes: config.limits.outputTotalBytes,
        resultChannel: false,
        onOutput: values.json ? undefined : (stream, chunk) => (stream === 'stdout' ? process.stdout : process.stderr).write(chunk),
      },
    );
    const r = await run.result;
    const notice = r.report ? watchdogNotice(r.killedBy, r.report, limits) : null;
    if (notice && !values.json) process.stderr.write(`sandbox-executor: ${notice}\n`);
    const status = r.killedBy === 'timeout' ? 'timeout' : r.exitCode === 0 && !r.killedBy ? 'success' : 'failed';
    if (values.json) {
      const out = {
        status,
        exit_code: r.exitCode,
        signal: r.signal,
        stdout: r.stdout.head.toString('utf8'),
        stderr: r.stderr.head.toString('utf8') + (r.execError ? `${r.execError}\n` : '') + (notice ? `sandbox-executor: ${notice}\n` : ''),
        stdout_truncated: r.stdout.truncated,
        stderr_truncated: r.stderr.truncated,
        wall_ms: Math.round(r.wallMs * 1000) / 1000,
        cpu_ms: Math.round((r.userCpuMs + r.systemCpuMs) * 1000) / 1000,
        peak_memory_kb: r.peakMemoryKb,
        killed_by: r.killedBy,
        backend: r.backend,
      };
      process.stdout.write(`${JSON.stringify(out)}\n`);
    } else if (r.execError) {
      process.stderr.write(`sandbox-executor: ${r.execError}\n`);
    }
    if (r.killedBy === 'timeout') return 124;
    if (r.exitCode !== null) return r.exitCode;
    return 128 + (r.signal ? (os.constants.signals[r.signal as keyof typeof os.constants.signals] ?? 0) : 0);
  } finally {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}
