# The systolic array's RTL (docs/rtl.md, "Array"): the PE on its own, for its unit test,
# and the array at the sizes the regression and the "rtl" GEMM backend run
# (rtl/harness/array_driver.h picks the instance by ArrayShape). Model classes:
# Voctet_pe and Voctet_array_<R>x<C>.
octet_rtl_block(octet_pe TOP octet_pe SOURCES octet_pe.sv)

# Rows x Cols instances: 1 x 1 (no skew), 3 x 5 (neither a power of two, R < C), the
# small square and tall arrays, and the default configuration's 32 x 32.
foreach(shape 1x1 3x5 4x4 8x4 8x8 32x32)
  string(REPLACE "x" ";" dims ${shape})
  list(GET dims 0 rows)
  list(GET dims 1 cols)
  octet_rtl_block(octet_array_${shape} TOP octet_systolic_array
                  SOURCES octet_pe.sv octet_skew_line.sv octet_systolic_array.sv
                  ARGS -GRows=${rows} -GCols=${cols})
endforeach()

octet_rtl_lint(FILES octet_pe.sv octet_skew_line.sv octet_systolic_array.sv)
