/**
 * BN forward normalise of one element (docs/numerics.md 4), as octet::BnNormaliser:
 *   x2_o = clip(RHE((x1 - mu_q) * 2^(f_BN + f_sigma - F) / sigma_q), (KBn + 8)-bit signed)
 * with F = max(f_x1, f_mu) aligning x1 (f_x1 = f_W + f_A bits) and mu_q (f_mu bits) exactly.
 * mu_q and sigma_q (>= 1) are the channel's statistics from the statistics pass.
 *
 * A radix-2 restoring divider on the magnitudes (RHE is symmetric), one quotient bit per
 * cycle. Only QBits = KBn + 9 quotient bits are computed: a numerator at or above
 * den * 2^QBits saturates (checked when the operands are loaded).
 *
 * Handshake: an element is accepted on a clock edge with in_valid_i && in_ready_o; x2_o is
 * valid with out_valid_o QBits + 1 edges later (26 at the defaults) and held until
 * out_ready_i. A new element is accepted on the edge that hands the result over, so the
 * unit takes one element every QBits + 1 cycles when the consumer is always ready.
 */
module octet_bn_normalise #(
  parameter int unsigned KW     = 8,   // W_q: KW - 1 fractional bits
  parameter int unsigned KA     = 8,   // x0: KA - 1 fractional bits (x1: f_W + f_A)
  parameter int unsigned KMu    = 16,  // mu_q: KMu - 1 fractional bits
  parameter int unsigned KSigma = 16,  // sigma_q: KSigma - 1 fractional bits
  parameter int unsigned KBn    = 16   // x2: KBn - 1 fractional bits, KBn + 8 bits signed
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             in_valid_i,
  output logic             in_ready_o,
  input  logic [31:0]      x1_i,       // signed x1 (int32)
  input  logic [31:0]      mu_i,       // signed mu_q (int32)
  input  logic [31:0]      sigma_i,    // sigma_q (int32, >= 1)
  output logic             out_valid_o,
  input  logic             out_ready_i,
  output logic [KBn+7:0]   x2_o        // signed x2
);

  localparam int FracX1     = (KW - 1) + (KA - 1);
  localparam int FracMu     = KMu - 1;
  localparam int FracSigma  = KSigma - 1;
  localparam int FracBn     = KBn - 1;
  localparam int FracCommon = FracX1 > FracMu ? FracX1 : FracMu;  // F
  localparam int X1Shift    = FracCommon - FracX1;
  localparam int MuShift    = FracCommon - FracMu;
  localparam int OutShift   = FracBn + FracSigma - FracCommon;
  localparam int NumShift   = OutShift > 0 ? OutShift : 0;   // numerator << when OutShift >= 0
  localparam int DenShift   = OutShift < 0 ? -OutShift : 0;  // denominator << otherwise
  localparam int X2Bits     = KBn + 8;
  localparam int QBits      = X2Bits + 1;  // |RHE| up to 2^X2Bits decides every saturation
  localparam int CBits      = 32 + (X1Shift > MuShift ? X1Shift : MuShift) + 1;  // x1 - mu_q
  localparam int NBits      = CBits + NumShift;             // numerator, signed
  localparam int DBits      = 32 + DenShift;                // denominator, unsigned
  localparam int RBits      = (NBits > DBits + QBits ? NBits : DBits + QBits) + 1;
  localparam int CountBits  = $clog2(QBits);
  localparam logic [X2Bits-1:0] X2Max = {1'b0, {(X2Bits - 1){1'b1}}};  // 2^(X2Bits-1) - 1

  ////////////////////////
  // Operands (load)    //
  ////////////////////////

  logic signed [CBits-1:0] centered;
  logic signed [NBits-1:0] num;
  logic                    num_negative;
  logic [NBits-1:0]        num_abs;
  logic [DBits-1:0]        den;
  logic                    load_saturates;  // |num| >= den * 2^QBits

  assign centered       = (CBits'(signed'(x1_i)) <<< X1Shift) - (CBits'(signed'(mu_i)) <<< MuShift);
  assign num            = NBits'(centered) <<< NumShift;
  assign num_negative   = num[NBits-1];
  assign num_abs        = num_negative ? ~num + NBits'(1) : num;
  assign den            = DBits'(sigma_i) << DenShift;
  assign load_saturates = RBits'(num_abs) >= (RBits'(den) << QBits);

  ///////////
  // State //
  ///////////

  typedef enum logic [1:0] {
    StIdle,
    StBusy,
    StDone
  } state_e;

  state_e                 state_q, state_d;
  logic [RBits-1:0]       rem_q, rem_d;        // remainder of |num|
  logic [RBits-1:0]       den_shift_q, den_shift_d;  // den * 2^(current quotient bit)
  logic [DBits-1:0]       den_q, den_d;
  logic [QBits-1:0]       quot_q, quot_d;
  logic [CountBits-1:0]   count_q, count_d;    // quotient bit in progress
  logic                   negative_q, negative_d;
  logic                   saturate_q, saturate_d;

  logic                   remainder_fits;      // rem >= den * 2^bit: quotient bit 1

  assign remainder_fits = rem_q >= den_shift_q;

  always_comb begin
    state_d      = state_q;
    rem_d        = rem_q;
    den_shift_d  = den_shift_q;
    den_d        = den_q;
    quot_d       = quot_q;
    count_d      = count_q;
    negative_d   = negative_q;
    saturate_d   = saturate_q;
    in_ready_o   = 1'b0;
    out_valid_o  = 1'b0;

    unique case (state_q)
      StIdle: begin
        in_ready_o = 1'b1;
      end
      StBusy: begin
        // One restoring step: rem < den * 2^(bit + 1) holds before it.
        if (remainder_fits) begin
          rem_d = rem_q - den_shift_q;
        end
        quot_d      = {quot_q[QBits-2:0], remainder_fits};
        den_shift_d = den_shift_q >> 1;
        count_d     = count_q - CountBits'(1);
        if (count_q == '0) begin
          state_d = StDone;
        end
      end
      StDone: begin
        out_valid_o = 1'b1;
        if (out_ready_i) begin
          in_ready_o = 1'b1;
          state_d    = StIdle;
        end
      end
      default: begin
        state_d = StIdle;
      end
    endcase

    if (in_valid_i && in_ready_o) begin
      state_d     = StBusy;
      rem_d       = RBits'(num_abs);
      den_shift_d = RBits'(den) << (QBits - 1);
      den_d       = den;
      quot_d      = '0;
      count_d     = CountBits'(QBits - 1);
      negative_d  = num_negative;
      saturate_d  = load_saturates;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q     <= StIdle;
      rem_q       <= '0;
      den_shift_q <= '0;
      den_q       <= '0;
      quot_q      <= '0;
      count_q     <= '0;
      negative_q  <= 1'b0;
      saturate_q  <= 1'b0;
    end else begin
      state_q     <= state_d;
      rem_q       <= rem_d;
      den_shift_q <= den_shift_d;
      den_q       <= den_d;
      quot_q      <= quot_d;
      count_q     <= count_d;
      negative_q  <= negative_d;
      saturate_q  <= saturate_d;
    end
  end

  ////////////////////////////
  // RHE, sign, saturation  //
  ////////////////////////////

  // After the last step quot = floor(|num| / den) and rem < den. Round up when 2 rem > den,
  // or 2 rem == den and the quotient is odd.
  logic [RBits:0]  twice_rem;
  logic [RBits:0]  den_wide;
  logic            round_up;
  logic [QBits:0]  magnitude;  // RHE(|num| / den) < 2^QBits + 1
  logic            too_big;

  assign twice_rem = {rem_q, 1'b0};
  assign den_wide  = (RBits + 1)'(den_q);
  assign round_up  = (twice_rem > den_wide) || ((twice_rem == den_wide) && quot_q[0]);
  assign magnitude = (QBits + 1)'(quot_q) + (QBits + 1)'(round_up);
  // Positive results above 2^(X2Bits-1) - 1 and negative ones below -2^(X2Bits-1) clip.
  assign too_big   = saturate_q ||
                     (negative_q ? magnitude > (QBits + 1)'(X2Max) + (QBits + 1)'(1)
                                 : magnitude > (QBits + 1)'(X2Max));

  always_comb begin
    if (too_big) begin
      x2_o = negative_q ? ~X2Max : X2Max;
    end else begin
      x2_o = negative_q ? X2Bits'(~magnitude + (QBits + 1)'(1)) : X2Bits'(magnitude);
    end
  end

endmodule
