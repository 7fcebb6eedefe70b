#include "actors/child_error.hpp"

#include <caf/error.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/sec.hpp>

namespace feedrouter {

void report_exceptions_as_errors(caf::scheduled_actor* child) {
  child->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, std::string{e.what()});
    } catch (...) {
      return caf::make_error(caf::sec::runtime_error, std::string{"unknown exception"});
    }
  });
}

std::string describe_child_error(const caf::error& reason) {
  if (!reason)
    return "exited normally";
  const auto& context = reason.context();
  if (context.size() == 1 && context.match_element<std::string>(0))
    return context.get_as<std::string>(0);
  return caf::to_string(reason);
}

} // namespace feedrouter
