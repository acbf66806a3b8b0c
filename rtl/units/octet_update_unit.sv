/**
 * Momentum and update of one parameter element (docs/numerics.md 6, paper eq. 19-23), as
 * octet::MomentumUpdateElement:
 *   acc_o     = clip(mom * acc_q + grad, +-(2^31 - 1))   (f_GC bits; the clip is unreachable)
 *   delta_o   = lr * acc                                 (f_WU bits, exact)
 *   param_o   = clip(param - delta, +-bound)             (weight_i: 2^(KWu-1) - 1, else 2^31 - 1)
 *   acc_q_o   = RHE(acc / 2^(f_GC - f_Acc))              (Q(Acc, k_Acc), after the update)
 * mom = Scheme::MomentumInt() at f_Mom bits and lr = Scheme::LearningRateInt(phase) at f_lr
 * bits, both in [0, 1) (the scheme file is checked for it). Combinational.
 */
module octet_update_unit #(
  parameter int unsigned KMom = 3,    // momentum: KMom - 1 fractional bits
  parameter int unsigned KAcc = 13,   // quantized accumulator: KAcc - 1 fractional bits
  parameter int unsigned KLr  = 10,   // learning rate: KLr - 1 fractional bits
  parameter int unsigned KWu  = 24,   // master weight: KWu bits, KWu - 1 fractional
  parameter int unsigned KGc  = 15    // gradient G and Acc: KGc - 1 fractional bits
) (
  input  logic [31:0]        grad_i,    // signed G (int16 g_W_q, int32 g_gamma_q / g_beta_q)
  input  logic [31:0]        param_i,   // signed master parameter
  input  logic [31:0]        acc_q_i,   // signed Acc_q
  input  logic [KMom-2:0]    mom_i,     // unsigned Mom
  input  logic [KLr-2:0]     lr_i,      // unsigned lr
  input  logic               weight_i,  // 1: a weight (24-bit bound); 0: gamma or beta (int32)
  output logic [31:0]        param_o,   // signed updated parameter
  output logic [31:0]        acc_q_o,   // signed updated Acc_q
  output logic [31:0]        acc_o,     // signed Acc (for the trace)
  output logic [KLr+31:0]    delta_o    // signed dP (for the trace)
);

  localparam int unsigned AccShift  = (KGc - 1) - (KAcc - 1);  // Q(Acc, k_Acc)
  localparam int unsigned SumBits   = 32 + KMom + 1;           // mom * acc_q + grad, exact
  localparam int unsigned DeltaBits = KLr + 32;                // lr * acc, exact
  localparam int unsigned DiffBits  = DeltaBits + 1;           // param - delta, exact
  localparam logic signed [31:0] Int32Max = 32'sh7FFF_FFFF;
  localparam logic signed [DiffBits-1:0] WeightBound = (DiffBits'(1) <<< (KWu - 1)) - DiffBits'(1);

  /////////
  // Acc //
  /////////

  logic signed [SumBits-1:0] sum;
  logic signed [31:0]        acc;

  assign sum = signed'({1'b0, mom_i}) * signed'(acc_q_i) + SumBits'(signed'(grad_i));

  always_comb begin
    acc = sum[31:0];
    if (sum > SumBits'(Int32Max)) begin
      acc = Int32Max;
    end else if (sum < -(SumBits'(Int32Max))) begin
      acc = -Int32Max;
    end
  end

  assign acc_o = acc;

  ////////////////////
  // dP and update  //
  ////////////////////

  logic signed [DeltaBits-1:0] delta;
  logic signed [DiffBits-1:0]  diff;
  logic signed [DiffBits-1:0]  bound;

  assign delta   = signed'({1'b0, lr_i}) * acc;
  assign delta_o = delta;
  assign diff    = DiffBits'(signed'(param_i)) - DiffBits'(delta);
  assign bound   = weight_i ? WeightBound : DiffBits'(Int32Max);

  always_comb begin
    param_o = diff[31:0];
    if (diff > bound) begin
      param_o = bound[31:0];
    end else if (diff < -bound) begin
      param_o = 32'(-bound);
    end
  end

  ////////////////////////////////
  // Acc_q = RHE(Acc / 2^shift) //
  ////////////////////////////////

  if (AccShift == 0) begin : gen_no_round
    assign acc_q_o = acc;
  end else begin : gen_round
    logic signed [31:0] floor_q;  // floor(acc / 2^AccShift)
    logic               half;     // the first shifted-out bit
    logic               sticky;   // any shifted-out bit below it
    logic               round_up;
    assign floor_q = acc >>> AccShift;
    assign half    = acc[AccShift-1];
    if (AccShift == 1) begin : gen_no_sticky
      assign sticky = 1'b0;
    end else begin : gen_sticky
      assign sticky = |acc[AccShift-2:0];
    end
    // Above one half, or one half with an odd floor. No overflow: |floor| < 2^(31 - AccShift).
    assign round_up = half & (sticky | floor_q[0]);
    assign acc_q_o  = floor_q + {31'b0, round_up};
  end

endmodule
