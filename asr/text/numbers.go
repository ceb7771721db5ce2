package text

import "strings"

var (
	ones = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tens   = [...]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
	scales = [...]string{"", "thousand", "million", "billion", "trillion", "quadrillion"}
)

// maxCardinalDigits is the longest digit string read as one number; longer
// strings are read digit by digit. 18 digits keep every value below 10^18,
// inside int64 and inside the named scales (up to quadrillion).
const maxCardinalDigits = 18

// cardinal appends the English words of n (0 <= n < 10^18) to words.
func cardinal(words []string, n int64) []string {
	if n == 0 {
		return append(words, "zero")
	}
	var groups [len(scales)]int
	g := 0
	for n > 0 {
		groups[g] = int(n % 1000)
		n /= 1000
		g++
	}
	for i := g - 1; i >= 0; i-- {
		if groups[i] == 0 {
			continue
		}
		words = below1000(words, groups[i])
		if i > 0 {
			words = append(words, scales[i])
		}
	}
	return words
}

func below1000(words []string, n int) []string {
	if n >= 100 {
		words = append(words, ones[n/100], "hundred")
		n %= 100
		if n == 0 {
			return words
		}
	}
	return below100(words, n)
}

func below100(words []string, n int) []string {
	if n < 20 {
		return append(words, ones[n])
	}
	words = append(words, tens[n/10])
	if n%10 != 0 {
		words = append(words, ones[n%10])
	}
	return words
}

// year appends the reading of a year-like number (1000 < n < 3000):
// 1865 "eighteen sixty five", 1905 "nineteen oh five", 1900 "nineteen
// hundred", 2000 "two thousand", 2007 "two thousand seven", 2015 "twenty
// fifteen". This is the rule of the normaliser that produced LJSpeech's
// transcripts (keithito/tacotron text/numbers.py).
func year(words []string, n int64) []string {
	switch {
	case n == 2000:
		return append(words, "two", "thousand")
	case n > 2000 && n < 2010:
		return append(words, "two", "thousand", ones[n-2000])
	case n%100 == 0:
		return append(below100(words, int(n/100)), "hundred")
	}
	words = below100(words, int(n/100))
	if lo := int(n % 100); lo < 10 {
		return append(words, "oh", ones[lo])
	} else {
		return below100(words, lo)
	}
}

// digits appends the digits of s one word each ("007": "zero zero seven").
func digits(words []string, s string) []string {
	for _, c := range s {
		words = append(words, ones[c-'0'])
	}
	return words
}

