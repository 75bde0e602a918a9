#include "parent/spawner.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include <cstdlib>
#include <deque>
#include <thread>

#include "parent/take_all_stack.h"

namespace sandbox {
namespace {

// A launch or another job for this thread (job(arg)).
struct Request {
  BackgroundLaunch* launch;
  void (*job)(void*);
  void* arg;
  Request* next;
};

struct Launched {
  BackgroundLaunch* launch;
  Launched* next;
};

// Wake-ups go through an eventfd and uv_async (also an eventfd), not pipes: the kernel treats a
// pipe write as a hint that the writer is about to sleep and runs the woken thread on the
// writer's CPU, where it then preempts the event loop (measured: the loop lost 0.5-3 ms after
// each spawn request) instead of running on an idle one. And a launch wakes the thread only when
// the loop is about to wait for events (uv_prepare): woken mid-request, it still took the loop's
// CPU in one call out of ten (p90 of the spawn call 1 ms, p50 0.18 ms).
class Spawner {
 public:
  explicit Spawner(uv_loop_t* loop) {
    wake_fd_ = eventfd(0, EFD_CLOEXEC);
    if (wake_fd_ < 0 || uv_async_init(loop, &results_async_, on_results) != 0) {
      perror("sandbox-executor: spawner wake-ups");
      abort();
    }
    results_async_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&results_async_));
    uv_prepare_init(loop, &before_wait_);
    before_wait_.data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(&before_wait_));
    std::thread([this] { run(); }).detach();
  }

  // On the loop thread.
  void enqueue(BackgroundLaunch* launch) {
    // pending launches keep the loop alive, like the children they will become
    if (outstanding_++ == 0) uv_ref(reinterpret_cast<uv_handle_t*>(&results_async_));
    requests_.push(new Request{launch, nullptr, nullptr, nullptr});
    if (!wake_armed_) {
      uv_prepare_start(&before_wait_, wake_before_wait);
      wake_armed_ = true;
    }
  }

  // Any thread; wakes the spawner thread at once (the loop asks for jobs when about to wait).
  void enqueue_job(void (*job)(void*), void* arg) {
    requests_.push(new Request{nullptr, job, arg, nullptr});
    wake();
  }

 private:
  void wake() {
    uint64_t one = 1;
    while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  static void wake_before_wait(uv_prepare_t* handle) {
    auto* self = static_cast<Spawner*>(handle->data);
    uv_prepare_stop(handle);
    self->wake_armed_ = false;
    self->wake();
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
    // Launches first (an execution may wait for one), jobs one at a time in between.
    std::deque<Request*> jobs;
    for (;;) {
      struct pollfd wake = {wake_fd_, POLLIN, 0};
      if (poll(&wake, 1, jobs.empty() ? -1 : 0) > 0) {
        uint64_t count = 0;
        (void)!read(wake_fd_, &count, sizeof count);
      }
      for (Request* request = requests_.take_all(); request != nullptr;) {
        Request* next = request->next;
        if (request->job != nullptr)
          jobs.push_back(request);
        else
          launch(request);
        request = next;
      }
      if (!jobs.empty()) {
        Request* job = jobs.front();
        jobs.pop_front();
        job->job(job->arg);
        delete job;
      }
    }
  }

  void launch(Request* request) {
    request->launch->launch();
    results_.push(new Launched{request->launch, nullptr});
    uv_async_send(&results_async_);
    delete request;
  }

  static void on_results(uv_async_t* handle) {
    auto* self = static_cast<Spawner*>(handle->data);
    for (Launched* launched = self->results_.take_all(); launched != nullptr;) {
      if (--self->outstanding_ == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&self->results_async_));
      launched->launch->launched();
      Launched* next = launched->next;
      delete launched;
      launched = next;
    }
  }

  int wake_fd_ = -1;
  TakeAllStack<Request> requests_;
  TakeAllStack<Launched> results_;
  uv_async_t results_async_;
  uv_prepare_t before_wait_;
  bool wake_armed_ = false;  // loop thread only
  int outstanding_ = 0;      // loop thread only
};

Spawner& the_spawner(Napi::Env env) {
  static Spawner* spawner = [env] {
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    return new Spawner(loop);  // never freed: its thread is the parent of every child it made
  }();
  return *spawner;
}

}  // namespace

void launch_in_background(Napi::Env env, BackgroundLaunch* launch) { the_spawner(env).enqueue(launch); }

void run_in_background(Napi::Env env, void (*job)(void*), void* arg) { the_spawner(env).enqueue_job(job, arg); }

}  // namespace sandbox
