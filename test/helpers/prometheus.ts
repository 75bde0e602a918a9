// A real Prometheus (Debian's `prometheus` package, installed by scripts/setup.sh) on a free
// loopback port with a throw-away data directory, for the tests of deploy/observability: it
// scrapes a real executor and answers queries through its HTTP API. Also runs promtool.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The absolute path of `name` on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs promtool with `args`; its exit status and output (both streams). */
export function promtool(args: string[], cwd?: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}` };
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export class PrometheusServer {
  private log = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
  ) {
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.log += text));
  }

  /** Starts Prometheus with this configuration (YAML text; rule_files relative to `ruleDir`) and waits until it is ready. */
  static async start(config: string, timeoutMs = 30_000): Promise<PrometheusServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sandbox-executor-prometheus-'));
    const configFile = path.join(dir, 'prometheus.yml');
    writeFileSync(configFile, config);
    const port = await freeLoopbackPort();
    const child = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const prometheus = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = await fetch(`${prometheus.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return prometheus;
      if (child.exitCode !== null || Date.now() > deadline) {
        await prometheus.stop();
        throw new Error(`Prometheus did not become ready:\n${prometheus.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** An instant query's result vector; throws with Prometheus's error when the query fails. */
  async query(expr: string): Promise<Sample[]> {
    const response = await fetch(`${this.url}/api/v1/query`, { method: 'POST', body: new URLSearchParams({ query: expr }) });
    const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query failed: ${body.error}\n${expr}`);
    if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as unknown as [number, string] }];
    return body.data.result;
  }

  /** GET one of the API's JSON documents (`/api/v1/rules`, `/api/v1/targets`); its data. */
  async api(apiPath: string): Promise<any> {
    const body = (await (await fetch(`${this.url}${apiPath}`)).json()) as { status: string; data: unknown };
    if (body.status !== 'success') throw new Error(`${apiPath}: ${JSON.stringify(body)}`);
    return body.data;
  }

  /** What Prometheus logged (warnings and errors). */
  get output(): string {
    return this.log;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
