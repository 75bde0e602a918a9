// The python runtime asks the real interpreter once for site's directories and a compiled
// bootstrap; when it cannot, python starts the old way and the server is told why.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { preparePython } from '../../src/runtimes/python-preparation.js';
import { pythonRuntime } from '../../src/runtimes/python.js';

const staging = mkdtempSync(path.join(os.tmpdir(), 'python-preparation-'));

describe('python preparation', () => {
  after(() => rmSync(staging, { recursive: true, force: true }));

  it("compiles the bootstrap readable by the sandbox's uid whatever the umask, and finds site's directories", () => {
    const runtime = pythonRuntime(staging); // stages bootstrap.py
    const staged = path.join(staging, 'sandbox-runtime', 'bootstrap.py');
    const previous = process.umask(0o077);
    let prepared: ReturnType<typeof preparePython>;
    try {
      prepared = preparePython('/usr/bin/python3', staged, '/opt/sandbox-runtime/bootstrap.py');
    } finally {
      process.umask(previous);
    }
    assert.ok(!('failed' in prepared), JSON.stringify(prepared));
    assert.equal(statSync(prepared.compiledBootstrap).mode & 0o777, 0o644);
    const magic = execFileSync('/usr/bin/python3', ['-I', '-c', 'import importlib.util, sys; sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER)']);
    assert.deepEqual(readFileSync(prepared.compiledBootstrap).subarray(0, 4), magic, "bytecode of this interpreter's version");
    const host: string[] = JSON.parse(execFileSync('/usr/bin/python3', ['-I', '-c', 'import json, sys; print(json.dumps(sys.path))'], { cwd: '/', env: {}, encoding: 'utf8' }));
    const noSite: string[] = JSON.parse(execFileSync('/usr/bin/python3', ['-I', '-S', '-c', 'import json, sys; print(json.dumps(sys.path))'], { cwd: '/', env: {}, encoding: 'utf8' }));
    assert.deepEqual(
      prepared.siteDirs,
      host.filter((entry) => !noSite.includes(entry)),
    );
    const argv = runtime.command(256).argv;
    assert.deepEqual(argv.slice(0, 5), ['/usr/bin/python3', '-s', '-B', '-S', '/opt/sandbox-runtime/bootstrap.pyc']);
    assert.deepEqual(
      runtime.binds.map((b) => b.target),
      ['/opt/sandbox-runtime/bootstrap.py', '/opt/sandbox-runtime/bootstrap.pyc'],
    );
  });

  it('falls back to site and the source, and says why, when the interpreter cannot be asked', () => {
    const warnings: string[] = [];
    const runtime = pythonRuntime(staging, '/nonexistent/python3', (message) => warnings.push(message));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /python could not be prepared \(.*ENOENT.*\)/);
    assert.deepEqual(runtime.command(256, true).argv.slice(0, 5), ['/nonexistent/python3', '-s', '-B', '/opt/sandbox-runtime/bootstrap.py', '--primed']);
    assert.deepEqual(
      runtime.binds.map((b) => b.target),
      ['/opt/sandbox-runtime/bootstrap.py'],
    );
  });
});
