#include "model/memory/buffer.h"

namespace octet::model {

Buffer::Buffer(sc_core::sc_module_name name, BufferId id, StepStats& stats) : sc_module(name), id_(id), stats_(stats) {}

}  // namespace octet::model
