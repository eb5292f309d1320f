//go:build !purego

#include "textflag.h"

// func copy2D(dst, src *float32, rows, srcStride, dstStride int, masks uint64)
// Copies rows rows of up to 32 floats with byte strides. masks holds four
// 16-bit lane masks: load chunk 0, load chunk 1, store chunk 0, store chunk 1.
// Lanes loaded as masked-off are zero, which fills the padding of panels.
TEXT ·copy2D(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ srcStride+24(FP), R8
	MOVQ dstStride+32(FP), R9
	MOVQ masks+40(FP), AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	SHRQ $16, AX
	KMOVW AX, K3
	SHRQ $16, AX
	KMOVW AX, K4
	TESTQ CX, CX
	JEQ done

loop:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS Z0, K3, (DI)
	VMOVUPS Z1, K4, 64(DI)
	ADDQ R8, SI
	ADDQ R9, DI
	DECQ CX
	JNE loop

done:
	VZEROUPPER
	RET
