#include "output_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace sandbox {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
// Reads per wake-up and pipe: a pipe that never runs dry must not starve the rest of the loop.
constexpr int kReadsPerWake = 16;

}  // namespace

OutputReader::OutputReader(Napi::Env env, Napi::Function on_chunk)
    : env_(env), on_chunk_(Napi::Persistent(on_chunk)), async_context_(env, "sandbox-output") {}

void OutputReader::start(Napi::Env env, const std::vector<int>& fds, Napi::Function on_chunk) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* reader = new OutputReader(env, on_chunk);
  for (size_t i = 0; i < fds.size(); i++) {
    if (fds[i] < 0) continue;
    fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    auto* pipe = new Pipe{reader, (int)i, fds[i], {}};
    uv_poll_init(loop, &pipe->poll, fds[i]);
    pipe->poll.data = pipe;
    uv_poll_start(&pipe->poll, UV_READABLE | UV_DISCONNECT, on_readable);
    reader->pipes_.push_back(pipe);
    reader->open_++;
  }
  if (reader->open_ == 0) delete reader;
}

void OutputReader::on_readable(uv_poll_t* handle, int, int) {
  Pipe* pipe = static_cast<Pipe*>(handle->data);
  pipe->owner->drain(*pipe);
}

void OutputReader::drain(Pipe& pipe) {
  Napi::HandleScope scope(env_);
  char buffer[kChunkBytes];
  for (int i = 0; i < kReadsPerWake; i++) {
    ssize_t got = read(pipe.fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) {  // EOF (or an error, which ends the pipe the same way)
      finish(pipe);
      return;
    }
    Napi::Buffer<char> chunk = Napi::Buffer<char>::Copy(env_, buffer, (size_t)got);
    try {
      on_chunk_.MakeCallback(env_.Global(), {Napi::Number::New(env_, pipe.index), chunk}, async_context_);
    } catch (const Napi::Error&) {
      // Node has already routed the exception to 'uncaughtException'.
    }
  }
}

void OutputReader::finish(Pipe& pipe) {
  uv_poll_stop(&pipe.poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe.poll), [](uv_handle_t* handle) {
    Pipe* closed = static_cast<Pipe*>(handle->data);
    close(closed->fd);
    OutputReader* owner = closed->owner;
    delete closed;
    if (--owner->open_ == 0) delete owner;
  });
  try {
    on_chunk_.MakeCallback(env_.Global(), {Napi::Number::New(env_, pipe.index), env_.Null()}, async_context_);
  } catch (const Napi::Error&) {
  }
}

}  // namespace sandbox
