// A sync that did not complete, carrying what the control plane is told (CONTRACT.md section 2:
// {"detail": {"error_code", "description", "error_detail"}}) and how /metrics counts it.

export type SyncErrorCode = 'Executor.ValidationError' | 'Executor.DependencyInstallError' | 'Executor.SessionConfigSyncError';

/** Labels of sandbox_dependency_syncs_total. */
export const SYNC_OUTCOMES = ['completed', 'invalid_request', 'busy', 'install_failed', 'index_unreachable', 'timed_out', 'failed'] as const;
export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];

export class SyncError extends Error {
  constructor(
    readonly status: 400 | 409 | 422 | 500,
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
