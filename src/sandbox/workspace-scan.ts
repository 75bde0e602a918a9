// The addon's workspace walk, for the executions layer (artifacts): it walks and opens a hostile
// workspace by file descriptor only (native/parent/workspace_scan.h).
import { loadNative, type NativeAddon } from './native-addon.js';

export type { NativeWorkspaceScan as WorkspaceScan, WorkspaceSnapshot } from './native-addon.js';

export const scanWorkspace: NativeAddon['scanWorkspace'] = (root, limits, since) => loadNative().addon.scanWorkspace(root, limits, since);

export const openArtifact: NativeAddon['openArtifact'] = (root, relativePath) => loadNative().addon.openArtifact(root, relativePath);
