//go:build !purego

#include "textflag.h"

// 3x3 depthwise kernels (see dw3RowsGo), a plane of rows per call.
// Registers: R10/R11 = output / source row starts, DX = outputs per row,
//   DI = y, SI/R8/R9 = input rows 0..2, CX = outputs left in the row
//   Z20..Z28 = weights w[0..8], Z29 = bias, Z30 = lo, Z31 = hi
// Each row's three taps go to their own accumulator (Z0, Z1, Z2), summed
// as (row0 + row1) + row2 at the end, like the Go twin.
//
// The clamp is VMAXPS/VMINPS with the value as the second source operand
// (first in Go syntax), which is the one returned when either is NaN: NaN
// propagates.

#define LOADW \
	MOVQ w+16(FP), AX; \
	VBROADCASTSS 0(AX), Z20; \
	VBROADCASTSS 4(AX), Z21; \
	VBROADCASTSS 8(AX), Z22; \
	VBROADCASTSS 12(AX), Z23; \
	VBROADCASTSS 16(AX), Z24; \
	VBROADCASTSS 20(AX), Z25; \
	VBROADCASTSS 24(AX), Z26; \
	VBROADCASTSS 28(AX), Z27; \
	VBROADCASTSS 32(AX), Z28; \
	VBROADCASTSS bias+56(FP), Z29; \
	VBROADCASTSS lo+60(FP), Z30; \
	VBROADCASTSS hi+64(FP), Z31

// FINISH sums the row accumulators a, b, c into a and clamps it.
#define FINISH(a, b, c) \
	VADDPS b, a, a; \
	VADDPS c, a, a; \
	VMAXPS a, Z30, a; \
	VMINPS a, Z31, a

// S1BLOCK computes 16 stride-1 outputs at byte offset off into Z0 (Z1, Z2
// and the given accumulators are clobbered).
#define S1BLOCK(off, a, b, c) \
	VMOVAPS Z29, a; \
	VFMADD231PS off(SI), Z20, a; \
	VMULPS off(R8), Z23, b; \
	VMULPS off(R9), Z26, c; \
	VFMADD231PS off+4(SI), Z21, a; \
	VFMADD231PS off+4(R8), Z24, b; \
	VFMADD231PS off+4(R9), Z27, c; \
	VFMADD231PS off+8(SI), Z22, a; \
	VFMADD231PS off+8(R8), Z25, b; \
	VFMADD231PS off+8(R9), Z28, c

// func dw3s1AVX512(y, src *float32, w *[9]float32, n, rows, ld, step int, bias, lo, hi float32)
// Computes rows output rows of n outputs (y rows n apart); output row r
// reads the 3 source rows at src + r*step, ld apart (ld, step in bytes).
TEXT ·dw3s1AVX512(SB), NOSPLIT, $0-68
	MOVQ y+0(FP), R10
	MOVQ src+8(FP), R11
	MOVQ n+24(FP), DX
	MOVQ ld+40(FP), R12
	MOVQ step+48(FP), R13
	LOADW
	MOVQ rows+32(FP), AX

s1row:
	TESTQ AX, AX
	JLE   s1done
	MOVQ R10, DI
	MOVQ R11, SI
	LEAQ (R11)(R12*1), R8
	LEAQ (R8)(R12*1), R9
	MOVQ DX, CX

s1loop32:
	CMPQ CX, $32
	JLT  s1loop16
	S1BLOCK(0, Z0, Z1, Z2)
	S1BLOCK(64, Z3, Z4, Z5)
	FINISH(Z0, Z1, Z2)
	FINISH(Z3, Z4, Z5)
	VMOVUPS Z0, (DI)
	VMOVUPS Z3, 64(DI)
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  s1loop32

s1loop16:
	CMPQ CX, $16
	JLT  s1tail
	S1BLOCK(0, Z0, Z1, Z2)
	FINISH(Z0, Z1, Z2)
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, DI
	SUBQ $16, CX

s1tail:
	TESTQ CX, CX
	JLE   s1next
	// K1 = the low CX lanes. Masked-off lanes are neither read nor written.
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	VMOVUPS.Z (SI), K1, Z6
	VMOVUPS.Z 4(SI), K1, Z7
	VMOVUPS.Z 8(SI), K1, Z8
	VMOVUPS.Z (R8), K1, Z9
	VMOVUPS.Z 4(R8), K1, Z10
	VMOVUPS.Z 8(R8), K1, Z11
	VMOVUPS.Z (R9), K1, Z12
	VMOVUPS.Z 4(R9), K1, Z13
	VMOVUPS.Z 8(R9), K1, Z14
	VMOVAPS Z29, Z0
	VFMADD231PS Z6, Z20, Z0
	VMULPS Z9, Z23, Z1
	VMULPS Z12, Z26, Z2
	VFMADD231PS Z7, Z21, Z0
	VFMADD231PS Z10, Z24, Z1
	VFMADD231PS Z13, Z27, Z2
	VFMADD231PS Z8, Z22, Z0
	VFMADD231PS Z11, Z25, Z1
	VFMADD231PS Z14, Z28, Z2
	FINISH(Z0, Z1, Z2)
	VMOVUPS Z0, K1, (DI)

s1next:
	LEAQ (R10)(DX*4), R10
	ADDQ R13, R11
	DECQ AX
	JMP  s1row

s1done:
	VZEROUPPER
	RET

