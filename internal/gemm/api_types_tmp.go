package gemm

type Act uint8

const (
	ActNone Act = iota
	ActRelu
	ActClip
	ActLeakyRelu
)
