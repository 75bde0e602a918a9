{
  # Sources come from native/*.sources, the one list CMakeLists.txt reads too (see there why the
  # child's code is a library of its own, compiled freestanding).
  "targets": [
    {
      "target_name": "sandbox_child",
      "type": "static_library",
      "sources": ["<!@(cat native/child.sources)"],
      "include_dirs": ["native"],
      "defines": ["_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fPIC", "-Wall", "-Wextra", "-Werror", "-O2",
                    "-fno-builtin", "-fno-tree-loop-distribute-patterns", "-fno-stack-protector",
                    "-fno-exceptions", "-fno-rtti", "-fvisibility=hidden"]
    },
    {
      "target_name": "sandbox_native",
      "sources": ["<!@(cat native/addon.sources)"],
      "dependencies": ["sandbox_child"],
      "include_dirs": ["native", "<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Werror", "-O2"],
      "cflags_cc!": ["-fno-exceptions"],
      "ldflags": ["-Wl,-z,now", "-Wl,-z,relro"],
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
