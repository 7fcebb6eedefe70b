// The store actor in cluster mode: changes under a stale lease are left out of a group commit and their requests
// answered with a fenced error, while the others commit; and the reads a cluster makes.

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include "actor_fixture.hpp"
#include "actors/atoms.hpp"
#include "actors/store_actor.hpp"
#include "core/shard.hpp"

using namespace feedrouter;
using namespace feedrouter::test;

namespace {

const trigger_ref mine{"guest", "mine"};
const trigger_ref moved{"guest", "moved"};

store_op status_op(const trigger_ref& trigger, std::int64_t epoch) {
  store_op op;
  op.op = store_op::kind::put_status;
  op.record.trigger = trigger;
  op.fence = fencing_token{shard_of(trigger), epoch};
  return op;
}

} // namespace

TEST_CASE_METHOD(actor_fixture, "a request with a change under a stale lease is answered fenced, the others commit",
                 "[store_actor][cluster]") {
  journal->leases[shard_of(mine)] = 4;
  journal->leases[shard_of(moved)] = 9;
  auto ok = ask<commit_atom>(store, write_atom::value, std::vector<store_op>{status_op(mine, 4)});
  auto stale = ask<commit_atom>(store, write_atom::value, std::vector<store_op>{status_op(moved, 8)});
  auto unfenced = ask<commit_atom>(store, put_atom::value, make_record(moved, R"({"seconds": 1})", now()));
  run();
  CHECK(ok->value);
  REQUIRE(stale->error);
  CHECK(is_fenced(*stale->error));
  CHECK(unfenced->value);
  CHECK(journal->fenced == std::vector<trigger_ref>{moved});
  CHECK(journal->ops_for(moved).size() == 1); // the put without a lease
}

TEST_CASE_METHOD(actor_fixture, "a put, a status and an erase under a lease carry it to the store, and changes of "
                                "one registration under two leases are committed apart", "[store_actor][cluster]") {
  fencing_token lease{shard_of(mine), 2};
  journal->leases[lease.shard] = 2;
  auto log = std::make_shared<std::vector<std::string>>();
  auto record = make_record(mine, R"({"seconds": 1})", now());
  sys.spawn([store = store, record, lease, log](caf::event_based_actor* self) {
    auto answer = [log](std::string what) {
      return std::make_pair([log, what](commit_atom) { log->push_back(what + " committed"); },
                            [log, what](caf::error& err) {
                              log->push_back(what + (is_fenced(err) ? " fenced" : " failed"));
                            });
    };
    auto [put_ok, put_err] = answer("put");
    self->request(store, caf::infinite, put_atom::value, record, lease).then(put_ok, put_err);
    self->send(store, status_atom::value, mine, registration_status{}, lease);
    auto [erase_ok, erase_err] = answer("erase");
    self->request(store, caf::infinite, erase_atom::value, mine, fencing_token{lease.shard, 1})
      .then(erase_ok, erase_err);
  });
  run();
  CHECK(*log == std::vector<std::string>{"put committed", "erase fenced"});
  REQUIRE(journal->commits.size() == 2);
  auto ops = journal->ops_for(mine);
  REQUIRE(ops.size() == 2);
  CHECK(ops[0].fence->epoch == 2);
  CHECK(ops[1].op == store_op::kind::put_status);
  CHECK(ops[1].fence->epoch == 2);
}

TEST_CASE_METHOD(actor_fixture, "the store actor reads the registrations of some shards after committing what is "
                                "queued", "[store_actor][cluster]") {
  auto record = make_record(mine, R"({"seconds": 1})", now());
  journal->stored = {record, make_record(moved, R"({"seconds": 1})", now())};
  caf::anon_send(store, status_atom::value, mine, registration_status{});
  auto loaded = call<std::vector<registration_record>>(store, load_shards_atom::value,
                                                       std::vector<std::uint32_t>{shard_of(mine)});
  REQUIRE(journal->commits.size() == 1); // the status went first
  REQUIRE(loaded.size() == (shard_of(mine) == shard_of(moved) ? 2u : 1u));
  CHECK(loaded[0].trigger == mine);
  CHECK(journal->shard_loads == std::vector<std::vector<std::uint32_t>>{{shard_of(mine)}});
  CHECK(call<std::size_t>(store, count_atom::value, std::string{"guest"}) == 2);
  auto one = call<std::optional<registration_record>>(store, lookup_atom::value, moved);
  REQUIRE(one);
  CHECK(one->trigger == moved);
  auto owned = call<std::vector<registration_record>>(store, owned_atom::value, record.auth_hash, std::string{});
  CHECK(owned.size() == 2);
}
