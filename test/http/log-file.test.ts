// LOG_FILE: the executor's JSON lines also go to a file, rolled by pino-roll at LOG_FILE_MAX_MB,
// the newest LOG_FILE_KEEP rolled files kept, what is buffered written out at shutdown; stderr
// keeps its lines unless LOG_STDERR=false. A real `serve` process writing real files.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { executorDirs, executorEnv, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { executionId, sessionId, sleep } from '../helpers/http.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MAX_BYTES = 16 * 1024;
const KEEP = 2;
const dirsToRemove: ExecutorDirs[] = [];

/** The log files in `dir`, oldest first (by their roll number). */
function logFiles(dir: string): string[] {
  const number = (name: string) => Number(/\.(\d+)\.log$/.exec(name)?.[1] ?? -1);
  return readdirSync(dir)
    .filter((name) => name.startsWith('executor.'))
    .sort((a, b) => number(a) - number(b));
}

function records(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function runShell(url: string, session: string): Promise<void> {
  const reply = await fetch(`${url}/execute?wait=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ execution_id: executionId('logfile'), session_id: session, language: 'shell', code: 'true' }),
  });
  const text = await reply.text();
  assert.equal(reply.status, 200, text);
}

describe('log file', () => {
  after(() => dirsToRemove.forEach((d) => d.remove()));

  it('appears, rolls at LOG_FILE_MAX_MB, keeps LOG_FILE_KEEP rolled files, and holds the last line after SIGTERM', async () => {
    const dirs = executorDirs('logfile');
    dirsToRemove.push(dirs);
    const logDir = path.join(dirs.root, 'log');
    const executor = await ExecutorProcess.start(
      executorEnv(dirs, {
        ISOLATION: 'native',
        LOG_FILE: path.join(logDir, 'executor.log'),
        LOG_FILE_MAX_MB: String(MAX_BYTES / 1024 / 1024),
        LOG_FILE_KEEP: String(KEEP),
        LOG_FILE_ROTATE: 'size',
        SHUTDOWN_GRACE_SECONDS: '0',
      }),
      60_000,
    );
    try {
      // the start-up lines reach the file within the flush interval
      const first = path.join(logDir, 'executor.1.log');
      for (let i = 0; i < 100 && !(logFiles(logDir).includes('executor.1.log') && readFileSync(first, 'utf8').includes('executor listening')); i++) await sleep(50);
      assert.ok(readFileSync(first, 'utf8').includes('"msg":"executor listening"'), `no start-up line in ${first}`);
      assert.ok(executor.output.includes('"msg":"executor listening"'), 'stderr lost its lines');

      // two lines per execution, about 300 bytes each: enough for several rolls
      const session = sessionId('logfile');
      let newest = 1;
      for (let round = 0; round < 60 && newest < KEEP + 3; round++) {
        await Promise.all(Array.from({ length: 8 }, () => runShell(executor.url, session)));
        newest = Math.max(...logFiles(logDir).map((name) => Number(/\.(\d+)\.log$/.exec(name)?.[1])));
      }
      assert.ok(newest >= KEEP + 3, `the log rolled only to number ${newest}: ${logFiles(logDir).join(', ')}`);
      executor.signal('SIGTERM');
      assert.deepEqual(await executor.exited, { code: 0, signal: null });

      const files = logFiles(logDir);
      // old files removed (the cleanup runs after each roll): the active one and KEEP rolled ones
      assert.ok(files.length <= KEEP + 1, `more than ${KEEP + 1} files kept: ${files.join(', ')}`);
      assert.ok(!files.includes('executor.1.log'), `the oldest file was not removed: ${files.join(', ')}`);
      for (const rolled of files.slice(0, -1)) {
        const size = statSync(path.join(logDir, rolled)).size;
        // rolled once a write has taken it to the size; a write is at most a few KiB. pino-roll
        // counts what is written while a roll waits for 'drain' towards the next file, so that
        // one rolls up to a write early (seen: 16,083 bytes of 16,384)
        assert.ok(size >= MAX_BYTES - 8 * 1024 && size < MAX_BYTES + 16 * 1024, `${rolled} is ${size} bytes, not rolled near ${MAX_BYTES}`);
      }
      const last = records(path.join(logDir, files[files.length - 1]!));
      assert.equal(last[last.length - 1]?.msg, 'stopped', 'the last line of the shutdown was not written out');
    } finally {
      await executor.kill();
    }
  });

  it('LOG_STDERR=false: the file only', async () => {
    const dirs = executorDirs('logfile-only');
    dirsToRemove.push(dirs);
    const logDir = path.join(dirs.root, 'log');
    mkdirSync(logDir);
    const port = await freePort();
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        ...executorEnv(dirs, { EXECUTOR_PORT: String(port), ISOLATION: 'native', LOG_LEVEL: 'info', LOG_FILE: path.join(logDir, 'executor.log'), LOG_STDERR: 'false' }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let console = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (console += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (console += t));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      let healthy = false;
      for (let i = 0; i < 600 && !healthy; i++) {
        healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (!healthy) await sleep(100);
      }
      assert.ok(healthy, `never healthy: ${console}`);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.equal(console, '', 'LOG_STDERR=false still wrote to the console');
      const lines = records(path.join(logDir, logFiles(logDir)[0]!)).map((r) => r.msg);
      assert.ok(lines.includes('executor listening') && lines.at(-1) === 'stopped', lines.join(' | '));
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(port));
    });
  });
}
