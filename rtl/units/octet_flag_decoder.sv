/**
 * Flag QE2 word decoder (docs/numerics.md 3.4): a stored 9-bit word {flag, sign, mag[6:0]}
 * to its value in units of Sc / 128, as q::FlagDecode:
 *   value_o = (-1)^sign * (flag ? mag * 128 : mag)
 * Every 9-bit word decodes (a flag-1 word with magnitude 0 is 0, never produced by the
 * encoder); |value_o| <= 127 * 128 = 16256. Combinational.
 */
module octet_flag_decoder (
  input  logic [8:0]  word_i,   // {flag, sign, magnitude[6:0]}
  output logic [15:0] value_o   // signed, int16 container of e3
);

  localparam int unsigned MagBits = 7;  // magnitude bits; the flag scales by 2^MagBits

  logic        flag;
  logic        negative;
  logic [15:0] magnitude;

  assign flag      = word_i[8];
  assign negative  = word_i[7];
  assign magnitude = flag ? {2'b00, word_i[MagBits-1:0], {MagBits{1'b0}}}
                          : {9'b0, word_i[MagBits-1:0]};
  assign value_o   = negative ? 16'(~magnitude + 16'd1) : magnitude;

endmodule
