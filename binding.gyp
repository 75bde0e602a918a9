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
      # Built by native/init/build.sh, shared with CMakeLists.txt: it picks the libc (musl first).
      "target_name": "sandbox-init",
      "type": "none",
      "actions": [
        {
          "action_name": "build_sandbox_init",
          "inputs": ["<!@(cat native/init.sources)", "native/init/init_report.h", "native/init/build.sh"],
          "outputs": ["<(PRODUCT_DIR)/sandbox-init"],
          "action": ["sh", "native/init/build.sh", "<(PRODUCT_DIR)/sandbox-init", "<!@(cat native/init.sources)"]
        }
      ]
    }
  ]
}
