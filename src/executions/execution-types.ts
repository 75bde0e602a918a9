import type { ArtifactDetail, ArtifactsIncompleteReason } from './artifacts.js';
import type { ExecutionState } from './journal.js';
import type { RawJson } from './raw-json.js';
import type { Attestation, KilledBy } from '../sandbox/index.js';
import type { Language } from '../runtimes/runtime.js';

export interface ExecutionRequest {
  execution_id: string;
  session_id: string;
  code: string;
  language: Language;
  event: Record<string, unknown>;
  /** the event as written for the runtime when JSON.stringify(event) would change its numbers (src/http/event-text.ts) */
  eventText?: string;
  timeout: number;
  env_vars: Record<string, string>;
}

export type FinishedStatus = Exclude<ExecutionState, 'pending' | 'running'>;

/** The callback body of CONTRACT.md section 3: every key present. */
export interface CallbackBody {
  status: FinishedStatus;
  stdout: string;
  stderr: string;
  exit_code: number;
  execution_time: number;
  return_value: RawJson | null;
  metrics: {
    duration_ms: number;
    cpu_time_ms: number | null;
    peak_memory_mb: number | null;
    io_read_bytes: number | null;
    io_write_bytes: number | null;
  };
  artifacts: string[];
  /** extra key: how this run was isolated, attested from inside the sandbox */
  sandbox: Attestation | null;
  /** extra keys: the text was cut / the return value replaced by null (in the result or, to fit the control plane, only in the callback) */
  stdout_truncated: boolean;
  stderr_truncated: boolean;
  return_value_truncated: boolean;
}

/** What ?wait=true and GET /executions/{id} return once finished. */
export interface ExecutionResult extends CallbackBody {
  execution_id: string;
  session_id: string;
  language: Language;
  /** the limit that stopped the run, if any */
  limit_exceeded: KilledBy;
  artifact_details: ArtifactDetail[];
  artifacts_complete: boolean;
  /** null when complete; else which bound cut the list short */
  artifacts_incomplete_reason: ArtifactsIncompleteReason | null;
  started_at: string | null;
  finished_at: string;
  phases: {
    queue_ms: number;
    prepare_ms: number;
    spawn_ms: number;
    run_ms: number;
    artifact_scan_ms: number;
    result_build_ms: number;
    /**
     * how the sandbox was had: "primed" (a warm sandbox whose runtime was already started),
     * "warm" (a warm sandbox, the runtime started for this execution), "cold" (created for it)
     */
    start: SandboxStart;
  };
}

export const SANDBOX_STARTS = ['primed', 'warm', 'cold'] as const;
export type SandboxStart = (typeof SANDBOX_STARTS)[number];
