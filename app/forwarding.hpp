#pragma once

// How the instances of a cluster forward requests to each other (docs/cluster.md): a request for a registration
// another instance runs goes there, signed with a key every instance derives from the shared secrets key, and is
// never forwarded again.

#include <chrono>
#include <string>
#include <string_view>

#include "core/time_format.hpp"
#include "net/http_message.hpp"

namespace feedrouter {

/// The fields of a forwarded request: the instance that forwarded it, when (milliseconds since the epoch), and the
/// HMAC-SHA256 (hex) of both with the method, target and body digest, under the forwarding key.
inline constexpr std::string_view forwarded_by_field = "X-Feedrouter-Forwarded-By";
inline constexpr std::string_view forwarded_at_field = "X-Feedrouter-Forwarded-At";
inline constexpr std::string_view forwarded_signature_field = "X-Feedrouter-Forwarded-Signature";

/// How far a forwarded request's time may lie from the receiver's clock, either way: it bounds replays of a captured
/// request, not the instances' clock offset, which only needs to stay below it.
inline constexpr std::chrono::minutes forwarding_window{5};

/// Returns `req` as instance `self_id` forwards it at `now`: its fields without the hop-by-hop and framing ones and
/// without any forwarding field it came with, plus the forwarding fields signed with `key`.
http_request forwarded_request(const http_request& req, std::string_view key, std::string_view self_id, sys_ms now);

/// What a received request says about forwarding.
struct forwarding_check {
  enum class kind {
    direct,    ///< no forwarding field: from a client
    forwarded, ///< forwarded by another instance, signature good
    refused,   ///< forwarding fields that do not check out
  };

  kind what = kind::direct;
  std::string by;    ///< forwarded: the instance that forwarded it
  std::string error; ///< refused: why, naming the field
};

/// Checks the forwarding fields of `req` received at `now` against `key`.
forwarding_check check_forwarding(const http_request& req, std::string_view key, sys_ms now);

/// Returns the owner's response `res` as the instance that forwarded the request answers its client: the status,
/// body and fields, without the framing and connection fields its own server sets.
http_response relayed_response(http_response res);

} // namespace feedrouter
