// A sync that did not complete, carrying what the control plane is told (CONTRACT.md section 2:
// {"detail": {"error_code", "description", "error_detail"}}) and how /metrics counts it. A domain
// error: src/http/ decides the HTTP status (from code and outcome).

export type SyncErrorCode = 'Executor.ValidationError' | 'Executor.DependencyInstallError' | 'Executor.SessionConfigSyncError';

/** Labels of sandbox_dependency_syncs_total. */
export const SYNC_OUTCOMES = ['completed', 'invalid_request', 'busy', 'install_failed', 'index_unreachable', 'timed_out', 'failed'] as const;
export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];

export class SyncError extends Error {
  constructor(
    readonly code: SyncErrorCode,
    /** one sentence: what failed and what to do */
    readonly description: string,
    /** the evidence (pip's output tail), bounded */
    readonly detail: string,
    readonly outcome: SyncOutcome,
  ) {
    super(description);
    this.name = 'SyncError';
  }
}
