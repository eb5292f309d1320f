//go:build !purego

#include "textflag.h"

// func im2colRowsAVX512(dst *float32, ldd, rows int, ch *float32, chLen int, taps *int, ntaps, q int, runs *packRunAsm, nruns int)
//
// For each of rows panel rows: the source row is ch + taps[q] floats (q
// cycling over ntaps, ch advancing by chLen bytes when it wraps); every
// run copies up to 32 floats from src+run.src to dst+run.dst under the
// run's two 16-lane masks. Masked lanes are neither read nor written.
TEXT ·im2colRowsAVX512(SB), NOSPLIT, $0-80
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	MOVQ rows+16(FP), CX
	MOVQ ch+24(FP), AX
	MOVQ chLen+32(FP), R11
	MOVQ taps+40(FP), R9
	MOVQ ntaps+48(FP), R10
	MOVQ q+56(FP), BX
	MOVQ runs+64(FP), R12
	MOVQ nruns+72(FP), R13
	IMULQ $24, R13
	ADDQ R12, R13 // end of the runs
	TESTQ CX, CX
	JZ done

row:
	MOVQ (R9)(BX*8), DX
	LEAQ (AX)(DX*4), DX // this row's source
	MOVQ R12, SI

run:
	MOVQ 0(SI), R14 // dst offset, bytes
	MOVQ 8(SI), R15 // src offset, bytes
	KMOVW 16(SI), K1
	KMOVW 18(SI), K2
	VMOVUPS.Z (DX)(R15*1), K1, Z0
	VMOVUPS.Z 64(DX)(R15*1), K2, Z1
	VMOVUPS Z0, K1, (DI)(R14*1)
	VMOVUPS Z1, K2, 64(DI)(R14*1)
	ADDQ $24, SI
	CMPQ SI, R13
	JNE run

	ADDQ R8, DI
	INCQ BX
	CMPQ BX, R10
	JNE next
	XORQ BX, BX
	ADDQ R11, AX

next:
	DECQ CX
	JNZ row

done:
	VZEROUPPER
	RET

// func gather2AVX512(dst, src *float32, nb int, idx *[16]int32, masks uint64)
//
// dst[i] = src[2*i]: nb blocks of 16 outputs from two full 16-float loads
// each, then one block under masks (bits 0-15: the first load's lanes,
// 16-31: the second's, 32-47: the stored lanes). Masked lanes are neither
// read nor written.
TEXT ·gather2AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	MOVQ idx+24(FP), AX
	MOVQ masks+32(FP), BX
	VMOVDQU32 (AX), Z2 // even lanes of the two loads
	TESTQ CX, CX
	JZ tail

loop:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VPERMT2PS Z1, Z2, Z0
	VMOVUPS Z0, (DI)
	ADDQ $128, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop

tail:
	KMOVW BX, K1
	SHRQ $16, BX
	KMOVW BX, K2
	SHRQ $16, BX
	KMOVW BX, K3
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VPERMT2PS Z1, Z2, Z0
	VMOVUPS Z0, K3, (DI)
	VZEROUPPER
	RET
