#pragma once

#include "child/context.h"

// Hidden, like everything the child's files define (CHILD_FLAGS in CMakeLists.txt): the calls to
// these, from the child's files and the parent's, are direct, through no GOT or PLT entry.
#pragma GCC visibility push(hidden)
namespace sandbox {

// Entry point of the cloned child. Runs on its own stack in the parent's address space:
// raw system calls only, until execve replaces the image.
int child_main(void* context);

// Entry point of the short-lived process that joins a prepared network and clones child_main
// from there (child_join.cc); writes the outcome into the context.
int join_prepared_network(void* context);

// Entry point of the helper that makes a prepared network (parent/prepared_network.cc): in its new
// user and network namespaces, waits for its id maps, brings the loopback up and exits.
struct PreparedNetworkHelper {
  int go_fd;
  int go_write_fd;  // the helper's copy must be closed so that the spawner giving up reads as EOF
  int result;       // written by the helper: 0, or the negative errno of bringing lo up
};
int bring_up_prepared_network(void* helper);

// Helpers of the recipe, one concern per file. Each returns 0 or a negative errno and sets *step.
int build_root_filesystem(const ChildContext& ctx, int* step, int* mount_index);
int take_sandbox_identity(const ChildContext& ctx, int* step);
int drop_all_capabilities(int* step);
int bring_up_loopback(int* step);

}  // namespace sandbox
#pragma GCC visibility pop
