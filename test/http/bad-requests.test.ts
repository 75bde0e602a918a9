// Bad requests to POST /execute, each answered with a clear 4xx naming what is wrong, and none of
// them leaving anything behind: no execution recorded (GET is 404), nothing admitted, no process
// started (each request's code would start a marked process if it ever ran), no directory made.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { processesWithMarker, uniqueMarker } from '../helpers/processes.js';
import { assertProblem, executionId, fieldsNamed, leaveBehind, MiB, sessionId, sleep, TestServer, type Reply } from '../helpers/http.js';

let t: TestServer;
const markers: string[] = [];

/** A valid request whose code, if it ran, would leave a marked process behind. */
function valid(overrides: Record<string, unknown> = {}): Record<string, unknown> & { execution_id: string } {
  const marker = uniqueMarker('badreq');
  markers.push(marker);
  return { execution_id: executionId('bad'), session_id: sessionId('bad'), code: leaveBehind(marker, 30), language: 'shell', ...overrides };
}

async function post(payload: unknown, query = ''): Promise<Reply> {
  return t.request('POST', `/execute${query}`, { json: payload });
}

/** A lone surrogate has no UTF-8 form, so no URL can name such an id (those are refused anyway). */
function hasUrlForm(id: string): boolean {
  try {
    encodeURIComponent(id);
    return true;
  } catch {
    return false;
  }
}

/** Asserts nothing of the request was recorded or started. */
async function assertNothingLeft(id: unknown): Promise<void> {
  if (typeof id === 'string' && id.length > 0 && hasUrlForm(id)) {
    const state = await t.state(id);
    assert.equal(state.status, 404, `execution ${id} was recorded: ${state.text}`);
  }
  assert.equal(t.server.service.activeCount, 0, 'an execution was admitted');
}

/** POSTs, asserts a 422 that names `field`, and that nothing was left. */
async function assert422(payload: Record<string, unknown>, field: string, query = ''): Promise<Reply> {
  const reply = await post(payload, query);
  assertProblem(reply, 422, 'Executor.ValidationError');
  const named = fieldsNamed(reply);
  assert.ok(
    named.some((f) => f === field || f.startsWith(`${field}.`)),
    `422 does not name ${field}: ${reply.text}`,
  );
  for (const d of reply.json.detail as { msg: unknown; type: unknown }[]) {
    assert.equal(typeof d.msg, 'string');
    assert.equal(typeof d.type, 'string');
  }
  assert.match(reply.json.message, new RegExp(field.replace(/\./g, '\\.')));
  await assertNothingLeft(payload.execution_id);
  return reply;
}

