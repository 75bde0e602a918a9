#include "binding/output_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <unordered_map>

namespace sandbox {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
// Reads per wake-up and pipe: a pipe that never runs dry must not starve the rest of the loop.
constexpr int kReadsPerWake = 16;
// Reads per pipe at stop(): more than a pipe can hold (F_SETPIPE_SZ stops at 1 MiB by default),
// bounded for one another process keeps filling.
constexpr int kReadsAtStop = 32;

// Readers by id, for stop(); only the event loop's thread touches it.
std::unordered_map<uint32_t, OutputReader*>& readers() {
  static std::unordered_map<uint32_t, OutputReader*> by_id;
  return by_id;
}
uint32_t next_id = 0;

}  // namespace

OutputReader::OutputReader(Napi::Env env, Napi::Function on_chunk)
    : env_(env), on_chunk_(Napi::Persistent(on_chunk)), async_context_(env, "sandbox-output") {}

OutputReader::~OutputReader() {
  if (id_ != 0) readers().erase(id_);
}

// Every pipe is made non-blocking and gets its poll handle before any is started: a failure
// throws with nothing started and the fds still the caller's.
uint32_t OutputReader::start(Napi::Env env, const std::vector<int>& fds, Napi::Function on_chunk) {
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
  if (reader->open_ == 0) {
    delete reader;
    return 0;
  }
  if (++next_id == 0) next_id = 1;  // 0 means none
  reader->id_ = next_id;
  readers()[reader->id_] = reader;
  return reader->id_;
}

void OutputReader::stop(uint32_t id) {
  auto found = readers().find(id);
  if (found == readers().end()) return;  // every pipe already ended
  OutputReader* reader = found->second;
  // a copy: finish() may run JS, never deletes a pipe before the loop closes its handle
  std::vector<Pipe*> pipes = reader->pipes_;
  for (Pipe* pipe : pipes) {
    if (pipe->ending) continue;
    reader->drain(*pipe, kReadsAtStop);
    if (!pipe->ending) reader->finish(*pipe);
  }
}

void OutputReader::closed(uv_handle_t* handle, bool close_fd) {
  Pipe* pipe = static_cast<Pipe*>(handle->data);
  if (close_fd) close(pipe->fd);
  OutputReader* owner = pipe->owner;
  owner->pipes_.erase(std::find(owner->pipes_.begin(), owner->pipes_.end(), pipe));
  delete pipe;
  if (--owner->open_ == 0) delete owner;
}

// Closes the poll handles made so far, not their fds, then the reader itself.
void OutputReader::abandon() {
  if (open_ == 0) {
    delete this;
    return;
  }
  std::vector<Pipe*> pipes = pipes_;
  for (Pipe* pipe : pipes)
    uv_close(reinterpret_cast<uv_handle_t*>(&pipe->poll), [](uv_handle_t* handle) { closed(handle, false); });
}

void OutputReader::on_readable(uv_poll_t* handle, int, int) {
  Pipe* pipe = static_cast<Pipe*>(handle->data);
  pipe->owner->drain(*pipe, kReadsPerWake);
}

void OutputReader::drain(Pipe& pipe, int max_reads) {
  Napi::HandleScope scope(env_);
  char buffer[kChunkBytes];
  for (int i = 0; i < max_reads && !pipe.ending; i++) {
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
      // dropped: the callbacks (src/sandbox/sandbox-run.ts) only capture and publish, never throw
    }
  }
}

void OutputReader::finish(Pipe& pipe) {
  if (pipe.ending) return;
  pipe.ending = true;
  uv_poll_stop(&pipe.poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&pipe.poll), [](uv_handle_t* handle) { closed(handle, true); });
  try {
    on_chunk_.MakeCallback(env_.Global(), {Napi::Number::New(env_, pipe.index), env_.Null()}, async_context_);
  } catch (const Napi::Error&) {
  }
}

}  // namespace sandbox
