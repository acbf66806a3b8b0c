/**
 * Shift quantization SQ of one error element (docs/numerics.md 3.3, paper eq. 7): the E1
 * unit's quantizer (and, with KE1 = k_E2, the shift-mode E2's).
 *
 * One element m (value m * 2^exp) and the tensor's shift = r - (k - 1) - exp (the max|x| pass
 * computes r) give
 *   e_o = sign(m) * min(RHE(|m| / 2^shift), 2^(KE1-1) - 1) = q::ShiftQuantizeElement(m, shift, KE1)
 * with |m| saturated to 2^(InBits-1) - 1 (only the most negative m). shift <= 0 is an exact
 * left shift, clipped to the same bound. Combinational.
 */
module octet_e1_quantizer #(
  parameter int unsigned KE1       = 8,   // output bits k, clip +-(2^(k-1) - 1); 2 <= KE1 < InBits
  parameter int unsigned InBits    = 64,  // error container (int64)
  parameter int unsigned ShiftBits = 8    // shift: signed, in [-2^(ShiftBits-1), 2^(ShiftBits-1))
) (
  input  logic [InBits-1:0]    m_i,      // signed error element
  input  logic [ShiftBits-1:0] shift_i,  // signed right shift of |m| to the output LSB
  output logic [KE1-1:0]       e_o       // signed, in [-(2^(KE1-1) - 1), 2^(KE1-1) - 1]
);

  localparam int unsigned AbsBits = InBits - 1;      // |m| after saturation
  localparam int unsigned MagBits = KE1 - 1;         // output magnitude bits
  localparam logic [MagBits-1:0] Bound = '1;         // 2^(KE1-1) - 1

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

  //////////////////////////////////////
  // Right shift (shift >= 1): RHE    //
  //////////////////////////////////////

  logic               shift_positive;
  logic [AbsBits-1:0] rounded;

  assign shift_positive = signed'(shift_i) > signed'(ShiftBits'(0));

  // shift <= 2^(ShiftBits-1) - 1 when used: the low ShiftBits - 1 bits are the amount.
  octet_rhe_shift_right #(
    .Width    (AbsBits),
    .ShiftBits(ShiftBits - 1)
  ) u_rhe (
    .value_i(abs_m),
    .shift_i(shift_i[ShiftBits-2:0]),
    .value_o(rounded)
  );

  ////////////////////////////////////////////
  // Left shift (shift <= 0): exact, clipped //
  ////////////////////////////////////////////

  logic [ShiftBits-1:0] left;        // -shift, in [0, 2^(ShiftBits-1)]
  logic [MagBits-1:0]   left_limit;  // Bound >> -shift: the largest |m| that does not clip

  assign left       = ShiftBits'(0) - shift_i;
  assign left_limit = Bound >> left;

  ///////////////
  // Saturate  //
  ///////////////

  logic [MagBits-1:0] magnitude;

  always_comb begin
    if (shift_positive) begin
      magnitude = (rounded > AbsBits'(Bound)) ? Bound : rounded[MagBits-1:0];
    end else begin
      // Not clipped: |m| <= Bound >> left, so the shifted value fits MagBits bits.
      magnitude = (abs_m > AbsBits'(left_limit)) ? Bound : MagBits'(abs_m[MagBits-1:0] << left);
    end
  end

  // RHE is symmetric: the sign is applied after rounding. -0 is 0.
  assign e_o = negative ? KE1'(~{1'b0, magnitude} + KE1'(1)) : {1'b0, magnitude};

endmodule
