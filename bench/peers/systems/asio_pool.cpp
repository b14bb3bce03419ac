// boost::asio::thread_pool with asio::post. Its only wait is join(), which
// ends the pool, so completions are counted.
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "systems/completion_tally.hpp"
#include "systems/system_entry.hpp"

namespace peers {
namespace {

class AsioPool {
 public:
  static constexpr std::string_view kName = "asio";

  explicit AsioPool(const RunConfig& run) : pool_(run.threads) {}
  ~AsioPool() { pool_.join(); }

  template <class F>
  void post(F f) {
    tally_.posted(1);
    boost::asio::post(pool_, tally_.counted(f));
  }

  template <class F>
  void spawn(F f) { post(f); }

  // No batch API: a loop.
  template <class It>
  void post_bulk(It first, It last) {
    for (; first != last; ++first) post(*first);
  }

  void wait_idle() { tally_.wait_idle(); }

 private:
  CompletionTally tally_;
  boost::asio::thread_pool pool_;  // declared last: joined before the tally goes
};

}  // namespace

SystemEntry asio_entry() { return make_entry<AsioPool>(); }

}  // namespace peers
