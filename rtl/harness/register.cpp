#include "rtl/harness/register.h"

#include <memory>
#include <string>

#include "model/array/gemm_backend.h"
#include "rtl/harness/array_driver.h"

namespace octet::rtl {

void RegisterRtlBackends() {
  std::string sizes;
  for (const model::ArrayShape& s : RtlArrayShapes())
    sizes += (sizes.empty() ? "" : ", ") + std::to_string(s.rows) + "x" + std::to_string(s.cols);
  model::RegisterGemmBackend("rtl", "the Verilated RTL array, fold by fold (arrays " + sizes + ")",
                             [](model::ArrayShape array, model::Dataflow dataflow) -> std::unique_ptr<model::GemmBackend> {
                               return std::make_unique<RtlGemmBackend>(array, dataflow);
                             });
}

}  // namespace octet::rtl
