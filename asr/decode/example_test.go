package decode_test

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/asrkit/asrkit/asr/decode"
	"github.com/asrkit/asrkit/asr/text"
)

// posteriors returns frames where each character of s (or blank, '_') has
// probability 0.9.
func posteriors(v *text.Vocabulary, s string) decode.LogProbs {
	var rows [][]float32
	for _, ch := range s {
		id := 0
		if ch != '_' {
			id, _ = v.ID(ch)
		}
		row := make([]float32, v.Size())
		for c := range row {
			row[c] = float32(math.Log(0.1 / float64(v.Size()-1)))
		}
		row[id] = float32(math.Log(0.9))
		rows = append(rows, row)
	}
	lp, _ := decode.FromRows(rows)
	return lp
}

func ExampleGreedy() {
	v := text.DefaultVocabulary()
	lp := posteriors(v, "hh_e_ll_lo_ _w_o_rr_l_d__")
	res, err := decode.Greedy{}.Decode(context.Background(), lp)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Text)
	for _, w := range res.Words {
		fmt.Printf("%s %v-%v %.2f\n", w.Text, w.Start, w.End, w.Confidence)
	}
	// Output:
	// hello world
	// hello 0s-400ms 0.90
	// world 520ms-920ms 0.90
}

func ExampleBeam() {
	v := text.DefaultVocabulary()
	lp := posteriors(v, "_c_a_t_")
	res, err := decode.Beam{Width: 8, FrameDuration: 20 * time.Millisecond}.Decode(context.Background(), lp)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q from %v to %v\n", res.Text, res.Words[0].Start, res.Words[0].End)
	// Output:
	// "cat" from 20ms to 120ms
}
