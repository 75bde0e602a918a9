// The workspace scan's JavaScript surface (typed in src/sandbox/native-addon.ts). A snapshot
// stays in native memory (JavaScript holds a handle): whatever the tree's size, the event loop
// only ever handles the changed paths, at most maxChanged of them.
#pragma once

#include <napi.h>

namespace sandbox {

// scanWorkspace(root, { maxEntries, maxMillis, synchronousEntries }, since?: { snapshot, maxChanged })
//   -> Promise<{ snapshot, incomplete: string | null, changed: string[], changedTruncated: boolean }>
Napi::Value ScanWorkspace(const Napi::CallbackInfo& info);
// openArtifact(root, relativePath) -> { fd, size } | null (null: not a regular file under root)
Napi::Value OpenArtifact(const Napi::CallbackInfo& info);

}  // namespace sandbox
