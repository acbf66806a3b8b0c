/**
 * Scale, offset, residual, ReLU and Q_A of one element: the activation unit's datapath
 * (docs/numerics.md 3.2, 4 and 5.2), as octet::ScaleOffsetActivateElement:
 *   x3_o        = gamma_q * x2 + beta_q * 2^(f_x3 - f_beta) + residual      (exact, f_x3 bits)
 *   a           = RHE(x3 / 2^(f_x3 - f_A))
 *   x4_o        = clip(a, 0, 2^KA - 1)                                       (Q_A(relu(x3)))
 *   relu_pass_o = x3 > 0 and a <= 2^KA - 1                                   (dx4/dx3)
 * with f_x3 = f_gamma + f_BN. A layer without ReLU (a projection shortcut) uses x3_o only;
 * a layer without a residual drives residual_i = 0. x3_o is the exact sum for
 * |residual_i| < 2^62 (the product is below 2^38 and the offset below 2^30 in magnitude).
 * Requires f_x3 >= f_beta and f_x3 >= f_A (QuantLayer checks both). Combinational.
 */
module octet_relu_qa #(
  parameter int unsigned KA     = 8,   // activation bits (x4: unsigned KA bits, KA - 1 fractional)
  parameter int unsigned KBn    = 16,  // x2: KBn - 1 fractional bits, KBn + 8 bits signed
  parameter int unsigned KGamma = 8,   // gamma_q: KGamma - 1 fractional bits (int16 container)
  parameter int unsigned KBeta  = 8    // beta_q: KBeta - 1 fractional bits (int16 container)
) (
  input  logic [KBn+7:0] x2_i,         // signed x2
  input  logic [15:0]    gamma_q_i,    // signed gamma_q of the channel
  input  logic [15:0]    beta_q_i,     // signed beta_q of the channel
  input  logic [63:0]    residual_i,   // signed residual at f_x3 bits, or 0
  output logic [63:0]    x3_o,         // signed x3 at f_x3 bits
  output logic [KA-1:0]  x4_o,         // unsigned activation
  output logic           relu_pass_o   // ReLU mask bit of the backward pass
);

  localparam int unsigned X2Bits    = KBn + 8;
  localparam int unsigned FracX3    = (KGamma - 1) + (KBn - 1);
  localparam int unsigned BetaShift = FracX3 - (KBeta - 1);
  localparam int unsigned AShift    = FracX3 - (KA - 1);
  localparam logic [KA-1:0] AMax    = '1;  // 2^KA - 1

  ////////
  // x3 //
  ////////

  logic signed [X2Bits+15:0] product;  // gamma_q * x2, exact
  logic signed [63:0]        offset;   // beta_q at f_x3 bits, exact
  logic signed [63:0]        x3;

  assign product = signed'(gamma_q_i) * signed'(x2_i);
  assign offset  = 64'(signed'(beta_q_i)) <<< BetaShift;
  assign x3      = 64'(product) + offset + signed'(residual_i);
  assign x3_o    = x3;

  ///////////////////////////////////////
  // a = RHE(x3 / 2^AShift), signed    //
  ///////////////////////////////////////

  logic signed [63:0] a;

  if (AShift == 0) begin : gen_no_round
    assign a = x3;
  end else begin : gen_round
    logic signed [63:0] floor_q;  // floor(x3 / 2^AShift)
    logic               half;     // the first shifted-out bit
    logic               sticky;   // any shifted-out bit below it
    logic               round_up;
    assign floor_q = x3 >>> AShift;
    assign half    = x3[AShift-1];
    if (AShift == 1) begin : gen_no_sticky
      assign sticky = 1'b0;
    end else begin : gen_sticky
      assign sticky = |x3[AShift-2:0];
    end
    // Above one half, or one half with an odd floor. No overflow: |floor| < 2^(63 - AShift).
    assign round_up = half & (sticky | floor_q[0]);
    assign a        = floor_q + {63'b0, round_up};
  end

  //////////////////////
  // Q_A(relu), mask  //
  //////////////////////

  logic a_negative;
  logic a_over;      // a > 2^KA - 1: saturated, zero gradient

  assign a_negative = a[63];
  assign a_over     = !a_negative && (a > 64'(AMax));

  always_comb begin
    x4_o = a[KA-1:0];
    if (a_negative) begin
      x4_o = '0;
    end else if (a_over) begin
      x4_o = AMax;
    end
  end

  assign relu_pass_o = (x3 > 64'sd0) && !a_over;

endmodule
