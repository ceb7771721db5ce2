package text

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// BlankSymbol is the conventional name of the CTC blank (id 0) in
// [Vocabulary.Symbols] and in the JSON form.
const BlankSymbol = "<blank>"

// ErrUnknownSymbol is wrapped by the errors of [Vocabulary.Encode] for a
// character that is not in the vocabulary; the error is a [*SymbolError].
var ErrUnknownSymbol = errors.New("text: character not in vocabulary")

// SymbolError reports a character that a vocabulary cannot encode.
type SymbolError struct {
	Char rune // the offending character
	Pos  int  // its index in the string, counted in characters (runes) from 0
}

func (e *SymbolError) Error() string {
	return fmt.Sprintf("text: character %q (%U) at position %d is not in the vocabulary", e.Char, e.Char, e.Pos)
}

// Unwrap returns [ErrUnknownSymbol].
func (e *SymbolError) Unwrap() error { return ErrUnknownSymbol }

// Vocabulary maps characters to the token ids of a CTC model. Id 0 is
// always the CTC blank; every other id is one character. A Vocabulary is
// immutable and safe for concurrent use. Its JSON form is
// {"symbols": ["<blank>", " ", "a", ...]}, the list given to
// [NewVocabulary].
type Vocabulary struct {
	symbols []string
	ids     map[rune]int
	ascii   [128]int16 // id+1 of ASCII characters, 0 when absent
	space   int
}

// defaultSymbols is the default vocabulary: blank, space, a–z, apostrophe.
var defaultSymbols = func() []string {
	s := []string{BlankSymbol, " "}
	for c := 'a'; c <= 'z'; c++ {
		s = append(s, string(c))
	}
	return append(s, "'")
}()

var defaultVocabulary = mustVocabulary(defaultSymbols)

func mustVocabulary(symbols []string) *Vocabulary {
	v, err := NewVocabulary(symbols)
	if err != nil {
		panic(err) // defaultSymbols is a constant list
	}
	return v
}

// DefaultVocabulary returns the 29-symbol vocabulary: the blank (0), space
// (1), a–z (2–27) and the apostrophe (28). [Normalize] produces text over
// exactly these characters.
func DefaultVocabulary() *Vocabulary { return defaultVocabulary }

// NewVocabulary builds a vocabulary from its symbol list: symbols[0] names
// the CTC blank (any non-empty name, conventionally [BlankSymbol]) and every
// other symbol is exactly one character, with no duplicates.
func NewVocabulary(symbols []string) (*Vocabulary, error) {
	if len(symbols) < 2 {
		return nil, fmt.Errorf("text: a vocabulary needs the blank and at least one character, got %d symbols", len(symbols))
	}
	if len(symbols) > 1<<15 {
		return nil, fmt.Errorf("text: vocabulary of %d symbols is too large (max %d)", len(symbols), 1<<15)
	}
	if symbols[0] == "" {
		return nil, errors.New("text: the blank symbol (index 0) has an empty name")
	}
	v := &Vocabulary{symbols: append([]string(nil), symbols...), ids: make(map[rune]int, len(symbols)), space: -1}
	var errs []error
	for i, s := range symbols[1:] {
		id := i + 1
		r, size := utf8.DecodeRuneInString(s)
		if s == "" || size != len(s) || r == utf8.RuneError {
			errs = append(errs, fmt.Errorf("text: symbol %d (%q) is not exactly one character", id, s))
			continue
		}
		if prev, dup := v.ids[r]; dup {
			errs = append(errs, fmt.Errorf("text: symbol %d (%q) duplicates symbol %d", id, s, prev))
			continue
		}
		v.ids[r] = id
		if r < 128 {
			v.ascii[r] = int16(id + 1)
		}
		if r == ' ' {
			v.space = id
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return v, nil
}

// Size returns the number of symbols, blank included (29 for the default).
func (v *Vocabulary) Size() int { return len(v.symbols) }

// Blank returns the id of the CTC blank: always 0.
func (v *Vocabulary) Blank() int { return 0 }

// Space returns the id of the space character (the word separator), or -1
// if the vocabulary has none.
func (v *Vocabulary) Space() int { return v.space }

// Symbols returns a copy of the symbol list; index i is the symbol of id i.
func (v *Vocabulary) Symbols() []string { return append([]string(nil), v.symbols...) }

// Symbol returns the symbol of id, or "" when id is out of range.
func (v *Vocabulary) Symbol(id int) string {
	if id < 0 || id >= len(v.symbols) {
		return ""
	}
	return v.symbols[id]
}

// ID returns the id of character r.
func (v *Vocabulary) ID(r rune) (int, bool) {
	if r >= 0 && r < 128 {
		id := int(v.ascii[r]) - 1
		return id, id >= 0
	}
	id, ok := v.ids[r]
	return id, ok
}

// Encode returns the ids of the characters of s, which should already be
// normalised (see [Normalize]). A character outside the vocabulary gives a
// [*SymbolError] naming it and its position.
func (v *Vocabulary) Encode(normalized string) ([]int, error) {
	ids := make([]int, 0, len(normalized))
	pos := 0
	for _, r := range normalized {
		id, ok := v.ID(r)
		if !ok {
			return nil, &SymbolError{Char: r, Pos: pos}
		}
		ids = append(ids, id)
		pos++
	}
	return ids, nil
}

// Decode returns the characters of ids. Blanks are skipped; repeated ids are
// kept (collapsing CTC repeats is the decoder's job); an id out of range
// becomes U+FFFD so that it shows instead of vanishing.
func (v *Vocabulary) Decode(ids []int) string {
	var b strings.Builder
	b.Grow(len(ids))
	for _, id := range ids {
		switch {
		case id == 0:
		case id < 0 || id >= len(v.symbols):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(v.symbols[id])
		}
	}
	return b.String()
}

// Equal reports whether v and o have the same symbols in the same order.
func (v *Vocabulary) Equal(o *Vocabulary) bool {
	if v == nil || o == nil {
		return v == o
	}
	if len(v.symbols) != len(o.symbols) {
		return false
	}
	for i := range v.symbols {
		if v.symbols[i] != o.symbols[i] {
			return false
		}
	}
	return true
}

type vocabularyJSON struct {
	Symbols []string `json:"symbols"`
}

// MarshalJSON encodes the vocabulary as {"symbols": [...]}.
func (v *Vocabulary) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<blank>", not "\u003cblank\u003e", where the caller allows it
	if err := enc.Encode(vocabularyJSON{Symbols: v.symbols}); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// UnmarshalJSON decodes {"symbols": [...]} and validates it as
// [NewVocabulary] does.
func (v *Vocabulary) UnmarshalJSON(data []byte) error {
	var j vocabularyJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("text: vocabulary JSON: %w", err)
	}
	nv, err := NewVocabulary(j.Symbols)
	if err != nil {
		return err
	}
	*v = *nv
	return nil
}
