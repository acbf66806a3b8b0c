/**
 * A delay line of Depth registers of Width bits: q_o is d_i as sampled Depth cycles
 * earlier (zero after reset). The systolic array skews its edge lanes with it: lane r
 * enters PE(r, 0) r cycles after it was sampled, and likewise for the columns.
 */
module octet_skew_line #(
  parameter int unsigned Width = 8,  // bits per entry
  parameter int unsigned Depth = 1   // registers (Depth >= 1)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic [Width-1:0] d_i,
  output logic [Width-1:0] q_o
);

  // Entry 0 is the newest; each cycle shifts every entry one place up.
  logic [Depth*Width-1:0] line_q, line_d;

  always_comb begin
    line_d = line_q << Width;
    line_d[Width-1:0] = d_i;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      line_q <= '0;
    end else begin
      line_q <= line_d;
    end
  end

  assign q_o = line_q[Depth*Width-1 -: Width];

endmodule
