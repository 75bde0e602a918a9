// A re-submitted execution_id attaches to the existing execution only when it is the control
// plane retrying (same session_id, same code). Anything else is 409 Executor.ExecutionIdConflict:
// another session reusing a running execution's id with ?stream=true or ?wait=true must not get
// one byte of its output or result.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { executionId, sessionId, TestServer } from '../helpers/http.js';

const SECRET = 'victim-secret';
/** prints the secret for a few seconds: long enough for an attacker to try to listen */
const VICTIM_CODE = `for i in $(seq 1 30); do echo ${SECRET}-$i; sleep 0.1; done`;

let t: TestServer;

before(async () => {
  t = await TestServer.start();
});
after(async () => {
  await t.stop();
});

async function post(fields: Record<string, unknown>, query: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${t.url}/execute${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fields) });
  return { status: response.status, text: await response.text() };
}

describe('a re-submitted execution_id', () => {
  it('from another session, while the victim runs: 409 and not a byte of its output (stream and wait)', async () => {
    const id = executionId('victim');
    const victim = { execution_id: id, session_id: sessionId('victim'), language: 'shell', code: VICTIM_CODE };
    assert.equal((await post(victim, '')).status, 200);
    for (const query of ['?stream=true', '?wait=true']) {
      for (const attacker of [
        { ...victim, session_id: sessionId('attacker') },
        { ...victim, code: `${VICTIM_CODE} # changed` },
      ]) {
        const reply = await post(attacker, query);
        assert.equal(reply.status, 409, `${query}: ${reply.text.slice(0, 300)}`);
        assert.ok(!reply.text.includes(SECRET), `${query}: the attacker got the victim's output: ${reply.text.slice(0, 300)}`);
        assert.equal(JSON.parse(reply.text).error_code, 'Executor.ExecutionIdConflict', reply.text);
      }
    }
    // the control plane retrying (same session, same code) still attaches, and it ran once
    const retry = await post(victim, '?wait=true');
    assert.equal(retry.status, 200);
    assert.match(JSON.parse(retry.text).stdout, new RegExp(`${SECRET}-30`));
  });

  it('from another session after the victim finished: 409, its result is not handed out', async () => {
    const id = executionId('done');
    const victim = { execution_id: id, session_id: sessionId('victim'), language: 'shell', code: `echo ${SECRET}` };
    assert.equal((await post(victim, '?wait=true')).status, 200);
    const reply = await post({ ...victim, session_id: sessionId('attacker') }, '?wait=true');
    assert.equal(reply.status, 409, reply.text.slice(0, 300));
    assert.ok(!reply.text.includes(SECRET));
  });
});
