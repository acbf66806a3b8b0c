// Octet systolic array: one processing element (docs/rtl.md, "Array").

/**
 * Flag-aware multiply-accumulate PE of the Octet systolic array.
 *
 * Operands arrive in PE form (model/array/pe_operand.h): value = (-1)^neg * mag << shift,
 * with an 8-bit magnitude and a shift of 0, 7 (flag-1 word) or 8 (high digit of a 16-bit
 * SQ error). One 8 x 8 unsigned multiplier forms mag_a * mag_b; the product is shifted by
 * shift_a + shift_b (<= 8, so < 2^24), negated when the signs differ and added to a 48-bit
 * signed accumulator.
 *
 * Registers (as model/array/systolic_array.cpp):
 *   ifmap_*_q   the ifmap token (operand, valid, last); moves right in both dataflows.
 *   filter_*_q  OS: the filter operand moving down, loaded every cycle.
 *               WS: the stationary weight; loaded (shifted down) only when filter_load_i.
 *   acc_q       OS: the accumulator of the PE's output. The cycle after the token marked
 *               last, done_o is high and acc_o holds the complete output; it restarts from
 *               zero on the next edge.
 *               WS: the partial sum moving down: psum_i + product with a valid token,
 *               else zero.
 * The product uses the incoming ifmap token and, for OS, the incoming filter operand
 * (both moving with it), for WS the held weight.
 */
