// Registration of the RTL-backed implementations with the model's registries. A static
// library drops unreferenced static initialisers, so registration is an explicit call:
// the CLI and the tests call RegisterRtlBackends() before naming an RTL backend.
#pragma once

namespace octet::rtl {

// Registers the "rtl" GEMM backend (model/array/gemm_backend.h): the Verilated systolic
// array run fold by fold (rtl/harness/array_driver.h), for the array sizes that have a
// Verilated instance; other sizes fail with the list of built ones. Idempotent.
void RegisterRtlBackends();

}  // namespace octet::rtl