describe('bad requests', () => {
  before(async () => {
    t = await TestServer.start();
  });
  after(async () => {
    // the very last check: none of the codes above ever ran
    await sleep(200);
    const ran = markers.flatMap((m) => processesWithMarker(m));
    await t.stop();
    assert.deepEqual(ran, [], 'code of a rejected request ran');
  });

  it('malformed JSON: 400', async () => {
    for (const text of ['{"execution_id": "x", ', 'not json at all', '', '{"a":1}}']) {
      const reply = await t.request('POST', '/execute', { body: text, headers: { 'content-type': 'application/json' } });
      assertProblem(reply, 400, 'Executor.MalformedJSON');
    }
    assert.equal(t.server.service.activeCount, 0);
  });

  it('a body that is JSON but not an object: 422', async () => {
    for (const payload of [[1, 2], 'text', 42, null]) {
      const reply = await post(payload);
      assertProblem(reply, 422, 'Executor.ValidationError');
    }
  });

  it('each required field missing: 422 naming it', async () => {
    for (const field of ['execution_id', 'session_id', 'code', 'language']) {
      const payload = valid();
      delete payload[field];
      await assert422(payload, field);
    }
  });

  it('wrong types: 422 naming the field', async () => {
    await assert422(valid({ execution_id: 12345 }), 'execution_id');
    await assert422(valid({ execution_id: '' }), 'execution_id');
    await assert422(valid({ session_id: 7 }), 'session_id');
    await assert422(valid({ code: ['echo', 'hi'] }), 'code');
    await assert422(valid({ code: null }), 'code');
    await assert422(valid({ language: 1 }), 'language');
  });

  it('an unknown language: 422 naming language', async () => {
    for (const language of ['ruby', 'Python', 'bash', '']) {
      const reply = await assert422(valid({ language }), 'language');
      assert.match(reply.text, /python, javascript, shell/);
    }
  });

  it('event not an object: 422 naming event', async () => {
    for (const event of [[1], 'x', 5, true, null]) await assert422(valid({ event }), 'event');
  });

  it('timeout outside 1..3600 or not a whole number: 422 naming timeout', async () => {
    for (const timeout of [0, 3601, -1, '10', 1.5, null, true]) await assert422(valid({ timeout }), 'timeout');
  });

  it('timeout 1 and 3600 are accepted', async () => {
    for (const timeout of [1, 3600]) {
      const reply = await post({ execution_id: executionId('tb'), session_id: sessionId(), code: 'true', language: 'shell', timeout });
      assert.equal(reply.status, 200, reply.text);
      await t.finished(reply.json.execution_id);
    }
  });

  it('__timeout in the event outside 1..3600: 422 naming event.__timeout', async () => {
    for (const __timeout of [0, 3601, 'soon', 2.5]) await assert422(valid({ event: { __timeout } }), 'event.__timeout');
  });

  it('env_vars with a non-string value, not an object, or a name no environment can carry or the executor owns: 422 naming env_vars', async () => {
    for (const env_vars of [
      { A: 1 },
      { A: true },
      { A: null },
      { A: { nested: 'x' } },
      ['A=1'],
      'A=1',
      { '': 'x' },
      { 'A=B': 'x' },
      { 'A\u0000B': 'x' },
      { A: 'nul\u0000inside' },
      { EVENT_JSON: '{}' },
      { 'A\ud800': 'x' },
      { A: 'lone \udc00 surrogate' },
    ]) {
      await assert422(valid({ env_vars }), 'env_vars');
    }
    // the name rule's own reason, not only "invalid key"
    assert.match((await assert422(valid({ env_vars: { 'A=B': 'x' } }), 'env_vars')).json.message, /env_vars\.A=B: names must not contain "="/);
  });

  it('execution_id empty, ".", "..", with control characters or absurdly long: 422 naming execution_id', async () => {
    for (const execution_id of ['', '.', '..', 'a\nb', 'tab\there', 'nul\u0000', 'del\u007f', 'x'.repeat(257)]) await assert422(valid({ execution_id }), 'execution_id');
  });

  it('session_id empty or absurdly long: 422 naming session_id', async () => {
    for (const session_id of ['', 'x'.repeat(513)]) await assert422(valid({ session_id }), 'session_id');
  });

  it('a hostile session_id is served in a directory of its own inside the workspace root, never a path built from it', async () => {
    const hostile = ['../x', '../../etc', 'a/b', 'a_b', '.', '..', '/abs', '.hidden', 'a\u0000b', 'a\\b', 'sp ace', 'x/../../y', 'x'.repeat(200)];
    const homes = new Set<string>();
    for (const session_id of hostile) {
      const reply = await post({ execution_id: executionId('hostile'), session_id, code: 'echo mine > owner.txt; pwd', language: 'shell' }, '?wait=true');
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.status, 'success', reply.text);
      assert.equal(reply.json.stdout, '/workspace\n');
      const dirs = readdirSync(t.workspaceRoot).filter((name) => !name.startsWith('sess_') && !homes.has(name));
      assert.equal(dirs.length, 1, `session ${JSON.stringify(session_id)} did not get exactly one new directory: ${dirs.join(', ')}`);
      assert.ok(existsSync(path.join(t.workspaceRoot, dirs[0]!, 'owner.txt')));
      homes.add(dirs[0]!);
    }
    assert.equal(homes.size, hostile.length, 'two session ids shared a directory');
    assert.ok(!existsSync(path.join(t.workspaceRoot, '..', 'x')), 'a directory was made beside the workspace root');
    assert.ok(!existsSync(path.join(t.workspaceRoot, '..', 'y')), 'a directory was made beside the workspace root');
  });

  it('code of exactly 1,048,576 characters is accepted; one more is 400', async () => {
    const fits = '#'.repeat(1_048_576 - 5) + '\ntrue';
    assert.equal(fits.length, 1_048_576);
    const ok = await post({ execution_id: executionId('bigcode'), session_id: sessionId(), code: fits, language: 'shell' }, '?wait=true');
    assert.equal(ok.status, 200, ok.text.slice(0, 500));
    assert.equal(ok.json.status, 'success', ok.text.slice(0, 1000));

    const payload = valid();
    payload.code = `${payload.code as string}\n${'#'.repeat(1_048_577)}`;
    const reply = await post(payload);
    assertProblem(reply, 400, 'Executor.CodeTooLarge');
    assert.match(reply.json.message, /1048576/);
    await assertNothingLeft(payload.execution_id);
  });

  it('counts code in characters as the control plane does (code points): 1,048,576 emoji are accepted', async () => {
    const emoji = '😀'.repeat(1_048_576 - 6); // two UTF-16 units each
    const fits = `#${emoji}\ntrue`;
    assert.equal([...fits].length, 1_048_576);
    const ok = await post({ execution_id: executionId('emoji'), session_id: sessionId(), code: fits, language: 'shell' }, '?wait=true');
    assert.equal(ok.status, 200, ok.text.slice(0, 500));
    assert.equal(ok.json.status, 'success', ok.text.slice(0, 1000));
    const over = valid();
    over.code = `${over.code as string}\n#${emoji}${'😀'.repeat(10)}`;
    assertProblem(await post(over), 400, 'Executor.CodeTooLarge');
    await assertNothingLeft(over.execution_id);
  });

  it('a body over 16 MiB: 413, with Content-Length and chunked', async () => {
    const payload = valid({ event: { blob: 'x'.repeat(17 * MiB) } });
    const reply = await post(payload);
    assertProblem(reply, 413, 'Executor.BodyTooLarge');
    await assertNothingLeft(payload.execution_id);

    // no Content-Length: the limit holds while the body streams in
    const chunked = valid({ event: { blob: 'y'.repeat(17 * MiB) } });
    const text = JSON.stringify(chunked);
    const stream = Readable.toWeb(
      Readable.from(
        (function* () {
          for (let i = 0; i < text.length; i += MiB) yield Buffer.from(text.slice(i, i + MiB));
        })(),
      ),
    ) as ReadableStream;
    const reply2 = await t.request('POST', '/execute', { body: stream, headers: { 'content-type': 'application/json' } });
    assertProblem(reply2, 413, 'Executor.BodyTooLarge');
    await assertNothingLeft(chunked.execution_id);
    // the unread rest of the body makes the connection unusable: the server says so, and the
    // client's next request (on a new connection) goes through
    assert.equal(reply2.headers.get('connection'), 'close');
    const next = await post({ execution_id: executionId('after413'), session_id: sessionId(), code: 'echo next', language: 'shell' }, '?wait=true');
    assert.equal(next.status, 200, next.text);
    assert.equal(next.json.stdout, 'next\n');
  });

  it('wait and stream modes validate the same way', async () => {
    await assert422(valid({ language: 'cobol' }), 'language', '?wait=true');
    await assert422(valid({ timeout: 0 }), 'timeout', '?stream=true');
  });

  it('unknown routes and methods: 404 JSON naming the route', async () => {
    const reply = await t.request('GET', '/no/such/route');
    assertProblem(reply, 404, 'Executor.NotFound');
    assertProblem(await t.request('GET', '/execute'), 404);
    assertProblem(await t.request('DELETE', '/executions/x'), 404);
  });

  it('env_vars that no execve could carry (one entry over 128 KiB, or over 1 MiB together): 422 naming env_vars, where the sandbox failed with E2BIG', async () => {
    const one = await assert422(valid({ env_vars: { BIG: 'v'.repeat(131_072) } }), 'env_vars');
    assert.match(one.json.message, /BIG=\.\.\. is 131077 bytes: one variable may be at most 131072/);
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`V${i}`, 'v'.repeat(120_000)]));
    assert.match((await assert422(valid({ env_vars: many }), 'env_vars')).json.message, /at most 1048576 are accepted/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash code, not a template
    const reply = await post({ ...valid({ env_vars: { FITS: 'v'.repeat(131_066) } }), code: 'echo ${#FITS}' }, '?wait=true');
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.stdout, '131066\n');
  });

  it('ids and env_vars with a lone UTF-16 surrogate (no UTF-8 form: "a\\ud800" and "a\\ufffd" would be one id): 422', async () => {
    for (const execution_id of ['a\ud800', '\udc00b']) {
      assert.match((await assert422(valid({ execution_id }), 'execution_id')).json.message, /well-formed Unicode/);
    }
    await assert422(valid({ session_id: 'victim\ud800' }), 'session_id');
    const paired = await post({ ...valid({ execution_id: executionId('pair-\ud83d\ude00'), session_id: sessionId('pair-\ud83d\ude00') }), code: 'echo paired' }, '?wait=true');
    assert.equal(paired.status, 200, `a surrogate pair is well-formed: ${paired.text}`);
  });

  it('an event nested deeper than 1000 levels: 422 naming event; 1000 levels reach every runtime', async () => {
    const nested = (depth: number) => JSON.parse('{"a":'.repeat(depth - 1) + '[]' + '}'.repeat(depth - 1)) as Record<string, unknown>;
    assert.match((await assert422(valid({ event: nested(1001) }), 'event')).json.message, /at most 1000 levels/);
    const codes: Record<string, string> = {
      python: 'def handler(event):\n    n = 0\n    while isinstance(event, dict):\n        event, n = event["a"], n + 1\n    return n + 1\n',
      javascript: 'function handler(event) { let n = 0; while (!Array.isArray(event)) { event = event.a; n++; } return n + 1; }\nmodule.exports = { handler };\n',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: bash code, not a template
      shell: 'echo "${#EVENT_JSON}"',
    };
    for (const [language, code] of Object.entries(codes)) {
      const reply = await post({ ...valid({ event: nested(1000) }), language, code }, '?wait=true');
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.status, 'success', `${language}: ${reply.text.slice(0, 2000)}`);
      if (language === 'shell') assert.equal(reply.json.stdout, `${6 * 999 + 2}\n`);
      else assert.equal(reply.json.return_value, 1000, language);
    }
    // and a handler may return it as it came
    const echoed = await post({ ...valid({ event: nested(1000) }), language: 'python', code: 'def handler(event):\n    return event\n' }, '?wait=true');
    assert.equal(echoed.json?.status, 'success', echoed.text.slice(0, 2000));
    assert.deepEqual(echoed.json.return_value, nested(1000));
  });

  it('a body nested millions of levels deep is refused before JSON.parse builds it (it held the event loop for seconds): 422, /health answers meanwhile', async () => {
    const levels = 4_000_000;
    const body = `{"execution_id":"${executionId('deep')}","session_id":"${sessionId('deep')}","language":"shell","code":"echo","event":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const deep = Array.from({ length: 2 }, () => t.request('POST', '/execute', { body, headers: { 'content-type': 'application/json' } }));
    const began = Date.now();
    const health = await t.request('GET', '/health');
    const healthMs = Date.now() - began;
    for (const reply of await Promise.all(deep)) {
      assertProblem(reply, 422, 'Executor.ValidationError');
      assert.match(reply.json.message, /event: must nest at most 1000 levels of objects and arrays \(the body nests more than 1001\)/);
    }
    assert.equal(health.status, 200);
    // JSON.parse of such a body took seconds per request here; the scan that refuses it, tens of ms
    assert.ok(healthMs < 2000, `GET /health took ${healthMs} ms while two deep bodies were refused`);
  });

  it('the server still runs code normally after all of that', async () => {
    const r = await t.run({ code: 'echo still fine', language: 'shell' });
    assert.equal(r.stdout, 'still fine\n');
  });
});
