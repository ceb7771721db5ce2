//go:build race

package gemm

// raceEnabled is true under the race detector, which makes the exhaustive
// tests about 5x slower: they then check fewer layout combinations.
const raceEnabled = true
