//go:build !purego

#include "textflag.h"

// Winograd F(4x4, 3x3) transforms on 16 tiles per vector (see
// winoInputRowGo and winoOutputRowGo, their twins). Each 2-D transform is
// two passes of a 1-D transform: along tile rows into a scratch block,
// then along tile columns.

// TRANS_IN is the 1-D input transform (rows of B^T) of d0..d5 into
// t0..t5; Z28 = 4, Z29 = 5, Z12..Z15 are clobbered.
//   t0 = 4d0 - 5d2 + d4        t5 = 4d1 - 5d3 + d5
//   t1 = (d4 - 4d2) + (d3 - 4d1)   t2 = (d4 - 4d2) - (d3 - 4d1)
//   t3 = (d4 - d2) + 2(d3 - d1)    t4 = (d4 - d2) - 2(d3 - d1)
#define TRANS_IN(d0, d1, d2, d3, d4, d5, t0, t1, t2, t3, t4, t5) \
	VMOVAPS d4, t0; \
	VFMADD231PS Z28, d0, t0; \
	VFNMADD231PS Z29, d2, t0; \
	VMOVAPS d4, Z12; \
	VFNMADD231PS Z28, d2, Z12; \
	VMOVAPS d3, Z13; \
	VFNMADD231PS Z28, d1, Z13; \
	VADDPS Z13, Z12, t1; \
	VSUBPS Z13, Z12, t2; \
	VSUBPS d2, d4, Z14; \
	VSUBPS d1, d3, Z15; \
	VADDPS Z15, Z15, Z15; \
	VADDPS Z15, Z14, t3; \
	VSUBPS Z15, Z14, t4; \
	VMOVAPS d5, t5; \
	VFMADD231PS Z28, d1, t5; \
	VFNMADD231PS Z29, d3, t5

