// Octet systolic array: Rows x Cols PEs, weight or output stationary (docs/rtl.md, "Array").

/**
 * Rows x Cols octet_pe grid running one fold at a time in either dataflow, cycle for cycle
 * as the SystemC SystolicArray (model/array/systolic_array.cpp, docs/architecture.md).
 *
 * Fold cycle c is the c-th rising clock edge of the fold: the inputs driven before edge c
 * are sampled at edge c, and an output "valid at cycle c" is captured at edge c, so
 * out_valid_o is high after edge c (until edge c + 1).
 *
 * Edge streams: one vector per cycle, with one valid for the whole vector. Lanes of the
 * array that the tile does not use carry zero operands (padding) and are valid too.
 *   ifmap_*_i   Rows lanes. Lane r is delayed r cycles (the skew) before entering PE(r, 0).
 *   filter_*_i  Cols lanes. OS: lane c is delayed c cycles before entering PE(0, c).
 *               WS: not delayed; each valid vector shifts the weight chain down one row.
 *   OS (T = K): cycles 0..K-1 carry ifmap column a[.][k] and filter row b[k][.] at cycle k;
 *               ifmap_last_i marks k = K-1.
 *   WS (T = M): cycles 0..Rows-1 carry filter row Rows-1-c at cycle c (the preload);
 *               cycles Rows..Rows+M-1 carry ifmap row a[m][.] at cycle Rows+m.
 * Outputs: each column j gives at most one output per cycle, in a fixed order.
 *   OS: output (i, j) at cycle K-1+i+j, read from PE(i, j)'s accumulator: rows 0..Rows-1.
 *   WS: output (m, j) at cycle 2*Rows-1+m+j, the partial sum leaving PE(Rows-1, j): rows
 *       0..M-1.
 * Padded rows and columns produce outputs too (zero sums); the fold ends with its last
 * output, (Rows-1, Cols-1) for OS and (M-1, Cols-1) for WS.
 *
 * The registers drain by themselves at the end of a fold (valid bits clear, accumulators
 * and partial sums return to zero), so folds run back to back without a reset.
 * dataflow_i is registered (a mode register, so no PE depends on it combinationally):
 * drive it at least one cycle before a fold's first cycle and hold it during the fold; a
 * change of dataflow therefore takes one idle cycle between two folds. overflow_o is
 * sticky until reset: some 48-bit addition left its range (the model throws octet::Error
 * there).
 */
