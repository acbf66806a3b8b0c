# The datapath blocks of the vector units (docs/rtl.md, "Vector units"), each bit-exact with
# the golden model's element step it names. Included by rtl/CMakeLists.txt; the drivers are
# in rtl/harness/units_driver.h and the regressions in rtl/harness/block_regressions.h.

# Flag QE2 word of an error element (E2 unit): q::FlagEncode(q::FlagQuantizeElement(m, t)).
octet_rtl_block(octet_flag_encoder TOP octet_flag_encoder
                SOURCES octet_saturated_abs.sv octet_rhe_shift_right.sv octet_flag_encoder.sv)
# Flag word to value (PE operand side): q::FlagDecode.
octet_rtl_block(octet_flag_decoder TOP octet_flag_decoder SOURCES octet_flag_decoder.sv)
# SQ of an error element (E1 unit): q::ShiftQuantizeElement(m, shift, k_E1).
octet_rtl_block(octet_e1_quantizer TOP octet_e1_quantizer
                SOURCES octet_saturated_abs.sv octet_rhe_shift_right.sv octet_e1_quantizer.sv)
# x3, Q_A(relu(x3)) and the ReLU mask (activation unit): ScaleOffsetActivateElement.
octet_rtl_block(octet_relu_qa TOP octet_relu_qa SOURCES octet_relu_qa.sv)
# CQ with the counter-based random bits (CQ unit): q::ConstantQuantizeElement, RandomBits32.
octet_rtl_block(octet_cq TOP octet_cq SOURCES octet_cq.sv)
# Momentum and update of a parameter element (update unit): MomentumUpdateElement.
octet_rtl_block(octet_update_unit TOP octet_update_unit SOURCES octet_update_unit.sv)
# BN forward normalise with a multi-cycle divider (BN unit): BnNormaliser.
octet_rtl_block(octet_bn_normalise TOP octet_bn_normalise SOURCES octet_bn_normalise.sv)

octet_rtl_lint(FILES octet_saturated_abs.sv octet_rhe_shift_right.sv octet_flag_encoder.sv octet_flag_decoder.sv
                     octet_e1_quantizer.sv octet_relu_qa.sv octet_cq.sv octet_update_unit.sv
                     octet_bn_normalise.sv)
