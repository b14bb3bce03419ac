// brisk::Producer: credits cached per producer, spent without atomics.
#include "brisk/producer.hpp"

#include <condition_variable>
#include <mutex>

#include "core/engine_core.hpp"
#include "shard/job_fields.hpp"
#include "trace/refusal_hook.hpp"

namespace brisk {

namespace detail {
// Credits granted asynchronously, shared with the grant callback so that a
// late grant never touches a destroyed Producer. Unspent grants go back to
// the pool when the last owner lets go.
struct ProducerGrants {
  explicit ProducerGrants(CreditPool& p) : pool(p) {}
  ~ProducerGrants() {
    const std::int64_t left = granted.load(std::memory_order_relaxed);
    if (left > 0) pool.give_back(left);
  }
  CreditPool& pool;
  // relaxed: a count handed from the granting thread to the producer; the
  // callback the user supplied provides any further ordering they need.
  std::atomic<std::int64_t> granted{0};
};
}  // namespace detail

Producer::Producer(detail::EngineCore& core)
    : core_(&core), grants_(std::make_shared<detail::ProducerGrants>(core.credits())) {}

Producer::Producer(Producer&& other) noexcept
    : core_(other.core_), cached_(other.cached_), grants_(std::move(other.grants_)) {
  other.core_ = nullptr;
  other.cached_ = 0;
}

Producer& Producer::operator=(Producer&& other) noexcept {
  if (this != &other) {
    release_credits();
    core_ = other.core_;
    cached_ = other.cached_;
    grants_ = std::move(other.grants_);
    other.core_ = nullptr;
    other.cached_ = 0;
  }
  return *this;
}

Producer::~Producer() { release_credits(); }

void Producer::release_credits() noexcept {
  if (core_ != nullptr && cached_ > 0) core_->credits().give_back(cached_);
  cached_ = 0;
  grants_.reset();
}

bool Producer::refill() {
  if (grants_->granted.load(std::memory_order_relaxed) > 0) {
    cached_ += grants_->granted.exchange(0, std::memory_order_relaxed);
    if (cached_ > 0) return true;
  }
  cached_ += core_->credits().take(core_->config().credit_chunk);
  return cached_ > 0;
}

bool Producer::wait_for_credit(std::chrono::nanoseconds timeout) {
  struct Signal {
    std::mutex mutex;
    std::condition_variable cv;
    bool granted = false;
  };
  auto signal = std::make_shared<Signal>();
  const std::int64_t started = core_->now_ns();
  const std::uint64_t ticket = core_->credits().request(1, [signal](std::int64_t) {
    std::lock_guard lock(signal->mutex);
    signal->granted = true;
    signal->cv.notify_one();
  });
  bool granted;
  {
    std::unique_lock lock(signal->mutex);
    granted = signal->cv.wait_for(lock, timeout, [&] { return signal->granted; });
  }
  // A grant that raced with the timeout still happened: keep the credit.
  if (!granted && !core_->credits().cancel(ticket)) {
    std::unique_lock lock(signal->mutex);
    signal->cv.wait(lock, [&] { return signal->granted; });
    granted = true;
  }
  core_->add_producer_blocked_ns(core_->now_ns() - started);
  if (granted) ++cached_;
  return granted;
}

void Producer::request(std::int64_t n, std::function<void()> on_granted) {
  if (n <= 0 || n > core_->credits().capacity()) {
    throw std::invalid_argument("brisk::Producer::request: n must be in 1..credit capacity (got " +
                                std::to_string(n) + ")");
  }
  std::weak_ptr<detail::ProducerGrants> weak = grants_;
  core_->credits().request(n, [weak, cb = std::move(on_granted), &pool = core_->credits()](std::int64_t got) {
    if (auto grants = weak.lock()) {
      grants->granted.fetch_add(got, std::memory_order_relaxed);
      cb();
    } else {
      pool.give_back(got);  // the producer is gone: nobody will spend them
    }
  });
}

std::int64_t Producer::credits() const noexcept {
  return cached_ + (grants_ ? grants_->granted.load(std::memory_order_relaxed) : 0);
}

std::chrono::microseconds Producer::retry_after() const noexcept {
  const std::int64_t ns = core_ ? core_->credits().ns_per_credit() : 0;
  return std::chrono::microseconds(std::max<std::int64_t>(1, ns / 1000));
}

SubmitStatus Producer::backpressure() noexcept {
  core_->count_backpressure();
  return trace::note_refusal(core_->trace_switch(), SubmitStatus::rejected_backpressure);
}

SubmitStatus Producer::post_job(detail::Job&& job, Priority priority) {
  detail::JobFields::mark_returns_credit(job);
  const SubmitStatus status = trace::note_refusal(core_->trace_switch(), core_->post_job(std::move(job), priority));
  if (status == SubmitStatus::accepted) --cached_;
  return status;
}

SubmitResult Producer::submit_index(std::int64_t type, std::string payload, const TaskOptions& options) {
  if (cached_ == 0 && !refill()) {
    SubmitResult r;
    r.status = backpressure();
    r.retry_after = retry_after();
    r.reason = "no credits: retry after the hint";
    return r;
  }
  SubmitResult r = trace::note_refusal(core_->trace_switch(),
                                       core_->submit(type, std::move(payload), options, /*holds_credit=*/true));
  if (r.accepted()) --cached_;
  return r;
}

SubmitResult Producer::submit(std::string_view task_name, std::string payload, TaskOptions options) {
  return submit_index(core_->find_type(task_name), std::move(payload), options);
}

SubmitResult Producer::submit(TaskType type, std::string payload, TaskOptions options) {
  return submit_index(type.valid() ? static_cast<std::int64_t>(type.index()) : -1, std::move(payload), options);
}

SubmitResult Producer::submit_for(TaskType type, std::string payload, std::chrono::nanoseconds timeout,
                                  TaskOptions options) {
  if (cached_ == 0 && !refill()) wait_for_credit(timeout);
  return submit(type, std::move(payload), std::move(options));
}

}  // namespace brisk
