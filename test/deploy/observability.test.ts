// deploy/observability checked with the real tools (Debian's prometheus package, installed by
// scripts/setup.sh): the alert rules with `promtool check rules` and their unit tests with
// `promtool test rules`, every dashboard expression parsed by promtool, the example Prometheus
// configuration with `promtool check config`, then a real Prometheus on loopback scraping a real
// executor (real sandboxes, a real control-plane receiver that refuses some results): after a
// few executions every dashboard expression and the prometheus-adapter rule return data, the
// alert rules evaluate cleanly and the undeliverable-result alert really fires.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CallbackReceiver } from '../helpers/callback-receiver.js';
import { eventually, executorDirs, executorEnv, submit, type ExecutorDirs } from '../helpers/executor-fixture.js';
import { ExecutorProcess } from '../helpers/executor-process.js';
import { findTool, promtool, PrometheusServer, type Sample } from '../helpers/prometheus.js';

const OBSERVABILITY = fileURLToPath(new URL('../../../deploy/observability/', import.meta.url));
const file = (name: string) => path.join(OBSERVABILITY, name);
const RENDER_SCRIPT = fileURLToPath(new URL('../../../scripts/render-dashboard.mjs', import.meta.url));
const missingTools = ['promtool', 'prometheus'].filter((tool) => !findTool(tool));
const skip = missingTools.length > 0 ? `${missingTools.join(' and ')} not installed: run scripts/setup.sh as root (it installs Debian's prometheus package)` : false;
if (skip) console.error(`\n!!!!! SKIPPING the Prometheus checks of deploy/observability: ${skip} !!!!!\n`);

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  title: string;
  datasource: { type: string; uid: string };
  targets: Target[];
}
const dashboardText = readFileSync(file('grafana-dashboard.json'), 'utf8');
const dashboard = JSON.parse(dashboardText) as { uid: string; templating: { list: any[] }; panels: Panel[] };
const expressions = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ panel: panel.title, refId: target.refId, id: panel.id, expr: target.expr })));

/** The dashboard's variables as Grafana would fill them: every executor, a 2-minute rate window. */
const RATE_WINDOW = '2m';
const filled = (expr: string) => expr.replaceAll('$__rate_interval', RATE_WINDOW).replaceAll('$instance', '.+');

/** The adapter's metricsQuery with its template filled the way prometheus-adapter fills it for one pod. */
function adapterQuery(namespace: string, pod: string): string {
  const config = readFileSync(file('prometheus-adapter.yaml'), 'utf8');
  const queries = [...config.matchAll(/^\s*metricsQuery: '(.+)'$/gm)].map((m) => m[1]!);
  assert.equal(queries.length, 1, 'one metricsQuery in prometheus-adapter.yaml');
  const series = /seriesQuery: '(\w+)\{/.exec(config)![1]!;
  return queries[0]!.replaceAll('<<.Series>>', series).replaceAll('<<.LabelMatchers>>', `namespace="${namespace}",pod=~"${pod}"`).replaceAll('<<.GroupBy>>', 'pod');
}