// IN_ROW loads row i of the 6x6 input tiles (phases R9 apart: columns
// 0..3 are phases 0..3, columns 4, 5 phases 0, 1 one tile on), transforms
// it and stores it to scratch row i.
#define IN_ROW(p, off) \
	VMOVUPS (p), Z0; \
	VMOVUPS (p)(R9*1), Z1; \
	VMOVUPS (p)(R10*1), Z2; \
	VMOVUPS (p)(R11*1), Z3; \
	VMOVUPS 4(p), Z4; \
	VMOVUPS 4(p)(R9*1), Z5; \
	TRANS_IN(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	VMOVUPS Z6, off(R8); \
	VMOVUPS Z7, off+64(R8); \
	VMOVUPS Z8, off+128(R8); \
	VMOVUPS Z9, off+192(R8); \
	VMOVUPS Z10, off+256(R8); \
	VMOVUPS Z11, off+320(R8)

// IN_COL transforms scratch column j and stores point (k, j) to
// R13 + k*6*xiStride (AX = 6*xiStride), masked to the chunk's tiles (K1).
#define IN_COL(j) \
	VMOVUPS (j*64)(R8), Z0; \
	VMOVUPS (j*64+384)(R8), Z1; \
	VMOVUPS (j*64+768)(R8), Z2; \
	VMOVUPS (j*64+1152)(R8), Z3; \
	VMOVUPS (j*64+1536)(R8), Z4; \
	VMOVUPS (j*64+1920)(R8), Z5; \
	TRANS_IN(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11); \
	MOVQ R13, R12; \
	VMOVUPS Z6, K1, (R12); \
	ADDQ AX, R12; \
	VMOVUPS Z7, K1, (R12); \
	ADDQ AX, R12; \
	VMOVUPS Z8, K1, (R12); \
	ADDQ AX, R12; \
	VMOVUPS Z9, K1, (R12); \
	ADDQ AX, R12; \
	VMOVUPS Z10, K1, (R12); \
	ADDQ AX, R12; \
	VMOVUPS Z11, K1, (R12); \
	ADDQ DX, R13

// func winoInputAVX512(dst *float32, xiStride int, src *float32, ld, phase, tiles int, scratch *[576]float32)
// Strides in bytes.
TEXT ·winoInputAVX512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ xiStride+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ ld+24(FP), BX
	MOVQ phase+32(FP), R9
	MOVQ tiles+40(FP), CX
	MOVQ scratch+48(FP), R8
	LEAQ (R9)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (DX)(DX*2), AX
	ADDQ AX, AX
	MOVL $0x40800000, R12 // 4.0
	VPBROADCASTD R12, Z28
	MOVL $0x40a00000, R12 // 5.0
	VPBROADCASTD R12, Z29

inchunk:
	TESTQ CX, CX
	JLE   indone
	MOVL  $0xffff, R12
	CMPQ  CX, $16
	JGE   infull
	MOVL  $1, R12
	SHLL  CX, R12
	DECL  R12

infull:
	KMOVW R12, K1
	MOVQ  SI, R13
	IN_ROW(R13, 0)
	ADDQ  BX, R13
	IN_ROW(R13, 384)
	ADDQ  BX, R13
	IN_ROW(R13, 768)
	ADDQ  BX, R13
	IN_ROW(R13, 1152)
	ADDQ  BX, R13
	IN_ROW(R13, 1536)
	ADDQ  BX, R13
	IN_ROW(R13, 1920)
	MOVQ  DI, R13
	IN_COL(0)
	IN_COL(1)
	IN_COL(2)
	IN_COL(3)
	IN_COL(4)
	IN_COL(5)
	ADDQ  $64, SI
	ADDQ  $64, DI
	SUBQ  $16, CX
	JMP   inchunk

indone:
	VZEROUPPER
	RET

// TRANS_OUT is the 1-D output transform (rows of A^T) of m0..m5 into
// o0..o3 with temporaries p, q, r, s; Z10 = 4, Z11 = 8.
//   o0 = m0 + (m1 + m2) + (m3 + m4)    o1 = (m1 - m2) + 2(m3 - m4)
//   o2 = (m1 + m2) + 4(m3 + m4)        o3 = (m1 - m2) + m5 + 8(m3 - m4)
#define TRANS_OUT(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3, p, q, r, s) \
	VADDPS m2, m1, p; \
	VSUBPS m2, m1, q; \
	VADDPS m4, m3, r; \
	VSUBPS m4, m3, s; \
	VADDPS p, m0, o0; \
	VADDPS r, o0, o0; \
	VADDPS s, q, o1; \
	VADDPS s, o1, o1; \
	VMOVAPS p, o2; \
	VFMADD231PS Z10, r, o2; \
	VADDPS m5, q, o3; \
	VFMADD231PS Z11, s, o3

// OUT_ROW loads products row i (points 6i..6i+5, DX apart, from R10),
// masked to the chunk's tiles (K5), transforms it and stores the 4 values
// to scratch row i.
#define OUT_ROW(off) \
	VMOVUPS.Z (R10), K5, Z0; \
	ADDQ DX, R10; \
	VMOVUPS.Z (R10), K5, Z1; \
	ADDQ DX, R10; \
	VMOVUPS.Z (R10), K5, Z2; \
	ADDQ DX, R10; \
	VMOVUPS.Z (R10), K5, Z3; \
	ADDQ DX, R10; \
	VMOVUPS.Z (R10), K5, Z4; \
	ADDQ DX, R10; \
	VMOVUPS.Z (R10), K5, Z5; \
	ADDQ DX, R10; \
	TRANS_OUT(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z16, Z17, Z18, Z19); \
	VMOVUPS Z6, off(R8); \
	VMOVUPS Z7, off+64(R8); \
	VMOVUPS Z8, off+128(R8); \
	VMOVUPS Z9, off+192(R8)

// OUT_COL transforms scratch column j into output rows 0..3 of column j.
#define OUT_COL(j, y0, y1, y2, y3) \
	VMOVUPS (j*64)(R8), Z0; \
	VMOVUPS (j*64+256)(R8), Z1; \
	VMOVUPS (j*64+512)(R8), Z2; \
	VMOVUPS (j*64+768)(R8), Z3; \
	VMOVUPS (j*64+1024)(R8), Z4; \
	VMOVUPS (j*64+1280)(R8), Z5; \
	TRANS_OUT(Z0, Z1, Z2, Z3, Z4, Z5, y0, y1, y2, y3, Z6, Z7, Z8, Z9)

// OUT_STORE finishes output row i from its 4 columns (vectors over 16
// tiles): interleaves them into 64 consecutive floats, adds the bias (Z12)
// and the residual at R11 (a zero block when there is none), clamps to
// [Z13, Z14] (the value is VMAXPS/VMINPS's NaN-returned operand) and
// stores to R12 with the column masks K1..K4.
#define OUT_STORE(a, b, c, d) \
	VUNPCKLPS b, a, Z0; \
	VUNPCKHPS b, a, Z1; \
	VUNPCKLPS d, c, Z2; \
	VUNPCKHPS d, c, Z3; \
	VUNPCKLPD Z2, Z0, Z4; \
	VUNPCKHPD Z2, Z0, Z5; \
	VUNPCKLPD Z3, Z1, Z6; \
	VUNPCKHPD Z3, Z1, Z7; \
	VSHUFF32X4 $0x44, Z5, Z4, Z0; \
	VSHUFF32X4 $0x44, Z7, Z6, Z1; \
	VSHUFF32X4 $0xee, Z5, Z4, Z2; \
	VSHUFF32X4 $0xee, Z7, Z6, Z3; \
	VSHUFF32X4 $0x88, Z1, Z0, Z4; \
	VSHUFF32X4 $0xdd, Z1, Z0, Z5; \
	VSHUFF32X4 $0x88, Z3, Z2, Z6; \
	VSHUFF32X4 $0xdd, Z3, Z2, Z7; \
	VADDPS Z12, Z4, Z4; \
	VADDPS Z12, Z5, Z5; \
	VADDPS Z12, Z6, Z6; \
	VADDPS Z12, Z7, Z7; \
	VMOVUPS.Z (R11), K1, Z8; \
	VADDPS Z8, Z4, Z4; \
	VMOVUPS.Z 64(R11), K2, Z8; \
	VADDPS Z8, Z5, Z5; \
	VMOVUPS.Z 128(R11), K3, Z8; \
	VADDPS Z8, Z6, Z6; \
	VMOVUPS.Z 192(R11), K4, Z8; \
	VADDPS Z8, Z7, Z7; \
	VMAXPS Z4, Z13, Z4; \
	VMAXPS Z5, Z13, Z5; \
	VMAXPS Z6, Z13, Z6; \
	VMAXPS Z7, Z13, Z7; \
	VMINPS Z4, Z14, Z4; \
	VMINPS Z5, Z14, Z5; \
	VMINPS Z6, Z14, Z6; \
	VMINPS Z7, Z14, Z7; \
	VMOVUPS Z4, K1, (R12); \
	VMOVUPS Z5, K2, 64(R12); \
	VMOVUPS Z6, K3, 128(R12); \
	VMOVUPS Z7, K4, 192(R12)

// func winoOutputAVX512(y, z *float32, width, rows int, src *float32, xiStride, tiles int, bias, lo, hi float32, zrow int, scratch *[576]float32)
// y and z start at the row of tiles' first output; z may point to a zero
// block with zrow = 0. xiStride and zrow are in bytes, width in floats.
TEXT ·winoOutputAVX512(SB), NOSPLIT, $0-88
	MOVQ y+0(FP), DI
	MOVQ z+8(FP), R13
	MOVQ width+16(FP), R9
	LEAQ (R9*4), AX
	MOVQ src+32(FP), SI
	MOVQ xiStride+40(FP), DX
	MOVQ tiles+48(FP), CX
	VBROADCASTSS bias+56(FP), Z12
	VBROADCASTSS lo+60(FP), Z13
	VBROADCASTSS hi+64(FP), Z14
	MOVQ zrow+72(FP), BX
	MOVQ scratch+80(FP), R8
	MOVL $0x40800000, R10 // 4.0
	VPBROADCASTD R10, Z10
	MOVL $0x41000000, R10 // 8.0
	VPBROADCASTD R10, Z11

outchunk:
	TESTQ CX, CX
	JLE   outdone
	// K5: the chunk's tiles (loads past them could leave the buffer).
	MOVL  $0xffff, R10
	CMPQ  CX, $16
	JGE   outtiles
	MOVL  $1, R10
	SHLL  CX, R10
	DECL  R10

outtiles:
	KMOVW R10, K5
	// K1..K4: the chunk's 64 output columns inside the width (R9 left).
	MOVQ  $-1, R10
	CMPQ  R9, $64
	JGE   outcols
	MOVQ  CX, R11
	MOVQ  R9, CX
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	MOVQ  R11, CX

outcols:
	KMOVW R10, K1
	SHRQ  $16, R10
	KMOVW R10, K2
	SHRQ  $16, R10
	KMOVW R10, K3
	SHRQ  $16, R10
	KMOVW R10, K4
	MOVQ  SI, R10
	OUT_ROW(0)
	OUT_ROW(256)
	OUT_ROW(512)
	OUT_ROW(768)
	OUT_ROW(1024)
	OUT_ROW(1280)
	OUT_COL(0, Z16, Z20, Z24, Z28)
	OUT_COL(1, Z17, Z21, Z25, Z29)
	OUT_COL(2, Z18, Z22, Z26, Z30)
	OUT_COL(3, Z19, Z23, Z27, Z31)
	MOVQ  DI, R12
	MOVQ  R13, R11
	MOVQ  rows+24(FP), R10
	OUT_STORE(Z16, Z17, Z18, Z19)
	CMPQ  R10, $1
	JLE   outnext
	ADDQ  AX, R12
	ADDQ  BX, R11
	OUT_STORE(Z20, Z21, Z22, Z23)
	CMPQ  R10, $2
	JLE   outnext
	ADDQ  AX, R12
	ADDQ  BX, R11
	OUT_STORE(Z24, Z25, Z26, Z27)
	CMPQ  R10, $3
	JLE   outnext
	ADDQ  AX, R12
	ADDQ  BX, R11
	OUT_STORE(Z28, Z29, Z30, Z31)

outnext:
	ADDQ  $64, SI
	ADDQ  $256, DI
	TESTQ BX, BX
	JEQ   outnoz
	ADDQ  $256, R13

outnoz:
	SUBQ  $64, R9
	SUBQ  $16, CX
	JMP   outchunk

outdone:
	VZEROUPPER
	RET

// Index vector for the last step of deinterleave4: lane 4L+e takes lane
// 4e+L (a 4x4 transpose of (128-bit lane, element)).
DATA winoDeint<>+0(SB)/4, $0
DATA winoDeint<>+4(SB)/4, $4
DATA winoDeint<>+8(SB)/4, $8
DATA winoDeint<>+12(SB)/4, $12
DATA winoDeint<>+16(SB)/4, $1
DATA winoDeint<>+20(SB)/4, $5
DATA winoDeint<>+24(SB)/4, $9
DATA winoDeint<>+28(SB)/4, $13
DATA winoDeint<>+32(SB)/4, $2
DATA winoDeint<>+36(SB)/4, $6
DATA winoDeint<>+40(SB)/4, $10
DATA winoDeint<>+44(SB)/4, $14
DATA winoDeint<>+48(SB)/4, $3
DATA winoDeint<>+52(SB)/4, $7
DATA winoDeint<>+56(SB)/4, $11
DATA winoDeint<>+60(SB)/4, $15
GLOBL winoDeint<>(SB), RODATA|NOPTR, $64

// func deinterleave4AVX512(dst *float32, phase int, src *float32, n int)
// dst[p*phase + q] = src[4q + p] for p < 4, q < n (phase in bytes). Per
// 16 q: the in-lane 4x4 transposes of the 4 source vectors leave phase p
// of q = 4v+L in lane L, element v of vector p; a permute puts them in
// order.
TEXT ·deinterleave4AVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ phase+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	LEAQ (DX)(DX*2), BX
	VMOVUPS winoDeint<>(SB), Z16
	MOVL $0xffff, R8
	KMOVW R8, K1
	KMOVW R8, K2
	KMOVW R8, K3
	KMOVW R8, K4
	KMOVW R8, K5

dechunk:
	TESTQ CX, CX
	JLE   dedone
	CMPQ  CX, $16
	JGE   defull
	// Tail: K5 = the CX outputs, K1..K4 the 4*CX source floats.
	MOVL  $1, R8
	SHLL  CX, R8
	DECL  R8
	KMOVW R8, K5
	MOVQ  CX, R9
	SHLQ  $2, CX
	MOVQ  $1, R8
	SHLQ  CX, R8
	DECQ  R8
	MOVQ  R9, CX
	KMOVW R8, K1
	SHRQ  $16, R8
	KMOVW R8, K2
	SHRQ  $16, R8
	KMOVW R8, K3
	SHRQ  $16, R8
	KMOVW R8, K4

defull:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 128(SI), K3, Z2
	VMOVUPS.Z 192(SI), K4, Z3
	VUNPCKLPS Z1, Z0, Z4
	VUNPCKHPS Z1, Z0, Z5
	VUNPCKLPS Z3, Z2, Z6
	VUNPCKHPS Z3, Z2, Z7
	VUNPCKLPD Z6, Z4, Z0
	VUNPCKHPD Z6, Z4, Z1
	VUNPCKLPD Z7, Z5, Z2
	VUNPCKHPD Z7, Z5, Z3
	VPERMPS Z0, Z16, Z0
	VPERMPS Z1, Z16, Z1
	VPERMPS Z2, Z16, Z2
	VPERMPS Z3, Z16, Z3
	VMOVUPS Z0, K5, (DI)
	VMOVUPS Z1, K5, (DI)(DX*1)
	VMOVUPS Z2, K5, (DI)(DX*2)
	VMOVUPS Z3, K5, (DI)(BX*1)
	ADDQ  $256, SI
	ADDQ  $64, DI
	SUBQ  $16, CX
	JMP   dechunk

dedone:
	VZEROUPPER
	RET
