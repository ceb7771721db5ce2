package text

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/asrkit/asrkit/internal/testutil"
)

func TestNormalizeRules(t *testing.T) {
	tests := []struct {
		rule, in, want string
	}{
		{"lower case", "The Cat SAT", "the cat sat"},
		{"whitespace collapsed", "  a\t\tb \n c\u00a0d  ", "a b c d"},
		{"punctuation dropped", `Hello, world! (Yes?) "quoted"; a:b [c] {d} <e> #f *g* ~h @i`, "hello world yes quoted a b c d e f g h i"},
		{"hyphens and dashes", "well-known — a–b -- c‐d ‑e − f", "well known a b c d e f"},
		{"slashes", "and/or", "and or"},
		{"curly quotes", "“Hello,” she said; ‘don’t’ — it’s", "hello she said don't it's"},
		{"accents folded", "Café naïve Müller façade São Paulo", "cafe naive muller facade sao paulo"},
		{"ligatures and special letters", "Æsop œuvre straße Øresund Łódź þorn ﬁne", "aesop oeuvre strasse oresund lodz thorn fine"},
		{"combining marks dropped", "Cafe\u0301", "cafe"},
		{"upper-case accented", "ÉCOLE À", "ecole a"},
		{"letters without ASCII form separate words", "abc Москва def αβγ", "abc def"},
		{"contractions kept", "Don't I'm we've o'clock O'Connor d'être", "don't i'm we've o'clock o'connor d'etre"},
		{"plural possessive kept", "the boys' hats, Fritz' gun, Burgess'. nothin'", "the boys' hats fritz' gun burgess' nothin'"},
		{"quote marks dropped", "'Hello,' he said. 'The boys'", "hello he said the boys"},
		{"quoted possessive closes quote", "the 'Lennie's' men", "the lennie's men"},
		{"trailing quote after other letters", "side' and Land'", "side and land"},
		{"lone apostrophes dropped", "a ' b '' c", "a b c"},
		{"apostrophe runs collapsed", "don''t", "don't"},
		{"elisions kept", "'Tis 'twas 'em a stiff 'un 'cause", "'tis 'twas 'em a stiff 'un 'cause"},
		{"initialisms joined", "U.S.A. p.m. a.m. i.e. e.g. F.B.I.", "usa pm am ie eg fbi"},
		{"abbreviation possessives", "M.P.'s Co.'s", "mp's co's"},
		{"sentence periods separate", "end.The www.example.com Mr.Smith", "end the www example com mrsmith"},
		{"ampersand", "AT&T Smith & Co.", "at and t smith and co"},
		{"cardinals", "0 7 13 20 42 100 101 999 1000", "zero seven thirteen twenty forty two one hundred one hundred one nine hundred ninety nine one thousand"},
		{"large cardinals", "1,000,000 3,250,001 12345", "one million three million two hundred fifty thousand one twelve thousand three hundred forty five"},
		{"very large", "999999999999999999", "nine hundred ninety nine quadrillion nine hundred ninety nine trillion nine hundred ninety nine billion nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine"},
		{"longer than 18 digits read digit by digit", "1234567890123456789", "one two three four five six seven eight nine zero one two three four five six seven eight nine"},
		{"leading zeros read digit by digit", "007 0", "zero zero seven zero"},
		{"years", "1455 1865 1900 1905 2000 2007 2015 2999", "fourteen fifty five eighteen sixty five nineteen hundred nineteen oh five two thousand two thousand seven twenty fifteen twenty nine ninety nine"},
		{"not years", "1000 3000 1,865 999", "one thousand three thousand one thousand eight hundred sixty five nine hundred ninety nine"},
		{"ordinals", "1st 2nd 3rd 4th 11th 12th 19th 20th 21st 100th 1001st", "first second third fourth eleventh twelfth nineteenth twentieth twenty first one hundredth one thousand first"},
		{"decade plurals", "the 1860s and 1900s, 1860's, 6s", "the eighteen sixties and nineteen hundreds eighteen sixties sixes"},
		{"decimals", "3.14 0.5 .5", "three point one four zero point five five"},
		{"sentence-final period after a number", "In 1865.", "in eighteen sixty five"},
		{"percent", "50% 2.5%", "fifty percent two point five percent"},
		{"dollars", "$1 $5 $1.50 $0.99 $2.00 $1,000", "one dollar five dollars one dollar and fifty cents ninety nine cents two dollars one thousand dollars"},
		{"dollars with scale", "$5 million $2.5 billion", "five million dollars two point five billion dollars"},
		{"pounds and euros", "£1 £3.50 €20 €0.01", "one pound three pounds and fifty pence twenty euros one cent"},
		{"odd decimals in currency", "$1.5", "one point five dollars"},
		{"currency sign alone dropped", "$ and £", "and"},
		{"times", "12:35 1:05 3:00 10:30", "twelve thirty five one oh five three o'clock ten thirty"},
		{"not a time", "12:75 123:45", "twelve seventy five one hundred twenty three forty five"},
		{"digits next to letters", "mp3 10am B2B", "mp three ten am b two b"},
		{"negative sign is a dash", "-5", "five"},
		{"empty", "", ""},
		{"only punctuation", `"?!...`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q)\n got  %q\n want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestNormalizeLJSpeechSample checks real LJSpeech transcripts with quotes,
// abbreviations, accents and apostrophes against hand-checked expectations.
func TestNormalizeLJSpeechSample(t *testing.T) {
	f, err := os.Open(testutil.Path(t, "text", "ljspeech_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "|")
		if len(p) != 3 {
			t.Fatalf("malformed fixture line %q", line)
		}
		if got := Normalize(p[1]); got != p[2] {
			t.Errorf("%s: Normalize(%q)\n got  %q\n want %q", p[0], p[1], got, p[2])
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 40 {
		t.Fatalf("fixture has %d lines, want at least 40", n)
	}
}

// TestNormalizeLJSpeechRawColumn: LJSpeech's metadata.csv has each
// transcript raw ("about 1455") and normalised by its authors ("about
// fourteen fifty-five"); both must normalise to the same text.
func TestNormalizeLJSpeechRawColumn(t *testing.T) {
	data, err := os.ReadFile(testutil.Path(t, "ljspeech", "metadata.csv"))
	if err != nil {
		t.Fatal(err)
	}
	digits := 0
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		p := strings.Split(line, "|")
		if len(p) != 3 {
			t.Fatalf("line %d: %d columns", i+1, len(p))
		}
		if strings.ContainsAny(p[1], "0123456789") {
			digits++
		}
		if raw, norm := Normalize(p[1]), Normalize(p[2]); raw != norm {
			t.Errorf("%s: raw column gives %q, normalised column %q", p[0], raw, norm)
		}
	}
	if digits == 0 {
		t.Fatal("no transcript with digits: the test checks nothing about numbers")
	}
}

// TestNormalizeLJSpeechCorpus normalises every transcript of an LJSpeech
// text split (files of id|text lines) when ASRKIT_LJSPEECH_TEXT names their
// directory; it is skipped otherwise. Each must give non-empty text over the
// default vocabulary, unchanged by a second Normalize.
func TestNormalizeLJSpeechCorpus(t *testing.T) {
	dir := os.Getenv("ASRKIT_LJSPEECH_TEXT")
	if dir == "" {
		t.Skip("set ASRKIT_LJSPEECH_TEXT to a directory of id|text files to run")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.txt in %s: %v", dir, err)
	}
	v := DefaultVocabulary()
	total := 0
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			_, txt, ok := strings.Cut(line, "|")
			if !ok {
				t.Fatalf("%s:%d: no '|'", name, i+1)
			}
			if k := strings.IndexByte(txt, '|'); k >= 0 { // metadata.csv has two text columns
				txt = txt[k+1:]
			}
			got := Normalize(txt)
			if got == "" {
				t.Errorf("%s:%d: empty normalisation of %q", name, i+1, txt)
			}
			if _, err := v.Encode(got); err != nil {
				t.Errorf("%s:%d: %v", name, i+1, err)
			}
			if again := Normalize(got); again != got {
				t.Errorf("%s:%d: not idempotent: %q -> %q", name, i+1, got, again)
			}
			total++
		}
	}
	t.Logf("%d transcripts normalised to vocabulary-only text", total)
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Don't 'quote' the boys' 1865 $5.50 U.S.A.", "Café – 12:30 p.m., 19th", "'", "''a''", "$", "9,99,999"} {
		f.Add(s)
	}
	v := DefaultVocabulary()
	f.Fuzz(func(t *testing.T, s string) {
		got := Normalize(s)
		if _, err := v.Encode(got); err != nil {
			t.Fatalf("Normalize(%q) = %q: %v", s, got, err)
		}
		if strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.Contains(got, "  ") {
			t.Fatalf("Normalize(%q) = %q: stray spaces", s, got)
		}
		if again := Normalize(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	s := "The transfer was dated \"Friday November 22, '63\" and cost $1.50 -- i.e., Müller's 19th fare at 12:35 p.m."
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Normalize(s)
	}
}
