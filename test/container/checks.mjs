// HTTP checks for the container test, run from the host: `node checks.mjs <check> [args...]`.
// Each prints one line of detail and exits 0 (pass) or 1 (fail); run.sh keeps the summary.
import { setTimeout as sleep } from 'node:timers/promises';

class CheckFailed extends Error {}
const fail = (message) => {
  throw new CheckFailed(message);
};
const expect = (condition, message) => condition || fail(message);
const show = (value) => JSON.stringify(value)?.slice(0, 300);

async function request(method, url, body, timeoutMs = 60_000) {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text };
}

const backendOf = (health) => health.isolation_backend ?? health.backend ?? health.isolation?.backend ?? health.sandbox?.backend ?? 'not reported';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function waitFor(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let last = 'nothing yet';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(50);
  }
  fail(`${what}: not within ${timeoutMs / 1000} s (last: ${last})`);
}

// A request body per CONTRACT.md section 2, and what the result must hold.
const cases = {
  python: {
    code: 'def handler(event):\n    print("from python")\n    return 1 + 1\n',
    expectResult: (r) => r.return_value === 2 && r.stdout === 'from python\n',
  },
  javascript: {
    code: 'module.exports.handler = async (event) => {\n  console.log("from javascript");\n  return event.n * 2;\n};\n',
    event: { n: 21 },
    expectResult: (r) => r.return_value === 42 && r.stdout === 'from javascript\n',
  },
  shell: {
    code: 'echo hi',
    expectResult: (r) => r.stdout === 'hi\n' && r.exit_code === 0,
  },
};

const executionBody = (language, id) => ({
  execution_id: id,
  session_id: 'container-test',
  code: cases[language].code,
  language,
  event: cases[language].event ?? {},
  timeout: 60,
});

