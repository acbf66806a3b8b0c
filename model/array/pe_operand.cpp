#include "model/array/pe_operand.h"

#include "golden/core/error.h"

namespace octet::model {

void FailAccumulatorOverflow(int64_t sum) {
  Fail("array accumulator overflow: partial sum {} leaves the {}-bit range [{}, {}]", sum, kAccumulatorBits,
       kAccumulatorMin, kAccumulatorMax);
}

void FailFlagWord(uint16_t word) { Fail("flag word {:#x} has bits above bit 8", word); }

void FailShiftError8(int16_t e) { Fail("8-bit SQ error {} is outside [-128, 127]", e); }

const char* OperandKindName(OperandKind kind) {
  switch (kind) {
    case OperandKind::kWeight: return "int8 weight";
    case OperandKind::kActivation: return "uint8 activation";
    case OperandKind::kFlagError: return "flag error word";
    case OperandKind::kShiftError8: return "8-bit SQ error";
    case OperandKind::kShiftError16: return "16-bit SQ error";
    case OperandKind::kEncoded: return "encoded PE operand";
  }
  return "?";
}

int OperandPasses(OperandKind kind) { return kind == OperandKind::kShiftError16 ? 2 : 1; }

}  // namespace octet::model
