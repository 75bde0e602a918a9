// What a failed pip run means for the control plane. The rule: what the request or its index
// caused (an unknown project, an unreachable or too slow index, conflicting versions) is a 422
// Executor.DependencyInstallError; what is wrong with this executor (no pip, a full disk, no
// interpreter) is a 500 Executor.SessionConfigSyncError. Either way the previous set stays.
import { redactIndexUrl } from './index-url.js';
import type { PipOutcome } from './pip-installer.js';
import { SyncError } from './sync-error.js';

/** What of pip's output reaches the control plane (the end, where pip's error is). */
export const ERROR_DETAIL_BYTES = 8 * 1024;
const PREVIOUS_SET_KEPT = 'the previous dependency set is unchanged';

const UNREACHABLE =
  /NewConnectionError|Failed to establish a new connection|ConnectTimeoutError|Name or service not known|Temporary failure in name resolution|No route to host|Connection refused|ProxyError|SSLError|CERTIFICATE_VERIFY_FAILED|ReadTimeoutError|Read timed out/;

export function pipFailure(outcome: Exclude<PipOutcome, { kind: 'installed' }>, indexUrl: string, timeoutSeconds: number): SyncError {
  const index = redactIndexUrl(indexUrl);
  const detail = redactOutput(outcome.output.text(ERROR_DETAIL_BYTES), indexUrl);
  if (outcome.kind === 'not-started') {
    return new SyncError('Executor.SessionConfigSyncError', `the executor could not start pip: ${outcome.error.message}; ${PREVIOUS_SET_KEPT}`, detail, 'failed');
  }
  if (outcome.kind === 'timed-out') {
    return new SyncError(
      'Executor.DependencyInstallError',
      `pip did not finish within ${timeoutSeconds} s (DEPENDENCY_INSTALL_TIMEOUT) and was stopped: the index ${index} is slow or not answering, or the packages are too large; ${PREVIOUS_SET_KEPT}`,
      detail,
      'timed_out',
    );
  }
  const text = outcome.output.text(64 * 1024);
  if (/No module named pip\b/.test(text)) {
    return new SyncError('Executor.SessionConfigSyncError', `pip is not installed for the sandboxes' Python on this executor (install python3-pip); ${PREVIOUS_SET_KEPT}`, detail, 'failed');
  }
  if (/No space left on device|Disk quota exceeded/.test(text)) {
    return new SyncError('Executor.SessionConfigSyncError', `the executor's disk is full: the dependencies do not fit; ${PREVIOUS_SET_KEPT}`, detail, 'failed');
  }
  const unreachable = UNREACHABLE.exec(text);
  if (unreachable) {
    return new SyncError('Executor.DependencyInstallError', `the package index ${index} could not be reached (${unreachable[0]}); ${PREVIOUS_SET_KEPT}`, detail, 'index_unreachable');
  }
  const missing = /No matching distribution found for (\S+)/.exec(text);
  if (missing) {
    return new SyncError(
      'Executor.DependencyInstallError',
      `no installable version of "${missing[1]}" on the index ${index} (only wheels are installed: a project published only as source cannot be); ${PREVIOUS_SET_KEPT}`,
      detail,
      'install_failed',
    );
  }
  if (/ResolutionImpossible|conflicting dependencies/.test(text)) {
    return new SyncError('Executor.DependencyInstallError', `the requested versions conflict with each other or with their dependencies; ${PREVIOUS_SET_KEPT}`, detail, 'install_failed');
  }
  const lastError = text
    .split('\n')
    .reverse()
    .find((line) => line.startsWith('ERROR:'));
  const exit = outcome.signal ? `signal ${outcome.signal}` : `exit status ${outcome.exitCode}`;
  return new SyncError(
    'Executor.DependencyInstallError',
    `pip failed (${exit})${lastError ? `: ${redactOutput(lastError.slice(0, 500), indexUrl)}` : ''}; ${PREVIOUS_SET_KEPT}`,
    detail,
    'install_failed',
  );
}

/** pip masks passwords in URLs it prints; this covers the URL wherever it appears verbatim. */
function redactOutput(text: string, indexUrl: string): string {
  const redacted = redactIndexUrl(indexUrl);
  return redacted === indexUrl ? text : text.split(indexUrl).join(redacted);
}
