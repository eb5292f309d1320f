//go:build race

package nn

// raceEnabled: the race detector makes sync.Pool drop items at random.
const raceEnabled = true
