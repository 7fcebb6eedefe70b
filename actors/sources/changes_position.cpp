#include "actors/sources/changes_position.hpp"

#include <utility>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/detail/client_messages.hpp"
#include "actors/messages.hpp"
#include "core/crypto.hpp"
#include "core/json.hpp"
#include "core/log.hpp"

namespace feedrouter {

namespace {

/// How much of a server's answer a debug log line shows.
constexpr std::size_t excerpt_limit = 512;

} // namespace

std::string database_answer_text(int status) {
  return "the database answered " + std::to_string(status);
}

std::string quoted_excerpt(std::string_view body) {
  std::string quoted;
  append_json_string(quoted, body.substr(0, excerpt_limit));
  if (body.size() > excerpt_limit)
    quoted += "...";
  return quoted;
}

http_fields database_fields(const changes_spec& spec, std::string_view bearer) {
  http_fields fields{{"Accept", "application/json"}};
  if (!bearer.empty())
    fields.emplace_back("Authorization", bearer_authorization(bearer));
  else if (!spec.username.empty())
    fields.emplace_back("Authorization", "Basic " + base64_encode(spec.username + ":" + spec.password));
  return fields;
}

client_request changes_end_request(const changes_spec& spec, std::chrono::milliseconds timeout,
                                   std::string_view bearer) {
  client_request req;
  req.destination = spec.server;
  req.destination.target = changes_now_target(spec);
  req.message.method = "GET";
  req.message.fields = database_fields(spec, bearer);
  req.timeout = timeout;
  return req;
}

client_request iam_token_request(const changes_spec& spec, std::chrono::milliseconds timeout) {
  client_request req;
  req.destination = spec.iam_url.value_or(url{});
  req.message.method = "POST";
  req.message.fields = {{"Accept", "application/json"}, {"Content-Type", "application/x-www-form-urlencoded"}};
  req.message.body = iam_token_request_body(spec.iam_api_key);
  req.timeout = timeout;
  return req;
}

iam_exchange read_iam_exchange(const client_result& result) {
  iam_exchange exchange;
  if (!result.ok()) {
    exchange.error = "IAM token: " + std::string{failure_text(result.failure)};
    return exchange;
  }
  exchange.status_code = result.response.status;
  if (exchange.status_code != 200) {
    // The answer is not quoted, not even in the debug log: it may echo the key.
    exchange.error = "the IAM token service answered " + std::to_string(exchange.status_code);
    exchange.refused = exchange.status_code == 400 || exchange.status_code == 401 || exchange.status_code == 403;
    return exchange;
  }
  auto token = read_iam_token(result.response.body);
  if (!token) {
    exchange.error = token.error().message;
    return exchange;
  }
  exchange.token = std::move(*token);
  return exchange;
}

changes_end read_changes_end(const client_result& result) {
  changes_end end;
  if (!result.ok()) {
    end.error = std::string{failure_text(result.failure)};
    end.detail = result.error;
    return end;
  }
  end.status_code = result.response.status;
  if (end.status_code < 200 || end.status_code >= 300) {
    end.error = database_answer_text(end.status_code);
    end.detail = end.error + ": " + quoted_excerpt(result.response.body);
    return end;
  }
  auto seq = read_last_seq(result.response.body);
  if (!seq) {
    end.error = "the database's answer has no readable last_seq: " + seq.error().message;
    return end;
  }
  end.seq = std::move(*seq);
  return end;
}

std::string_view failed_field(const changes_end& end) {
  if (end.status_code == 404)
    return "dbname";
  if (end.status_code == 401 || end.status_code == 403)
    return "username";
  return "url";
}

namespace {

using preparer_private = source_preparer_actor::extend<caf::reacts_to<done_atom, client_result>>;

struct preparer_state {
  caf::typed_response_promise<prepared_source> answer;
  bool exchanging = false; ///< the IAM token is being fetched; the database is asked once it is here
  static inline const char* name = "changes_preparer";
};

using preparer_pointer = preparer_private::stateful_pointer<preparer_state>;

void send_request(preparer_pointer self, const http_client_ptr& client, client_request req) {
  // The completion runs on an I/O thread: it only turns the result into a message.
  client->send(std::move(req), [handle = preparer_private{self}](client_result result) {
    caf::anon_send(handle, done_atom::value, std::move(result));
  });
}

void finish(preparer_pointer self, prepared_source prepared) {
  self->state.answer.deliver(std::move(prepared));
  self->quit();
}

preparer_private::behavior_type preparer_impl(preparer_pointer self, http_client_ptr client, changes_spec spec,
                                              std::chrono::milliseconds timeout) {
  return {
    [=](prepare_atom) -> caf::typed_response_promise<prepared_source> {
      self->state.answer = self->make_response_promise<prepared_source>();
      self->state.exchanging = !spec.iam_api_key.empty();
      send_request(self, client,
                   self->state.exchanging ? iam_token_request(spec, timeout) : changes_end_request(spec, timeout));
      return self->state.answer;
    },
    [=](done_atom, client_result& result) {
      if (self->state.exchanging) {
        self->state.exchanging = false;
        auto exchange = read_iam_exchange(result);
        if (!exchange.token)
          return finish(self, {std::nullopt,
                               field_error{exchange.refused ? "iamApiKey" : "iamUrl",
                                           "cannot get an IAM token: " + exchange.error},
                               std::nullopt});
        return send_request(self, client, changes_end_request(spec, timeout, exchange.token->access_token));
      }
      auto end = read_changes_end(result);
      prepared_source prepared;
      if (end.ok()) {
        prepared.checkpoint = to_changes_checkpoint(spec, end.seq);
      } else {
        log(log_level::debug, "reading where ", spec.server.origin(), " database ", spec.dbname, " ends failed: ",
            end.detail);
        std::string field{failed_field(end)};
        // The credentials and the server as this registration gave them.
        if (field == "username" && !spec.iam_api_key.empty())
          field = "iamApiKey";
        else if (field == "url")
          field = spec.server_field;
        prepared.error = field_error{field, "cannot read where the database ends: " + end.error};
      }
      finish(self, std::move(prepared));
    },
  };
}

} // namespace

source_preparer_actor spawn_changes_preparer(caf::actor_system& sys, http_client_ptr client, changes_spec spec,
                                             std::chrono::milliseconds timeout) {
  return sys.spawn(preparer_impl, std::move(client), std::move(spec), timeout);
}

} // namespace feedrouter
