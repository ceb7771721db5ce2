package text

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDefaultVocabulary(t *testing.T) {
	v := DefaultVocabulary()
	if v.Size() != 29 || v.Blank() != 0 || v.Space() != 1 {
		t.Fatalf("Size %d Blank %d Space %d, want 29 0 1", v.Size(), v.Blank(), v.Space())
	}
	want := "<blank>| |a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z|'"
	if got := strings.Join(v.Symbols(), "|"); got != want {
		t.Fatalf("Symbols = %q, want %q", got, want)
	}
	// Symbols returns a copy.
	v.Symbols()[2] = "X"
	if v.Symbol(2) != "a" {
		t.Fatal("Symbols exposed internal state")
	}
}

func TestEncodeDecode(t *testing.T) {
	v := DefaultVocabulary()
	tests := []struct {
		in  string
		ids []int
	}{
		{"", []int{}},
		{"a", []int{2}},
		{"don't", []int{5, 16, 15, 28, 21}},
		{"z a", []int{27, 1, 2}},
	}
	for _, tt := range tests {
		ids, err := v.Encode(tt.in)
		if err != nil {
			t.Fatalf("Encode(%q): %v", tt.in, err)
		}
		if len(ids) != len(tt.ids) {
			t.Fatalf("Encode(%q) = %v, want %v", tt.in, ids, tt.ids)
		}
		for i := range ids {
			if ids[i] != tt.ids[i] {
				t.Fatalf("Encode(%q) = %v, want %v", tt.in, ids, tt.ids)
			}
		}
		if got := v.Decode(ids); got != tt.in {
			t.Fatalf("Decode(Encode(%q)) = %q", tt.in, got)
		}
	}
	if got := v.Decode([]int{0, 2, 0, 2, 2, 29, -1, 1}); got != "aaa\ufffd\ufffd " {
		t.Fatalf("Decode with blanks, repeats and bad ids = %q", got)
	}
}

func TestEncodeErrors(t *testing.T) {
	v := DefaultVocabulary()
	tests := []struct {
		in   string
		char rune
		pos  int
	}{
		{"Hello", 'H', 0},
		{"abc.", '.', 3},
		{"café", 'é', 3}, // position counts characters, not bytes
		{"a\tb", '\t', 1},
	}
	for _, tt := range tests {
		_, err := v.Encode(tt.in)
		var se *SymbolError
		if !errors.As(err, &se) || !errors.Is(err, ErrUnknownSymbol) {
			t.Fatalf("Encode(%q) error = %v, want a *SymbolError", tt.in, err)
		}
		if se.Char != tt.char || se.Pos != tt.pos {
			t.Errorf("Encode(%q): char %q pos %d, want %q %d", tt.in, se.Char, se.Pos, tt.char, tt.pos)
		}
		if !strings.Contains(err.Error(), "position") || !strings.Contains(err.Error(), string(tt.char)) && tt.char != '\t' {
			t.Errorf("error %q does not name the character and position", err)
		}
	}
}

func TestNewVocabularyErrors(t *testing.T) {
	tests := []struct {
		name    string
		symbols []string
		want    string
	}{
		{"empty", nil, "at least one character"},
		{"only blank", []string{"<blank>"}, "at least one character"},
		{"unnamed blank", []string{"", "a"}, "empty name"},
		{"multi-character symbol", []string{"<blank>", "ab"}, `symbol 1 ("ab") is not exactly one character`},
		{"empty symbol", []string{"<blank>", "a", ""}, `symbol 2 ("") is not exactly one character`},
		{"duplicate", []string{"<blank>", "a", "b", "a"}, `symbol 3 ("a") duplicates symbol 1`},
		{"invalid UTF-8", []string{"<blank>", "\xff"}, "not exactly one character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewVocabulary(tt.symbols)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewVocabulary(%q) error = %v, want containing %q", tt.symbols, err, tt.want)
			}
		})
	}
}

func TestVocabularyJSON(t *testing.T) {
	data, err := DefaultVocabulary().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"symbols":["<blank>"," ","a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t","u","v","w","x","y","z","'"]}`
	if string(data) != want {
		t.Fatalf("JSON = %s\nwant   %s", data, want)
	}
	var v Vocabulary
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if !v.Equal(DefaultVocabulary()) || v.Space() != 1 {
		t.Fatal("JSON round trip changed the vocabulary")
	}
	// Inside a larger struct, as a checkpoint manifest stores it.
	var m struct {
		Vocab *Vocabulary `json:"vocabulary"`
	}
	if err := json.Unmarshal([]byte(`{"vocabulary":{"symbols":["<b>","x","y"]}}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.Vocab.Size() != 3 || m.Vocab.Space() != -1 {
		t.Fatalf("decoded %v", m.Vocab.Symbols())
	}
	for _, bad := range []string{`{"symbols":["<b>","xy"]}`, `{"symbols":"abc"}`, `[1,2]`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}
