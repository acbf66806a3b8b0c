/**
 * Round-half-even right shift of an unsigned value (docs/numerics.md, RHE):
 *   value_o = RHE(value_i / 2^shift_i)
 * as fx::RoundHalfEvenShiftRightUnsigned, for every shift: 0 is the identity, and a shift
 * past the width rounds exactly (to 1 above one half, else 0). Combinational.
 *
 * Shared by the quantizers of the vector units (octet_flag_encoder, octet_e1_quantizer).
 */
module octet_rhe_shift_right #(
  parameter int unsigned Width     = 63,  // value bits (Width >= 2)
  parameter int unsigned ShiftBits = 7    // shift amount bits
) (
  input  logic [Width-1:0]     value_i,
  input  logic [ShiftBits-1:0] shift_i,
  output logic [Width-1:0]     value_o
);

  // {value, Width zero bits} >> shift = floor(value * 2^(Width - shift)): the floor quotient
  // in the upper half, the shifted-out fraction in the lower half (exact for shift <= Width;
  // for a larger shift the fraction is below one half and its top bit is 0).
  logic [2*Width-1:0] wide;
  logic [Width-1:0]   quotient;
  logic [Width-1:0]   fraction;
  logic               round_up;

  assign wide     = {value_i, {Width{1'b0}}} >> shift_i;
  assign quotient = wide[2*Width-1:Width];
  assign fraction = wide[Width-1:0];

  // Round up above one half (half bit and any bit below it), and at exactly one half when
  // the quotient is odd.
  assign round_up = fraction[Width-1] & ((|fraction[Width-2:0]) | quotient[0]);

  // No carry out: round_up needs shift >= 1, so quotient < 2^(Width-1).
  assign value_o = quotient + Width'(round_up);

endmodule
