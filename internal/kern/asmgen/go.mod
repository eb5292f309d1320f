module stride/internal/kern/asmgen

go 1.26