describe('deploy/observability', { skip }, () => {
  it('the dashboard takes its datasource from a variable, no fixed datasource uid, and covers every signal', () => {
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.ok(variable, 'a datasource variable');
    assert.equal(variable.query, 'prometheus');
    const templated = `\${${variable.name}}`;
    for (const panel of dashboard.panels) {
      assert.equal(panel.datasource.uid, templated, panel.title);
      assert.ok(panel.targets.length > 0, `${panel.title} has no query`);
      for (const target of panel.targets) assert.equal(target.datasource.uid, templated, `${panel.title} ${target.refId}`);
    }
    const uids = [...dashboardText.matchAll(/"uid": "([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(new Set(uids), new Set([dashboard.uid, templated]), "no uid but the dashboard's own and the variable");
    const used = expressions.map((e) => e.expr).join('\n');
    for (const metric of [
      'sandbox_executions_total',
      'sandbox_execution_starts_total',
      'sandbox_execution_duration_seconds_bucket',
      'sandbox_spawn_latency_seconds_bucket',
      'sandbox_active_executions',
      'sandbox_max_concurrent_executions',
      'sandbox_rejected_requests_total',
      'sandbox_outbox_depth',
      'sandbox_outbox_oldest_undelivered_age_seconds',
      'sandbox_callback_attempts_total',
      'sandbox_results_undeliverable_total',
      'sandbox_dependency_syncs_total',
      'sandbox_event_loop_delay_seconds_bucket',
      'process_resident_memory_bytes',
      'sandbox_isolation_backend_info',
      'process_start_time_seconds',
    ]) {
      assert.ok(used.includes(metric), `no panel shows ${metric}`);
    }
  });

  it('promtool check rules: alerts.yaml', () => {
    const run = promtool(['check', 'rules', file('alerts.yaml')]);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  it('promtool test rules: every alert fires in a test and stays silent in another', () => {
    const alerts = [...readFileSync(file('alerts.yaml'), 'utf8').matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]!);
    assert.ok(alerts.length >= 9, `alerts found: ${alerts}`);
    const tests = readFileSync(file('alerts.test.yaml'), 'utf8');
    for (const alert of alerts) {
      assert.match(tests, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts: \\[\\]`), `${alert}: no test where it must not fire`);
      assert.match(tests, new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels:`), `${alert}: no test where it fires`);
    }
    const run = promtool(['test', 'rules', 'alerts.test.yaml'], OBSERVABILITY);
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  it('every dashboard expression parses (promtool check rules on them as recording rules)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-dashboard-rules-'));
    try {
      const rules = expressions.map((e) => `      - record: dashboard:panel_${e.id}_${e.refId}\n        expr: ${JSON.stringify(filled(e.expr))}\n`).join('');
      writeFileSync(path.join(dir, 'dashboard.rules.yaml'), `groups:\n  - name: dashboard\n    rules:\n${rules}`);
      const run = promtool(['check', 'rules', 'dashboard.rules.yaml'], dir);
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, new RegExp(`SUCCESS: ${expressions.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool check config: prometheus.yaml (Kubernetes discovery swapped for static targets)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-prometheus-config-'));
    try {
      const config = readFileSync(file('prometheus.yaml'), 'utf8');
      const withoutKubernetes = config.replace(/kubernetes_sd_configs:\n\s+- role: pod\n/, 'static_configs:\n      - targets: ["127.0.0.1:8080"]\n');
      assert.notEqual(withoutKubernetes, config, 'the kubernetes_sd_configs block was found');
      writeFileSync(path.join(dir, 'prometheus.yaml'), withoutKubernetes);
      copyFileSync(file('alerts.yaml'), path.join(dir, 'alerts.yaml'));
      const run = promtool(['check', 'config', 'prometheus.yaml'], dir);
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, /SUCCESS: 14 rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('a real Prometheus scraping a real executor', () => {
    const POD = { namespace: 'sandbox-test', pod: 'sandbox-executor-test-0' };
    let receiver: CallbackReceiver;
    let dirs: ExecutorDirs;
    let executor: ExecutorProcess;
    let prometheus: PrometheusServer;
    /** sum of the values of an instant query (NaN when it has no result) */
    const total = async (expr: string) => (await prometheus.query(expr)).reduce((sum, s) => sum + Number(s.value[1]), 0) || NaN;

    before(async () => {
      receiver = await CallbackReceiver.start();
      // the first result call fails (retried later), the next is refused for good (undeliverable)
      receiver.script('result', [500, 400]);
      dirs = executorDirs('prometheus');
      executor = await ExecutorProcess.start(executorEnv(dirs, { CONTROL_PLANE_URL: receiver.url, MAX_CONCURRENT_EXECUTIONS: '4' }));
      prometheus = await PrometheusServer.start(
        [
          'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
          `rule_files: [${JSON.stringify(file('alerts.yaml'))}]`,
          'scrape_configs:',
          '  - job_name: sandbox-executor',
          '    static_configs:',
          `      - targets: ["${new URL(executor.url).host}"]`,
          // what the Kubernetes relabelling of prometheus.yaml adds
          `        labels: { namespace: ${POD.namespace}, pod: ${POD.pod} }`,
          '',
        ].join('\n'),
      );
      await eventually('Prometheus scraping the executor', async () => ((await total('up{job="sandbox-executor"}')) === 1 ? true : undefined), 20_000);

      // the work: every status, every language, a refusal, a dependency sync refused as invalid
      const runs = [
        { execution_id: 'prom_python', language: 'python' as const, code: 'def handler(event):\n    return 42\n' },
        { execution_id: 'prom_javascript', language: 'javascript' as const, code: 'exports.handler = () => 42;' },
        { execution_id: 'prom_shell_failed', code: 'echo failing >&2; exit 3' },
        { execution_id: 'prom_shell_timeout', code: 'sleep 10', timeout: 1 },
      ];
      for (const run of runs) assert.equal((await submit(executor.url, run, '?wait=true')).status, 200, executor.output);
      const conflict = await submit(executor.url, { execution_id: 'prom_python', language: 'python', session_id: 'another-session', code: 'def handler(event):\n    return 0\n' });
      assert.equal(conflict.status, 409);
      const sync = await fetch(`${executor.url}/internal/session-config/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(sync.status, 400, await sync.text());

      // until Prometheus has seen all of it
      await eventually(
        'the executions, the refusal and both callback failures in Prometheus',
        async () => {
          const seen = [
            (await total('sum(sandbox_executions_total)')) === runs.length,
            (await total('sum(sandbox_rejected_requests_total)')) === 1,
            (await total('sum(sandbox_dependency_syncs_total)')) === 1,
            (await total('sum(sandbox_callback_attempts_total{kind="result",outcome="http_error"})')) >= 1,
            (await total('sum(sandbox_results_undeliverable_total)')) === 1,
          ];
          return seen.every(Boolean) ? true : undefined;
        },
        30_000,
      );
    });

    after(async () => {
      await prometheus?.stop();
      if (executor) {
        executor.signal('SIGTERM');
        await executor.exited;
      }
      await receiver?.stop();
      dirs?.remove();
    });

    it('every dashboard expression returns data', async () => {
      const empty: string[] = [];
      for (const e of expressions) {
        const samples: Sample[] = await prometheus.query(filled(e.expr));
        const values = samples.map((s) => Number(s.value[1]));
        if (!values.some(Number.isFinite)) empty.push(`${e.panel} (${e.refId}): ${e.expr} -> ${JSON.stringify(samples)}`);
      }
      assert.deepEqual(empty, [], `panels without data:\n${empty.join('\n')}`);
    });

    it('the failures the dashboard shows are the ones caused', async () => {
      // the series of every known label value exist from the start, at 0: the others are compared
      const byLabel = async (expr: string, label: string) => Object.fromEntries((await prometheus.query(`${expr} > 0`)).map((s) => [s.metric[label], Number(s.value[1])]));
      assert.deepEqual(await byLabel('sum by (status) (sandbox_executions_total)', 'status'), { success: 2, failed: 1, timeout: 1 });
      assert.deepEqual(await byLabel('sum by (reason) (sandbox_rejected_requests_total)', 'reason'), { execution_id_conflict: 1 });
      assert.deepEqual(await byLabel('sum by (outcome) (sandbox_dependency_syncs_total)', 'outcome'), { invalid_request: 1 });
      assert.deepEqual(await byLabel('sum by (reason) (sandbox_results_undeliverable_total)', 'reason'), { refused: 1 });
      assert.deepEqual(await byLabel('sum by (backend) (sandbox_isolation_backend_info)', 'backend'), { native: 1 });
    });

    it('the prometheus-adapter rule gives the pod its work signal: active / MAX_CONCURRENT_EXECUTIONS', async () => {
      const query = adapterQuery(POD.namespace, POD.pod);
      const idle = await prometheus.query(query);
      assert.equal(idle.length, 1, JSON.stringify(idle));
      assert.deepEqual(idle[0]!.metric, { pod: POD.pod });
      assert.equal(Number(idle[0]!.value[1]), 0);
      // one running execution of 4 allowed: 0.25
      assert.equal((await submit(executor.url, { execution_id: 'prom_busy', code: 'sleep 4' })).status, 200);
      const busy = await eventually(
        'the work signal at 0.25',
        async () => {
          const value = Number((await prometheus.query(query))[0]?.value[1]);
          return value === 0.25 ? value : undefined;
        },
        10_000,
      );
      assert.equal(busy, 0.25);
      // another pod's name selects nothing: the signal is per pod
      assert.deepEqual(await prometheus.query(adapterQuery(POD.namespace, 'another-pod')), []);
    });

    it('the alert rules evaluate against the real series without errors, and a refused result fires its alert', async () => {
      const groups = await eventually(
        'every rule evaluated once',
        async () => {
          const data = await prometheus.api('/api/v1/rules');
          const rules = data.groups.flatMap((g: any) => g.rules);
          return rules.length === 14 && rules.every((r: any) => !r.lastEvaluation.startsWith('0001')) ? data.groups : undefined;
        },
        15_000,
      );
      for (const rule of groups.flatMap((g: any) => g.rules)) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
      const alerts = (await prometheus.api('/api/v1/alerts')).alerts as any[];
      const firing = alerts.filter((a) => a.state === 'firing').map((a) => `${a.labels.alertname} ${a.labels.reason ?? ''}`.trim());
      assert.deepEqual(firing, ['SandboxResultsUndeliverable refused'], prometheus.output);
    });

    // the PNG of docs/operations.md: a minute of mixed executions, then the panels drawn from Prometheus
    it('draws the dashboard into DASHBOARD_PNG when set', { skip: process.env.DASHBOARD_PNG ? false : 'DASHBOARD_PNG not set' }, async () => {
      const codes = ['true', 'sleep 0.5', 'exit 1', 'sleep 2'];
      for (let i = 0; i < 120; i++) {
        await submit(executor.url, { execution_id: `prom_load_${i}`, code: codes[i % codes.length]!, session_id: `load_${i % 3}` });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      const render = spawnSync(process.execPath, [RENDER_SCRIPT, prometheus.url, process.env.DASHBOARD_PNG!, '2'], { encoding: 'utf8' });
      assert.equal(render.status, 0, render.stderr);
    });
  });
});
