// The executor as a child process (`node dist/src/cli/main.js serve`), for the tests that need
// what only a real process has: signals, an exit code, a SIGKILL that leaves nothing behind but
// the journal. Its JSON log (stderr) is kept for assertion messages; the port comes from it.
//
// Note: `node --test dist/test/` treats every .js file under test/ as a test file, so this module
// must do nothing when imported on its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ExecutorProcess {
  readonly exited: Promise<Exit>;
  private log = '';
  private port = 0;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.log += text));
  }

  private static spawn(env: Record<string, string>): ExecutorProcess {
    const child = spawn(process.execPath, [MAIN, 'serve'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return new ExecutorProcess(child);
  }

  /** Starts `serve` with `env` (plus PATH and HOME; logging at info, JSON) and waits until it listens. */
  static async start(env: Record<string, string>, timeoutMs = 20_000): Promise<ExecutorProcess> {
    const executor = ExecutorProcess.spawn(env);
    const child = executor.child;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listening = /"port":(\d+)[^\n]*"msg":"executor listening"/.exec(executor.log);
      if (listening) {
        executor.port = Number(listening[1]);
        return executor;
      }
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`the executor did not start listening:\n${executor.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Starts `serve` with `env` expecting it to give up: its exit and what it logged, or
   * `exit: undefined` when it was still running after `timeoutMs` (then it is SIGKILLed).
   */
  static async startRefused(env: Record<string, string>, timeoutMs = 15_000): Promise<{ exit: Exit | undefined; output: string }> {
    const executor = ExecutorProcess.spawn(env);
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const exit = await Promise.race([executor.exited, timeUp]);
    clearTimeout(timer);
    await executor.kill();
    return { exit, output: executor.log };
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Everything it logged so far. */
  get output(): string {
    return this.log;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Cleanup after a failed assertion: SIGKILL unless it has exited already. */
  async kill(): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }
}
