// The http suite against --target: a tiny fake executor speaking the /execute contract (no
// sandboxes), in ?wait=true mode and in callback mode with the bench's own receiver.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { benchHttp } from '../../tools/bench/http-suite.js';
import { HTTP_WORKLOADS, SHELL_ECHO } from '../../tools/bench/workloads.js';

/** Answers like our executor would for the bench's workloads; every 5th request gets a 503. */
class FakeExecutor {
  private server = http.createServer((req, res) => this.handle(req, res));
  requests = 0;
  callbackUrl = '';
  failEvery = 0;

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.url === '/info') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 'fake', isolation: { backend: 'fake' }, limits: { max_concurrent_executions: 1000 } }));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(404).end(); // no GET /executions/{id}: the bench must do without phases
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests++;
      if (this.failEvery && this.requests % this.failEvery === 0) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"detail":"busy"}');
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { execution_id: string; language: string; code: string };
      const result = {
        status: 'success',
        stdout: body.language === 'shell' ? 'hi\n' : body.code.includes('print') ? 'x'.repeat(100) : '',
        stderr: '',
        exit_code: 0,
        return_value: body.language === 'shell' ? null : 1,
        phases: { queue_ms: 0, prepare_ms: 1, spawn_ms: 2, run_ms: 3, artifact_scan_ms: 0.5, result_build_ms: 0.1 },
      };
      if (req.url === '/execute?wait=true') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ execution_id: body.execution_id, status: 'PENDING' }));
      if (!this.callbackUrl) return; // nobody listens: a wait-mode run's acknowledgement probe
      // the callback body has no phases (the contract's keys only)
      const { phases: _phases, ...callback } = result;
      const post = http.request(
        `${this.callbackUrl}/api/v1/internal/executions/${encodeURIComponent(body.execution_id)}/result`,
        { method: 'POST', headers: { 'content-type': 'application/json' } },
        (r) => r.resume(),
      );
      post.end(JSON.stringify(callback));
    });
  }
}

describe('bench http against --target', () => {
  const fake = new FakeExecutor();
  let url = '';
  before(async () => (url = await fake.start()));
  after(() => fake.close());

  it('measures every workload at every level in wait mode, with phases', async () => {
    const lines: string[] = [];
    const result = await benchHttp({
      target: url,
      mode: 'wait',
      receiverHost: '127.0.0.1',
      receiverPort: 0,
      iterations: 6,
      concurrency: [1, 3],
      workloads: HTTP_WORKLOADS,
      timeoutSeconds: 5,
      progress: (l) => lines.push(l),
    });
    assert.equal(result.target, url);
    assert.equal(result.server?.backend, 'fake');
    assert.equal(result.startup_reference, null, 'no local reference for a remote target');
    assert.deepEqual(
      result.cells.map((c) => `${c.workload}@${c.concurrency}`),
      HTTP_WORKLOADS.flatMap((w) => [`${w.name}@1`, `${w.name}@3`]),
    );
    for (const cell of result.cells) {
      assert.equal(cell.ok, 6, JSON.stringify(cell.errors));
      assert.equal(cell.latency?.n, 6);
      assert.ok(cell.throughput_rps > 0);
      assert.equal(cell.phases_p50?.run_ms, 3);
      assert.equal(cell.server, null, 'no /proc figures for a target we did not start');
    }
    assert.ok(lines.some((l) => /python-print-1mib c=3 done/.test(l)));
    assert.equal(result.ack_under_load.length, 1, 'levels 1 and 3: the acknowledgement at 3 only');
    const ack = result.ack_under_load[0];
    assert.deepEqual([ack?.workload, ack?.concurrency, ack?.errors, ack?.latency?.n], ['python-return-1', 3, 0, 6], ack?.first_error ?? '');
    assert.ok(ack!.background_executions >= 2, 'two workers kept executions running meanwhile');
  });

  it('makes each worker wait --think-ms after a result before its next request', async () => {
    const thinkMs = 50;
    const result = await benchHttp({
      target: url,
      mode: 'wait',
      receiverHost: '127.0.0.1',
      receiverPort: 0,
      iterations: 4,
      concurrency: [1],
      workloads: HTTP_WORKLOADS.filter((w) => w.name === 'shell-echo'),
      timeoutSeconds: 5,
      thinkMs,
      progress: () => {},
    });
    assert.equal(result.think_ms, thinkMs);
    const cell = result.cells[0]!;
    assert.equal(cell.ok, 4, JSON.stringify(cell.errors));
    // one worker, four requests, a pause after each: the fake answers in milliseconds
    assert.ok(cell.elapsed_s >= (4 * thinkMs) / 1000, `the pauses count in the cell's time: ${cell.elapsed_s} s`);
  });

  it('counts 503s, and waits for callbacks in callback mode', async () => {
    const receiverPort = await freePort();
    fake.callbackUrl = `http://127.0.0.1:${receiverPort}`;
    fake.failEvery = 5;
    try {
      const result = await benchHttp({
        target: url,
        mode: 'callback',
        receiverHost: '127.0.0.1',
        receiverPort,
        iterations: 10,
        concurrency: [2],
        workloads: [SHELL_ECHO],
        timeoutSeconds: 5,
        progress: () => {},
      });
      const [cell] = result.cells;
      assert.equal(cell!.requests, 10);
      assert.ok(cell!.errors.rejected_503 >= 1, JSON.stringify(cell!.errors));
      assert.equal(cell!.errors.total, cell!.errors.rejected_503);
      assert.equal(cell!.ok + cell!.errors.total, 10);
      assert.equal(cell!.phases_p50, null, 'callbacks carry no phases, and this executor has no GET /executions/{id}');
      assert.equal(result.callback_duplicates, 0);
      const ack = result.ack_under_load[0]!;
      assert.equal((ack.latency?.n ?? 0) + ack.errors, 10, 'every acknowledgement timed or counted as an error');
      assert.ok(ack.errors >= 1 && /HTTP 503/.test(ack.first_error ?? ''), JSON.stringify(ack));
    } finally {
      fake.failEvery = 0;
    }
  });

  it('counts a wrong answer as an error, not as a latency', async () => {
    const wrong = { ...SHELL_ECHO, name: 'expects-bye', check: (r: Record<string, unknown>) => (r.stdout === 'bye\n' ? null : 'wrong stdout') };
    const result = await benchHttp({
      target: url,
      mode: 'wait',
      receiverHost: '127.0.0.1',
      receiverPort: 0,
      iterations: 3,
      concurrency: [1],
      workloads: [wrong],
      timeoutSeconds: 5,
      progress: () => {},
    });
    assert.equal(result.cells[0]!.errors.wrong_result, 3);
    assert.equal(result.cells[0]!.latency, null);
    assert.equal(result.cells[0]!.errors.first, 'wrong stdout');
  });
});

async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
