package text

import (
	"strings"
	"unicode"
)

//go:generate sh -c "python3 gen_fold.py && gofmt -w fold_table.go"

// Normalize returns s in the form used for training targets, evaluation
// references and language-model text: lower-case words over a–z and the
// apostrophe, separated by single spaces. The package documentation lists
// every rule with examples. The result only holds symbols of
// [DefaultVocabulary], and Normalize(Normalize(s)) == Normalize(s).
func Normalize(s string) string {
	rs := mapRunes(s)
	rs = expandNumbers(rs)
	rs = dropPunctuation(rs)
	return joinWords(rs)
}

// mapRunes lower-cases and folds letters to ASCII, maps quotes, dashes and
// spaces, drops combining marks, and turns every rune that a later step does
// not handle into a space.
func mapRunes(s string) []rune {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			rs = append(rs, r)
		case r >= 'A' && r <= 'Z':
			rs = append(rs, r+'a'-'A')
		case r == '\'', r == '‘', r == '’', r == '‛', r == 'ʼ', r == '′', r == '`', r == '´', r == '＇':
			rs = append(rs, '\'')
		case r == '.', r == ',', r == ':', r == '$', r == '£', r == '€', r == '%', r == '&':
			rs = append(rs, r)
		case r == '﹪', r == '％':
			rs = append(rs, '%')
		case unicode.Is(unicode.Mn, r):
			// Combining marks (a decomposed "é" is "e" + U+0301): dropped.
		default:
			if f, ok := foldTable[r]; ok {
				rs = append(rs, []rune(f)...)
				continue
			}
			if l := unicode.ToLower(r); l != r {
				if f, ok := foldTable[l]; ok {
					rs = append(rs, []rune(f)...)
					continue
				}
			}
			// Hyphens, dashes, slashes, other punctuation, symbols, spaces
			// and letters without an ASCII form all separate words.
			rs = append(rs, ' ')
		}
	}
	return rs
}

// expandNumbers replaces digits (with their currency signs, separators and
// suffixes) and '&' by words surrounded by spaces.
func expandNumbers(rs []rune) []rune {
	out := make([]rune, 0, len(rs)+16)
	emit := func(words []string) {
		out = append(out, ' ')
		for i, w := range words {
			if i > 0 {
				out = append(out, ' ')
			}
			out = append(out, []rune(w)...)
		}
		out = append(out, ' ')
	}
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isDigit(r):
			var cur rune
			if k := len(out) - 1; k >= 0 {
				if _, ok := currencies[out[k]]; ok {
					cur = out[k]
					out = out[:k]
				}
			}
			n, j := scanNumber(rs, i)
			n.currency = cur
			// The word after the number, for "$5 million".
			a := j
			for a < len(rs) && rs[a] == ' ' {
				a++
			}
			b := a
			for b < len(rs) && isLetter(rs[b]) {
				b++
			}
			next := string(rs[a:b])
			words, scaleFollows := n.words(next)
			if scaleFollows {
				words = append(words, next, currencies[cur].units)
				j = b
			}
			emit(words)
			i = j
		case r == '&':
			emit([]string{"and"})
			i++
		default:
			out = append(out, r)
			i++
		}
	}
	return out
}

// dropPunctuation removes the periods of abbreviations and initialisms
// ("U.S.A." "usa", "p.m." "pm", "Co.'s" "co's") and turns every other
// rune that is not a letter or an apostrophe into a space.
func dropPunctuation(rs []rune) []rune {
	out := rs[:0]
	run := 0 // letters since the last non-letter
	for i, r := range rs {
		switch {
		case isLetter(r):
			out = append(out, r)
			run++
			continue
		case r == '\'':
			out = append(out, r)
		case r == '.' && run > 0 && run <= 2 && i+1 < len(rs) &&
			(isLetter(rs[i+1]) || (rs[i+1] == '\'' && i+2 < len(rs) && isLetter(rs[i+2]))):
			// An abbreviation's period: joined, not a word break.
		default:
			out = append(out, ' ')
		}
		run = 0
	}
	return out
}

// elisions are words written with a leading apostrophe that is part of the
// word, not an opening quote.
var elisions = map[string]bool{
	"tis": true, "twas": true, "twere": true, "twill": true, "twould": true,
	"em": true, "un": true, "til": true, "cause": true, "bout": true, "neath": true,
}

// joinWords splits rs on spaces and applies the apostrophe rules: runs of
// apostrophes become one; a leading apostrophe is an opening quote and is
// dropped unless the word is an elision ('tis, 'em); a trailing apostrophe is
// kept as a plural possessive after s, z or x (the boys') or as a dropped g
// after "in" (nothin'), unless it closes a quote opened by a dropped leading
// apostrophe; apostrophes alone are dropped.
func joinWords(rs []rune) string {
	var b strings.Builder
	b.Grow(len(rs))
	quoteOpen := false
	for _, field := range strings.Fields(string(rs)) {
		w := collapseApostrophes(field)
		if strings.Trim(w, "'") == "" {
			if len(w) > 0 {
				quoteOpen = false // a lone apostrophe closes a quote
			}
			continue
		}
		if w[0] == '\'' {
			if body := strings.TrimSuffix(w[1:], "'"); elisions[body] {
				w = "'" + body
			} else {
				w = w[1:]
				quoteOpen = true
			}
		}
		if n := len(w); n > 1 && w[n-1] == '\'' {
			stem := w[:n-1]
			possessive := strings.HasSuffix(stem, "s") || strings.HasSuffix(stem, "z") ||
				strings.HasSuffix(stem, "x") || (len(stem) > 2 && strings.HasSuffix(stem, "in"))
			if quoteOpen || !possessive {
				w = stem
				quoteOpen = false
			}
		}
		if w == "" || w == "'" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// collapseApostrophes replaces each run of apostrophes by one.
func collapseApostrophes(w string) string {
	if !strings.Contains(w, "''") {
		return w
	}
	var b strings.Builder
	prev := false
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '\'' && prev {
			continue
		}
		prev = c == '\''
		b.WriteByte(c)
	}
	return b.String()
}
