// Built against an installed brisk::cluster (CMake component `cluster`, and
// pkg-config brisk-cluster): proves its header, library and libnats link. No
// server runs here, so connecting must fail with ClusterError, not crash.
#include <brisk/cluster.hpp>

#include <cstdio>

int main() {
  brisk::cluster::ClientConfig config;
  config.servers = {"nats://127.0.0.1:1"};  // nothing listens on port 1
  try {
    brisk::cluster::Client client(config);
  } catch (const brisk::cluster::ClusterError& e) {
    std::printf("cluster consumer: linked; no server, as expected: %s\n", e.what());
    return 0;
  }
  std::printf("cluster consumer: connected to port 1?\n");
  return 1;
}
