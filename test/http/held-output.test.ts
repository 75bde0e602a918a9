// An execution can hand its stdout and stderr to another execution of its session (a unix socket
// in the session's /tmp, SCM_RIGHTS) and end. Its result must not wait for that other execution
// to let go of them, nor carry what it writes there: once the sandbox has exited, what the pipes
// hold is read and they are closed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';
import { pollFor } from '../helpers/processes.js';

// Takes the descriptors sent to /tmp/hold.sock and, once their sender has ended, writes into them.
const HOLDER = `
import os, socket, time
def handler(event):
    server = socket.socket(socket.AF_UNIX)
    server.bind('/tmp/hold.sock'); server.listen(1)
    open('/workspace/holding', 'w').close()
    peer, _ = server.accept()
    _, fds, _, _ = socket.recv_fds(peer, 16, 4)
    time.sleep(2)  # the sender has returned and exited by now: what follows is written after its end
    writes, broken = 0, 0
    for _ in range(20):
        for fd in fds:
            try:
                os.write(fd, b'INJECTED by the holder\\n'); writes += 1
            except BrokenPipeError:
                broken += 1
        time.sleep(0.02)
    return {'descriptors': len(fds), 'writes': writes, 'broken': broken}
`;

const SENDER = `
import socket
def handler(event):
    print('mine', flush=True)
    s = socket.socket(socket.AF_UNIX)
    s.connect('/tmp/hold.sock')
    socket.send_fds(s, [b'x'], [1, 2])
    return 'sent'
`;

describe('output pipes handed to another execution', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(async () => {
    await t.stop();
  });

  it('neither hold the result back nor carry what the other execution writes', async () => {
    const session = sessionId('held');
    let holderDone = false;
    const holding = t.run({ session_id: session, language: 'python', code: HOLDER, timeout: 60 }).finally(() => {
      holderDone = true;
    });
    assert.ok(await pollFor(() => (existsSync(path.join(t.workspaceOf(session), 'holding')) ? true : undefined), 15_000), 'the holder never listened');

    const sent = await t.run({ session_id: session, language: 'python', code: SENDER, timeout: 5 });
    assert.equal(holderDone, false, 'the result waited for the holder to end');
    assertSuccess(sent);
    assert.equal(sent.return_value, 'sent', describeResult(sent));
    assert.equal(sent.stdout, 'mine\n', describeResult(sent));
    assert.equal(sent.stderr, '', describeResult(sent));

    const held = await holding;
    assertSuccess(held);
    const { descriptors, writes, broken } = held.return_value as { descriptors: number; writes: number; broken: number };
    assert.equal(descriptors, 2, 'the attack itself must work: both descriptors were handed over');
    // the server closed its ends when the sender exited: nobody reads what the holder writes
    assert.ok(broken > 0 && writes === 0, describeResult(held));
  });
});
