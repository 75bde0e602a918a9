#include "spawner.h"

#include <sched.h>
#include <signal.h>
#include <uv.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "exit_watch.h"

namespace sandbox {
namespace {

struct Launched {
  ExitWatch* watch;
  bool failed;
  SpawnError error;
};

class Spawner {
 public:
  explicit Spawner(uv_loop_t* loop) {
    uv_async_init(loop, &done_signal_, on_done);
    done_signal_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&done_signal_));
    std::thread([this] { run(); }).detach();
  }

  // On the loop thread.
  void enqueue(ExitWatch* watch) {
    // pending launches keep the loop alive, like the children they will become
    if (outstanding_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&done_signal_));
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(watch);
    }
    wake_.notify_one();
  }

 private:
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
      ExitWatch* watch;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty(); });
        watch = queue_.front();
        queue_.pop_front();
      }
      Launched launched{watch, false, {}};
      try {
        launch_child(watch->launching_child());
      } catch (const SpawnError& error) {
        launched.failed = true;
        launched.error = error;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.push_back(launched);
      }
      uv_async_send(&done_signal_);
    }
  }

  static void on_done(uv_async_t* handle) {
    auto* self = static_cast<Spawner*>(handle->data);
    std::deque<Launched> done;
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      done.swap(self->done_);
    }
    for (const Launched& launched : done) {
      if (--self->outstanding_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&self->done_signal_));
      if (launched.failed) launched.watch->launch_failed(launched.error);
      else launched.watch->launched();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ExitWatch*> queue_;
  std::deque<Launched> done_;
  uv_async_t done_signal_;
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
