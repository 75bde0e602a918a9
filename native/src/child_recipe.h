#pragma once

#include "spawn_plan.h"

namespace sandbox {

// Entry point of the cloned child. Runs on its own stack in the parent's address space:
// raw system calls only, until execve replaces the image.
int child_main(void* context);

// Entry point of the short-lived process that joins a prepared network and clones child_main
// from there (child_join.cc); writes the outcome into the context.
int join_prepared_network(void* context);

// Helpers of the recipe, one concern per file. Each returns 0 or a negative errno and sets *step.
int build_root_filesystem(const ChildContext& ctx, int* step, int* mount_index);
int take_sandbox_identity(const ChildContext& ctx, int* step);
int drop_all_capabilities(int* step);
int bring_up_loopback(int* step);

}  // namespace sandbox
