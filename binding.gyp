{
  # Sources come from native/*.sources, the one list CMakeLists.txt reads too.
  "targets": [
    {
      "target_name": "sandbox_native",
      "sources": ["<!@(cat native/addon.sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-lseccomp"]
    },
    {
      "target_name": "sandbox-init",
      "type": "executable",
      "sources": ["<!@(cat native/init.sources)"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "ldflags": ["-static"]
    }
  ]
}
