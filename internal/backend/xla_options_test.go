//go:build cgo && !noxla

package backend

import (
	"fmt"
	"testing"
)

func TestCUDAClientOptions(t *testing.T) {
	for _, tc := range []struct {
		prealloc, frac string
		want           string
		bad            bool
	}{
		{"", "", "map[preallocate:false]", false},
		{"true", "", "map[preallocate:true]", false},
		{"false", "0.5", "map[memory_fraction:0.5 preallocate:false]", false},
		{"maybe", "", "", true},
		{"", "1.5", "", true},
		{"", "x", "", true},
	} {
		t.Setenv("XLA_PYTHON_CLIENT_PREALLOCATE", tc.prealloc)
		t.Setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", tc.frac)
		got, err := cudaClientOptions(true)
		if (err != nil) != tc.bad || (!tc.bad && fmt.Sprint(got) != tc.want) {
			t.Errorf("prealloc %q frac %q: %v, %v; want %s (error %v)", tc.prealloc, tc.frac, got, err, tc.want, tc.bad)
		}
	}
	if got, _ := cudaClientOptions(false); got != nil {
		t.Errorf("options for a CPU plugin: %v", got)
	}
}
