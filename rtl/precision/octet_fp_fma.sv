/**
 * Floating-point fused multiply-add for the precision comparison (docs/energy-area.md,
 * "Precision comparison (Fig. 10)"): sum_o = RNE(c_i + a_i * b_i), one rounding, with
 * operands a and b in a (ExpBits, ManBits) format and the accumulator c in an
 * (AccExpBits, AccManBits) format, IEEE-754 layout {sign, biased exponent, fraction}.
 *
 * Simplified against IEEE 754, as documented (they make the unit a little smaller):
 *   - no subnormals: an exponent field of 0 is zero on input (whatever the fraction), and
 *     a result below the smallest normal number is flushed to zero;
 *   - no Inf or NaN: the all-ones exponent is an ordinary binade, and a result above the
 *     largest number saturates to it (all-ones exponent and fraction);
 *   - every zero result is +0.
 * In the normal range the result is the IEEE round-to-nearest-even of the exact c + a * b.
 *
 * Datapath: the product's significand is exact (2 ManBits + 2 bits); the operand with the
 * larger exponent (product or accumulator) sits in a window of 2 integer bits, Frac
 * fraction bits, 3 guard bits and a sticky slot; the other is shifted right into it, the
 * bits it loses ORed into the slot. Add or subtract, negate if negative (only when the
 * shift was small, so exact), count leading zeros, normalise, round to nearest even on the
 * accumulator's fraction. The slot keeps the rounding exact: with a larger shift the
 * result loses at most two leading bits, so the round bit stays above the slot.
 * Combinational.
 */
