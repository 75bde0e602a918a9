// `sandbox-executor run` end to end, as an operator would call it: a working run on each backend
// (JSON result, timeout, memory limit, workspace), and bad input that must end quickly with a
// non-zero status and a message naming the problem, never a crash or a hang.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { BACKENDS, SandboxFixture } from '../helpers/sandbox-host.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
/** A CLI call that takes longer than this has hung. */
const HANG_MS = 30_000;

const fixture = await SandboxFixture.start();

interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, STATE_PATH: path.join(fixture.root, 'cli-state'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: HANG_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, ms: Date.now() - began }));
  });
}

/** Fails unless the CLI ended by itself, non-zero, with a message matching `message` on stderr. */
function assertRefused(r: CliResult, message: RegExp): void {
  assert.equal(r.signal, null, `the CLI hung (killed after ${r.ms} ms): ${r.stderr}`);
  assert.notEqual(r.status, 0, `exit 0 for bad input: ${r.stdout}`);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace instead of a message:\n${r.stderr}`);
}

describe('sandbox-executor CLI', () => {
  after(() => fixture.close());

  describe('bad input', () => {
    const cases: [string, string[], RegExp][] = [
      ['an unknown backend', ['run', '--backend', 'nosuch', '--', '/bin/true'], /--backend must be one of auto, native, bwrap, none, got 'nosuch'/],
      ['a missing command (absolute path)', ['run', '--', '/no/such/cmd'], /\/no\/such\/cmd: ENOENT/],
      ['a missing command (name)', ['run', '--', 'no-such-command-anywhere'], /command not found in the sandbox: 'no-such-command-anywhere'/],
      ['a relative command path', ['run', '--', 'bin/true'], /must be a name or an absolute path/],
      ['a workspace that does not exist', ['run', '--workspace', '/does/not/exist', '--', '/bin/true'], /--workspace \/does\/not\/exist does not exist/],
      ['a workspace that is a file', ['run', '--workspace', '/etc/hostname', '--', '/bin/true'], /--workspace \/etc\/hostname does not exist or is not a directory/],
      ['a timeout of 0', ['run', '--timeout', '0', '--', '/bin/true'], /--timeout must be a whole number from 1 to 3600, got '0'/],
      ['a negative timeout', ['run', '--timeout=-5', '--', '/bin/true'], /--timeout must be a whole number/],
      ['a timeout that looks like an option', ['run', '--timeout', '-5', '--', '/bin/true'], /--timeout/],
      ['a fractional timeout', ['run', '--timeout', '1.5', '--', '/bin/true'], /--timeout must be a whole number/],
      ['a timeout beyond the maximum', ['run', '--timeout', '999999', '--', '/bin/true'], /--timeout must be a whole number from 1 to 3600/],
      ['a memory limit that is not a number', ['run', '--memory-mb', 'x', '--', '/bin/true'], /--memory-mb must be a whole number from 16 to \d+, got 'x'/],
      ['a memory limit below the minimum', ['run', '--memory-mb', '1', '--', '/bin/true'], /--memory-mb must be a whole number/],
      ['nothing to run', ['run'], /nothing to run/],
      ['an unknown option', ['run', '--no-such-option', '--', '/bin/true'], /Unknown option '--no-such-option'/],
      ['an unknown subcommand', ['frobnicate'], /unknown command 'frobnicate'/],
    ];
    for (const [what, args, message] of cases) {
      it(`refuses ${what}`, async () => assertRefused(await cli(args), message));
    }

    it('refuses a bad ISOLATION setting with the variable named', async () => {
      assertRefused(await cli(['run', '--', '/bin/true'], { ISOLATION: 'sometimes' }), /ISOLATION/);
    });

    it('a missing command under --json still reports a failed status, exit 127', async () => {
      const r = await cli(['run', '--json', '--', '/no/such/cmd']);
      assert.equal(r.status, 127, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.equal(out.status, 'failed');
      assert.equal(out.exit_code, 127);
      assert.match(out.stderr, /\/no\/such\/cmd: ENOENT/);
    });
  });

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it("run --json prints the result object and exits with the command's status", async () => {
        const r = await cli(['run', '--json', '--backend', backend, '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
        assert.equal(r.status, 3, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.equal(out.status, 'failed');
        assert.equal(out.exit_code, 3);
        assert.equal(out.signal, null);
        assert.equal(out.stdout, 'out\n');
        assert.equal(out.stderr, 'err\n');
        assert.equal(out.killed_by, null);
        assert.equal(out.backend, backend);
        for (const key of ['wall_ms', 'cpu_ms', 'peak_memory_kb']) assert.equal(typeof out[key], 'number', key);
      });

      it('--timeout kills a command that runs too long (status timeout, exit 124)', async () => {
        const r = await cli(['run', '--json', '--backend', backend, '--timeout', '1', '--', '/bin/sleep', '60']);
        assert.equal(r.status, 124, r.stderr);
        const out = JSON.parse(r.stdout);
        assert.equal(out.status, 'timeout');
        assert.equal(out.killed_by, 'timeout');
        assert.ok(out.wall_ms >= 1000 && out.wall_ms < 6000, `wall_ms ${out.wall_ms}`);
      });

      it('--memory-mb limits memory: allocating past it raises MemoryError', async () => {
        const r = await cli(['run', '--json', '--backend', backend, '--memory-mb', '64', '--', '/usr/bin/python3', '-c', 'bytearray(16 << 20); print("16MiB ok"); bytearray(128 << 20)']);
        const out = JSON.parse(r.stdout);
        assert.equal(out.exit_code, 1, r.stdout);
        assert.equal(out.stdout, '16MiB ok\n');
        assert.match(out.stderr, /MemoryError/);
      });

      it('--workspace binds the directory at /workspace', async () => {
        const workspace = fixture.workspace();
        const r = await cli(['run', '--backend', backend, '--workspace', workspace, '--', '/bin/sh', '-c', 'pwd; echo from-cli > /workspace/cli.txt']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, '/workspace\n');
        assert.equal(readFileSync(path.join(workspace, 'cli.txt'), 'utf8'), 'from-cli\n');
      });
    });
  }
});
