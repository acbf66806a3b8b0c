// The simulation context of one Verilated block: every driver of this library owns one.
#pragma once

#include <verilated.h>

#include <memory>

namespace octet::rtl {

// A single-threaded context (the models are built without --threads), set before a model
// is made on it: Verilator refuses the setting afterwards.
inline std::unique_ptr<VerilatedContext> NewVerilatedContext() {
  auto context = std::make_unique<VerilatedContext>();
  context->threads(1);
  return context;
}

}  // namespace octet::rtl
