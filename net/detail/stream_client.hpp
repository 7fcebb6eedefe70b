#pragma once

// Private to net/: how the client opens a stream. Defined in net/http_stream.cpp, used by net/http_client.cpp.

#include "net/detail/asio_context.hpp"
#include "net/detail/tls_context.hpp"
#include "net/http_client.hpp"

namespace feedrouter {

/// Opens a stream for `req` on a connection of its own; see http_client::open_stream. `tls` serves https URLs;
/// `egress` (null: none) judges every address the connection tries.
line_stream_ptr open_line_stream(asio::io_context& ioc, tls_context_ptr tls,
                                 std::shared_ptr<const egress_policy> egress, stream_request req,
                                 http_client::stream_handler on_update);

} // namespace feedrouter