var ordinalIrregular = map[string]string{
	"one": "first", "two": "second", "three": "third", "five": "fifth",
	"eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}

// ordinalWord turns the last word of a cardinal into its ordinal.
func ordinalWord(w string) string {
	if o, ok := ordinalIrregular[w]; ok {
		return o
	}
	if strings.HasSuffix(w, "y") {
		return w[:len(w)-1] + "ieth"
	}
	return w + "th"
}

// pluralWord turns the last word of a number into a plural ("1860s":
// "eighteen sixties", "1900s": "nineteen hundreds", "6s": "sixes").
func pluralWord(w string) string {
	switch {
	case strings.HasSuffix(w, "y"):
		return w[:len(w)-1] + "ies"
	case strings.HasSuffix(w, "x"):
		return w + "es"
	}
	return w + "s"
}

// currency describes how an amount after a currency sign is read.
type currency struct {
	unit, units, sub, subs string
}

var currencies = map[rune]currency{
	'$': {"dollar", "dollars", "cent", "cents"},
	'£': {"pound", "pounds", "penny", "pence"},
	'€': {"euro", "euros", "cent", "cents"},
}

// largeScale reports whether w names a scale that may follow an amount
// ("$5 million" is read "five million dollars").
func largeScale(w string) bool {
	switch w {
	case "thousand", "million", "billion", "trillion":
		return true
	}
	return false
}

// number is one numeric expression found in the input.
type number struct {
	intPart  string // digits of the integer part, without separators
	grouped  bool   // the integer part used comma thousands separators
	frac     string // digits after a decimal point, "" if none
	minutes  string // two digits after a colon (a time such as 12:05), "" if none
	ordinal  bool   // followed by st, nd, rd or th
	plural   bool   // followed by s or 's (1860s)
	percent  bool   // followed by %
	currency rune   // '$', '£' or '€' before the number, 0 if none
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'a' && r <= 'z' }

// scanNumber parses the number that starts at rs[i] (a digit) and returns it
// with the index just past it.
func scanNumber(rs []rune, i int) (number, int) {
	var n number
	j := i
	for j < len(rs) && isDigit(rs[j]) {
		j++
	}
	var b strings.Builder
	b.WriteString(string(rs[i:j]))
	// Thousands separators: 1,234,567 (first group of 1-3 digits, then groups of exactly 3).
	if j-i <= 3 {
		k := j
		for k+3 < len(rs) && rs[k] == ',' && isDigit(rs[k+1]) && isDigit(rs[k+2]) && isDigit(rs[k+3]) &&
			(k+4 == len(rs) || !isDigit(rs[k+4])) {
			b.WriteString(string(rs[k+1 : k+4]))
			k += 4
			n.grouped = true
		}
		j = k
	}
	n.intPart = b.String()
	switch {
	case j+1 < len(rs) && rs[j] == '.' && isDigit(rs[j+1]):
		k := j + 1
		for k < len(rs) && isDigit(rs[k]) {
			k++
		}
		n.frac = string(rs[j+1 : k])
		j = k
	case !n.grouped && len(n.intPart) <= 2 && j+2 < len(rs) && rs[j] == ':' && isDigit(rs[j+1]) && isDigit(rs[j+2]) &&
		(j+3 == len(rs) || !isDigit(rs[j+3])) && rs[j+1] <= '5':
		n.minutes = string(rs[j+1 : j+3])
		j += 3
	}
	// Suffixes.
	if j < len(rs) && rs[j] == '%' {
		n.percent = true
		return n, j + 1
	}
	suffixEnd := func(k int) bool { return k >= len(rs) || !isLetter(rs[k]) }
	if n.frac == "" && n.minutes == "" && j+1 < len(rs) {
		switch string(rs[j : j+2]) {
		case "st", "nd", "rd", "th":
			if suffixEnd(j + 2) {
				n.ordinal = true
				return n, j + 2
			}
		}
	}
	if n.frac == "" && n.minutes == "" {
		if j < len(rs) && rs[j] == 's' && suffixEnd(j+1) {
			n.plural = true
			return n, j + 1
		}
		if j+1 < len(rs) && rs[j] == '\'' && rs[j+1] == 's' && suffixEnd(j+2) {
			n.plural = true
			return n, j + 2
		}
	}
	return n, j
}

// words returns the spoken form of n. next is the word that follows the
// number in the text (used to read "$5 million" as "five million dollars").
func (n number) words(next string) (out []string, scaleFollows bool) {
	ip := n.intPart
	v, cardinalOK := parseSmall(ip)
	switch {
	case n.minutes != "":
		out = cardinal(out, v)
		m := twoDigits(n.minutes)
		switch {
		case m == 0:
			out = append(out, "o'clock")
		case m < 10:
			out = append(out, "oh", ones[m])
		default:
			out = below100(out, m)
		}
		return out, false
	case n.currency != 0 && cardinalOK:
		c := currencies[n.currency]
		var cents int64 = -1
		if len(n.frac) == 2 {
			cents = int64(twoDigits(n.frac))
		}
		if n.frac != "" && cents < 0 {
			// $1.5: a decimal amount.
			out = cardinal(out, v)
			out = append(out, "point")
			out = digits(out, n.frac)
			if largeScale(next) {
				return out, true
			}
			return append(out, c.units), false
		}
		if largeScale(next) && cents <= 0 {
			return cardinal(out, v), true
		}
		if v > 0 || cents <= 0 {
			out = cardinal(out, v)
			if v == 1 {
				out = append(out, c.unit)
			} else {
				out = append(out, c.units)
			}
		}
		if cents > 0 {
			if v > 0 {
				out = append(out, "and")
			}
			out = cardinal(out, cents)
			if cents == 1 {
				out = append(out, c.sub)
			} else {
				out = append(out, c.subs)
			}
		}
		return out, false
	}
	switch {
	case !cardinalOK:
		out = digits(out, ip)
	case n.frac == "" && !n.grouped && !n.ordinal && !n.percent && len(ip) == 4 && v > 1000 && v < 3000:
		out = year(out, v)
	default:
		out = cardinal(out, v)
	}
	if n.frac != "" {
		out = append(out, "point")
		out = digits(out, n.frac)
	}
	last := len(out) - 1
	switch {
	case n.ordinal:
		out[last] = ordinalWord(out[last])
	case n.plural:
		out[last] = pluralWord(out[last])
	case n.percent:
		out = append(out, "percent")
	case n.currency != 0: // an amount read digit by digit ("$007")
		out = append(out, currencies[n.currency].units)
	}
	return out, false
}

// parseSmall parses a digit string read as one cardinal number. It fails
// (ok false) for strings with a leading zero (other than "0") or longer than
// maxCardinalDigits: those are read digit by digit.
func parseSmall(s string) (v int64, ok bool) {
	if len(s) == 0 || len(s) > maxCardinalDigits || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range s {
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// twoDigits parses a string of two digits, leading zero allowed.
func twoDigits(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }
