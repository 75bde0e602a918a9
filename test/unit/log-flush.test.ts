// The logs' flush at shutdown writes out every line logged before it, also when a write was in
// flight: sonic-boom then calls a flush back once that write is done, with the lines logged
// meanwhile (under its minLength) still buffered. A real file through pino-roll, as LOG_FILE makes it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogs } from '../../src/logger.js';

describe('log flush', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-log-flush-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes out the lines logged while a write was in flight', async () => {
    const logs = await createLogs({ logLevel: 'info', logFormat: 'json', logToStderr: false, logFile: { path: path.join(dir, 'executor.log'), maxBytes: 10 * 1024 * 1024, rotate: 'size', keep: 2 } });
    logs.logger.info('started');
    await logs.flush(); // the file is open from here on
    // a line past minLength (4 KiB) starts a write at once; the next ones wait in the buffer
    logs.logger.info({ filler: 'x'.repeat(5000) }, 'first');
    logs.logger.info('shutting down');
    logs.logger.info('stopped');
    await logs.flush();
    const file = readdirSync(dir).filter((name) => name.endsWith('.log'));
    assert.equal(file.length, 1, `one log file: ${file}`);
    const messages = readFileSync(path.join(dir, file[0]!), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).msg);
    assert.deepEqual(messages, ['started', 'first', 'shutting down', 'stopped']);
  });
});
