# The MACs of the precision comparison (docs/energy-area.md, "Precision comparison
# (Fig. 10)"): the PE of each operand precision and the floating-point FMA core on its
# own, Verilated for their bit-exactness tests (tests/rtl/precision_rtl_test.cpp against
# rtl/harness/fp_reference.h). The parameters here must match sim/precision/precision.cpp,
# which synthesises the same instances (`octet precision`); the tests fail if they differ.
set(OCTET_FP8_PARAMS -GExpBits=5 -GManBits=2 -GAccExpBits=6 -GAccManBits=9)    # E5M2, 1-6-9 accumulator
set(OCTET_FP16_PARAMS -GExpBits=5 -GManBits=10 -GAccExpBits=8 -GAccManBits=23)  # binary16, binary32 accumulator
set(OCTET_FP32_PARAMS -GExpBits=8 -GManBits=23 -GAccExpBits=8 -GAccManBits=23)  # binary32
foreach(fp fp8 fp16 fp32)
  string(TOUPPER ${fp} upper)
  octet_rtl_block(octet_fp_fma_${fp} TOP octet_fp_fma SOURCES octet_fp_fma.sv ARGS ${OCTET_${upper}_PARAMS})
endforeach()
octet_rtl_block(octet_mac_pe_int8 TOP octet_mac_pe SOURCES octet_fp_fma.sv octet_mac_pe.sv
                ARGS -GFloat=0 -GOpBits=8 -GAccBits=32)
octet_rtl_block(octet_mac_pe_int16 TOP octet_mac_pe SOURCES octet_fp_fma.sv octet_mac_pe.sv
                ARGS -GFloat=0 -GOpBits=16 -GAccBits=48)
octet_rtl_block(octet_mac_pe_fp8 TOP octet_mac_pe SOURCES octet_fp_fma.sv octet_mac_pe.sv
                ARGS -GFloat=1 -GOpBits=8 -GAccBits=16 ${OCTET_FP8_PARAMS})
octet_rtl_block(octet_mac_pe_fp16 TOP octet_mac_pe SOURCES octet_fp_fma.sv octet_mac_pe.sv
                ARGS -GFloat=1 -GOpBits=16 -GAccBits=32 ${OCTET_FP16_PARAMS})
octet_rtl_block(octet_mac_pe_fp32 TOP octet_mac_pe SOURCES octet_fp_fma.sv octet_mac_pe.sv
                ARGS -GFloat=1 -GOpBits=32 -GAccBits=32 ${OCTET_FP32_PARAMS})

octet_rtl_lint(FILES octet_fp_fma.sv octet_mac_pe.sv)
# The PE is also linted at each precision's parameters (the default run above is INT8).
foreach(p "int16;-GFloat=0;-GOpBits=16;-GAccBits=48"
          "fp8;-GFloat=1;-GOpBits=8;-GAccBits=16;${OCTET_FP8_PARAMS}"
          "fp16;-GFloat=1;-GOpBits=16;-GAccBits=32;${OCTET_FP16_PARAMS}"
          "fp32;-GFloat=1;-GOpBits=32;-GAccBits=32;${OCTET_FP32_PARAMS}")
  list(POP_FRONT p name)
  add_test(NAME RtlLint.octet_mac_pe_${name}
           COMMAND verilator --lint-only -Wall -y ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_LIST_DIR}/octet_mac_pe.sv
                   --top-module octet_mac_pe ${p})
endforeach()