module octet_systolic_array #(
  parameter int unsigned Rows = 4,
  parameter int unsigned Cols = 4
) (
  input  logic               clk_i,
  input  logic               rst_ni,
  input  logic               dataflow_i,     // 1'b0: WS, 1'b1: OS; registered (see below)

  // Ifmap stream, one lane per array row; operands in PE form.
  input  logic               ifmap_valid_i,
  input  logic               ifmap_last_i,   // OS: the last reduction step (k = K-1)
  input  logic [Rows*8-1:0]  ifmap_mag_i,
  input  logic [Rows-1:0]    ifmap_neg_i,
  input  logic [Rows*4-1:0]  ifmap_shift_i,

  // Filter stream, one lane per array column; operands in PE form.
  input  logic               filter_valid_i,
  input  logic [Cols*8-1:0]  filter_mag_i,
  input  logic [Cols-1:0]    filter_neg_i,
  input  logic [Cols*4-1:0]  filter_shift_i,

  // Outputs, one port per column.
  output logic [Cols-1:0]    out_valid_o,
  output logic [Cols*48-1:0] out_value_o,
  output logic               overflow_o
);

  localparam logic DataflowOs = 1'b1;
  localparam int unsigned AccBits = 48;

  // A token packed into one vector: {valid, last, shift[3:0], neg, mag[7:0]} (ifmap) and
  // {shift[3:0], neg, mag[7:0]} (filter).
  localparam int unsigned OperandBits = 13;
  localparam int unsigned IfmapBits = OperandBits + 2;
  localparam int unsigned ValidBit = OperandBits + 1;
  localparam int unsigned LastBit = OperandBits;

  // The mode register: dataflow_i takes effect one cycle after it is driven, so the PEs'
  // logic depends on registers only (set it at least one cycle before a fold's first
  // cycle and hold it during the fold).
  logic dataflow_q, dataflow_d;
  assign dataflow_d = dataflow_i;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      dataflow_q <= 1'b0;
    end else begin
      dataflow_q <= dataflow_d;
    end
  end

  logic os;
  assign os = dataflow_q == DataflowOs;

  ////////////////
  // Edge skews //
  ////////////////

  // The token entering PE(r, 0) and PE(0, c).
  logic [IfmapBits-1:0]   row_token [Rows];
  logic [OperandBits-1:0] col_token [Cols];

  for (genvar r = 0; r < Rows; r++) begin : gen_ifmap_lane
    logic [IfmapBits-1:0] lane;
    assign lane = {ifmap_valid_i, ifmap_last_i, ifmap_shift_i[r*4 +: 4], ifmap_neg_i[r],
                   ifmap_mag_i[r*8 +: 8]};
    if (r == 0) begin : gen_direct
      assign row_token[0] = lane;
    end else begin : gen_skew
      // r registers: the lane enters PE(r, 0) r cycles after it was sampled.
      octet_skew_line #(
        .Width(IfmapBits),
        .Depth(r)
      ) u_skew (
        .clk_i,
        .rst_ni,
        .d_i(lane),
        .q_o(row_token[r])
      );
    end
  end

  for (genvar c = 0; c < Cols; c++) begin : gen_filter_lane
    logic [OperandBits-1:0] lane;
    assign lane = {filter_shift_i[c*4 +: 4], filter_neg_i[c], filter_mag_i[c*8 +: 8]};
    if (c == 0) begin : gen_direct
      assign col_token[0] = lane;
    end else begin : gen_skew
      // OS: c registers of skew. WS: the preload enters every column together.
      logic [OperandBits-1:0] skewed;
      octet_skew_line #(
        .Width(OperandBits),
        .Depth(c)
      ) u_skew (
        .clk_i,
        .rst_ni,
        .d_i(lane),
        .q_o(skewed)
      );
      assign col_token[c] = os ? skewed : lane;
    end
  end

  // WS: each valid filter vector shifts the weight chains down one row.
  logic filter_load;
  assign filter_load = !os && filter_valid_i;

  //////////////
  // PE grid  //
  //////////////

  // Ifmap tokens between columns: h_token[r * (Cols + 1) + c] enters PE(r, c); column Cols
  // is what leaves the right edge. Filter operands and partial sums between rows:
  // v_*[r * Cols + c] enters PE(r, c) from above; row Rows is what leaves the bottom.
  // (Arrays of narrow elements, not wide flat vectors: Verilator simulates them far faster.)
  logic [IfmapBits-1:0]   h_token  [Rows*(Cols+1)];
  logic [OperandBits-1:0] v_filter [(Rows+1)*Cols];
  logic [AccBits-1:0]     v_acc    [(Rows+1)*Cols];
  logic                   pe_done     [Rows*Cols];
  logic                   pe_overflow [Rows*Cols];

  for (genvar r = 0; r < Rows; r++) begin : gen_row
    assign h_token[r*(Cols+1)] = row_token[r];
  end
  for (genvar c = 0; c < Cols; c++) begin : gen_col
    assign v_filter[c] = col_token[c];
    assign v_acc[c] = '0;  // row 0 starts every partial sum from zero
  end

  for (genvar r = 0; r < Rows; r++) begin : gen_pe_row
    for (genvar c = 0; c < Cols; c++) begin : gen_pe_col
      localparam int unsigned HIn = r * (Cols + 1) + c;
      localparam int unsigned VIn = r * Cols + c;
      logic [IfmapBits-1:0]   a_in, a_out;
      logic [OperandBits-1:0] b_in, b_out;
      assign a_in = h_token[HIn];
      assign b_in = v_filter[VIn];

      octet_pe u_pe (
        .clk_i,
        .rst_ni,
        .dataflow_i     (dataflow_q),
        .ifmap_valid_i  (a_in[ValidBit]),
        .ifmap_last_i   (a_in[LastBit]),
        .ifmap_mag_i    (a_in[7:0]),
        .ifmap_neg_i    (a_in[8]),
        .ifmap_shift_i  (a_in[12:9]),
        .ifmap_valid_o  (a_out[ValidBit]),
        .ifmap_last_o   (a_out[LastBit]),
        .ifmap_mag_o    (a_out[7:0]),
        .ifmap_neg_o    (a_out[8]),
        .ifmap_shift_o  (a_out[12:9]),
        .filter_load_i  (filter_load),
        .filter_mag_i   (b_in[7:0]),
        .filter_neg_i   (b_in[8]),
        .filter_shift_i (b_in[12:9]),
        .filter_mag_o   (b_out[7:0]),
        .filter_neg_o   (b_out[8]),
        .filter_shift_o (b_out[12:9]),
        .psum_i         (v_acc[VIn]),
        .acc_o          (v_acc[VIn+Cols]),
        .done_o         (pe_done[VIn]),
        .overflow_o     (pe_overflow[VIn])
      );

      assign h_token[HIn+1]     = a_out;
      assign v_filter[VIn+Cols] = b_out;
    end
  end

  /////////////
  // Outputs //
  /////////////

  // OS: in each column exactly one PE at most is done per cycle (rows complete on
  // successive cycles), so the column's output is the OR of the done PEs' accumulators.
  // WS: the partial sum leaving the bottom row; it is valid with the bottom PE's ifmap
  // token (the two move together). PE done bits are zero in WS.
  for (genvar c = 0; c < Cols; c++) begin : gen_out
    logic [AccBits-1:0] os_value;
    logic               os_valid;
    always_comb begin
      os_value = '0;
      os_valid = 1'b0;
      for (int unsigned r = 0; r < Rows; r++) begin
        if (pe_done[r*Cols+c]) begin
          os_value = os_value | v_acc[(r+1)*Cols+c];
          os_valid = 1'b1;
        end
      end
    end

    logic ws_valid;
    assign ws_valid = !os && h_token[(Rows-1)*(Cols+1)+c+1][ValidBit];
    assign out_valid_o[c] = os_valid || ws_valid;
    assign out_value_o[c*AccBits +: AccBits] =
        os_value | (ws_valid ? v_acc[Rows*Cols+c] : '0);
  end

  // Sticky overflow flag.
  logic overflow_q, overflow_d;
  logic any_overflow;
  always_comb begin
    any_overflow = 1'b0;
    for (int unsigned p = 0; p < Rows * Cols; p++) begin
      any_overflow = any_overflow | pe_overflow[p];
    end
  end
  assign overflow_d = overflow_q || any_overflow;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      overflow_q <= 1'b0;
    end else begin
      overflow_q <= overflow_d;
    end
  end
  assign overflow_o = overflow_q;

  // Tokens leaving the right edge and filter operands leaving the bottom edge go nowhere;
  // the right edge's valid bits of the bottom row are the WS output valids (used above).
  logic [Rows*IfmapBits-1:0]   right_edge;
  logic [Cols*OperandBits-1:0] bottom_edge;
  for (genvar r = 0; r < Rows; r++) begin : gen_right_edge
    assign right_edge[r*IfmapBits +: IfmapBits] = h_token[r*(Cols+1)+Cols];
  end
  for (genvar c = 0; c < Cols; c++) begin : gen_bottom_edge
    assign bottom_edge[c*OperandBits +: OperandBits] = v_filter[Rows*Cols+c];
  end
  logic unused_edges;
  assign unused_edges = ^{right_edge, bottom_edge};

`ifndef SYNTHESIS
  // OS: rows of a column complete on different cycles.
  for (genvar c = 0; c < Cols; c++) begin : gen_assert_col
    logic [Rows-1:0] column_done;
    for (genvar r = 0; r < Rows; r++) begin : gen_bit
      assign column_done[r] = pe_done[r*Cols+c];
    end
    OneOutputPerColumn: assert property (@(posedge clk_i) disable iff (!rst_ni)
        $onehot0(column_done));
  end
`endif

endmodule
