// What the executor tells about itself and each run: per-execution metrics measured in the
// sandbox (not the server), the attestation of the protections that run really had, GET /health
// (CONTRACT.md section 2: 200 with the four keys, 503 with a reason), GET /info, GET /metrics
// (Prometheus text) and GET /openapi.json.
import assert from 'node:assert/strict';
import { renameSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { assertSuccess, describeResult, sessionId, TestServer } from '../helpers/http.js';

/** Sum of a Prometheus sample's values over the label sets matching `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const set = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => set[k] === v)) {
      total += Number(m[3]);
      found = true;
    }
  }
  return found ? total : NaN;
}

describe('observability', () => {
  let t: TestServer;
  before(async () => {
    t = await TestServer.start();
  });
  after(() => t.stop());

  describe('metrics of each execution, from the sandbox', () => {
    it('python: duration, CPU time, peak memory and I/O are numbers of the right size', async () => {
      const r = await t.run({
        language: 'python',
        code: `import time
def handler(event):
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    block = bytearray(80 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    with open("written.bin", "wb") as f:
        f.write(b"w" * (2 * 1024 * 1024))
    return len(block)
`,
      });
      assertSuccess(r);
      const m = r.metrics!;
      assert.equal(typeof m.duration_ms, 'number');
      assert.ok(m.duration_ms >= 300, `duration_ms ${m.duration_ms}`);
      assert.ok(Math.abs(m.duration_ms / 1000 - r.execution_time) < 0.01, `duration_ms ${m.duration_ms} vs execution_time ${r.execution_time}`);
      assert.ok(typeof m.cpu_time_ms === 'number' && m.cpu_time_ms >= 250, `cpu_time_ms ${m.cpu_time_ms}`);
      // the sandbox's 80 MiB, not the server's heap
      assert.ok(typeof m.peak_memory_mb === 'number' && m.peak_memory_mb >= 80 && m.peak_memory_mb < 200, `peak_memory_mb ${m.peak_memory_mb}`);
      assert.ok(typeof m.io_write_bytes === 'number' && m.io_write_bytes >= 2 * 1024 * 1024, `io_write_bytes ${m.io_write_bytes}`);
      assert.ok(typeof m.io_read_bytes === 'number' && m.io_read_bytes > 0, `io_read_bytes ${m.io_read_bytes}`);
    });

    it('a small python handler: small numbers, but real ones', async () => {
      const r = await t.run({ language: 'python', code: 'def handler(event):\n    return 1\n' });
      assertSuccess(r);
      const m = r.metrics!;
      assert.ok(m.cpu_time_ms! > 0, `cpu_time_ms ${m.cpu_time_ms}`);
      assert.ok(m.peak_memory_mb! > 0 && m.peak_memory_mb! < 200, `peak_memory_mb ${m.peak_memory_mb}`);
      assert.ok(m.duration_ms > 0 && m.duration_ms < 30_000);
      assert.equal(typeof m.io_read_bytes, 'number');
      assert.equal(typeof m.io_write_bytes, 'number');
    });

    it('javascript and shell have metrics too', async () => {
      for (const [language, code] of [
        ['javascript', 'module.exports = () => 1;'],
        ['shell', 'echo hi'],
      ] as const) {
        const r = await t.run({ language, code });
        assertSuccess(r);
        assert.equal(typeof r.metrics?.duration_ms, 'number', language);
        assert.ok(r.metrics!.cpu_time_ms! > 0, `${language} cpu_time_ms ${r.metrics!.cpu_time_ms}`);
        assert.ok(r.metrics!.peak_memory_mb! > 0, `${language} peak_memory_mb ${r.metrics!.peak_memory_mb}`);
      }
    });
  });

  describe('attestation: how each run was isolated', () => {
    it('reports the backend, every namespace, identity, privileges and limits as enforced', async () => {
      const r = await t.run({ language: 'shell', code: 'true', timeout: 42 });
      assertSuccess(r);
      const s = r.sandbox;
      assert.ok(s, describeResult(r));
      assert.equal(s.backend, 'native');
      assert.deepEqual(s.namespaces, { user: true, mount: true, pid: true, network: true, ipc: true, uts: true, cgroup: true });
      assert.equal(s.uid, 1000);
      assert.equal(s.gid, 1000);
      assert.equal(s.capabilities_dropped, true);
      assert.equal(s.no_new_privs, true);
      assert.equal(s.seccomp, true);
      assert.equal(s.rlimits.cpu_seconds, 42, "the CPU limit follows this execution's timeout");
      assert.equal(s.rlimits.data_bytes, 512 * 1024 * 1024, 'MAX_MEMORY_MB default');
      assert.equal(s.rlimits.file_size_bytes, 1024 * 1024 * 1024);
      assert.equal(s.rlimits.open_files, 128, 'MAX_OPEN_FILES default');
      assert.equal(s.rlimits.core_bytes, 0);
      assert.equal(s.process_limit.max, 512);
      assert.equal(typeof s.process_limit.mechanism, 'string');
      assert.notEqual(s.process_limit.mechanism, 'none');
      // every bound with its value as read back inside, its unit and its mechanism
      const bound = (resource: string) => s.bounds.find((b) => b.resource === resource);
      assert.deepEqual(bound('open_files'), { resource: 'open_files', limit: 512 * 128, unit: 'files', mechanism: s.process_limit.mechanism === 'pid_namespace_pid_max' ? 'pid-namespace' : 'rlimit' });
      assert.deepEqual(bound('pending_signals_and_posix_timers'), { resource: 'pending_signals_and_posix_timers', limit: 128, unit: 'signals', mechanism: 'rlimit' });
      assert.deepEqual(bound('inotify_instances'), { resource: 'inotify_instances', limit: 16, unit: 'instances', mechanism: 'userns-limit' });
      assert.deepEqual(bound('user_namespaces'), { resource: 'user_namespaces', limit: 0, unit: 'namespaces', mechanism: 'userns-limit' });
      // the same attestation goes to the control plane
      assert.deepEqual(t.callbackOf(r.execution_id).sandbox, s);
    });

    it('matches what the process inside really has', async () => {
      const r = await t.run({ language: 'shell', code: 'grep -E "^(Uid|Gid|CapEff|NoNewPrivs|Seccomp):" /proc/self/status; ulimit -n' });
      assertSuccess(r);
      assert.match(r.stdout, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
      assert.match(r.stdout, /^CapEff:\s+0000000000000000$/m);
      assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
      assert.match(r.stdout, /^Seccomp:\s+2$/m);
      assert.match(r.stdout, new RegExp(`^${r.sandbox!.rlimits.open_files}$`, 'm'));
    });
  });

  describe('GET /health', () => {
    it('200 {"status":"healthy","version","uptime_seconds","active_executions"} naming the backend', async () => {
      const reply = await t.request('GET', '/health');
      assert.equal(reply.status, 200, reply.text);
      const h = reply.json;
      assert.equal(h.status, 'healthy');
      assert.equal(typeof h.version, 'string');
      assert.match(h.version, /^\d+\.\d+\.\d+/);
      assert.equal(typeof h.uptime_seconds, 'number');
      assert.ok(h.uptime_seconds >= 0);
      assert.ok(Number.isInteger(h.active_executions) && h.active_executions >= 0);
      assert.equal(h.backend, 'native');
    });

    it('counts running executions', async () => {
      const ack = await t.submit({ execution_id: `exec_health_${Date.now()}`, session_id: 'sess_health', code: 'sleep 1.5', language: 'shell' });
      assert.equal(ack.status, 200);
      const during = await t.request('GET', '/health');
      assert.equal(during.json.active_executions, 1);
      await t.finished(ack.json.execution_id);
      assert.equal((await t.request('GET', '/health')).json.active_executions, 0);
    });

    it('503 {"detail":{"status":"unhealthy","reason"}} when the workspace is gone, healthy again once back', async () => {
      const root = t.workspaceRoot;
      renameSync(root, `${root}.away`);
      try {
        const reply = await t.request('GET', '/health');
        assert.equal(reply.status, 503, reply.text);
        assert.equal(reply.json.detail.status, 'unhealthy');
        assert.match(reply.json.detail.reason, /workspace/);
      } finally {
        renameSync(`${root}.away`, root);
      }
      assert.equal((await t.request('GET', '/health')).status, 200);
    });

    it('503 while shutting down', async () => {
      const t2 = await TestServer.start();
      try {
        t2.server.service.stopAccepting();
        const reply = await t2.request('GET', '/health');
        assert.equal(reply.status, 503);
        assert.equal(reply.json.detail.status, 'unhealthy');
        assert.match(reply.json.detail.reason, /shutting down/);
      } finally {
        await t2.stop();
      }
    });
  });

  describe('GET /info', () => {
    it('version, platform, backend with its enforced protections, workspace, executions, limits', async () => {
      const reply = await t.request('GET', '/info');
      assert.equal(reply.status, 200, reply.text);
      const i = reply.json;
      assert.equal(i.version, (await t.request('GET', '/health')).json.version);
      assert.equal(i.platform.os, 'linux');
      assert.equal(typeof i.platform.kernel, 'string');
      assert.equal(i.isolation.backend, 'native');
      assert.equal(i.isolation.enforced.seccomp, true);
      assert.equal(i.isolation.enforced.namespaces.user, true);
      assert.equal(i.isolation.network, 'none');
      assert.equal(i.workspace, t.workspaceRoot);
      assert.equal(i.active_executions, 0);
      assert.equal(typeof i.queued_executions, 'number');
      assert.equal(i.mode, 'standalone');
      assert.equal(i.limits.max_concurrent_executions, 100);
      assert.equal(i.limits.default_timeout_seconds, 300);
      assert.equal(i.limits.memory_mb, 512);
      assert.equal(i.limits.output_bytes_per_stream, 61440);
      // the bounds as configured: the same list a result's attestation carries, as enforced
      assert.deepEqual(i.bounds, (await t.run({ language: 'shell', code: 'true', timeout: 300 })).sandbox!.bounds);
    });
  });

  describe('GET /metrics', () => {
    it('Prometheus text with executions by language and status, durations, spawn latency, active, truncations, rejections, process defaults', async () => {
      const before = (await t.request('GET', '/metrics')).text;
      const session_id = sessionId('metrics'); // one session: its later executions find sandboxes made ahead
      const ok = () => t.run({ session_id, language: 'shell', code: 'true' });
      const results = [await ok(), await ok()];
      results.push(await t.run({ session_id, language: 'python', code: 'raise SystemExit(1)' }));
      results.push(await t.run({ session_id, language: 'shell', code: 'head -c 100000 /dev/zero | tr "\\0" x' }));
      const reply = await t.request('GET', '/metrics');
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get('content-type') ?? '', /^text\/plain/);
      const after = reply.text;
      const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - (sample(before, name, labels) || 0);
      assert.equal(delta('sandbox_executions_total', { language: 'shell', status: 'success' }), 3);
      assert.equal(delta('sandbox_executions_total', { language: 'python', status: 'failed' }), 1);
      assert.equal(delta('sandbox_execution_duration_seconds_count', { language: 'shell' }), 3);
      // how each sandbox was had, as its result's phases.start says; every series exists from the start
      for (const language of ['shell', 'python', 'javascript']) {
        for (const start of ['primed', 'warm', 'cold']) {
          const expected = results.filter((r) => r.language === language && r.phases.start === start).length;
          assert.equal(delta('sandbox_execution_starts_total', { language, start }), expected, `${language} ${start}`);
          assert.match(before, new RegExp(`^sandbox_execution_starts_total\\{language="${language}",start="${start}"\\} `, 'm'));
        }
      }
      assert.ok(
        results.some((r) => r.phases.start !== 'cold'),
        `a session that comes back finds a sandbox made ahead: ${results.map((r) => r.phases.start)}`,
      );
      assert.ok(delta('sandbox_spawn_latency_seconds_count') >= 4);
      assert.equal(delta('sandbox_output_truncations_total', { stream: 'stdout' }), 1);
      assert.equal(sample(after, 'sandbox_active_executions'), 0);
      // the work signal's denominator and the backend in force, for the dashboard and alerts
      assert.equal(sample(after, 'sandbox_max_concurrent_executions'), 100, 'MAX_CONCURRENT_EXECUTIONS default');
      assert.equal(sample(after, 'sandbox_isolation_backend_info', { backend: 'native', configured: t.server.config.isolation }), 1);
      assert.equal(sample(after, 'sandbox_isolation_backend_info'), 1, 'one backend in force');
      assert.ok(delta('sandbox_event_loop_delay_seconds_count') > 0, 'the event-loop delay was sampled while the executions ran');
      for (const name of ['process_resident_memory_bytes', 'process_start_time_seconds']) {
        assert.ok(sample(after, name) > 0, `${name} is a real value`);
      }
      for (const name of ['sandbox_rejected_requests_total', 'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
        assert.match(after, new RegExp(`^# TYPE ${name} `, 'm'), `${name} missing`);
      }
      assert.match(after, /^sandbox_execution_duration_seconds_bucket\{le="0\.005",language="shell"\} \d+/m);
    });
  });

  describe('GET /openapi.json', () => {
    it('is an OpenAPI 3 document describing POST /execute with the ExecuteRequest schema', async () => {
      const reply = await t.request('GET', '/openapi.json');
      assert.equal(reply.status, 200);
      const doc = reply.json;
      assert.match(doc.openapi, /^3\.\d+\.\d+$/);
      assert.equal(typeof doc.info.title, 'string');
      assert.equal(typeof doc.info.version, 'string');
      for (const p of ['/execute', '/executions/{execution_id}', '/health', '/info', '/metrics']) assert.ok(doc.paths[p], `path ${p} missing`);
      const schema = doc.components.schemas.ExecuteRequest;
      assert.ok(schema, 'ExecuteRequest missing');
      assert.deepEqual([...schema.required].sort(), ['code', 'execution_id', 'language', 'session_id']);
      assert.deepEqual(schema.properties.language.enum, ['python', 'javascript', 'shell']);
      assert.equal(schema.properties.timeout.minimum, 1);
      assert.equal(schema.properties.timeout.maximum, 3600);
      assert.deepEqual(Object.keys(schema.properties).sort(), ['code', 'env_vars', 'event', 'execution_id', 'language', 'session_id', 'timeout']);
      assert.equal(schema.properties.env_vars.additionalProperties.type, 'string');
      assert.ok(!reply.text.includes('"definitions"'), 'JSON Schema "definitions" are not OpenAPI: schemas belong in components.schemas');
      // every $ref resolves inside the document
      const refs = [...reply.text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
      assert.ok(refs.length > 0);
      for (const ref of refs) {
        const target = ref
          .replace(/^#\//, '')
          .split('/')
          .reduce<any>((node, key) => node?.[key], doc); // eslint-disable-line @typescript-eslint/no-explicit-any
        assert.ok(target, `unresolved ${ref}`);
      }
    });
  });
});
