// The guards around pip, without an index: which specs and index URLs may reach it, its argv
// (options before "--", specs after), its environment (none of the server's variables), its
// process group killed on timeout, and the bounded tail of its output.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { indexUrlProblem, pipIndexArguments, redactIndexUrl } from '../../src/dependencies/index-url.js';
import { OutputTail } from '../../src/dependencies/output-tail.js';
import { pipArguments, pipEnvironment, runPipInstall, type PipInstallRequest } from '../../src/dependencies/pip-installer.js';
import { requestedProject, requirementSpecProblem, withoutOperatorSpaces } from '../../src/dependencies/requirement-spec.js';
import { SessionConfigSyncRequestSchema } from '../../src/http/schemas.js';
import { killMarked, survivorsAfter, uniqueMarker } from '../helpers/processes.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'sandbox-pip-guards-'));

function request(overrides: Partial<PipInstallRequest> = {}): PipInstallRequest {
  return {
    specs: ['demo-pkg==1.0'],
    indexUrl: 'http://127.0.0.1:9/simple/',
    targetDir: path.join(root, 'target'),
    scratchDir: root,
    cacheDir: path.join(root, 'cache'),
    timeoutMs: 10_000,
    ...overrides,
  };
}

/** An executable standing in for python3: pip's argv and environment land in files. */
function fakeInterpreter(script: string): string {
  const file = path.join(root, `fake-python-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('dependency specs', () => {
  it('accepts name-based requirement specs', () => {
    for (const spec of [
      'requests',
      'requests==2.32.3',
      'pandas>=2,<3',
      'uvicorn[standard]>=0.30',
      'Flask_SQLAlchemy~=3.1',
      'numpy!=1.25.0',
      'x',
      'tomli;python_version<"3.11"',
      'zope.interface===6.0',
      'pkg(>=1.0)',
    ]) {
      assert.equal(requirementSpecProblem(spec), undefined, spec);
    }
  });

  it('refuses pip options, whitespace, control characters, URLs and paths', () => {
    const refused: [string, RegExp][] = [
      ['--index-url=http://evil', /starts with "-"/],
      ['-r /etc/passwd', /starts with "-"/],
      ['-e.', /starts with "-"/],
      ['pkg\n--pre', /whitespace, a newline/],
      ['pkg --pre', /whitespace/],
      ['pkg\t', /whitespace/],
      ['pkg\u0000x', /control character/],
      ['pkg\r', /whitespace/],
      ['demo@http://evil/demo-1.0-py3-none-any.whl', /URL or a path/],
      ['/etc/passwd', /URL or a path/],
      ['./local-dir', /URL or a path/],
      ['file:///etc/passwd', /URL or a path/],
      ['git+https://example.com/x.git', /URL or a path/],
      ['', /empty/],
      ['pkg==1.0;', /not a requirement spec/],
      ['pkg===', /not a requirement spec/],
      ['$(touch\tx)', /whitespace/],
      ['pkg;$(id)', /not a requirement spec/],
      ['x'.repeat(300), /at most 256/],
    ];
    for (const [spec, reason] of refused) assert.match(requirementSpecProblem(spec) ?? 'ACCEPTED', reason, JSON.stringify(spec));
  });

  it('drops the spaces around operators PEP 508 allows, and only those', () => {
    for (const [sent, sentToPip] of [
      ['pandas >= 2.0, < 3', 'pandas>=2.0,<3'], // how the control plane joins a name and a free-text version
      ['pandas>=2.0, <3', 'pandas>=2.0,<3'],
      [' uvicorn [standard] == 0.30 ', 'uvicorn[standard]==0.30'],
      ['pkg (>= 1.0)', 'pkg(>=1.0)'],
      ['tomli ;python_version<"3.11"', 'tomli;python_version<"3.11"'],
    ]) {
      assert.equal(withoutOperatorSpaces(sent!), sentToPip, sent);
      assert.equal(requirementSpecProblem(sentToPip!), undefined, sentToPip);
    }
    const parsed = SessionConfigSyncRequestSchema.parse({
      session_id: 's',
      language_runtime: 'python3.11',
      python_package_index_url: 'https://packages.example/simple',
      dependencies: ['pandas >= 2.0, < 3'],
    });
    assert.deepEqual(parsed.dependencies, ['pandas>=2.0,<3']);
    // a space between two other characters stays, and is refused: never a different project or an option
    for (const spec of ['requests flask', 'pkg --pre', ' -r /etc/passwd', 'pkg == 1 .0', 'tomli; python_version<"3.11"']) {
      assert.ok(requirementSpecProblem(withoutOperatorSpaces(spec)), spec);
      assert.equal(
        SessionConfigSyncRequestSchema.safeParse({ session_id: 's', language_runtime: 'python3.11', python_package_index_url: 'https://packages.example/simple', dependencies: [spec] }).success,
        false,
        spec,
      );
    }
  });

  it('knows which project a spec asks for', () => {
    assert.equal(requestedProject('Flask_SQLAlchemy[async]>=3'), 'flask-sqlalchemy');
    assert.equal(requestedProject('zope.interface'), 'zope-interface');
  });
});

describe('index URLs', () => {
  it('accepts http and https only', () => {
    assert.equal(indexUrlProblem('https://packages.example/simple'), undefined);
    assert.equal(indexUrlProblem('http://devpi:3141/root/pypi/+simple/'), undefined);
    assert.match(indexUrlProblem('ftp://mirror/simple') ?? '', /http or https/);
    assert.match(indexUrlProblem('file:///srv/simple') ?? '', /http or https/);
    assert.match(indexUrlProblem('') ?? '', /empty/);
    assert.match(indexUrlProblem('not a url') ?? '', /whitespace/);
    assert.match(indexUrlProblem('http://x/simple\n--pre') ?? '', /whitespace/);
    assert.match(indexUrlProblem('packages.example/simple') ?? '', /not a URL/);
  });

  it('trusts a plain-http host (pip would ignore it otherwise), never an https one', () => {
    assert.deepEqual(pipIndexArguments('http://devpi:3141/simple/'), ['--index-url', 'http://devpi:3141/simple/', '--trusted-host', 'devpi:3141']);
    assert.deepEqual(pipIndexArguments('https://packages.example/simple'), ['--index-url', 'https://packages.example/simple']);
  });

  it('never shows a password', () => {
    assert.equal(redactIndexUrl('https://user:s3cret@pypi.internal/simple/'), 'https://user:****@pypi.internal/simple/');
    assert.doesNotMatch(redactIndexUrl('https://user:s3cret@bad url/'), /s3cret/);
  });

  it('never shows a token sent as the user name or in the query', () => {
    assert.equal(redactIndexUrl('https://tok3n@pypi.internal/simple/'), 'https://****@pypi.internal/simple/');
    assert.equal(redactIndexUrl('https://pypi.internal/simple/?token=tok3n&x=1'), 'https://pypi.internal/simple/?token=****&x=****');
    assert.equal(redactIndexUrl('https://pypi.internal/simple/'), 'https://pypi.internal/simple/');
    assert.doesNotMatch(redactIndexUrl('https://host:99999/simple?token=tok3n'), /tok3n/, 'a URL that does not parse');
  });
});

describe('pip invocation', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('puts every option before "--" and only the specs after it', () => {
    const args = pipArguments(request({ specs: ['alpha==1', 'beta'] }));
    const separator = args.indexOf('--');
    assert.ok(separator > 0);
    assert.deepEqual(args.slice(separator + 1), ['alpha==1', 'beta']);
    assert.deepEqual(args.slice(0, 4), ['-I', '-m', 'pip', 'install']);
    for (const option of ['--isolated', '--only-binary=:all:', '--no-input', '--disable-pip-version-check']) assert.ok(args.slice(0, separator).includes(option), option);
    assert.equal(args[args.indexOf('--target') + 1], path.join(root, 'target'));
  });

  it('builds pip an environment of its own: none of the server variables, its network settings only', () => {
    const serverEnv = {
      INTERNAL_API_TOKEN: 'token-must-not-leak',
      EXECUTOR_API_TOKEN: 'token-must-not-leak',
      CONTROL_PLANE_URL: 'http://cp:8000',
      AWS_SECRET_ACCESS_KEY: 'key-must-not-leak',
      PIP_INDEX_URL: 'http://evil/simple',
      PIP_EXTRA_INDEX_URL: 'http://evil/simple',
      PYTHONPATH: '/evil',
      PATH: '/root/.pyenv/shims:/usr/bin',
      HOME: '/root',
      HTTPS_PROXY: 'http://proxy:3128',
      NO_PROXY: 'localhost',
    };
    const env = pipEnvironment(serverEnv, '/scratch');
    assert.deepEqual(Object.keys(env).sort(), ['HOME', 'HTTPS_PROXY', 'LANG', 'LC_ALL', 'NO_PROXY', 'PATH', 'PIP_CONFIG_FILE', 'TMPDIR'].sort());
    assert.equal(env.HOME, '/scratch');
    assert.equal(env.PIP_CONFIG_FILE, '/dev/null');
    assert.doesNotMatch(env.PATH!, /pyenv/);
  });

  it('runs it without a shell, with exactly that environment', async () => {
    const out = path.join(root, 'seen');
    const interpreter = fakeInterpreter(`env > '${out}.env'; for a in "$@"; do printf '%s\\n' "$a"; done > '${out}.argv'; echo installed`);
    const spec = 'demo-pkg==1.0;python_version<"4"';
    const outcome = await runPipInstall(request({ interpreter, specs: [spec] }), { INTERNAL_API_TOKEN: 'token-must-not-leak', PATH: '/somewhere' });
    assert.equal(outcome.kind, 'installed');
    const env = readFileSync(`${out}.env`, 'utf8');
    assert.doesNotMatch(env, /token-must-not-leak|INTERNAL_API_TOKEN/);
    assert.match(env, new RegExp(`^HOME=${root}$`, 'm'));
    // the spec arrives as one argv item, quotes and all: no shell saw it
    assert.equal(readFileSync(`${out}.argv`, 'utf8').trimEnd().split('\n').at(-1), spec);
  });

  it('kills pip and everything it started when the time is up', async () => {
    const marker = uniqueMarker('pip-timeout');
    const interpreter = fakeInterpreter(`/bin/sh -c 'sleep 60; :' ${marker} & /bin/sh -c 'sleep 61; :' ${marker}; echo never`);
    try {
      const began = Date.now();
      const outcome = await runPipInstall(request({ interpreter, timeoutMs: 500 }));
      assert.equal(outcome.kind, 'timed-out');
      assert.ok(Date.now() - began < 5_000, `took ${Date.now() - began} ms`);
      assert.deepEqual(await survivorsAfter(marker, 5_000), []);
    } finally {
      killMarked(marker);
    }
  });

  it('reports an interpreter that cannot start', async () => {
    const outcome = await runPipInstall(request({ interpreter: path.join(root, 'no-such-python') }));
    assert.equal(outcome.kind, 'not-started');
  });
});

describe('output tail', () => {
  it('keeps the end, bounded, starting on a character boundary, saying what it left out', () => {
    const tail = new OutputTail(1024);
    for (let i = 0; i < 500; i++) tail.push(Buffer.from(`line ${i} é€\n`));
    tail.push(Buffer.from('ERROR: the real reason\n'));
    const text = tail.text(256);
    assert.ok(Buffer.byteLength(text) <= 256, `${Buffer.byteLength(text)} bytes`);
    assert.match(text, /^\[\d+ earlier bytes of output omitted\]\n/);
    assert.match(text, /ERROR: the real reason\n$/);
    assert.doesNotMatch(text, /\uFFFD/);
    assert.equal(new OutputTail(100).text(100), '');
  });
});
