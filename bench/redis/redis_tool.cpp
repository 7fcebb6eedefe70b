// The Redis side of the redis scenario (bench/README.md): a producer that adds entries stamped with their send time,
// and raw hiredis readers (an XREAD loop each), the baseline feedrouter's redis-stream feed is read against. The
// server is a redis-server the harness started; this tool only connects to it.
//
//   redis-tool --port PORT
//
// Prints {"ready": true} once connected, then answers one JSON line per command line on stdin:
//
//   consume STREAM CONSUMERS                   -> {"ready": true} once CONSUMERS readers read STREAM from its current
//                                                 last entry on, each on a connection and thread of its own with
//                                                 XREAD COUNT 500 BLOCK 100 (500: the most feedrouter asks for)
//   produce STREAM COUNT SIZE RATE             -> {"produced", "first_us", "last_us", "seconds"} once the server has
//                                                 added them all; entry i is XADD STREAM * n i sentUs <send time, µs
//                                                 since the epoch> pad "xx..." of about SIZE bytes of fields; RATE
//                                                 entries per second (0: as fast as the server takes them, in
//                                                 pipelines of 100)
//   wait COUNT TIMEOUT_S                       -> once every reader read COUNT entries (or the time is up):
//                                                 {"consumers", "received", "first_us", "last_us", "latency_us":
//                                                 {"p50", "p90", "p99", "max"}}; the readers stop
//   quit

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "raw_readers.hpp"

namespace {

const char* const server_host = "127.0.0.1";

/// Entries one XREAD asks for: what feedrouter's source asks for at most.
constexpr const char* read_count = "500";

/// Milliseconds one XREAD blocks: how soon a reader notices that it should stop.
constexpr const char* read_block_ms = "100";

/// XADDs sent before their answers are read, when producing as fast as the server takes them.
constexpr long pipeline_depth = 100;

constexpr timeval connect_timeout{10, 0};

using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

/// One hiredis connection (blocking).
class connection {
public:
  explicit connection(int port) : ctx_(redisConnectWithTimeout(server_host, port, connect_timeout)) {
    if (ctx_ == nullptr || ctx_->err != 0)
      throw std::runtime_error(std::string{"cannot connect: "} + (ctx_ ? ctx_->errstr : "out of memory"));
  }

  ~connection() {
    redisFree(ctx_);
  }

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Runs one command; throws when the connection fails or the server answers an error.
  reply_ptr run(const std::vector<std::string>& args) {
    append(args);
    return next_reply();
  }

  /// Queues one command; next_reply() reads its answer.
  void append(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lengths.data()) != REDIS_OK)
      throw std::runtime_error(std::string{"redis: "} + ctx_->errstr);
  }

  reply_ptr next_reply() {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr)
      throw std::runtime_error(std::string{"redis: "} + ctx_->errstr);
    reply_ptr reply{static_cast<redisReply*>(raw), &freeReplyObject};
    if (reply->type == REDIS_REPLY_ERROR)
      throw std::runtime_error(std::string{"redis: "} + reply->str);
    return reply;
  }

private:
  redisContext* ctx_;
};

/// The ID of the last entry of `stream`, or 0-0 when it has none.
std::string last_id(connection& conn, const std::string& stream) {
  auto reply = conn.run({"XREVRANGE", stream, "+", "-", "COUNT", "1"});
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && reply->element[0]->type == REDIS_REPLY_ARRAY)
    return reply->element[0]->element[0]->str;
  return "0-0";
}

/// Returns the sentUs field of an entry's field-value array, or -1.
std::int64_t sent_us_of(const redisReply* fields) {
  for (std::size_t i = 0; i + 1 < fields->elements; i += 2)
    if (std::strcmp(fields->element[i]->str, "sentUs") == 0)
      return std::strtoll(fields->element[i + 1]->str, nullptr, 10);
  return -1;
}

