// Subcommands of the `octet` executable. Each Add*Command registers one subcommand (its
// options and its callback) on the top-level CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace octet::cli {

void AddTrainCommand(CLI::App& app);
void AddTraceCommand(CLI::App& app);
void AddListCommands(CLI::App& app);
void AddRunCommand(CLI::App& app);
void AddAreaCommand(CLI::App& app);
void AddReportCommand(CLI::App& app);
void AddPrecisionCommand(CLI::App& app);
void AddRegressCommand(CLI::App& app);
// `octet sweep`, `octet sweep merge` and the hidden `octet sweep-worker`.
void AddSweepCommand(CLI::App& app);

}  // namespace octet::cli
