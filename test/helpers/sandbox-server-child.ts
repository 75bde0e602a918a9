// A stand-in for the executor server, for the test that SIGKILLs it: starts a sandbox running an
// escaping process tree (see escapingTreeArgv) and prints "READY <fixture root>" once the tree's
// orphan and main process both run, then waits to be killed.
//
// Only acts when started with SANDBOX_TEST_CHILD_MARKER set: `node --test dist/test/` runs every
// file under test/ as a test file, this one included.
import { escapingTreeArgv, pollFor, processesWithMarker } from './processes.js';
import { SandboxFixture, type TestBackend } from './sandbox-host.js';

const marker = process.env.SANDBOX_TEST_CHILD_MARKER;
const backend = process.env.SANDBOX_TEST_CHILD_BACKEND as TestBackend | undefined;

if (marker && backend) {
  const fixture = await SandboxFixture.start();
  const { run } = fixture.start(backend, { argv: escapingTreeArgv(marker, 'stay'), timeoutMs: 3_600_000 });
  const running = await pollFor(() => {
    const names = processesWithMarker(marker).map((p) => p.cmdline);
    return names.some((c) => c.startsWith(`${marker}-orphan `)) && names.some((c) => c.startsWith(`${marker}-main `)) ? true : undefined;
  }, 20_000);
  if (!running) {
    process.stdout.write('NOT-READY\n');
    run.kill('timeout');
    await run.result;
    fixture.close();
    process.exit(1);
  }
  process.stdout.write(`READY ${fixture.root}\n`);
  setInterval(() => {}, 1 << 30); // wait for SIGKILL
}
