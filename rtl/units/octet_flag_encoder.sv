/**
 * Flag QE2 encoder of the E2 unit (docs/numerics.md 3.4, paper eq. 16 and Fig. 4).
 *
 * One error element m (value m * 2^exp, the int64 dx1) and the tensor's scale Sc = R / 128,
 * given as its exponent relative to the element's, t = r - 7 - exp (the max|x| pass computes
 * r), give the canonical 9-bit stored word:
 *   word_o = q::FlagEncode(q::FlagQuantizeElement(m, t))
 *   small region |m| < 2^t:  mag = RHE(|m| / 2^(t - 7)) in [0, 128], 128 stored as flag 1, mag 1
 *   large region |m| >= 2^t: flag 1, mag = clip(RHE(|m| / 2^t), 1, 127)
 *   bit 8 flag, bit 7 sign (never set on a zero magnitude), bits 6..0 magnitude.
 * |m| saturates to 2^(InBits-1) - 1 (only the most negative m). The 9-bit format is fixed by
 * numerics.md (flag mode requires k_E2 = 8). Combinational.
 */
module octet_flag_encoder #(
  parameter int unsigned InBits    = 64,  // error container (dx1: int64)
  parameter int unsigned ShiftBits = 8    // t: signed, in [-2^(ShiftBits-1), 2^(ShiftBits-1))
) (
  input  logic [InBits-1:0]    m_i,     // signed error element
  input  logic [ShiftBits-1:0] t_i,     // signed exponent of Sc in units of the element's LSB
  output logic [8:0]           word_o   // {flag, sign, magnitude[6:0]}
);

  localparam int unsigned MagBits = 7;             // magnitude bits of the word
  localparam int unsigned AbsBits = InBits - 1;    // |m| after saturation
  localparam logic [MagBits-1:0] MagMax = '1;      // 127

  ////////////////
  // Magnitude  //
  ////////////////

  logic               negative;
  logic [AbsBits-1:0] abs_m;

  octet_saturated_abs #(
    .InBits(InBits)
  ) u_abs (
    .m_i       (m_i),
    .negative_o(negative),
    .abs_o     (abs_m)
  );

  ////////////
  // Region //
  ////////////

  logic signed [ShiftBits-1:0] t;
  logic                        t_positive;   // t >= 1: Sc above one LSB of m
  logic                        t_fine;       // t >= MagBits + 1: the small region rounds
  logic                        small_region; // |m| < 2^t

  assign t          = signed'(t_i);
  assign t_positive = t > signed'(ShiftBits'(0));
  assign t_fine     = t > signed'(ShiftBits'(MagBits));
  // For t <= 0, 2^t <= 1: only m = 0 lies below; a shift >= AbsBits leaves 0.
  assign small_region = t_positive ? ((abs_m >> t_i) == '0) : (abs_m == '0);

  ////////////////////////////////
  // One RHE shift for both regions
  ////////////////////////////////

  // Small region with t >= 8: units of Sc / 128 = 2^(t - 7); large region with t >= 1: units
  // of Sc = 2^t. t <= 2^(ShiftBits-1) - 1, so both amounts fit ShiftBits - 1 bits.
  logic [ShiftBits-2:0] t_minus_mag;
  logic [ShiftBits-2:0] rhe_shift;
  logic [AbsBits-1:0]   rounded;

  assign t_minus_mag = t_i[ShiftBits-2:0] - (ShiftBits - 1)'(MagBits);
  assign rhe_shift   = small_region ? t_minus_mag[ShiftBits-2:0] : t_i[ShiftBits-2:0];

  octet_rhe_shift_right #(
    .Width    (AbsBits),
    .ShiftBits(ShiftBits - 1)
  ) u_rhe (
    .value_i(abs_m),
    .shift_i(rhe_shift),
    .value_o(rounded)
  );

  ///////////////////////
  // Region magnitudes //
  ///////////////////////

  logic [MagBits:0]     fine;          // small region, units of Sc / 128, in [0, 128]
  logic [MagBits-1:0]   coarse;        // large region, units of Sc, in [1, 127]
  logic [2:0]           fine_left;     // 1 <= t <= 7: exact left shift by 7 - t
  logic [ShiftBits-1:0] coarse_left;   // t <= 0: exact left shift by -t (0 .. 2^(ShiftBits-1))
  logic [MagBits-1:0]   coarse_limit;  // 127 >> -t: the largest |m| that does not clip
  logic                 coarse_sat;
  logic                 rounded_big;   // rounded > 127 (the large region's clip)

  assign fine_left   = 3'(MagBits) - t_i[2:0];
  assign coarse_left = ShiftBits'(0) - t_i;
  assign coarse_limit = MagMax >> coarse_left;
  assign coarse_sat  = abs_m > AbsBits'(coarse_limit);
  assign rounded_big = rounded > AbsBits'(MagMax);

  always_comb begin
    // Small region. t <= 0: only m = 0 (fine = 0). 1 <= t <= 7: |m| < 2^t, so the exact
    // left shift stays below 128. t >= 8: RHE(|m| / 2^(t - 7)) <= 128 since |m| < 2^t.
    fine = '0;
    if (t_fine) begin
      fine = rounded[MagBits:0];
    end else if (t_positive) begin
      fine = {1'b0, abs_m[MagBits-1:0] << fine_left};
    end
    // Large region (|m| >= 2^t >= 1): clip to [1, 127]; RHE(|m| / 2^t) >= 1 here.
    if (t_positive) begin
      coarse = rounded_big ? MagMax : rounded[MagBits-1:0];
    end else begin
      coarse = coarse_sat ? MagMax : MagBits'(abs_m[MagBits-1:0] << coarse_left);
    end
  end

  //////////
  // Word //
  //////////

  always_comb begin
    if (!small_region) begin
      word_o = {1'b1, negative, coarse};
    end else if (fine[MagBits]) begin
      // 128 * Sc / 128 = 1 * Sc: the canonical word is the large region's.
      word_o = {1'b1, negative, MagBits'(1)};
    end else begin
      // Zero is stored as +0.
      word_o = {1'b0, negative & (fine != '0), fine[MagBits-1:0]};
    end
  end

endmodule
