#include "binding/output_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string>

namespace sandbox {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
// Reads per wake-up and pipe: a pipe that never runs dry must not starve the rest of the loop.
constexpr int kReadsPerWake = 16;

}  // namespace

OutputReader::OutputReader(Napi::Env env, Napi::Function on_chunk)
    : env_(env), on_chunk_(Napi::Persistent(on_chunk)), async_context_(env, "sandbox-output") {}

// Every pipe is made non-blocking and gets its poll handle before any is started: a failure
// throws with nothing started and the fds still the caller's.
void OutputReader::start(Napi::Env env, const std::vector<int>& fds, Napi::Function on_chunk) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* reader = new OutputReader(env, on_chunk);
  std::string failed_step;
  int failed_errno = 0;
  for (size_t i = 0; i < fds.size() && failed_errno == 0; i++) {
    if (fds[i] < 0) continue;
    int flags = fcntl(fds[i], F_GETFL);
    if (flags < 0 || fcntl(fds[i], F_SETFL, flags | O_NONBLOCK) < 0) {
      failed_step = "fcntl(output pipe)";
      failed_errno = errno;
      break;
    }
    auto* pipe = new Pipe{reader, (int)i, fds[i], {}};
    int r = uv_poll_init(loop, &pipe->poll, fds[i]);
    if (r != 0) {
      delete pipe;
      failed_step = "uv_poll_init(output pipe)";
      failed_errno = -r;
      break;
    }
    pipe->poll.data = pipe;
    reader->pipes_.push_back(pipe);
    reader->open_++;
  }
  if (failed_errno != 0) {
    reader->abandon();
    const char* name = strerrorname_np(failed_errno);
    throw Napi::Error::New(env, failed_step + ": " + (name ? name : "E" + std::to_string(failed_errno)));
  }
  for (Pipe* pipe : reader->pipes_) uv_poll_start(&pipe->poll, UV_READABLE | UV_DISCONNECT, on_readable);
  if (reader->open_ == 0) delete reader;
}

// Closes the poll handles made so far, not their fds, then the reader itself.
void OutputReader::abandon() {
  if (open_ == 0) {
    delete this;
    return;
  }
  for (Pipe* pipe : pipes_) {
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe->poll), [](uv_handle_t* handle) {
      Pipe* closed = static_cast<Pipe*>(handle->data);
      OutputReader* owner = closed->owner;
      delete closed;
      if (--owner->open_ == 0) delete owner;
    });
  }
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