module octet_fp_fma #(
  parameter int unsigned ExpBits    = 8,   // operand exponent bits
  parameter int unsigned ManBits    = 23,  // operand fraction bits
  parameter int unsigned AccExpBits = 8,   // accumulator exponent bits (>= ExpBits)
  parameter int unsigned AccManBits = 23   // accumulator fraction bits
) (
  input  logic [ExpBits+ManBits:0]       a_i,
  input  logic [ExpBits+ManBits:0]       b_i,
  input  logic [AccExpBits+AccManBits:0] c_i,
  output logic [AccExpBits+AccManBits:0] sum_o
);

  localparam int unsigned ProdBits = 2 * ManBits + 2;  // exact product significand, in [1, 4)
  localparam int unsigned Frac     = (2 * ManBits > AccManBits) ? 2 * ManBits : AccManBits;
  localparam int unsigned Win      = Frac + 6;         // 2 integer, Frac, 3 guard, 1 sticky slot
  localparam int unsigned ExpW     = AccExpBits + 4;   // signed working exponent: no wrap
  localparam int unsigned ShiftW   = $clog2(Win + 2);
  localparam int unsigned Bias     = 2 ** (ExpBits - 1) - 1;
  localparam int unsigned AccBias  = 2 ** (AccExpBits - 1) - 1;
  localparam int unsigned MaxExp   = 2 ** AccExpBits - 1;

  ////////////
  // Unpack //
  ////////////

  logic                  a_sign, b_sign, c_sign;
  logic [ExpBits-1:0]    a_exp, b_exp;
  logic [AccExpBits-1:0] c_exp;
  logic [ManBits-1:0]    a_man, b_man;
  logic [AccManBits-1:0] c_man;
  assign {a_sign, a_exp, a_man} = a_i;
  assign {b_sign, b_exp, b_man} = b_i;
  assign {c_sign, c_exp, c_man} = c_i;

  logic p_zero, c_zero;  // an exponent field of 0 is zero (no subnormals)
  assign p_zero = (a_exp == '0) || (b_exp == '0);
  assign c_zero = (c_exp == '0);

  /////////////
  // Product //
  /////////////

  logic [ProdBits-1:0] p_sig;
  logic                p_sign;
  logic [ExpW-1:0]     p_exp;  // biased in the accumulator's format; may be <= 0
  assign p_sig  = ProdBits'({1'b1, a_man}) * ProdBits'({1'b1, b_man});
  assign p_sign = a_sign ^ b_sign;
  assign p_exp  = ExpW'(a_exp) + ExpW'(b_exp) + ExpW'(AccBias) - ExpW'(2 * Bias);

  ///////////
  // Align //
  ///////////

  // Both significands in the window, the binary point after its two integer bits.
  logic [Win-1:0]  p_win, c_win;
  logic [ExpW-1:0] c_exp_w;
  assign p_win   = Win'(p_sig) << (Frac - 2 * ManBits + 4);
  assign c_win   = Win'({1'b1, c_man}) << (Frac - AccManBits + 4);
  assign c_exp_w = ExpW'(c_exp);

  logic            p_big;  // the product has the larger exponent (or the accumulator is 0)
  logic            big_zero, small_zero, big_sign, small_sign;
  logic [Win-1:0]  big_win, small_win;
  logic [ExpW-1:0] big_exp, exp_diff;
  assign p_big      = !p_zero && (c_zero || $signed(p_exp) >= $signed(c_exp_w));
  assign big_zero   = p_big ? p_zero : c_zero;
  assign small_zero = p_big ? c_zero : p_zero;
  assign big_sign   = p_big ? p_sign : c_sign;
  assign small_sign = p_big ? c_sign : p_sign;
  assign big_win    = p_big ? p_win : c_win;
  assign small_win  = small_zero ? '0 : (p_big ? c_win : p_win);
  assign big_exp    = p_big ? p_exp : c_exp_w;
  assign exp_diff   = p_big ? p_exp - c_exp_w : c_exp_w - p_exp;

  // A shift of Win or more leaves nothing of the small operand but its sticky bit.
  logic [ShiftW-1:0] shift;
  assign shift = (small_zero || big_zero) ? '0 :
                 (exp_diff >= ExpW'(Win)) ? ShiftW'(Win) : ShiftW'(exp_diff);

  logic [2*Win-1:0] small_ext;
  logic [Win-1:0]   small_aligned;
  assign small_ext     = {small_win, {Win{1'b0}}} >> shift;
  assign small_aligned = {small_ext[2*Win-1:Win+1], |small_ext[Win:0]};

  /////////////////
  // Add, negate //
  /////////////////

  logic           subtract, negative, sum_sign;
  logic [Win+1:0] raw;  // one carry bit (sums < 8) and one borrow bit
  logic [Win:0]   mag;
  assign subtract = big_sign ^ small_sign;
  assign raw      = subtract ? {2'b00, big_win} - {2'b00, small_aligned}
                             : {2'b00, big_win} + {2'b00, small_aligned};
  assign negative = raw[Win+1];
  assign mag      = negative ? (Win+1)'(-raw) : raw[Win:0];
  assign sum_sign = negative ? small_sign : big_sign;

  ///////////////////////////
  // Normalise and round   //
  ///////////////////////////

  logic [ShiftW-1:0] lzc;  // leading zeros of mag; Win + 1 when mag is 0
  always_comb begin
    lzc = ShiftW'(Win + 1);
    for (int unsigned i = 0; i <= Win; i++) begin
      if (mag[i]) lzc = ShiftW'(Win - i);
    end
  end

  logic [Win:0]          norm;  // leading one at bit Win
  logic [AccManBits-1:0] man_trunc, man_round;
  logic                  round_bit, sticky, round_up, carry;
  assign norm      = mag << lzc;
  assign man_trunc = norm[Win-1:Win-AccManBits];
  assign round_bit = norm[Win-AccManBits-1];
  assign sticky    = |norm[Win-AccManBits-2:0];
  assign round_up  = round_bit && (sticky || man_trunc[0]);
  assign {carry, man_round} = {1'b0, man_trunc} + (AccManBits+1)'(round_up);

  // The leading one of mag at bit Win - lzc has weight 2^(big_exp + 2 - lzc - AccBias).
  logic [ExpW-1:0] sum_exp;
  assign sum_exp = big_exp + ExpW'(2) - ExpW'(lzc) + ExpW'(carry);

  always_comb begin
    if (big_zero || mag == '0 || $signed(sum_exp) <= 0) begin
      sum_o = '0;  // zero, cancellation or underflow: +0
    end else if ($signed(sum_exp) > $signed(ExpW'(MaxExp))) begin
      sum_o = {sum_sign, {AccExpBits{1'b1}}, {AccManBits{1'b1}}};  // saturate
    end else begin
      sum_o = {sum_sign, sum_exp[AccExpBits-1:0], man_round};
    end
  end

endmodule
