#pragma once

#include <atomic>

namespace sandbox {

// A list any thread pushes onto and one thread takes whole, without a lock anybody could hold
// while descheduled (the spawner thread runs at SCHED_BATCH and may wait for a CPU at any
// moment; the event loop must never wait for it). Taken whole, so no node is ever popped while a
// pusher reads it. T has a `T* next` member.
template <typename T>
class TakeAllStack {
 public:
  void push(T* item) {
    item->next = head_.load(std::memory_order_relaxed);
    while (!head_.compare_exchange_weak(item->next, item, std::memory_order_release, std::memory_order_relaxed)) {
    }
  }

  // Everything pushed so far, oldest first.
  T* take_all() {
    T* newest = head_.exchange(nullptr, std::memory_order_acquire);
    T* oldest = nullptr;
    while (newest != nullptr) {
      T* next = newest->next;
      newest->next = oldest;
      oldest = newest;
      newest = next;
    }
    return oldest;
  }

 private:
  std::atomic<T*> head_{nullptr};
};

}  // namespace sandbox
