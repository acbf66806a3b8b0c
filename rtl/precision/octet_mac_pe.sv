/**
 * Output-stationary multiply-accumulate PE of one operand precision, for the precision
 * comparison in the manner of the WAGEUBN paper's Fig. 10 (docs/energy-area.md,
 * "Precision comparison (Fig. 10)"). Its registers are those of an Octet PE in OS: the
 * operand pair moves on (a to the right, b down), with the token's valid and first bits,
 * and the accumulator holds the PE's output:
 *   valid_i && first_i:  acc <= 0 + a_i * b_i   (a new output starts)
 *   valid_i:             acc <= acc + a_i * b_i
 *   otherwise:           acc holds
 *
 * Float = 0: two's-complement integers of OpBits, the exact product accumulated in
 *            AccBits (product + 16 guard bits by convention); wraps on overflow.
 * Float = 1: octet_fp_fma: operands (ExpBits, ManBits), accumulator (AccExpBits,
 *            AccManBits), fused with one rounding to nearest even; OpBits and AccBits
 *            must be the formats' widths.
 * The instances compared (CMake's octet_rtl_block and `octet precision`) set the
 * parameters; the defaults are INT8 with a 32-bit accumulator.
 */
module octet_mac_pe #(
  parameter int unsigned Float      = 0,
  parameter int unsigned OpBits     = 8,
  parameter int unsigned AccBits    = 32,
  parameter int unsigned ExpBits    = 5,
  parameter int unsigned ManBits    = 2,
  parameter int unsigned AccExpBits = 6,
  parameter int unsigned AccManBits = 9
) (
  input  logic               clk_i,
  input  logic               rst_ni,

  input  logic               valid_i,
  input  logic               first_i,   // the first product of an output
  input  logic [OpBits-1:0]  a_i,
  input  logic [OpBits-1:0]  b_i,
  // The token, one cycle later, to the neighbours.
  output logic               valid_o,
  output logic               first_o,
  output logic [OpBits-1:0]  a_o,
  output logic [OpBits-1:0]  b_o,

  output logic [AccBits-1:0] acc_o
);

  logic               valid_q, first_q;
  logic [OpBits-1:0]  a_q, b_q;
  logic [AccBits-1:0] acc_q, acc_d;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid_q <= 1'b0;
      first_q <= 1'b0;
      a_q     <= '0;
      b_q     <= '0;
      acc_q   <= '0;
    end else begin
      valid_q <= valid_i;
      first_q <= first_i;
      a_q     <= a_i;
      b_q     <= b_i;
      acc_q   <= acc_d;
    end
  end

  // What the product is added to: zero for the first product of an output.
  logic [AccBits-1:0] addend, sum;
  assign addend = first_i ? '0 : acc_q;

  if (Float != 0) begin : gen_float
    octet_fp_fma #(
      .ExpBits    (ExpBits),
      .ManBits    (ManBits),
      .AccExpBits (AccExpBits),
      .AccManBits (AccManBits)
    ) u_fma (
      .a_i   (a_i),
      .b_i   (b_i),
      .c_i   (addend),
      .sum_o (sum)
    );
  end else begin : gen_int
    logic signed [2*OpBits-1:0] product;
    assign product = $signed(a_i) * $signed(b_i);
    assign sum     = addend + AccBits'(product);
  end

  assign acc_d = valid_i ? sum : acc_q;

  assign valid_o = valid_q;
  assign first_o = first_q;
  assign a_o     = a_q;
  assign b_o     = b_q;
  assign acc_o   = acc_q;

endmodule
