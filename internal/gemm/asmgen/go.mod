module stride/internal/gemm/asmgen

go 1.26
