package lm_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/asrkit/asrkit/asr/lm"
)

func Example() {
	est, err := lm.NewEstimator(2)
	if err != nil {
		panic(err)
	}
	for _, s := range []string{"the cat sat", "the cat ran", "a dog sat"} {
		if err := est.AddSentence(strings.Fields(s)); err != nil {
			panic(err)
		}
	}
	fb := lm.FallbackDiscounts // three sentences are too few to estimate discounts
	m, _, err := est.Build(lm.BuildOptions{DiscountFallback: &fb})
	if err != nil {
		panic(err)
	}
	s := m.BeginState()
	lp, s := m.Score(s, "the")
	fmt.Printf("ln p(the | <s>) = %.3f\n", lp)
	lp, _ = m.Score(s, "cat")
	fmt.Printf("ln p(cat | the) = %.3f\n", lp)
	fmt.Printf("ln p(the cat sat) = %.3f, ln p(sat cat the) = %.3f\n",
		m.SentenceLogProb([]string{"the", "cat", "sat"}), m.SentenceLogProb([]string{"sat", "cat", "the"}))
	// Output:
	// ln p(the | <s>) = -0.936
	// ln p(cat | the) = -0.582
	// ln p(the cat sat) = -3.138, ln p(sat cat the) = -10.548
}

func ExampleModel_WriteARPA() {
	est, _ := lm.NewEstimator(1)
	est.AddSentence([]string{"hello", "world"})
	est.AddSentence([]string{"hello"})
	fb := lm.FallbackDiscounts
	m, _, _ := est.Build(lm.BuildOptions{DiscountFallback: &fb})
	// p(hello) = (2-1)/5 + γ/4 = 0.325 with γ = (0.5·1 + 1·2)/5: log10 -0.488
	m.WriteARPA(os.Stdout)
	// Output:
	// \data\
	// ngram 1=5
	//
	// \1-grams:
	// -0.4881167	</s>
	// -99	<s>
	// -0.90309	<unk>
	// -0.4881167	hello
	// -0.6478175	world
	//
	// \end\
}
