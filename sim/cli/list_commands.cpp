// `octet schemes` and `octet nets`: list the built-ins, or print one as JSON.
#include <fmt/format.h>

#include "golden/net/net_spec.h"
#include "golden/numerics/scheme.h"
#include "sim/cli/commands.h"

namespace octet::cli {

void AddListCommands(CLI::App& app) {
  auto* schemes = app.add_subcommand("schemes", "List the built-in quantization schemes, or print one as JSON");
  auto scheme_name = std::make_shared<std::string>();
  schemes->add_option("--dump", *scheme_name, "Print this scheme (built-in name or file) with every key");
  schemes->callback([scheme_name] {
    if (!scheme_name->empty()) {
      fmt::print("{}\n", SchemeToJson(LoadScheme(*scheme_name)));
      return;
    }
    for (const auto& n : BuiltinSchemeNames()) fmt::print("{}\n", n);
  });
  auto* nets = app.add_subcommand("nets", "List the built-in network specs, or print one as JSON");
  auto net_name = std::make_shared<std::string>();
  nets->add_option("--dump", *net_name, "Print this network spec (built-in name or file)");
  nets->callback([net_name] {
    if (!net_name->empty()) {
      fmt::print("{}\n", NetSpecToJson(LoadNetSpec(*net_name)));
      return;
    }
    for (const auto& n : BuiltinNetNames()) fmt::print("{}\n", n);
  });
}

}  // namespace octet::cli
