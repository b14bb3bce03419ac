#include "systems/system_entry.hpp"

namespace peers {

SystemEntry brisk_entry();
SystemEntry tbb_arena_entry();
SystemEntry tbb_group_entry();
SystemEntry moodycamel_entry();
SystemEntry asio_entry();
SystemEntry mutex_pool_entry();

std::vector<SystemEntry> all_systems() {
  return {brisk_entry(), tbb_arena_entry(), tbb_group_entry(), moodycamel_entry(), asio_entry(), mutex_pool_entry()};
}

}  // namespace peers
