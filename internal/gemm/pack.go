package gemm

import "unsafe"

// Packed layouts.
//
// A: K is cut into blocks of kc (the last may be shorter). Block k0 holds
// every MR-row panel of op(A) in row order; a panel of mr rows (mr = MR
// except the last) stores column k of the panel contiguously:
// panel[l*mr+r] = op(A)[i0+r][k0+l]. With M rows in total, block k0 starts
// at k0*M and the panel starting at row i at k0*M + kc*i.
//
// B: the same K blocks; block k0 holds NR-column panels in column order,
// each row-major with width w (NR, or the last partial panel's width
// rounded up to the vector length, zero-padded):
// panel[l*w+j] = op(B)[k0+l][j0+j]. With total padded width NW, block k0
// starts at k0*NW and the panel starting at column j at k0*NW + kc*j.

// packA packs rows [i0,i0+mr) and columns [k0,k0+kc) of op(A) into dst.
func packA(dst, a []float32, lda int, trans bool, i0, mr, k0, kc int) {
	dst = dst[:kc*mr]
	if trans {
		// op(A)[i][k] = a[k*lda+i]: each panel column is contiguous.
		if hasAVX512 {
			copyRows(dst, a[k0*lda+i0:], kc, mr, mr, lda, mr)
			return
		}
		for l := 0; l < kc; l++ {
			copy(dst[l*mr:l*mr+mr], a[(k0+l)*lda+i0:])
		}
		return
	}
	// Transpose: rows of A become panel columns.
	if hasAVX512 && mr <= 16 && kc >= 16 {
		ch := kc / 16
		transpose16(dst, a[i0*lda+k0:], lda, mr, mr, ch, uint16(1<<mr-1))
		for r := 0; r < mr; r++ {
			s := a[(i0+r)*lda+k0+16*ch : (i0+r)*lda+k0+kc]
			for l, v := range s {
				dst[(16*ch+l)*mr+r] = v
			}
		}
		return
	}
	// Four source rows at a time keep four read streams and write four
	// adjacent floats per step.
	r := 0
	for ; r+4 <= mr; r += 4 {
		s0 := a[(i0+r)*lda+k0:][:kc]
		s1 := a[(i0+r+1)*lda+k0:][:kc]
		s2 := a[(i0+r+2)*lda+k0:][:kc]
		s3 := a[(i0+r+3)*lda+k0:][:kc]
		d := dst[r:]
		for l := range s0 {
			o := l * mr
			d4 := (*[4]float32)(d[o : o+4])
			d4[0], d4[1], d4[2], d4[3] = s0[l], s1[l], s2[l], s3[l]
		}
	}
	for ; r < mr; r++ {
		s := a[(i0+r)*lda+k0:][:kc]
		for l, v := range s {
			dst[l*mr+r] = v
		}
	}
}

// packBPanel packs rows [k0,k0+kc) and columns [j0,j0+nc) of op(B) into a
// panel of width w >= nc, zeroing the padding columns.
func packBPanel(dst, b []float32, ldb int, trans bool, k0, kc, j0, nc, w int) {
	dst = dst[:kc*w]
	if !trans {
		if hasAVX512 && w <= 32 {
			copyRows(dst, b[k0*ldb+j0:], kc, nc, w, ldb, w)
			return
		}
		for l := 0; l < kc; l++ {
			row := dst[l*w : l*w+w]
			copy(row[:nc], b[(k0+l)*ldb+j0:])
			clear(row[nc:])
		}
		return
	}
	// op(B)[k][j] = b[j*ldb+k]: a transpose.
	if hasAVX512 && kc >= 16 {
		ch := kc / 16
		for h := 0; h < nc; h += 16 {
			mask := uint16(1<<min(16, w-h) - 1)
			transpose16(dst[h:], b[(j0+h)*ldb+k0:], ldb, w, min(16, nc-h), ch, mask)
		}
		for l := 16 * ch; l < kc; l++ {
			row := dst[l*w : l*w+w]
			for j := 0; j < nc; j++ {
				row[j] = b[(j0+j)*ldb+k0+l]
			}
			clear(row[nc:])
		}
		return
	}
	// Four source rows at a time.
	j := 0
	for ; j+4 <= nc; j += 4 {
		s0 := b[(j0+j)*ldb+k0:][:kc]
		s1 := b[(j0+j+1)*ldb+k0:][:kc]
		s2 := b[(j0+j+2)*ldb+k0:][:kc]
		s3 := b[(j0+j+3)*ldb+k0:][:kc]
		d := dst[j:]
		for l := range s0 {
			o := l * w
			d4 := (*[4]float32)(d[o : o+4])
			d4[0], d4[1], d4[2], d4[3] = s0[l], s1[l], s2[l], s3[l]
		}
	}
	for ; j < nc; j++ {
		s := b[(j0+j)*ldb+k0:][:kc]
		for l, v := range s {
			dst[l*w+j] = v
		}
	}
	if nc < w {
		for l := 0; l < kc; l++ {
			clear(dst[l*w+nc : l*w+w])
		}
	}
}

// packBBlock packs columns [j0,j1) of K block (k0,kc) into consecutive
// panels starting at dst[0], from b or, when fn is set, by calling fn.
// n is the total number of columns (for the panel widths).
func packBBlock(dst []float32, ks *kernelSet, b []float32, ldb int, trans bool, fn BPacker, k0, kc, j0, j1, n int) {
	for jp := j0; jp < j1; jp += ks.nr {
		nc := min(ks.nr, j1-jp)
		w := ks.nr
		if nc < ks.nr {
			w = ks.panelWidth(nc)
		}
		d := dst[kc*(jp-j0):][:kc*w]
		if fn != nil {
			fn(d, k0, kc, jp, nc)
		} else {
			packBPanel(d, b, ldb, trans, k0, kc, jp, nc, w)
		}
	}
}

// alignedFloats returns a slice of n floats starting on a 64-byte boundary,
// so that packed B rows never split cache lines.
func alignedFloats(n int) []float32 {
	return alignSlice(make([]float32, n+16), n)
}

func alignSlice(backing []float32, n int) []float32 {
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(backing)))&63) / 4
	if off != 0 {
		off = 16 - off
	}
	return backing[off : off+n]
}
