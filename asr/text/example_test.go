package text_test

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/asrkit/asrkit/asr/text"
)

func ExampleNormalize() {
	fmt.Println(text.Normalize(`“Don’t,” said Mr. Müller — it's the boys' 'Victoria'.`))
	fmt.Println(text.Normalize("In 1865, the 19th of May at 12:35 p.m., 3,250 men paid $1.50 (50%)."))
	fmt.Println(text.Normalize("The U.S.A. in the 1860s; well-known café, naïve Æsop"))
	// Output:
	// don't said mr muller it's the boys' victoria
	// in eighteen sixty five the nineteenth of may at twelve thirty five pm three thousand two hundred fifty men paid one dollar and fifty cents fifty percent
	// the usa in the eighteen sixties well known cafe naive aesop
}

func ExampleVocabulary_Encode() {
	v := text.DefaultVocabulary()
	ids, err := v.Encode(text.Normalize("Hi, Bob!"))
	fmt.Println(ids, err)
	fmt.Println(v.Decode(ids))
	_, err = v.Encode("Hi")
	fmt.Println(err)
	// Output:
	// [9 10 1 3 16 3] <nil>
	// hi bob
	// text: character 'H' (U+0048) at position 0 is not in the vocabulary
}

func ExampleNewVocabulary() {
	v, err := text.NewVocabulary([]string{text.BlankSymbol, " ", "a", "b"})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Size(), v.Space())
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	// Output:
	// 4 1
	// {"symbols":["<blank>"," ","a","b"]}
}
