/**
 * Sign and magnitude of a two's-complement integer quantizer input, taken in the
 * symmetric range +-(2^(InBits-1) - 1) (docs/numerics.md): |m| saturates to 2^(InBits-1) - 1,
 * which only the most negative m needs. Combinational.
 *
 * Shared by the quantizers of the vector units (octet_flag_encoder, octet_e1_quantizer).
 */
module octet_saturated_abs #(
  parameter int unsigned InBits = 64  // input bits (InBits >= 2)
) (
  input  logic [InBits-1:0] m_i,         // two's complement
  output logic              negative_o,  // m < 0
  output logic [InBits-2:0] abs_o        // min(|m|, 2^(InBits-1) - 1)
);

  logic [InBits-1:0] abs_full;

  assign negative_o = m_i[InBits-1];
  assign abs_full   = negative_o ? ~m_i + InBits'(1) : m_i;
  // Only m = -2^(InBits-1) leaves the top bit of abs_full set: its magnitude saturates.
  assign abs_o      = abs_full[InBits-1] ? {(InBits-1){1'b1}} : abs_full[InBits-2:0];

endmodule
