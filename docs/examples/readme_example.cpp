#include <brisk/brisk.hpp>

#include <cstdio>

int main() {
  brisk::Engine engine;  // one pinned worker per CPU

  brisk::TaskTypeOptions email_options;
  email_options.retry.max_attempts = 5;
  engine.register_task("send_email", [](brisk::TaskContext& task) {
    std::printf("email to %.*s (attempt %u)\n", int(task.payload().size()), task.payload().data(),
                task.attempt());
    return brisk::Outcome::success();  // or Outcome::retry("smtp busy") / Outcome::fail("bad address")
  }, email_options);
  engine.start();

  brisk::SubmitResult r = engine.submit("send_email", "ada@example.com");
  if (!r) std::printf("refused: %s\n", brisk::to_string(r.status).data());  // e.g. answer 429

  engine.post([] { std::puts("an in-memory closure: the fastest path"); });
  engine.drain();  // everything accepted so far has run
}
