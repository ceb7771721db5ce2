//go:build race

package gemm

// raceEnabled is true under the race detector, which makes the exhaustive
// tests about 5x slower: they then check the kernel in use only, on the
// smaller shapes and 6 of the 16 layout combinations.
const raceEnabled = true