const checks = {
  /** wait-healthy URL TIMEOUT_S STARTED_MS: first healthy /health, timed from STARTED_MS */
  async 'wait-healthy'(base, timeoutSeconds, startedMs) {
    const health = await waitFor('healthy /health', Number(timeoutSeconds) * 1000, async () => {
      const r = await request('GET', `${base}/health`, undefined, 2000);
      return r.status === 200 && r.json?.status === 'healthy' ? r.json : undefined;
    });
    return `healthy ${Date.now() - Number(startedMs)} ms after podman run (backend: ${backendOf(health)})`;
  },

  async health(base) {
    const r = await request('GET', `${base}/health`);
    expect(r.status === 200, `GET /health answered ${r.status}: ${r.text.slice(0, 300)}`);
    const h = r.json ?? {};
    expect(h.status === 'healthy', `status is ${show(h.status)}`);
    expect(typeof h.version === 'string', `version is ${show(h.version)}`);
    expect(typeof h.uptime_seconds === 'number', `uptime_seconds is ${show(h.uptime_seconds)}`);
    expect(Number.isInteger(h.active_executions), `active_executions is ${show(h.active_executions)}`);
    return `200 healthy, version ${h.version}, backend ${backendOf(h)}`;
  },

  /** execute URL LANGUAGE: POST /execute?wait=true and the full result */
  async execute(base, language) {
    const id = `ctest-${language}-${Date.now()}`;
    const started = Date.now();
    const r = await request('POST', `${base}/execute?wait=true`, executionBody(language, id));
    const elapsed = Date.now() - started;
    expect(r.status === 200, `POST /execute?wait=true answered ${r.status}: ${r.text.slice(0, 300)}`);
    const result = r.json ?? {};
    expect(result.status === 'success', `status ${show(result.status)}, stderr ${show(result.stderr)}`);
    expect(cases[language].expectResult(result), `unexpected result ${show(result)}`);
    return `success, return_value ${show(result.return_value)}, stdout ${show(result.stdout)}, ${elapsed} ms round trip`;
  },

  /** execute-in URL SESSION SHELL_CODE: a shell execution in that session succeeds */
  async 'execute-in'(base, session, code) {
    const r = await request('POST', `${base}/execute?wait=true`, { execution_id: `ctest-in-${Date.now()}`, session_id: session, language: 'shell', code, timeout: 60 });
    expect(r.status === 200 && r.json?.status === 'success', `POST /execute?wait=true answered ${r.status}: ${r.text.slice(0, 300)}`);
    return `ran in session ${session}`;
  },

  /** session-file URL SESSION: a handler reads input/hello.txt and writes output/result.txt; another session is refused */
  async 'session-file'(base, session) {
    const code =
      'def handler(event):\n    import os\n    text = open("input/hello.txt").read().strip()\n    os.makedirs("output", exist_ok=True)\n    open("output/result.txt", "w").write(text.upper())\n    return text\n';
    const r = await request('POST', `${base}/execute?wait=true`, { execution_id: `ctest-session-${Date.now()}`, session_id: session, language: 'python', code, timeout: 60 });
    expect(r.status === 200 && r.json?.status === 'success', `POST /execute?wait=true answered ${r.status}: ${r.text.slice(0, 300)}`);
    expect(r.json.return_value === 'from the control plane', `return_value ${show(r.json.return_value)}`);
    const other = await request('POST', `${base}/execute`, { execution_id: `ctest-other-${Date.now()}`, session_id: 'another-session', language: 'shell', code: 'true' });
    expect(other.status === 409 && other.json?.error_code === 'Executor.WrongSession', `another session answered ${other.status}: ${other.text.slice(0, 300)}`);
    return 'read input/hello.txt, wrote output/result.txt';
  },

  /** callback URL CP_URL TOKEN: the control plane's own flow, 200 PENDING then the result callback */
  async callback(base, cp, token) {
    const id = `ctest-callback-${Date.now()}`;
    const r = await request('POST', `${base}/execute`, executionBody('python', id));
    expect(r.status === 200, `POST /execute answered ${r.status}: ${r.text.slice(0, 300)}`);
    expect(r.json?.status === 'PENDING' && r.json?.execution_id === id, `acknowledgement ${show(r.json)}`);
    const path = `/api/v1/internal/executions/${id}/result`;
    const event = await waitFor('result callback', 30_000, async () => {
      const events = (await request('GET', `${cp}/events`, undefined, 2000)).json ?? [];
      return events.find((e) => e.path === path);
    });
    const body = event.body;
    expect(event.authorization === `Bearer ${token}`, `Authorization header ${show(event.authorization)}`);
    expect(event.idempotency_key === id, `Idempotency-Key ${show(event.idempotency_key)}`);
    for (const key of ['status', 'stdout', 'stderr', 'exit_code', 'execution_time', 'return_value', 'metrics', 'artifacts']) {
      expect(key in body, `callback body lacks '${key}': ${show(body)}`);
    }
    expect(body.status === 'success' && body.return_value === 2, `callback body ${show(body)}`);
    expect(typeof body.metrics?.duration_ms === 'number', `metrics.duration_ms is ${show(body.metrics?.duration_ms)}`);
    const events = (await request('GET', `${cp}/events`)).json ?? [];
    const heartbeats = events.filter((e) => e.path === `/api/v1/internal/executions/${id}/heartbeat`).length;
    expect(heartbeats > 0, 'no heartbeat was sent for the execution');
    return `200 PENDING, then callback status success return_value 2 with bearer token and Idempotency-Key, ${heartbeats} heartbeat(s)`;
  },

  /** cp-event CP_URL NAME [key=value...]: the container lifecycle event NAME reached the control plane */
  async 'cp-event'(cp, name, ...expectations) {
    const event = await waitFor(`containers/${name} event`, 30_000, async () => {
      const events = (await request('GET', `${cp}/events`, undefined, 2000)).json ?? [];
      return events.find((e) => e.path === `/api/v1/internal/containers/${name}`);
    });
    for (const pair of expectations) {
      const [key, value] = pair.split('=');
      expect(String(event.body?.[key]) === value, `${key} is ${show(event.body?.[key])}, expected ${value}: ${show(event.body)}`);
    }
    return `containers/${name}: ${show(event.body)}`;
  },

  /** submit URL ID SHELL_CODE: the control plane's POST /execute, acknowledged with 200 PENDING */
  async submit(base, id, code) {
    const r = await request('POST', `${base}/execute`, { execution_id: id, session_id: 'container-test', code, language: 'shell' });
    expect(r.status === 200 && r.json?.status === 'PENDING', `POST /execute answered ${r.status}: ${r.text.slice(0, 300)}`);
    return `${id}: 200 PENDING`;
  },

  /** delivered CP_URL ID STDOUT: the result callback for ID reached the control plane, successful */
  async delivered(cp, id, stdout) {
    const path = `/api/v1/internal/executions/${id}/result`;
    const events = (await request('GET', `${cp}/events`)).json ?? [];
    const event = events.find((e) => e.path === path) ?? fail(`no result callback for ${id}`);
    const expected = stdout.replaceAll('\\n', '\n');
    expect(event.body?.status === 'success' && event.body?.stdout === expected, `callback body ${show(event.body)}`);
    const exited = events.findIndex((e) => e.path.endsWith('/containers/exited'));
    expect(exited === -1 || events.indexOf(event) < exited, 'the result arrived after the exited event');
    return `result ${event.body.status}, stdout ${show(event.body.stdout)}, delivered before the exited event`;
  },

  /** info-active < info.json: GET /info (fetched with curl inside the container) reports active_executions, as the guide's jq reads it */
  async 'info-active'() {
    const text = await readStdin();
    let info;
    try {
      info = JSON.parse(text);
    } catch {
      fail(`curl printed no JSON: ${text.slice(0, 300)}`);
    }
    expect(Number.isInteger(info.active_executions), `active_executions is ${show(info.active_executions)}`);
    return `curl -fsS localhost:8080/info inside the container: active_executions ${info.active_executions}, accepting ${info.accepting}`;
  },

  /** probe-native < probe.json: the probe selected the native backend, which joins network namespaces made ahead */
  async 'probe-native'() {
    const text = await readStdin();
    let probe;
    try {
      probe = JSON.parse(text);
    } catch {
      fail(`probe printed no JSON: ${text.slice(0, 300)}`);
    }
    expect(probe.selected === 'native', `selected ${show(probe.selected)}: ${show(probe.error ?? probe.backends)}`);
    const bwrap = probe.backends?.find((b) => b.backend === 'bwrap');
    const native = probe.backends?.find((b) => b.backend === 'native');
    expect(native?.prepared_networks === true, `native does not join network namespaces made ahead here: ${show(native)}`);
    return `selected native (probe spawn ${native?.spawn_ms} ms, prepared networks); bwrap ${bwrap?.available ? 'also available' : `unavailable: ${bwrap?.reason}`}`;
  },
};

const [name, ...args] = process.argv.slice(2);
const check = checks[name];
if (!check) {
  process.stdout.write(`unknown check '${name}'; known: ${Object.keys(checks).join(', ')}\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${await check(...args)}\n`);
} catch (error) {
  process.stdout.write(`${error instanceof CheckFailed ? error.message : `error: ${error.cause?.code ?? error.message}`}\n`);
  process.exit(1);
}
