// Optional inbound auth (EXECUTOR_API_TOKEN): off by default, since the control plane sends no
// token (CONTRACT.md section 1); when set, every route but /health needs the bearer token, and a
// missing or wrong token gets one constant 401 body, with nothing run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, body, executionId, sessionId, TestServer } from '../helpers/http.js';

const TOKEN = 'tok-9f8e7d6c5b4a';

describe('auth: EXECUTOR_API_TOKEN set', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start({ EXECUTOR_API_TOKEN: TOKEN }, { token: TOKEN });
  });
  after(() => t.stop());

  const wrong: [string, Record<string, string>][] = [
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer not-the-token' }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['the token plus a character', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` }],
    ['the bare token', { authorization: TOKEN }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ];

  it('refuses POST /execute without the right token with one constant 401 body, and runs nothing', async () => {
    const bodies = new Set<string>();
    for (const [label, headers] of wrong) {
      const request = body({ code: 'echo should-not-run', language: 'shell' });
      const reply = await t.request('POST', '/execute', { json: request, headers, auth: false });
      assertProblem(reply, 401, 'Executor.Unauthorized');
      bodies.add(reply.text);
      // nothing recorded (asked with the right token)
      assert.equal((await t.state(request.execution_id)).status, 404, label);
    }
    assert.equal(bodies.size, 1, `401 bodies differ: ${[...bodies].join(' | ')}`);
    assert.match([...bodies][0]!, /Authorization: Bearer/);
  });

  it('guards every route but /health', async () => {
    for (const route of ['/info', '/metrics', '/openapi.json', '/executions/anything']) {
      const reply = await t.request('GET', route, { auth: false });
      assertProblem(reply, 401, 'Executor.Unauthorized');
    }
    const health = await t.request('GET', '/health', { auth: false });
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'healthy');
  });

  it('accepts the right token (scheme case-insensitive) on every route', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const r = await t.request('POST', '/execute?wait=true', { json: body({ code: 'echo authorized', language: 'shell' }), headers: { authorization }, auth: false });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.stdout, 'authorized\n');
    }
    for (const route of ['/info', '/metrics', '/openapi.json', '/health']) assert.equal((await t.request('GET', route)).status, 200, route);
  });
});

describe('auth: off by default', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  it('takes requests without any Authorization header, as the control plane sends them', async () => {
    const id = executionId('noauth');
    const reply = await t.request('POST', '/execute', { json: { execution_id: id, session_id: sessionId(), code: 'echo open', language: 'shell' } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal((await t.finished(id)).result?.stdout, 'open\n');
    for (const route of ['/info', '/metrics', '/openapi.json', `/executions/${id}`]) assert.equal((await t.request('GET', route)).status, 200, route);
  });

  it('ignores an Authorization header it does not need', async () => {
    const reply = await t.request('POST', '/execute?wait=true', { json: body({ code: 'echo ignored', language: 'shell' }), headers: { authorization: 'Bearer whatever' } });
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.stdout, 'ignored\n');
  });
});
