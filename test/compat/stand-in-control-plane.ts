// A stand-in for the real control plane, written from what was measured against it (CONTRACT.md
// section 8), on loopback: `containers/ready` is answered 200 "... (no session found)" until the
// container's id is "saved" (READY_UNKNOWN_MS after the first ready it hears), then taken; a
// result is stored like its database does: a return value, stdout or stderr over 65,535 bytes
// (a TEXT column) is a 500 "Data too long", 201 the first time, 200 when already stored.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** ≈ the control plane's start call + inspect before it saves the container id */
export const READY_UNKNOWN_MS = 700;
const TEXT_COLUMN_BYTES = 65_535;

export interface ReadyCall {
  at: number;
  heard: boolean;
  body: any;
}

export interface StoredResult {
  status: string;
  stdout: string;
  stderr: string;
  exit_code: number;
  return_value: unknown;
  body: any;
}

export class StandInControlPlane {
  readonly ready: ReadyCall[] = [];
  readonly results = new Map<string, StoredResult>();
  /** result calls refused with 500 (what would stay `pending` forever) */
  readonly refusedResults: { executionId: string; answer: string }[] = [];
  readonly heartbeats: string[] = [];
  readonly exited: { at: number; body: any }[] = [];
  /** request paths in arrival order (execution ids decoded) */
  readonly paths: string[] = [];
  private firstReadyAt: number | undefined;
  /** how long after the first ready the container is known (Infinity: never, a lost session) */
  readyUnknownMs = READY_UNKNOWN_MS;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<StandInControlPlane> {
    const holder: { cp?: StandInControlPlane } = {};
    const server = http.createServer((req, res) => holder.cp!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.cp = new StandInControlPlane(server);
    return holder.cp;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = raw ? JSON.parse(raw) : undefined;
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      this.paths.push(path);
      const answer = (status: number, message: string) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status >= 400 ? { detail: message } : { message }));
      };
      if (path === '/api/v1/internal/containers/ready') {
        const now = Date.now();
        this.firstReadyAt ??= now;
        const heard = now - this.firstReadyAt >= this.readyUnknownMs;
        this.ready.push({ at: now, heard, body });
        return answer(200, heard ? 'Container ready acknowledged, session updated' : 'Container ready acknowledged (no session found)');
      }
      if (path === '/api/v1/internal/containers/exited') {
        this.exited.push({ at: Date.now(), body });
        return answer(200, 'Container exited acknowledged');
      }
      const execution = /^\/api\/v1\/internal\/executions\/(.+)\/(result|heartbeat)$/s.exec(path);
      if (execution?.[2] === 'heartbeat') {
        this.heartbeats.push(execution[1]!);
        return answer(200, 'Heartbeat acknowledged');
      }
      if (execution?.[2] === 'result') return this.store(execution[1]!, body, answer);
      answer(404, 'Not Found');
    });
  }

  private store(executionId: string, body: any, answer: (status: number, message: string) => void): void {
    if (this.results.has(executionId)) return void answer(200, 'Result already recorded');
    const columns = { f_return_value: JSON.stringify(body.return_value ?? null), f_stdout: body.stdout, f_stderr: body.stderr };
    for (const [column, value] of Object.entries(columns)) {
      if (Buffer.byteLength(value ?? '', 'utf8') > TEXT_COLUMN_BYTES) {
        const message = `(1406, "Data too long for column '${column}' at row 1")`;
        this.refusedResults.push({ executionId, answer: message });
        return void answer(500, message);
      }
    }
    this.results.set(executionId, { status: body.status, stdout: body.stdout, stderr: body.stderr, exit_code: body.exit_code, return_value: body.return_value, body });
    answer(201, 'Result recorded');
  }
}
