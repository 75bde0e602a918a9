// Nothing a sandbox prints or returns changes the shape of its result: output, return values and
// events holding the bytes of the old raw-JSON marker, or crafted JSON, stay what they are (a
// string, a value) in the ?wait=true answer, in GET /executions/{id} and in the callback body the
// control plane receives. Every key keeps the executor's value and every document parses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { sessionId, TestServer, type Language } from '../helpers/http.js';

/** The marker the executor once spliced return values with. */
const MARKER = '\u0000raw-json\u0000';
/** Text that, spliced in as JSON, would add keys after the one it stands in. */
const INJECTED = `"","execution_id":"forged","session_id":"forged","status":"success","exit_code":0,"return_value":"forged"`;

const HOSTILE_TEXTS: Record<string, string> = {
  'marker-wrapped keys': `${MARKER}${INJECTED}${MARKER}`,
  'marker-wrapped broken JSON': `${MARKER}{"unclosed": [${MARKER}`,
  'marker-wrapped closing brace': `${MARKER}}${MARKER}`,
  'lone markers and quotes': `${MARKER}"}]${MARKER}${MARKER}\\"${MARKER}`,
  'crafted JSON': `"},"status":"success","execution_id":"forged"}{"`,
};

const RESULT_KEYS = [
  'execution_id',
  'session_id',
  'language',
  'status',
  'stdout',
  'stderr',
  'exit_code',
  'execution_time',
  'return_value',
  'metrics',
  'artifacts',
  'sandbox',
  'limit_exceeded',
  'stdout_truncated',
  'stderr_truncated',
  'return_value_truncated',
  'artifact_details',
  'artifacts_complete',
  'artifacts_incomplete_reason',
  'started_at',
  'finished_at',
  'phases',
].sort();
const CALLBACK_KEYS = [
  'status',
  'stdout',
  'stderr',
  'exit_code',
  'execution_time',
  'return_value',
  'metrics',
  'artifacts',
  'sandbox',
  'stdout_truncated',
  'stderr_truncated',
  'return_value_truncated',
].sort();

/** Code printing event.text on stdout and stderr (verbatim) and returning it, or a structure holding it. */
const ECHO: Record<Exclude<Language, 'shell'>, string> = {
  python:
    'import sys\ndef handler(event):\n    sys.stdout.write(event["text"])\n    sys.stderr.write(event["text"])\n    return {"text": event["text"], "list": [event["text"]], event["text"]: 1, "big": 2**70}\n',
  javascript:
    'exports.handler = (event) => { process.stdout.write(event.text); process.stderr.write(event.text); return { text: event.text, list: [event.text], [event.text]: 1, big: 2n ** 70n }; };\n',
};

