#include "store/pg/connection.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>

namespace feedrouter::pg {

namespace {

/// Statements sent in one pipeline at most before their answers are read. The answers to a pipeline wait in the
/// server's and the socket's buffers until read; a bounded pipeline keeps them far below what those hold, so that
/// the server never blocks writing answers while this side still writes statements.
constexpr std::size_t pipeline_limit = 1000;

/// What masks a secret in a message.
constexpr std::string_view mask = "***";

bool is_success(ExecStatusType status) {
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_PIPELINE_SYNC;
}

} // namespace

// -- error ----------------------------------------------------------------------

bool error::connection_lost() const {
  // 08: connection exception; 57P0x: the server is shutting down or crashed.
  return sqlstate.empty() || sqlstate.compare(0, 2, "08") == 0 || sqlstate.compare(0, 4, "57P0") == 0;
}

std::string one_line(std::string_view text, const std::vector<std::string>& secrets) {
  std::string result;
  result.reserve(text.size());
  for (char c : text) {
    bool blank = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (blank) {
      if (!result.empty() && result.back() != ' ')
        result += ' ';
      continue;
    }
    result += c;
  }
  while (!result.empty() && result.back() == ' ')
    result.pop_back();
  for (const auto& secret : secrets) {
    if (secret.empty())
      continue;
    for (auto pos = result.find(secret); pos != std::string::npos; pos = result.find(secret, pos + mask.size()))
      result.replace(pos, secret.size(), mask);
  }
  return result;
}

// -- result ---------------------------------------------------------------------

void result::deleter::operator()(pg_result* raw) const noexcept {
  PQclear(raw);
}

result::result(pg_result* raw) noexcept : raw_(raw) {
  // nop
}

int result::rows() const noexcept {
  return PQntuples(raw_.get());
}

bool result::is_null(int row, int col) const noexcept {
  return PQgetisnull(raw_.get(), row, col) == 1;
}

std::string_view result::view(int row, int col) const noexcept {
  return {PQgetvalue(raw_.get(), row, col), static_cast<std::size_t>(PQgetlength(raw_.get(), row, col))};
}

std::string result::text(int row, int col) const {
  return std::string{view(row, col)};
}

std::int64_t result::integer(int row, int col) const noexcept {
  auto text = view(row, col);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<std::int64_t> result::opt_integer(int row, int col) const noexcept {
  if (is_null(row, col))
    return std::nullopt;
  return integer(row, col);
}

std::int64_t result::affected() const noexcept {
  std::string_view text = PQcmdTuples(raw_.get());
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// -- params ---------------------------------------------------------------------

params& params::text(std::string_view x) {
  values_.emplace_back(std::string{x});
  return *this;
}

params& params::integer(std::int64_t x) {
  values_.emplace_back(std::to_string(x));
  return *this;
}

params& params::integer(const std::optional<std::int64_t>& x) {
  return x ? integer(*x) : null();
}

params& params::null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> params::pointers() const {
  std::vector<const char*> result;
  result.reserve(values_.size());
  for (const auto& value : values_)
    result.push_back(value ? value->c_str() : nullptr);
  return result;
}

// -- connection -----------------------------------------------------------------

void connection::closer::operator()(pg_conn* raw) const noexcept {
  PQfinish(raw);
}

connection::connection(pg_conn* raw, std::vector<std::string> secrets) noexcept
  : raw_(raw), secrets_(std::move(secrets)) {
  // nop
}

connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;
connection::~connection() = default;

std::variant<connection, error> connection::open(const std::vector<std::pair<std::string, std::string>>& settings,
                                                 const std::vector<std::string>& secrets) {
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : settings) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname: a "dbname" that is a URI sets the parameters it names.
  connection result{PQconnectdbParams(keywords.data(), values.data(), 1), secrets};
  if (!result.raw_)
    return error{"out of memory", {}};
  if (PQstatus(result.raw_.get()) != CONNECTION_OK)
    return result.session_error();
  return result;
}

error connection::session_error() const {
  return {one_line(PQerrorMessage(raw_.get()), secrets_), {}};
}

std::optional<error> connection::error_of(const pg_result* raw) const {
  if (raw == nullptr)
    return session_error();
  if (is_success(PQresultStatus(raw)))
    return std::nullopt;
  const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
  const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
  // The primary message only: DETAIL may quote a whole failing row, sealed secrets included.
  auto message = primary != nullptr ? std::string{primary} : std::string{PQresultErrorMessage(raw)};
  if (message.empty())
    return session_error();
  return error{one_line(message, secrets_), sqlstate != nullptr ? sqlstate : ""};
}

reply connection::to_reply(pg_result* raw) const {
  result owned{raw};
  if (auto err = error_of(raw))
    return std::move(*err);
  return owned;
}

reply connection::exec(const char* sql) {
  return to_reply(PQexec(raw_.get(), sql));
}

reply connection::exec(const char* sql, const params& args) {
  auto values = args.pointers();
  return to_reply(PQexecParams(raw_.get(), sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                               nullptr, 0));
}

reply connection::exec(const statement& stmt, const params& args) {
  auto values = args.pointers();
  return to_reply(
    PQexecPrepared(raw_.get(), stmt.name, static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0));
}

std::optional<call_error> connection::run_pipelined(const std::vector<call>& calls) {
  for (std::size_t first = 0; first < calls.size(); first += pipeline_limit)
    if (auto err = run_pipeline(calls, first, std::min(calls.size(), first + pipeline_limit)))
      return err;
  return std::nullopt;
}

std::optional<call_error> connection::run_pipeline(const std::vector<call>& calls, std::size_t first,
                                                   std::size_t end) {
  auto* raw = raw_.get();
  if (PQenterPipelineMode(raw) != 1)
    return call_error{first, session_error()};
  std::optional<call_error> failure;
  auto sent = first;
  for (; sent < end; ++sent) {
    const auto& x = calls[sent];
    auto values = x.args.pointers();
    auto count = static_cast<int>(values.size());
    auto queued = x.stmt->name != nullptr
                    ? PQsendQueryPrepared(raw, x.stmt->name, count, values.data(), nullptr, nullptr, 0)
                    : PQsendQueryParams(raw, x.stmt->sql, count, nullptr, values.data(), nullptr, nullptr, 0);
    if (queued != 1) {
      failure = call_error{sent, session_error()};
      break;
    }
  }
  if (PQpipelineSync(raw) != 1 && !failure)
    failure = call_error{first, session_error()};
  // Each call answers with its result and then nullptr; a call after a failed one answers PGRES_PIPELINE_ABORTED.
  for (auto i = first; i < sent; ++i) {
    while (auto* answer = PQgetResult(raw)) {
      result owned{answer};
      if (PQresultStatus(answer) == PGRES_PIPELINE_ABORTED)
        continue;
      if (auto err = error_of(answer); err && !failure)
        failure = call_error{i, std::move(*err)};
    }
  }
  // Then the sync; nullptr only when the session is gone.
  while (auto* answer = PQgetResult(raw)) {
    result owned{answer};
    if (PQresultStatus(answer) == PGRES_PIPELINE_SYNC)
      break;
  }
  if (PQexitPipelineMode(raw) != 1 && !failure)
    failure = call_error{first, session_error()};
  return failure;
}

std::optional<error> connection::prepare_on_connect(std::vector<statement> statements) {
  statements_ = std::move(statements);
  return prepare_all();
}

std::optional<error> connection::prepare_all() {
  for (const auto& stmt : statements_) {
    auto answer = to_reply(PQprepare(raw_.get(), stmt.name, stmt.sql, 0, nullptr));
    if (!answer)
      return error{"preparing " + std::string{stmt.name} + ": " + answer.error().message, answer.error().sqlstate};
  }
  return std::nullopt;
}

std::optional<error> connection::run_on_connect(std::vector<std::string> sql) {
  on_connect_ = std::move(sql);
  return run_all_on_connect();
}

std::optional<error> connection::run_all_on_connect() {
  for (const auto& sql : on_connect_) {
    auto answer = exec(sql.c_str());
    if (!answer)
      return answer.error();
  }
  return std::nullopt;
}

std::optional<error> connection::ensure_open() {
  if (PQstatus(raw_.get()) == CONNECTION_OK)
    return std::nullopt;
  PQreset(raw_.get());
  if (PQstatus(raw_.get()) != CONNECTION_OK)
    return session_error();
  if (auto err = run_all_on_connect())
    return err;
  return prepare_all();
}

int connection::socket() const noexcept {
  return PQsocket(raw_.get());
}

std::variant<std::vector<std::string>, error> connection::take_notifications() {
  if (PQconsumeInput(raw_.get()) != 1)
    return session_error();
  std::vector<std::string> channels;
  while (auto* note = PQnotifies(raw_.get())) {
    channels.emplace_back(note->relname);
    PQfreemem(note);
  }
  return channels;
}

bool connection::in_transaction() const noexcept {
  auto status = PQtransactionStatus(raw_.get());
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

int connection::server_pid() const noexcept {
  return PQbackendPID(raw_.get());
}

} // namespace feedrouter::pg
