// The workspace scan's JavaScript surface (typed in src/sandbox/native-addon.ts).
#pragma once

#include <napi.h>

namespace sandbox {

// scanWorkspace(root, maxEntries, maxMillis, synchronousEntries)
//   -> Promise<{ files: string[], identities: string[], incomplete: string | null }>
Napi::Value ScanWorkspace(const Napi::CallbackInfo& info);
// openArtifact(root, relativePath) -> { fd, size } | null (null: not a regular file under root)
Napi::Value OpenArtifact(const Napi::CallbackInfo& info);

}  // namespace sandbox