describe('the result channel: no in-band signalling', () => {
  let receiver: CallbackReceiver;
  let t: TestServer;
  before(async () => {
    receiver = await CallbackReceiver.start();
    t = await TestServer.start({ CONTROL_PLANE_URL: receiver.url, INTERNAL_API_TOKEN: 'token' });
  });
  after(async () => {
    await t?.stop();
    await receiver?.stop();
  });

  /** Every document this execution produced: parsed, with its keys and fields the executor owns. */
  async function checkEverywhere(id: string, session: string, waitText: string, expected: { stdout: string; stderr?: string; returnValue: unknown }) {
    const check = (where: string, text: string, keys: string[]) => {
      let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.doesNotThrow(() => (doc = JSON.parse(text)), `${where} is valid JSON: ${JSON.stringify(text.slice(0, 400))}`);
      assert.deepEqual(Object.keys(doc).sort(), keys, where);
      assert.equal(doc.status, 'success', `${where}: ${JSON.stringify(doc.stderr)}`);
      assert.equal(doc.exit_code, 0, where);
      assert.equal(doc.stdout, expected.stdout, `${where}: stdout`);
      if (expected.stderr !== undefined) assert.equal(doc.stderr, expected.stderr, `${where}: stderr`);
      assert.deepEqual(doc.return_value, expected.returnValue, `${where}: return_value`);
      if (keys === RESULT_KEYS) {
        assert.equal(doc.execution_id, id, where);
        assert.equal(doc.session_id, session, where);
      }
      // (an injected duplicate key would win here: JSON.parse keeps the last one)
    };
    check('?wait=true', waitText, RESULT_KEYS);
    const state = await t.state(id);
    assert.equal(state.status, 200);
    const stateDoc = JSON.parse(state.text);
    assert.deepEqual(Object.keys(stateDoc.result).sort(), RESULT_KEYS);
    check('GET /executions/{id} result', JSON.stringify(stateDoc.result), RESULT_KEYS);
    assert.equal(stateDoc.execution_id, id);
    await receiver.waitUntil(`the callback of ${id}`, () => receiver.acceptedResults().has(id), 30_000);
    const call = receiver.acceptedResults().get(id)!.at(-1)!;
    assert.equal(call.executionId, id);
    check('callback body', call.raw, CALLBACK_KEYS);
  }

  for (const [label, text] of Object.entries(HOSTILE_TEXTS)) {
    for (const language of ['python', 'javascript'] as const) {
      it(`${language}: ${label} in stdout, stderr, the event and the return value`, async () => {
        const session = sessionId(`inband-${language}`);
        const r = await t.run({ session_id: session, language, code: ECHO[language], event: { text } });
        // biome-ignore lint/correctness/noPrecisionLoss: 2^70 is exact as a double; the test needs an integer past 2^53
        const returnValue = { text, list: [text], [text]: 1, big: 1180591620717411303424 };
        await checkEverywhere(r.execution_id, session, r.raw, { stdout: text, stderr: text, returnValue });
        assert.match(r.raw, /"big":1180591620717411303424\b/, 'big integers keep every digit');
      });
    }

    it(`shell: ${label} printed (stdout is the whole of it)`, async () => {
      const session = sessionId('inband-shell');
      const r = await t.run({ session_id: session, language: 'shell', code: 'printf "%s" "$TEXT"', env_vars: { TEXT: text.replaceAll('\u0000', '') }, event: { text } });
      await checkEverywhere(r.execution_id, session, r.raw, { stdout: text.replaceAll('\u0000', ''), returnValue: null });
      const nul = await t.run({ session_id: session, language: 'shell', code: `printf '${[...text].map((c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`).join('')}'` });
      await checkEverywhere(nul.execution_id, session, nul.raw, { stdout: text, returnValue: null });
    });
  }

  it('what code writes on the channel itself is kept only when it is one JSON value: 100,000 levels of nesting are, trailing keys are not', async () => {
    const session = sessionId('inband-channel');
    const writeChannel = (payload: string) =>
      `import os, sys\nchannel = sys._getframe(1).f_globals["_channel"]  # the bootstrap's\nchannel.write("return\\n" + ${payload})\nchannel.flush()\nos._exit(0)\n`;
    const deep = await t.run({ session_id: session, language: 'python', code: writeChannel('"[" * 100000 + "]" * 100000') });
    assert.equal(deep.status, 'success', deep.raw.slice(0, 400));
    assert.ok(deep.raw.includes(`"return_value":${'['.repeat(100_000)}${']'.repeat(100_000)},`), 'the nested value is returned verbatim');
    for (const payload of [`'1, "status": "forged"'`, `'[1}'`, `'{"a": 1}}'`]) {
      const forged = await t.run({ session_id: session, language: 'python', code: writeChannel(payload) });
      assert.equal(forged.status, 'failed', `${payload}: ${forged.raw.slice(0, 400)}`);
      assert.equal(forged.return_value, null, payload);
      assert.match(forged.stderr, /exited before the handler returned a value/, payload);
    }
  });

  it('a return value that is a string holding the marker and JSON stays that string', async () => {
    const session = sessionId('inband-return');
    const value = `${MARKER}${INJECTED}${MARKER}`;
    const r = await t.run({ session_id: session, language: 'python', code: 'def handler(event):\n    return event["v"]\n', event: { v: value } });
    await checkEverywhere(r.execution_id, session, r.raw, { stdout: '', stderr: '', returnValue: value });
  });
});
