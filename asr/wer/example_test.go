package wer_test

import (
	"fmt"
	"strings"

	"github.com/asrkit/asrkit/asr/wer"
)

func ExampleWords() {
	a := wer.Words("the cat sat on the mat", "the cat sat on mat today")
	fmt.Printf("WER %.3f: %d hits, %d sub, %d del, %d ins\n", a.ErrorRate(), a.Hits, a.Subs, a.Dels, a.Ins)
	ref, hyp := a.Pretty()
	fmt.Println("REF:", ref)
	fmt.Println("HYP:", hyp)
	// Output:
	// WER 0.333: 5 hits, 0 sub, 1 del, 1 ins
	// REF: the cat sat on THE mat *****
	// HYP: the cat sat on *** mat TODAY
}

func ExampleCorpus() {
	var c wer.Corpus
	c.Add("i", "i am")
	c.Add("am i good", "i good")
	fmt.Printf("WER %.2f CER %.2f over %d utterances\n", c.WER(), c.CER(), c.Utterances)
	// Output:
	// WER 0.50 CER 0.60 over 2 utterances
}

func ExampleAlign() {
	ref, hyp := strings.Fields("a b"), strings.Fields("c d")
	fmt.Printf("%+v\n", wer.Align(ref, hyp, wer.UnitCosts).Counts)
	fmt.Printf("%+v\n", wer.Align(ref, hyp, wer.SCLITECosts).Counts)
	ref, hyp = strings.Fields("x y z"), strings.Fields("y z w")
	fmt.Printf("%+v\n", wer.Align(ref, hyp, wer.SCLITECosts).Counts)
	// Output:
	// {Hits:0 Subs:2 Dels:0 Ins:0}
	// {Hits:0 Subs:2 Dels:0 Ins:0}
	// {Hits:2 Subs:0 Dels:1 Ins:1}
}
