// The sandbox layer's one door: everything above sandbox/ (executions, runtimes, the CLI, HTTP's
// health route, the wiring) imports from here. Behind it: the host that probes and selects a
// backend (backends/: native, bwrap, none), the one Policy they render, runs and warm sandboxes,
// and the native addon, which only native-addon.ts loads.
export { NoUsableBackendError, SandboxHost, type BackendProbe, type Isolation, type SandboxHostOptions, type SessionNetwork, type SessionNetworks } from './sandbox-host.js';
export type { BackendName, ProcessLimitMechanism } from './backend.js';
export { bind, type Command, type FsEntry, type KernelCounts, type Limits, type Policy } from './policy.js';
export { limitsFromConfig } from './limits.js';
export { SandboxSpawnError, signalNumber, type CapturedStream, type KilledBy, type SandboxRun, type RunOptions, type RunResult } from './sandbox-run.js';
export type { WarmSandbox } from './warm-sandbox.js';
export { watchdogNotice } from './watchdog-notice.js';
export type { Attestation } from './attestation.js';
export { configuredValues, sandboxBounds, type Bound, type BoundValues } from './bounds.js';
export { prepareStateDir, replaceFile, stageFile } from './system-files.js';
export { lockDirectory, type DirectoryLock } from './directory-lock.js';
export { openArtifact, scanWorkspace, type WorkspaceScan, type WorkspaceSnapshot } from './workspace-scan.js';