// Permutation indices picking the even and the odd floats of a pair of
// registers holding 32 consecutive floats (also used by pool_2d_amd64.s).
DATA ·permEven+0(SB)/4, $0
DATA ·permEven+4(SB)/4, $2
DATA ·permEven+8(SB)/4, $4
DATA ·permEven+12(SB)/4, $6
DATA ·permEven+16(SB)/4, $8
DATA ·permEven+20(SB)/4, $10
DATA ·permEven+24(SB)/4, $12
DATA ·permEven+28(SB)/4, $14
DATA ·permEven+32(SB)/4, $16
DATA ·permEven+36(SB)/4, $18
DATA ·permEven+40(SB)/4, $20
DATA ·permEven+44(SB)/4, $22
DATA ·permEven+48(SB)/4, $24
DATA ·permEven+52(SB)/4, $26
DATA ·permEven+56(SB)/4, $28
DATA ·permEven+60(SB)/4, $30
GLOBL ·permEven(SB), RODATA|NOPTR, $64

DATA ·permOdd+0(SB)/4, $1
DATA ·permOdd+4(SB)/4, $3
DATA ·permOdd+8(SB)/4, $5
DATA ·permOdd+12(SB)/4, $7
DATA ·permOdd+16(SB)/4, $9
DATA ·permOdd+20(SB)/4, $11
DATA ·permOdd+24(SB)/4, $13
DATA ·permOdd+28(SB)/4, $15
DATA ·permOdd+32(SB)/4, $17
DATA ·permOdd+36(SB)/4, $19
DATA ·permOdd+40(SB)/4, $21
DATA ·permOdd+44(SB)/4, $23
DATA ·permOdd+48(SB)/4, $25
DATA ·permOdd+52(SB)/4, $27
DATA ·permOdd+56(SB)/4, $29
DATA ·permOdd+60(SB)/4, $31
GLOBL ·permOdd(SB), RODATA|NOPTR, $64

// S2ROW adds the taps of one input row (pointer p, weights w0..w2) for 16
// stride-2 outputs into acc; first says whether acc starts as the bias
// (VFMADD231PS onto Z29's copy) or as a product. Output i reads
// p[2i], p[2i+1], p[2i+2]: the even and odd floats of p[0..31] and the
// even floats of p[2..33] (of which p[33] is never needed). Loads use the
// masks K3 (p[0..15]), K4 (p[16..31]), K5 (p[2..17]) and K6 (p[18..33]).
#define S2ROW(p, w0, w1, w2, acc) \
	VMOVUPS.Z (p), K3, Z6; \
	VMOVUPS.Z 64(p), K4, Z7; \
	VMOVUPS.Z 8(p), K5, Z8; \
	VMOVUPS.Z 72(p), K6, Z9; \
	VMOVAPS Z6, Z10; \
	VPERMT2PS Z7, Z18, Z10; \
	VPERMT2PS Z7, Z19, Z6; \
	VPERMT2PS Z9, Z18, Z8; \
	VFMADD231PS Z10, w0, acc; \
	VFMADD231PS Z6, w1, acc; \
	VFMADD231PS Z8, w2, acc

// func dw3s2AVX512(y, src *float32, w *[9]float32, n, rows, ld, step int, bias, lo, hi float32)
// As dw3s1AVX512, output i of a row reading source columns 2i..2i+2.
TEXT ·dw3s2AVX512(SB), NOSPLIT, $0-68
	MOVQ y+0(FP), R10
	MOVQ src+8(FP), R11
	MOVQ n+24(FP), DX
	MOVQ ld+40(FP), R12
	MOVQ step+48(FP), R13
	LOADW
	MOVQ rows+32(FP), AX
	VMOVUPS ·permEven(SB), Z18
	VMOVUPS ·permOdd(SB), Z19

s2row:
	TESTQ AX, AX
	JLE   s2done
	MOVQ R10, DI
	MOVQ R11, SI
	LEAQ (R11)(R12*1), R8
	LEAQ (R8)(R12*1), R9
	MOVQ DX, CX
	// Full blocks: every lane but p[33].
	MOVL $0xffff, BX
	KMOVW BX, K1
	KMOVW BX, K3
	KMOVW BX, K4
	KMOVW BX, K5
	MOVL $0x7fff, BX
	KMOVW BX, K6

s2loop:
	CMPQ CX, $16
	JLT  s2tail

s2block:
	VMOVAPS Z29, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	S2ROW(SI, Z20, Z21, Z22, Z0)
	S2ROW(R8, Z23, Z24, Z25, Z1)
	S2ROW(R9, Z26, Z27, Z28, Z2)
	FINISH(Z0, Z1, Z2)
	VMOVUPS Z0, K1, (DI)
	ADDQ $128, SI
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  s2loop

s2tail:
	TESTQ CX, CX
	JLE   s2next
	// rem = CX outputs read p[0..2*rem]: K3/K4 cover the low 2*rem+1
	// floats of p[0..31], K5/K6 the low 2*rem-1 of p[2..33]; K1 the
	// outputs.
	MOVQ CX, DX // n is reloaded for the next row
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	LEAQ 1(DX)(DX*1), CX
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K3
	SHRL $16, BX
	KMOVW BX, K4
	SUBQ $2, CX
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K5
	SHRL $16, BX
	KMOVW BX, K6
	MOVQ $16, CX // one more pass through the block, then done
	JMP  s2block

s2next:
	MOVQ n+24(FP), DX
	LEAQ (R10)(DX*4), R10
	ADDQ R13, R11
	DECQ AX
	JMP  s2row

s2done:
	VZEROUPPER
	RET
