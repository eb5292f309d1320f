// Package all registers every op family with the ops table. Import it (for
// its side effect) wherever graphs are run.
package all

import (
	_ "stride/ops/control"
	_ "stride/ops/image"
	_ "stride/ops/math"
	_ "stride/ops/nn"
	_ "stride/ops/norm"
	_ "stride/ops/tensorops"
)
