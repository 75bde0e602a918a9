// The host's file table: one run that opens every file it can, in every process it can start,
// holds at most its stated budget (MAX_PROCESSES x MAX_OPEN_FILES with the defaults), counted from
// outside in /proc/sys/fs/file-nr while it holds them. Both backends; as root and unprivileged.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { bind } from '../../src/sandbox/policy.js';
import { compileC } from '../helpers/compile.js';
import { pollFor } from '../helpers/processes.js';
import { BACKENDS, describeRun, SandboxFixture } from '../helpers/sandbox-host.js';

/** README, "File table and pids": one run holds at most this many open files with the defaults. */
const STATED_FILE_BUDGET = 65_536;

/**
 * files N: starts up to N processes (itself included) until fork fails; each opens /dev/null until
 * open fails and says how many on a pipe. Prints "processes=P files=F", creates /workspace/ready
 * and holds everything until /workspace/release (or a minute).
 */
const FILES_SOURCE = String.raw`
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

static int open_all(void) {
  int n = 0;
  while (n < (1 << 20) && open("/dev/null", O_RDONLY) >= 0) n++;
  return n;
}
int main(int argc, char **argv) {
  int most = argc > 1 ? atoi(argv[1]) : 1;
  int counts[2], hold[2];
  if (pipe(counts) != 0 || pipe(hold) != 0) return 1;
  int processes = 1;
  for (; processes < most; processes++) {
    pid_t pid = fork();
    if (pid < 0) break;
    if (pid == 0) {
      close(counts[0]);
      close(hold[1]);
      int n = open_all();
      (void)!write(counts[1], &n, sizeof n);
      char byte;
      (void)!read(hold[0], &byte, 1);  /* EOF once the first process is gone */
      _exit(0);
    }
  }
  close(counts[1]);
  close(hold[0]);
  long files = 0;
  for (int i = 1; i < processes; i++) {
    int n = 0;
    if (read(counts[0], &n, sizeof n) == sizeof n) files += n;
  }
  int spare = open("/dev/null", O_RDONLY);  /* given back for the ready file */
  files += open_all() + 1;
  close(spare);
  printf("processes=%d files=%ld\n", processes, files);
  fflush(stdout);
  close(open("/workspace/ready", O_CREAT | O_WRONLY, 0644));
  for (int i = 0; i < 6000 && access("/workspace/release", F_OK) != 0; i++) usleep(10000);
  return 0;
}
`;

const defaults = loadConfig({}).limits;
const fixture = await SandboxFixture.start();
const toolsDir = fixture.readOnlyDir();
compileC(FILES_SOURCE, toolsDir, 'files');
const tools = bind(toolsDir, '/tools')!;

function filesInUse(): number {
  return Number(readFileSync('/proc/sys/fs/file-nr', 'utf8').split(/\s+/)[0]);
}

describe('file table', () => {
  after(() => fixture.close());

  it(`the defaults bound one run to ${STATED_FILE_BUDGET} files (MAX_PROCESSES x MAX_OPEN_FILES)`, () => {
    assert.ok(defaults.maxProcesses * defaults.openFiles <= STATED_FILE_BUDGET, `${defaults.maxProcesses} x ${defaults.openFiles}`);
  });

  for (const backend of BACKENDS) {
    describe(backend, { skip: fixture.unavailable(backend) ?? false }, () => {
      it('a run opening every file it can in every process it can start stays within the budget, counted from outside', async (t) => {
        const workspace = fixture.workspace();
        const before = filesInUse();
        const { run } = fixture.start(backend, {
          workspace,
          extra: [tools],
          argv: ['/tools/files', String(defaults.maxProcesses + 100)],
          limits: { maxProcesses: defaults.maxProcesses, openFiles: defaults.openFiles },
          timeoutMs: 120_000,
        });
        const ready = await pollFor(() => existsSync(path.join(workspace, 'ready')) || undefined, 100_000);
        const during = filesInUse();
        writeFileSync(path.join(workspace, 'release'), '');
        const r = await run.result;
        assert.ok(ready, `the run did not get ready: ${describeRun(r)}`);
        const out = r.stdout.head.toString();
        assert.equal(r.exitCode, 0, describeRun(r));
        const held = /processes=(\d+) files=(\d+)/.exec(out);
        assert.ok(held, out);
        const [processes, files] = [Number(held[1]), Number(held[2])];
        // it did try: many processes, each with every file it could open
        assert.ok(processes >= 100 && files >= processes * (defaults.openFiles - 16), out);
        assert.ok(files <= STATED_FILE_BUDGET, out);
        // from outside: what the whole host's file table grew by (other work on the host included)
        const fileMax = Number(readFileSync('/proc/sys/fs/file-max', 'utf8'));
        const grown = during - before;
        t.diagnostic(`${out.trim()}; the host's file table grew by ${grown}: ${((grown / fileMax) * 100).toFixed(2)} % of file-max ${fileMax}`);
        assert.ok(grown <= STATED_FILE_BUDGET, `the host's file table grew by ${grown} (${((grown / fileMax) * 100).toFixed(2)} % of file-max ${fileMax}); the run said ${out}`);
      });
    });
  }
});
