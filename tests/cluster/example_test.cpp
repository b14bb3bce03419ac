// docs/examples/cluster_example.cpp run as its comment says: a nats-server,
// two worker processes, one producer; every task runs, on both workers.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <brisk/cluster.hpp>
#include <cstdio>
#include <regex>
#include <string>

#include "nats_server.hpp"

namespace {

// The example in one mode, its stdout on a pipe.
struct Example {
  explicit Example(const std::string& mode, const std::string& arg = "") {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execl(BRISK_CLUSTER_EXAMPLE, BRISK_CLUSTER_EXAMPLE, mode.c_str(), arg.empty() ? nullptr : arg.c_str(),
              static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    ::close(fds[1]);
    out = ::fdopen(fds[0], "r");
  }
  std::string line() {
    char buf[256] = {};
    return std::fgets(buf, sizeof buf, out) != nullptr ? buf : "";
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::fclose(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  pid_t pid = -1;
  FILE* out = nullptr;
};

int ran(const std::string& line) {
  std::smatch m;
  return std::regex_search(line, m, std::regex("ran (\\d+) tasks")) ? std::stoi(m[1]) : -1;
}

TEST(ClusterExample, TwoWorkersAndAProducerShareOneStream) {
  brisk_test::NatsServer server;
  ::setenv("NATS_URL", server.url().c_str(), 1);
  Example a("worker");
  ASSERT_EQ(a.line(), "worker: ready\n");
  Example b("worker");
  ASSERT_EQ(b.line(), "worker: ready\n");

  Example producer("produce", "1000");
  EXPECT_EQ(producer.line(), "producer: 1000 of 1000 stored\n");
  EXPECT_EQ(producer.wait(), 0);

  // Drained once the stream is empty; then each worker stops cleanly.
  brisk::cluster::Client client({.servers = {server.url()}});
  for (int i = 0; i < 3000 && client.stream_messages() != 0; ++i) ::usleep(10'000);
  EXPECT_EQ(client.stream_messages(), 0u);
  ::kill(a.pid, SIGTERM);
  ::kill(b.pid, SIGTERM);
  const int ran_a = ran(a.line());
  const int ran_b = ran(b.line());
  EXPECT_EQ(a.wait(), 0);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_GT(ran_a, 0) << "worker A ran nothing";
  EXPECT_GT(ran_b, 0) << "worker B ran nothing";
  EXPECT_GE(ran_a + ran_b, 1000);  // at-least-once: a redelivery may add one
  std::printf("example: worker A ran %d, worker B ran %d of 1000\n", ran_a, ran_b);
}

}  // namespace
