package eval_test

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/asrkit/asrkit/asr/eval"
)

// Score hypotheses against references, as `asr score` does: corpus rates
// from counts summed over utterances, both sides normalised.
func ExampleScore() {
	refs, err := eval.ReadTranscripts(strings.NewReader("u1|The cat sat on the mat.\nu2|It cost $5.\n"), "refs", true)
	if err != nil {
		log.Fatal(err)
	}
	hyps, err := eval.ReadTranscripts(strings.NewReader("u1|the cat sat on a mat\nu2|it cost five dollars\n"), "hyps", true)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := eval.Score(refs, hyps)
	if err != nil {
		log.Fatal(err)
	}
	if err := rep.WriteText(os.Stdout, 1); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", rep.WER)
	// Output:
	// utterances 2
	// words 10
	// WER 10.00% (S 1, D 0, I 0)
	// CER 7.14%
	//
	// u1 (1 errors)
	// REF: the cat sat on THE mat
	// HYP: the cat sat on A   mat
	// 0.1000
}