module octet_pe (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        dataflow_i,     // 1'b0: weight stationary, 1'b1: output stationary

  // Ifmap token from the left neighbour (or the row's skew line).
  input  logic        ifmap_valid_i,
  input  logic        ifmap_last_i,   // OS: the last step of the reduction
  input  logic [7:0]  ifmap_mag_i,
  input  logic        ifmap_neg_i,
  input  logic [3:0]  ifmap_shift_i,
  // The same token, one cycle later, to the right neighbour.
  output logic        ifmap_valid_o,
  output logic        ifmap_last_o,
  output logic [7:0]  ifmap_mag_o,
  output logic        ifmap_neg_o,
  output logic [3:0]  ifmap_shift_o,

  // Filter operand from the PE above (or the column's feeder).
  input  logic        filter_load_i,  // WS: shift the weight chain down (preload)
  input  logic [7:0]  filter_mag_i,
  input  logic        filter_neg_i,
  input  logic [3:0]  filter_shift_i,
  // The filter register, to the PE below.
  output logic [7:0]  filter_mag_o,
  output logic        filter_neg_o,
  output logic [3:0]  filter_shift_o,

  input  logic [47:0] psum_i,         // WS: partial sum from the PE above (zero in row 0)
  output logic [47:0] acc_o,          // accumulator (OS) or partial sum (WS) register
  output logic        done_o,         // OS: acc_o is a complete output this cycle
  output logic        overflow_o      // this cycle's addition leaves 48 bits (an error)
);

  localparam logic DataflowOs = 1'b1;
  localparam int unsigned AccBits = 48;
  localparam int unsigned ProductBits = 24;  // (255 * 255) << 8 < 2^24
  localparam logic [4:0] MaxProductShift = 5'd8;

  ///////////////
  // Registers //
  ///////////////

  logic        ifmap_valid_q, ifmap_valid_d;
  logic        ifmap_last_q, ifmap_last_d;
  logic [7:0]  ifmap_mag_q, ifmap_mag_d;
  logic        ifmap_neg_q, ifmap_neg_d;
  logic [3:0]  ifmap_shift_q, ifmap_shift_d;
  logic [7:0]  filter_mag_q, filter_mag_d;
  logic        filter_neg_q, filter_neg_d;
  logic [3:0]  filter_shift_q, filter_shift_d;
  logic [AccBits-1:0] acc_q, acc_d;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ifmap_valid_q  <= 1'b0;
      ifmap_last_q   <= 1'b0;
      ifmap_mag_q    <= 8'h00;
      ifmap_neg_q    <= 1'b0;
      ifmap_shift_q  <= 4'h0;
      filter_mag_q   <= 8'h00;
      filter_neg_q   <= 1'b0;
      filter_shift_q <= 4'h0;
      acc_q          <= '0;
    end else begin
      ifmap_valid_q  <= ifmap_valid_d;
      ifmap_last_q   <= ifmap_last_d;
      ifmap_mag_q    <= ifmap_mag_d;
      ifmap_neg_q    <= ifmap_neg_d;
      ifmap_shift_q  <= ifmap_shift_d;
      filter_mag_q   <= filter_mag_d;
      filter_neg_q   <= filter_neg_d;
      filter_shift_q <= filter_shift_d;
      acc_q          <= acc_d;
    end
  end

  // The ifmap token always moves on.
  assign ifmap_valid_d = ifmap_valid_i;
  assign ifmap_last_d  = ifmap_last_i;
  assign ifmap_mag_d   = ifmap_mag_i;
  assign ifmap_neg_d   = ifmap_neg_i;
  assign ifmap_shift_d = ifmap_shift_i;

  // OS: the filter stream moves down every cycle. WS: the weight chain shifts during the
  // preload and holds afterwards.
  logic filter_en;
  assign filter_en = (dataflow_i == DataflowOs) || filter_load_i;

  always_comb begin
    filter_mag_d   = filter_mag_q;
    filter_neg_d   = filter_neg_q;
    filter_shift_d = filter_shift_q;
    if (filter_en) begin
      filter_mag_d   = filter_mag_i;
      filter_neg_d   = filter_neg_i;
      filter_shift_d = filter_shift_i;
    end
  end

  /////////////
  // Product //
  /////////////

  // The filter operand of the product: the one arriving with the ifmap (OS) or the held
  // weight (WS).
  logic [7:0] b_mag;
  logic       b_neg;
  logic [3:0] b_shift;
  always_comb begin
    b_mag   = filter_mag_q;
    b_neg   = filter_neg_q;
    b_shift = filter_shift_q;
    if (dataflow_i == DataflowOs) begin
      b_mag   = filter_mag_i;
      b_neg   = filter_neg_i;
      b_shift = filter_shift_i;
    end
  end

  logic [15:0]            product_mag;      // the 8 x 8 unsigned multiplier
  logic [4:0]             product_shift;    // shift_a + shift_b, <= MaxProductShift
  logic [ProductBits-1:0] product_shifted;  // < 2^24 when the shift is legal
  logic                   product_negate;
  logic signed [ProductBits:0] product;     // the signed product, 25 bits

  assign product_mag     = 16'(ifmap_mag_i) * 16'(b_mag);
  assign product_shift   = 5'(ifmap_shift_i) + 5'(b_shift);
  assign product_shifted = ProductBits'(product_mag) << product_shift;
  assign product_negate  = ifmap_neg_i ^ b_neg;
  assign product = product_negate ? -$signed({1'b0, product_shifted})
                                  : $signed({1'b0, product_shifted});

  /////////////////
  // Accumulator //
  /////////////////

  // OS: the cycle after the last product, acc_q holds the complete output (done) and the
  // next edge starts the next output from zero.
  logic done;
  assign done = (dataflow_i == DataflowOs) && ifmap_valid_q && ifmap_last_q;

  logic [AccBits-1:0] addend;  // what the product is added to
  logic [AccBits:0]   sum;     // one guard bit: sum[48] != sum[47] is an overflow

  always_comb begin
    addend = psum_i;
    if (dataflow_i == DataflowOs) begin
      addend = done ? '0 : acc_q;
    end
  end

  assign sum = {addend[AccBits-1], addend} +
               {{(AccBits - ProductBits){product[ProductBits]}}, product};

  always_comb begin
    acc_d = '0;  // WS: no valid token, no partial sum
    if (ifmap_valid_i) begin
      acc_d = sum[AccBits-1:0];
    end else if (dataflow_i == DataflowOs) begin
      acc_d = addend;  // OS: hold (or clear after a complete output)
    end
  end

  assign overflow_o = ifmap_valid_i && (sum[AccBits] != sum[AccBits-1]);

  /////////////
  // Outputs //
  /////////////

  assign ifmap_valid_o  = ifmap_valid_q;
  assign ifmap_last_o   = ifmap_last_q;
  assign ifmap_mag_o    = ifmap_mag_q;
  assign ifmap_neg_o    = ifmap_neg_q;
  assign ifmap_shift_o  = ifmap_shift_q;
  assign filter_mag_o   = filter_mag_q;
  assign filter_neg_o   = filter_neg_q;
  assign filter_shift_o = filter_shift_q;
  assign acc_o          = acc_q;
  assign done_o         = done;

`ifndef SYNTHESIS
  // At most one operand of a pair is shifted: the shifter takes 8 at most.
  ProductShiftLegal: assert property (@(posedge clk_i) disable iff (!rst_ni)
      !ifmap_valid_i || product_shift <= MaxProductShift);
`endif

endmodule
