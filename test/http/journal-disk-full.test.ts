// A sandbox can fill the disk of the state directory (a session's /tmp lives there, beside the
// journal). The server must stay up: a result the journal cannot store is kept in memory, given
// to its waiters and to GET /executions/{id}, and written once the disk has room again; an
// execution the journal cannot even record is refused with a 503 that says why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server.js';
import { eventually, executorDirs, executorEnv, getJson, submit } from '../helpers/executor-fixture.js';

const ROOT_ONLY = process.getuid!() === 0 ? false : 'a small disk for the state directory is a tmpfs mounted for the test (root only)';

const FILL = `
import errno
def handler(event):
    with open('/tmp/fill', 'wb') as f:
        try:
            while True:
                f.write(b'x' * 65536); f.flush()
        except OSError as e:
            open('/tmp/full', 'w').close()  # an empty file: an inode, no page
            return errno.errorcode[e.errno]
`;

// admitted before the disk is full; its result of 1 MiB needs pages the disk no longer has
const BIG_AFTER_FULL = `
import os, time
def handler(event):
    while not os.path.exists('/tmp/full'):
        time.sleep(0.01)
    print('y' * 1048576)
    return 'big'
`;

describe('a full disk under the journal', { skip: ROOT_ONLY }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('keeps the server up, the results served and written later, and refuses what it cannot record with a 503', async () => {
    const dirs = executorDirs('disk-full');
    cleanups.push(() => dirs.remove());
    mkdirSync(dirs.state);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m,mode=0711', 'tmpfs', dirs.state]);
    cleanups.push(() => {
      execFileSync('umount', ['-l', dirs.state]);
    });
    const server = await startServer(loadConfig(executorEnv(dirs, { WARM_SANDBOXES_PER_SESSION: '0' })));
    cleanups.push(() => server.close());
    const base = `http://127.0.0.1:${server.port}`;
    const journal = new Database(path.join(dirs.state, 'journal.sqlite3'), { readonly: true });
    cleanups.push(() => {
      journal.close();
    });
    const stateOf = (id: string) => (journal.prepare('SELECT state FROM executions WHERE execution_id = ?').get(id) as { state: string } | undefined)?.state;

    const bigResult = submit(base, { execution_id: 'big', session_id: 'filler', language: 'python', code: BIG_AFTER_FULL, timeout: 60 }, '?wait=true');
    await eventually('the big execution admitted', () => (stateOf('big') ? true : undefined), 10_000);
    const filled = await submit(base, { execution_id: 'fill', session_id: 'filler', language: 'python', code: FILL }, '?wait=true');
    assert.equal(filled.status, 200, JSON.stringify(filled.body));
    assert.equal(filled.body.return_value, 'ENOSPC', JSON.stringify(filled.body).slice(0, 500));

    const big = await bigResult;
    assert.equal(big.status, 200, JSON.stringify(big.body).slice(0, 500));
    assert.equal(big.body.return_value, 'big');
    assert.equal(stateOf('big'), 'pending', 'the journal took the result: the disk was not full, the test shows nothing');
    const served = await getJson(`${base}/executions/big`);
    assert.equal(served.body.state, 'success');
    assert.equal(served.body.result.return_value, 'big');

    const refused = await submit(base, { execution_id: 'while-full', session_id: 'filler', code: 'echo hi' });
    if (refused.status !== 200) {
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error_code, 'Executor.JournalUnavailable', JSON.stringify(refused.body));
    }

    // the disk has room again: the results kept in memory reach the journal
    execFileSync('find', [dirs.state, '-name', 'fill', '-path', '*filler*', '-type', 'f', '-delete']);
    await eventually('the kept results written to the journal', () => (stateOf('big') === 'success' && stateOf('fill') === 'success' ? true : undefined), 20_000);
    assert.equal((await getJson(`${base}/health`)).status, 200);
    const after = await submit(base, { execution_id: 'after', session_id: 'filler', code: 'echo fine' }, '?wait=true');
    assert.equal(after.body.stdout, 'fine\n');
  });
});
