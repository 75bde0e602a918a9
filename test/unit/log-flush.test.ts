// The logs' flushes write out every line logged before them, also when a write was in flight:
// sonic-boom's flush then does nothing (or calls back once that write is done), with the lines
// logged meanwhile (under its minLength) still buffered. A real file through pino-roll, as LOG_FILE makes it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogs } from '../../src/logger.js';

describe('log flush', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-log-flush-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const logsIn = (name: string) =>
    createLogs({ logLevel: 'info', logFormat: 'json', logToStderr: false, logFile: { path: path.join(dir, name, 'executor.log'), maxBytes: 10 * 1024 * 1024, rotate: 'size', keep: 2 } });
  const messagesIn = (name: string): string[] => {
    const file = readdirSync(path.join(dir, name)).filter((f) => f.endsWith('.log'));
    assert.equal(file.length, 1, `one log file: ${file}`);
    return readFileSync(path.join(dir, name, file[0]!), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).msg);
  };

  it('at shutdown, writes out the lines logged while a write was in flight', async () => {
    const logs = await logsIn('shutdown');
    logs.logger.info('started');
    await logs.flush(); // the file is open from here on
    // a line past minLength (4 KiB) starts a write at once; the next ones wait in the buffer
    logs.logger.info({ filler: 'x'.repeat(5000) }, 'first');
    logs.logger.info('shutting down');
    logs.logger.info('stopped');
    await logs.flush();
    assert.deepEqual(messagesIn('shutdown'), ['started', 'first', 'shutting down', 'stopped']);
  });

  it('while running, writes out lines logged while a write was in flight, with no line after them', async (t) => {
    const logs = await logsIn('running');
    logs.logger.info('started');
    await until(() => messagesIn('running').length === 1, 'the timer writes the first line');
    await sleep(50); // and that write's callback has run: nothing is in flight
    // the flush timer under our control; the writes stay real
    t.mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => logs.flush());
    logs.logger.info('a'); // arms the timer
    logs.logger.info({ filler: 'x'.repeat(5000) }, 'big'); // past minLength: a write starts at once
    logs.logger.info('b');
    logs.logger.info('c');
    t.mock.timers.tick(200); // the timer fires with that write in flight
    await until(
      () => messagesIn('running').length === 3,
      "the write in flight ends ('a' and 'big')",
      () => messagesIn('running'),
    );
    // nothing more is logged: only a timer of the logs' own can write 'b' and 'c' (the clock moves
    // 200 ms at each look)
    const lookLater = () => {
      t.mock.timers.tick(200);
      return messagesIn('running').length === 5;
    };
    await until(lookLater, "'b' and 'c' written", () => messagesIn('running'));
    assert.deepEqual(messagesIn('running'), ['started', 'a', 'big', 'b', 'c']);
  });
});

/** Waits on the event loop (not on timers, which a test may mock) until check() holds, for at most 3 s. */
async function until(check: () => boolean, what: string, detail: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + 3000;
  const holds = () => {
    try {
      return check();
    } catch {
      return false; // no file yet, or a line half written
    }
  };
  while (!holds()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what} ${JSON.stringify(detail())}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
