// The executions the http and cost suites send, each with the check that its result is right:
// a fast wrong answer must count as an error, not as a good latency.
export interface Workload {
  name: string;
  language: 'python' | 'javascript' | 'shell';
  code: string;
  /** null when the result is what this workload should produce, else what is wrong with it */
  check(result: Record<string, unknown>): string | null;
  /** every execution in a session of its own (a control plane that opens one per request) */
  newSessionEach?: boolean;
}

const succeeded = (result: Record<string, unknown>): string | null => (result.status === 'success' ? null : `status ${String(result.status)}: ${String(result.stderr ?? '').slice(0, 200)}`);

const returnsOne = (result: Record<string, unknown>) => succeeded(result) ?? (result.return_value === 1 ? null : `return_value ${JSON.stringify(result.return_value)}`);

export const SHELL_ECHO: Workload = {
  name: 'shell-echo',
  language: 'shell',
  code: 'echo hi',
  check: (r) => succeeded(r) ?? (r.stdout === 'hi\n' ? null : `stdout ${JSON.stringify(r.stdout)}`),
};

export const PYTHON_RETURN_1: Workload = {
  name: 'python-return-1',
  language: 'python',
  code: 'def handler(event):\n    return 1\n',
  check: returnsOne,
};

/**
 * PYTHON_RETURN_1, each in a new session: no warm or primed sandbox can be waiting for it, so the
 * sandbox's creation and python's whole start-up are in the request path.
 */
export const PYTHON_RETURN_1_NEW_SESSION: Workload = { ...PYTHON_RETURN_1, name: 'python-return-1-new-session', newSessionEach: true };

export const JAVASCRIPT_RETURN_1: Workload = {
  name: 'javascript-return-1',
  language: 'javascript',
  code: 'function handler(event) {\n  return 1;\n}\n',
  check: returnsOne,
};

/** 1 MiB on stdout: the executor must drain all of it, though it keeps only the bounded head. */
export const PYTHON_PRINT_1MIB: Workload = {
  name: 'python-print-1mib',
  language: 'python',
  code: "def handler(event):\n    print('x' * 1048575)\n    return 1\n",
  check: (r) => returnsOne(r) ?? (typeof r.stdout === 'string' && r.stdout.startsWith('xxxx') ? null : 'stdout does not hold the printed text'),
};

/** Holds an execution slot without using CPU: in-flight memory of the server per execution. */
export const SHELL_SLEEP: (seconds: number) => Workload = (seconds) => ({
  name: `shell-sleep-${seconds}`,
  language: 'shell',
  code: `sleep ${seconds}`,
  check: succeeded,
});

export const HTTP_WORKLOADS: Workload[] = [SHELL_ECHO, PYTHON_RETURN_1, PYTHON_RETURN_1_NEW_SESSION, JAVASCRIPT_RETURN_1, PYTHON_PRINT_1MIB];
