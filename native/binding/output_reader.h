#pragma once

#include <napi.h>
#include <uv.h>

#include <vector>

namespace sandbox {

// Reads a sandbox's output pipes (stdout, stderr, the result channel) on Node's event loop and
// hands each chunk to one JS callback: onChunk(index, Buffer), then onChunk(index, null) at EOF,
// after which the fd is closed. Cheaper than a net.Socket per pipe (stream machinery, three
// event-loop turns to close), which is most of what an execution costs the loop besides HTTP.
// Deletes itself once every pipe has reached EOF. Throws (nothing started) when a pipe cannot be
// polled.
class OutputReader {
 public:
  static void start(Napi::Env env, const std::vector<int>& fds, Napi::Function on_chunk);

 private:
  struct Pipe {
    OutputReader* owner;
    int index;
    int fd;
    uv_poll_t poll;
  };

  OutputReader(Napi::Env env, Napi::Function on_chunk);
  static void on_readable(uv_poll_t* handle, int status, int events);
  void drain(Pipe& pipe);
  void finish(Pipe& pipe);
  void abandon();

  Napi::Env env_;
  Napi::FunctionReference on_chunk_;
  Napi::AsyncContext async_context_;
  std::vector<Pipe*> pipes_;
  int open_ = 0;
};

}  // namespace sandbox
