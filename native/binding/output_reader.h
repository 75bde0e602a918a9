#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <vector>

namespace sandbox {

// Reads a sandbox's output pipes (stdout, stderr, the result channel) on Node's event loop and
// hands each chunk to one JS callback: onChunk(index, Buffer), then onChunk(index, null) at EOF,
// after which the fd is closed. Cheaper than a net.Socket per pipe (stream machinery, three
// event-loop turns to close), which is most of what an execution costs the loop besides HTTP.
// Deletes itself once every pipe has reached EOF. Throws (nothing started) when a pipe cannot be
// polled.
// stop(id) ends it before EOF, once the sandbox has exited: what the pipes hold is read, then they
// close. A pipe's write end can outlive the sandbox in another process (an execution of the same
// session that was handed the descriptor), which must not hold the result back.
class OutputReader {
 public:
  /** The reader's id for stop() (0: no pipe to read, nothing started). */
  static uint32_t start(Napi::Env env, const std::vector<int>& fds, Napi::Function on_chunk);
  /** Reads what the pipes hold now (bounded), ends each with its null chunk, closes them. */
  static void stop(uint32_t id);

 private:
  struct Pipe {
    OutputReader* owner;
    int index;
    int fd;
    uv_poll_t poll;
    bool ending = false;
  };

  OutputReader(Napi::Env env, Napi::Function on_chunk);
  ~OutputReader();
  static void on_readable(uv_poll_t* handle, int status, int events);
  void drain(Pipe& pipe, int max_reads);
  void finish(Pipe& pipe);
  void abandon();
  static void closed(uv_handle_t* handle, bool close_fd);

  Napi::Env env_;
  Napi::FunctionReference on_chunk_;
  Napi::AsyncContext async_context_;
  std::vector<Pipe*> pipes_;
  int open_ = 0;
  uint32_t id_ = 0;
};

}  // namespace sandbox
