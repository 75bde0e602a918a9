// Modules left in a session's workspace by one execution never run inside the bootstrap of a
// later one: with json.py, traceback.py, asyncio.py, inspect.py, types.py (and every other module
// the bootstrap's encoding, error report and event loop import) planted in /workspace, and a
// node_modules shadowing what the JavaScript bootstrap loads, later executions' return values,
// tracebacks on stderr and async handlers are exactly those of a clean session, whether their
// sandbox starts cold, warm or primed.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sessionId, TestServer, type Result } from '../helpers/http.js';

/** What the Python bootstrap imports (directly or through json, traceback, ast, asyncio) after start-up. */
const PYTHON_MODULES = [
  'json',
  'traceback',
  'asyncio',
  'inspect',
  'types',
  'ast',
  'linecache',
  'tokenize',
  'token',
  'textwrap',
  'collections',
  'functools',
  'contextlib',
  'contextvars',
  'enum',
  're',
  'selectors',
  'socket',
  'signal',
  'threading',
  'heapq',
  'weakref',
  '_weakrefset',
  'keyword',
  'operator',
  'warnings',
  'reprlib',
  'dis',
  'opcode',
  'typing',
  'string',
  'struct',
  'subprocess',
  'locale',
  'logging',
  'base64',
  'ssl',
  'concurrent',
  'importlib',
  '_json',
  '_asyncio',
  '_contextvars',
  'select',
  'math',
];
/** What the JavaScript bootstrap loads. */
const NODE_MODULES = ['fs', 'module', 'path'];

/** Records that it ran, and would forge what the bootstrap asks of it. */
const PLANTED_PY = `import sys
open("/workspace/ran-py-" + __name__, "w").close()
sys.stderr.write("PLANTED " + __name__ + "\\n")
def dumps(*args, **kwargs): return '"forged"'
def loads(*args, **kwargs): return "forged"
def print_exception(*args, **kwargs): sys.stderr.write("forged traceback\\n")
def run(coroutine, *args, **kwargs): coroutine.close(); return "forged"
`;
const PLANTED_JS = (name: string) => `require('node:fs').writeFileSync('/workspace/ran-js-${name}', '');\nprocess.stderr.write('PLANTED ${name}\\n');\nmodule.exports = {};\n`;

const PLANT = [
  ...PYTHON_MODULES.map((name) => `cat > ${name}.py <<'EOF'\n${PLANTED_PY}EOF`),
  ...NODE_MODULES.map((name) => `mkdir -p node_modules/${name} && cat > node_modules/${name}/index.js <<'EOF'\n${PLANTED_JS(name)}EOF`),
].join('\n');

interface Case {
  language: 'python' | 'javascript';
  code: string;
  status: 'success' | 'failed';
}

/** Handlers importing nothing themselves: what runs is the bootstrap's doing only. */
const CASES: Record<string, Case> = {
  'python plain value': { language: 'python', status: 'success', code: 'def handler(event):\n    return {"big": 2**70, "text": "é", "list": [1.5, None, True]}\n' },
  'python value json encodes (a dict subclass)': { language: 'python', status: 'success', code: 'class D(dict):\n    pass\ndef handler(event):\n    return D(big=2**70, nested=D(a=[1]))\n' },
  'python exception (traceback with carets)': { language: 'python', status: 'failed', code: 'def handler(event):\n    return event["a"] / event["b"]\n' },
  'python syntax error': { language: 'python', status: 'failed', code: 'def handler(event):\n    return (1 +\n' },
  'python async handler': { language: 'python', status: 'success', code: 'async def handler(event):\n    return {"async": True, "big": 2**70}\n' },
  'python async handler raising': { language: 'python', status: 'failed', code: 'async def handler(event):\n    raise ValueError("from the coroutine " + str(event["a"]))\n' },
  'javascript plain value': { language: 'javascript', status: 'success', code: 'exports.handler = () => ({ big: 2n ** 70n, text: "é" });\n' },
  'javascript exception': { language: 'javascript', status: 'failed', code: 'exports.handler = (event) => { throw new TypeError("bad " + event.a); };\n' },
  'javascript async handler': { language: 'javascript', status: 'success', code: 'exports.handler = async () => { await new Promise((r) => setTimeout(r, 5)); return { async: true }; };\n' },
};
const EVENT = { a: 1, b: 0 };

/** What must match a clean session's run exactly (timing and ids aside). */
function observable(r: Result) {
  return { status: r.status, exit_code: r.exit_code, stdout: r.stdout, stderr: r.stderr, return_value: r.return_value, raw_return_value: r.raw.match(/"return_value":(.*?),"metrics"/s)?.[1] };
}

describe("modules planted in the workspace never run in a later execution's bootstrap", () => {
  let t: TestServer;
  let cold: TestServer;
  before(async () => {
    t = await TestServer.start();
    cold = await TestServer.start({ WARM_SANDBOXES_PER_SESSION: '0' });
  });
  after(async () => {
    await t?.stop();
    await cold?.stop();
  });

  for (const start of ['cold', 'warm', 'primed'] as const) {
    it(`${start} starts`, async () => {
      const server = start === 'cold' ? cold : t;
      const clean = sessionId(`clean-${start}`);
      const planted = sessionId(`planted-${start}`);
      const plant = await server.run({ session_id: planted, language: 'shell', code: PLANT });
      assert.equal(plant.status, 'success', plant.stderr);

      for (const [label, c] of Object.entries(CASES)) {
        const reference = await server.run({ session_id: clean, language: c.language, code: c.code, event: EVENT });
        assert.equal(reference.status, c.status, `${label} in a clean session: ${reference.stderr}`);
        // primed: the session's warm sandboxes run this language's runtime once it ran there;
        // warm: a variable the interpreter reads at start-up gets a runtime started for it.
        // Every run is checked, until one had the start wanted.
        const starts: string[] = [];
        for (let i = 0; i < 4 && !starts.includes(start); i++) {
          const r = await server.run({ session_id: planted, language: c.language, code: c.code, event: EVENT, ...(start === 'warm' ? { env_vars: { TZ: 'UTC' } } : {}) });
          starts.push(r.phases.start);
          const ran = readdirSync(server.workspaceOf(planted)).filter((f) => f.startsWith('ran-'));
          assert.deepEqual(ran, [], `${label} (${r.phases.start}): planted modules ran: ${r.stderr}`);
          assert.deepEqual(observable(r), observable(reference), `${label} (${r.phases.start})`);
        }
        assert.ok(starts.includes(start), `${label}: starts ${starts.join(', ')}`);
      }
    });
  }
});