/// A raw reader: XREAD from the entry after `from` on, in a loop, on a connection and thread of its own.
class stream_reader final : public bench::raw_reader {
public:
  stream_reader(int port, std::string stream, std::string from)
    : conn_(port), stream_(std::move(stream)), last_(std::move(from)) {
    thread_ = std::thread([this] { run(); });
  }

  ~stream_reader() override {
    finish();
  }

  void stop_soon() override {
    stop_ = true;
  }

  void finish() override {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

private:
  void run() {
    try {
      while (!stop_) {
        auto reply = conn_.run({"XREAD", "COUNT", read_count, "BLOCK", read_block_ms, "STREAMS", stream_, last_});
        auto arrived = bench::now_us();
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0)
          continue; // nil: nothing new within the block time
        const auto* entries = reply->element[0]->element[1];
        for (std::size_t i = 0; i < entries->elements; ++i) {
          const auto* entry = entries->element[i];
          seen_.add(arrived, sent_us_of(entry->element[1]));
          last_ = entry->element[0]->str;
        }
      }
    } catch (const std::exception& e) {
      std::cerr << "redis-tool: reader of " << stream_ << ": " << e.what() << std::endl;
    }
  }

  connection conn_;
  std::string stream_;
  std::string last_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The XADD of entry `n`, its fields about `size` bytes.
std::vector<std::string> stamped_entry(const std::string& stream, long n, long size) {
  std::vector<std::string> args{"XADD", stream, "*", "n", std::to_string(n), "sentUs", std::to_string(bench::now_us()),
                                "pad"};
  long used = 0;
  for (std::size_t i = 3; i < args.size(); ++i)
    used += static_cast<long>(args[i].size());
  args.emplace_back(static_cast<std::size_t>(std::max<long>(1, size - used)), 'x');
  return args;
}

std::string produce(connection& conn, const std::string& stream, long count, long size, double rate) {
  auto first = bench::now_us();
  auto start = std::chrono::steady_clock::now();
  if (rate > 0) {
    for (long i = 0; i < count; ++i) {
      bench::pace(start, i, rate);
      conn.run(stamped_entry(stream, i, size));
    }
  } else {
    for (long i = 0; i < count; i += pipeline_depth) {
      auto batch = std::min(pipeline_depth, count - i);
      for (long k = 0; k < batch; ++k)
        conn.append(stamped_entry(stream, i + k, size));
      for (long k = 0; k < batch; ++k)
        conn.next_reply();
    }
  }
  return bench::produced_json(count, first, bench::now_us());
}

} // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string{argv[i]} == "--port")
      port = std::atoi(argv[i + 1]);
  if (port <= 0) {
    std::cerr << "usage: redis-tool --port PORT" << std::endl;
    return 2;
  }
  try {
    connection producer{port};
    std::vector<std::unique_ptr<stream_reader>> readers;
    std::cout << "{\"ready\": true}" << std::endl;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream in{line};
      std::string command;
      in >> command;
      try {
        if (command == "consume") {
          std::string stream;
          int count = 1;
          in >> stream >> count;
          auto from = last_id(producer, stream);
          for (int i = 0; i < count; ++i)
            readers.push_back(std::make_unique<stream_reader>(port, stream, from));
          std::cout << "{\"ready\": true}" << std::endl;
        } else if (command == "produce") {
          std::string stream;
          long count = 0;
          long size = 0;
          double rate = 0;
          in >> stream >> count >> size >> rate;
          std::cout << produce(producer, stream, count, size, rate) << std::endl;
        } else if (command == "wait") {
          std::size_t count = 0;
          double timeout = 60;
          in >> count >> timeout;
          std::cout << bench::wait_and_sum_up(readers, count, timeout) << std::endl;
        } else if (command == "quit") {
          break;
        } else if (!command.empty()) {
          std::cout << bench::json_error("unknown command " + command) << std::endl;
        }
      } catch (const std::exception& e) {
        std::cout << bench::json_error(e.what()) << std::endl;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "redis-tool: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
