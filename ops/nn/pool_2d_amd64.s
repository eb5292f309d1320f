//go:build !purego

#include "textflag.h"

// AVX-512 max-pool passes (see maxIntoGo, slideMax3Go, slideMax2s2Go).
// PMAX(v, m) sets m to the NaN-propagating maximum of m and v: VMAXPS
// returns its second source (m, first in Go syntax) when either is NaN,
// so a NaN in v is merged back in through a compare mask (K2).
#define PMAX(v, m) \
	VMAXPS m, v, m; \
	VCMPPS $3, v, v, K2; \
	VMOVAPS v, K2, m

// func maxIntoAVX512(dst, src *float32, n int)
TEXT ·maxIntoAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

mi64:
	CMPQ CX, $64
	JLT  mi16
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	PMAX(Z4, Z0)
	PMAX(Z5, Z1)
	PMAX(Z6, Z2)
	PMAX(Z7, Z3)
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  mi64

mi16:
	CMPQ CX, $16
	JLT  mitail
	VMOVUPS (DI), Z0
	VMOVUPS (SI), Z4
	PMAX(Z4, Z0)
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  mi16

mitail:
	TESTQ CX, CX
	JLE   midone
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z4
	PMAX(Z4, Z0)
	VMOVUPS Z0, K1, (DI)

midone:
	VZEROUPPER
	RET

// func slideMax3s1AVX512(y, line *float32, n int)
// y[o] = max(line[o], line[o+1], line[o+2]).
TEXT ·slideMax3s1AVX512(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ line+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL $0xffff, BX
	KMOVW BX, K1

s1m:
	CMPQ CX, $16
	JGE  s1mblock
	TESTQ CX, CX
	JLE   s1mdone
	// Tail: the low CX lanes (loads read up to line[n+1]).
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	MOVQ $16, CX

s1mblock:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 4(SI), K1, Z1
	VMOVUPS.Z 8(SI), K1, Z2
	PMAX(Z1, Z0)
	PMAX(Z2, Z0)
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  s1m

s1mdone:
	VZEROUPPER
	RET

// func slideMax3s2AVX512(y, line *float32, n int)
// y[o] = max(line[2o], line[2o+1], line[2o+2]): the even and odd floats of
// line[0..31] and the even floats of line[2..33] (line[33] is never
// needed). Masks: K3 line[0..15], K4 line[16..31], K5 line[2..17], K6
// line[18..33], K1 outputs.
TEXT ·slideMax3s2AVX512(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ line+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPS ·permEven(SB), Z18
	VMOVUPS ·permOdd(SB), Z19
	MOVL $0xffff, BX
	KMOVW BX, K1
	KMOVW BX, K3
	KMOVW BX, K4
	KMOVW BX, K5
	MOVL $0x7fff, BX
	KMOVW BX, K6

s2m:
	CMPQ CX, $16
	JGE  s2mblock
	TESTQ CX, CX
	JLE   s2mdone
	// rem = CX outputs read line[0..2*rem].
	MOVQ CX, R10
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	LEAQ 1(R10)(R10*1), CX
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
	MOVQ $16, CX

s2mblock:
	VMOVUPS.Z (SI), K3, Z6
	VMOVUPS.Z 64(SI), K4, Z7
	VMOVUPS.Z 8(SI), K5, Z8
	VMOVUPS.Z 72(SI), K6, Z9
	VMOVAPS Z6, Z0
	VPERMT2PS Z7, Z18, Z0
	VPERMT2PS Z7, Z19, Z6
	VPERMT2PS Z9, Z18, Z8
	PMAX(Z6, Z0)
	PMAX(Z8, Z0)
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ $16, CX
	JMP  s2m

s2mdone:
	VZEROUPPER
	RET

// func slideMax2s2AVX512(y, line *float32, n int)
// y[o] = max(line[2o], line[2o+1]). Masks: K3 line[0..15], K4
// line[16..31], K1 outputs.
TEXT ·slideMax2s2AVX512(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ line+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPS ·permEven(SB), Z18
	VMOVUPS ·permOdd(SB), Z19
	MOVL $0xffff, BX
	KMOVW BX, K1
	KMOVW BX, K3
	KMOVW BX, K4

p2m:
	CMPQ CX, $16
	JGE  p2mblock
	TESTQ CX, CX
	JLE   p2mdone
	// rem = CX outputs read line[0..2*rem-1].
	MOVQ CX, R10
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K1
	LEAQ (R10)(R10*1), CX
	MOVL $1, BX
	SHLL CX, BX
	DECL BX
	KMOVW BX, K3
	SHRL $16, BX
	KMOVW BX, K4
	MOVQ $16, CX

p2mblock:
	VMOVUPS.Z (SI), K3, Z6
	VMOVUPS.Z 64(SI), K4, Z7
	VMOVAPS Z6, Z0
	VPERMT2PS Z7, Z18, Z0
	VPERMT2PS Z7, Z19, Z6
	PMAX(Z6, Z0)
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $128, SI
	SUBQ $16, CX
	JMP  p2m

p2mdone:
	VZEROUPPER
	RET

// 3x3 stride-1 max-pool planes (see max3RowsGo): rows output rows of n
// outputs (y rows n apart); output row r reads the 3 source rows at src +
// r*step, ld apart (ld, step in bytes). Registers: R10/R11 = output / source row
// starts, DX = outputs per row, DI = y, SI/R8/R9 = source rows, CX =
// outputs left in the row, AX = rows left.

// M1ROW folds the 3 taps of stride-1 outputs from row p into Z0 (masked
// by K1; first starts Z0 from the row's first tap).
#define M1ROW(p) \
	VMOVUPS.Z (p), K1, Z1; \
	PMAX(Z1, Z0); \
	VMOVUPS.Z 4(p), K1, Z1; \
	PMAX(Z1, Z0); \
	VMOVUPS.Z 8(p), K1, Z1; \
	PMAX(Z1, Z0)

// func max3s1AVX512(y, src *float32, n, rows, ld, step int)
TEXT ·max3s1AVX512(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), R10
	MOVQ src+8(FP), R11
	MOVQ n+16(FP), DX
	MOVQ rows+24(FP), AX
	MOVQ ld+32(FP), R12
	MOVQ step+40(FP), R13

m1row:
	TESTQ AX, AX
	JLE   m1done
	MOVQ  R10, DI
	MOVQ  R11, SI
	LEAQ  (R11)(R12*1), R8
	LEAQ  (R8)(R12*1), R9
	MOVQ  DX, CX
	MOVL  $0xffff, BX
	KMOVW BX, K1

m1blk:
	CMPQ  CX, $16
	JGE   m1full
	TESTQ CX, CX
	JLE   m1next
	MOVL  $1, BX
	SHLL  CX, BX
	DECL  BX
	KMOVW BX, K1
	MOVQ  $16, CX

m1full:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 4(SI), K1, Z1
	PMAX(Z1, Z0)
	VMOVUPS.Z 8(SI), K1, Z1
	PMAX(Z1, Z0)
	M1ROW(R8)
	M1ROW(R9)
	VMOVUPS Z0, K1, (DI)
	ADDQ  $64, SI
	ADDQ  $64, R8
	ADDQ  $64, R9
	ADDQ  $64, DI
	SUBQ  $16, CX
	JMP   m1blk

m1next:
	LEAQ (R10)(DX*4), R10
	ADDQ R13, R11
	DECQ AX
	JMP  m1row

m1done:
	VZEROUPPER
	RET
