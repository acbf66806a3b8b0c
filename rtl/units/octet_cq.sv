/**
 * Constant quantization CQ of one weight-gradient element (docs/numerics.md 3.5 and 3.6,
 * paper eq. 6) with its counter-based random bits, as q::ConstantQuantizeElement:
 *   u    = Mix64(prefix ^ index) >> 32                          (SplitMix64 finaliser)
 *   n    = floor(m / 2^shift) + (u < frac32 ? 1 : 0)             (shift >= 1)
 *          frac32: the shifted-out fraction, truncated to 32 bits
 *   n    = m * 2^-shift                                          (shift <= 0, exact)
 *   g_o  = clip(n, -(dr - 1), dr - 1),  dr = 2^log2_dr
 * where shift = r - log2(dr) - exp (the max|x| pass computes r), prefix is
 * RandomStream::Prefix() of (seed, step, layer, tensor) and index is the element's flat index.
 *
 * Pipeline: two register stages (after each multiply of Mix64; the rounding operands travel
 * alongside), one element per cycle, no stalls: g_o is valid with valid_o two cycles after
 * the inputs are presented with valid_i.
 */
module octet_cq #(
  parameter int unsigned KGc       = 15,  // G = n / 2^(KGc - 1); g_o is the KGc + 1 bit container
  parameter int unsigned InBits    = 64,  // gradient container (g_W: int64)
  parameter int unsigned ShiftBits = 8    // shift: signed, in [-2^(ShiftBits-1), 2^(ShiftBits-1))
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  logic                       valid_i,
  input  logic [InBits-1:0]          m_i,        // signed gradient element
  input  logic [ShiftBits-1:0]       shift_i,    // signed right shift to the units of 1 / dr
  input  logic [$clog2(KGc+1)-1:0]   log2_dr_i,  // 0 <= log2_dr_i <= KGc
  input  logic [63:0]                prefix_i,   // random stream prefix
  input  logic [63:0]                index_i,    // element index
  output logic                       valid_o,
  output logic [KGc:0]               g_o         // signed n, |n| <= dr - 1
);

  localparam int unsigned GBits    = KGc + 1;        // int16 container at the default
  localparam int unsigned BaseBits = GBits + 2;      // n before the clip, pre-clamped
  localparam int unsigned WideBits = InBits + 32;    // m with 32 fraction bits
  localparam logic [63:0] MixMul1  = 64'hBF58476D1CE4E5B9;
  localparam logic [63:0] MixMul2  = 64'h94D049BB133111EB;
  // Floors beyond +-2^GBits clip alike after the +1 of the rounding: clamp them there.
  localparam logic signed [BaseBits-1:0] BaseMax = BaseBits'(1) <<< GBits;
  localparam logic signed [BaseBits-1:0] BaseMin = -(BaseBits'(1) <<< GBits);

  /////////////////////////////////////////
  // Stage 0: first Mix64 multiply, n's  //
  // floor and fraction                  //
  /////////////////////////////////////////

  logic [63:0] mix_z0;
  logic [63:0] mix1_d;

  assign mix_z0 = prefix_i ^ index_i;
  assign mix1_d = (mix_z0 ^ (mix_z0 >> 30)) * MixMul1;  // mod 2^64

  logic [GBits-2:0] dr_max;  // dr - 1
  assign dr_max = (GBits-1)'((GBits'(1) << log2_dr_i) - GBits'(1));

  logic signed [ShiftBits-1:0] shift;
  logic                        shift_positive;
  assign shift          = signed'(shift_i);
  assign shift_positive = shift > signed'(ShiftBits'(0));

  // shift >= 1: {m, 32 zero bits} >>> shift = floor(m * 2^(32 - shift)): floor(m / 2^shift)
  // above, the 32-bit truncated fraction below (for any shift: past the width it is all
  // sign bits, floor -1 with fraction 2^32 - 1 or 0, as golden's clamp of shift to 100).
  logic signed [WideBits-1:0] wide;
  logic signed [InBits-1:0]   floor_m;
  logic [31:0]                fraction;
  assign wide     = signed'({m_i, 32'b0}) >>> shift_i;
  assign floor_m  = wide[WideBits-1:32];
  assign fraction = wide[31:0];

  // shift <= 0: the exact left shift by -shift unless it clips (|m| > (dr - 1) >> -shift).
  logic                 negative;
  logic [InBits-1:0]    abs_m;       // |m| (the most negative m is 2^(InBits-1), exact)
  logic [ShiftBits-1:0] left;        // -shift, in [0, 2^(ShiftBits-1)]
  logic [GBits-2:0]     left_limit;
  logic                 left_clip;
  logic [GBits-2:0]     left_value;  // |m| << -shift when not clipped
  assign negative   = m_i[InBits-1];
  assign abs_m      = negative ? ~m_i + InBits'(1) : m_i;
  assign left       = ShiftBits'(0) - shift_i;
  assign left_limit = dr_max >> left;
  assign left_clip  = abs_m > InBits'(left_limit);
  assign left_value = (GBits-1)'(abs_m[GBits-2:0] << left);

  logic signed [BaseBits-1:0] base1_d;      // n without the random round-up
  logic [31:0]                fraction1_d;  // 0 when there is nothing to round

  always_comb begin
    fraction1_d = '0;
    if (shift_positive) begin
      fraction1_d = fraction;
      if (floor_m > InBits'(BaseMax)) begin
        base1_d = BaseMax;
      end else if (floor_m < InBits'(BaseMin)) begin
        base1_d = BaseMin;
      end else begin
        base1_d = BaseBits'(floor_m);
      end
    end else if (left_clip) begin
      base1_d = negative ? -(BaseBits'(dr_max)) : BaseBits'(dr_max);
    end else begin
      base1_d = negative ? -(BaseBits'(left_value)) : BaseBits'(left_value);
    end
  end

  ///////////////
  // Stage 1   //
  ///////////////

  logic                       valid1_q;
  logic [63:0]                mix1_q;
  logic signed [BaseBits-1:0] base1_q;
  logic [31:0]                fraction1_q;
  logic [GBits-2:0]           dr_max1_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid1_q    <= 1'b0;
      mix1_q      <= '0;
      base1_q     <= '0;
      fraction1_q <= '0;
      dr_max1_q   <= '0;
    end else begin
      valid1_q    <= valid_i;
      mix1_q      <= mix1_d;
      base1_q     <= base1_d;
      fraction1_q <= fraction1_d;
      dr_max1_q   <= dr_max;
    end
  end

  // Second Mix64 multiply.
  logic [63:0] mix2_d;
  assign mix2_d = (mix1_q ^ (mix1_q >> 27)) * MixMul2;  // mod 2^64

  ///////////////
  // Stage 2   //
  ///////////////

  logic                       valid2_q;
  logic [63:0]                mix2_q;
  logic signed [BaseBits-1:0] base2_q;
  logic [31:0]                fraction2_q;
  logic [GBits-2:0]           dr_max2_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      valid2_q    <= 1'b0;
      mix2_q      <= '0;
      base2_q     <= '0;
      fraction2_q <= '0;
      dr_max2_q   <= '0;
    end else begin
      valid2_q    <= valid1_q;
      mix2_q      <= mix2_d;
      base2_q     <= base1_q;
      fraction2_q <= fraction1_q;
      dr_max2_q   <= dr_max1_q;
    end
  end

  /////////////////////////////////////
  // Output: u, round up, clip       //
  /////////////////////////////////////

  logic [63:0]                mix_final;  // Mix64(prefix ^ index)
  logic [31:0]                u;
  logic signed [BaseBits-1:0] n;
  logic signed [BaseBits-1:0] bound;

  assign mix_final = mix2_q ^ (mix2_q >> 31);
  assign u         = mix_final[63:32];
  assign n         = base2_q + BaseBits'(u < fraction2_q);  // P(up) = fraction / 2^32
  assign bound     = BaseBits'(dr_max2_q);

  always_comb begin
    g_o = GBits'(n);
    if (n > bound) begin
      g_o = GBits'(bound);
    end else if (n < -bound) begin
      g_o = GBits'(-bound);
    end
  end

  assign valid_o = valid2_q;

  // The low half of the final Mix64 word is not drawn (u is its high 32 bits).
  logic unused_mix_low;
  assign unused_mix_low = ^mix_final[31:0];

endmodule
