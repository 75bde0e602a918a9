#include "spawner.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <thread>

#include "exit_watch.h"

namespace sandbox {
namespace {

struct Launched {
  ExitWatch* watch;
  bool failed;
  SpawnError error;
};

// Requests and results travel as pointers through two pipes, not a mutex-guarded queue: the
// spawner thread runs at SCHED_BATCH and may wait for a CPU at any moment, and the event loop
// must never wait on a lock such a thread holds (it did, for milliseconds, under load).
class Spawner {
 public:
  explicit Spawner(uv_loop_t* loop) {
    if (pipe2(requests_, O_CLOEXEC) != 0 || pipe2(results_, O_CLOEXEC | O_NONBLOCK) != 0) {
      perror("sandbox-executor: spawner pipes");
      abort();
    }
    uv_poll_init(loop, &results_poll_, results_[0]);
    results_poll_.data = this;
    uv_poll_start(&results_poll_, UV_READABLE, on_results);
    uv_unref(reinterpret_cast<uv_handle_t*>(&results_poll_));
    std::thread([this] { run(); }).detach();
  }

  // On the loop thread.
  void enqueue(ExitWatch* watch) {
    // pending launches keep the loop alive, like the children they will become
    if (outstanding_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&results_poll_));
    write_pointer(requests_[1], watch);
  }

 private:
  static void write_pointer(int fd, const void* pointer) {
    // a pointer is far below PIPE_BUF: written whole or not at all
    while (write(fd, &pointer, sizeof pointer) < 0 && errno == EINTR) {
    }
  }

  void run() {
    // Node's signals are handled by its own threads; none may run here, nor reach the children
    // with Node's handlers before they reset them.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    // SCHED_BATCH: never preempt the event loop on wake-up (wait for a free CPU instead of taking
    // the loop's for the length of a clone). The warm sandboxes made here inherit it, so their
    // preparation (a runtime starting) yields to running executions too; sandbox-init puts the
    // execution back on the normal policy when its command comes.
    struct sched_param none {};
    sched_setscheduler(0, SCHED_BATCH, &none);
    for (;;) {
      ExitWatch* watch = nullptr;
      ssize_t got = read(requests_[0], &watch, sizeof watch);
      if (got != (ssize_t)sizeof watch) continue;  // EINTR
      auto* launched = new Launched{watch, false, {}};
      try {
        launch_child(watch->launching_child());
      } catch (const SpawnError& error) {
        launched->failed = true;
        launched->error = error;
      }
      write_pointer(results_[1], launched);
    }
  }

  static void on_results(uv_poll_t* handle, int, int) {
    auto* self = static_cast<Spawner*>(handle->data);
    Launched* launched = nullptr;
    while (read(self->results_[0], &launched, sizeof launched) == (ssize_t)sizeof launched) {
      if (--self->outstanding_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&self->results_poll_));
      if (launched->failed) launched->watch->launch_failed(launched->error);
      else launched->watch->launched();
      delete launched;
    }
  }

  int requests_[2];
  int results_[2];
  uv_poll_t results_poll_;
  int outstanding_ = 0;  // loop thread only
};

}  // namespace

void launch_in_background(Napi::Env env, ExitWatch* watch) {
  static Spawner* spawner = [env] {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    return new Spawner(loop);  // never freed: its thread is the parent of every child it made
  }();
  spawner->enqueue(watch);
}

}  // namespace sandbox
