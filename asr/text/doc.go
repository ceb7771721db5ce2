// Package text holds the character vocabulary of asrkit's CTC models and the
// text normalisation shared by training targets, evaluation references and
// language-model training text. It does not depend on GoMLX.
//
// # Vocabulary
//
// [DefaultVocabulary] has 29 symbols: the CTC blank (id 0), space (1), a–z
// (2–27) and the apostrophe (28). [NewVocabulary] builds another from a
// symbol list (the blank first); a [Vocabulary] marshals to JSON as that list,
// so a checkpoint stores it and a loaded model decodes with the ids it was
// trained with. [Vocabulary.Encode] names the character and position it cannot
// encode; [Vocabulary.Decode] skips blanks and keeps repeats.
//
// # Normalisation rules
//
// [Normalize] applies these rules, in this order. Its output holds only
// a–z, the apostrophe and single spaces between words, never starts or ends
// with a space, and is unchanged by a second Normalize.
//
// Characters:
//   - Letters are lower-cased: "The" → "the".
//   - Latin letters with diacritics, ligatures and full-width letters are
//     folded to ASCII (the table is generated from Unicode decompositions,
//     gen_fold.py): "café" → "cafe", "Müller" → "muller", "Æsop" → "aesop",
//     "œuvre" → "oeuvre", "straße" → "strasse", "Łódź" → "lodz", "ﬁne" → "fine".
//     Combining marks are dropped, so a decomposed "e"+U+0301 is "e" too.
//   - Curly and other apostrophe-like marks (’ ‘ ‛ ʼ ′ ` ´) become ', and
//     double quotes of every kind are dropped: “Don’t” → "don't".
//   - Hyphens, dashes (‐ ‑ ‒ – — ― −), slashes and all other punctuation
//     separate words: "well-known" → "well known", "and/or" → "and or",
//     "bric-à-brac" → "bric a brac".
//   - Letters without an ASCII form (Cyrillic, Greek, CJK, ...) separate
//     words like punctuation: they are dropped, not transliterated.
//   - "&" is read "and": "AT&T" → "at and t".
//
// Numbers (the readings follow the normaliser that produced LJSpeech's
// transcripts, keithito/tacotron's numbers.py, with American cardinals
// without "and"):
//   - Cardinals up to 18 digits, with or without thousands commas:
//     "42" → "forty two", "3,250,001" → "three million two hundred fifty
//     thousand one". Longer digit strings, and strings with a leading zero,
//     are read digit by digit: "007" → "zero zero seven".
//   - Four-digit numbers between 1000 and 3000 (exclusive) without commas are
//     read as years: "1865" → "eighteen sixty five", "1905" → "nineteen oh
//     five", "1900" → "nineteen hundred", "2000" → "two thousand", "2007" →
//     "two thousand seven", "2015" → "twenty fifteen". With a comma they are
//     cardinals: "1,865" → "one thousand eight hundred sixty five".
//   - Ordinals: "1st" → "first", "19th" → "nineteenth", "21st" → "twenty
//     first", "100th" → "one hundredth".
//   - Plurals: "1860s" and "1860's" → "eighteen sixties", "6s" → "sixes".
//   - Decimals: "3.14" → "three point one four".
//   - Percent: "50%" → "fifty percent".
//   - Currency ($, £, €) before a number: "$1" → "one dollar", "$1.50" →
//     "one dollar and fifty cents", "$0.99" → "ninety nine cents", "£3.50" →
//     "three pounds and fifty pence", "$5 million" → "five million dollars";
//     an amount with other than two decimals is a decimal: "$1.5" → "one
//     point five dollars". A currency sign without a number is dropped.
//   - Times H:MM (minutes 00–59): "12:35" → "twelve thirty five", "1:05" →
//     "one oh five", "3:00" → "three o'clock".
//   - Digits next to letters are separate words: "mp3" → "mp three", "10am"
//     → "ten am". A minus sign is a dash: "-5" → "five". Fractions are not
//     read as fractions: "1/2" → "one two".
//
// Periods:
//   - A period that joins letters after a run of at most two letters is an
//     abbreviation's and is removed: "U.S.A." → "usa" (the same as "USA"),
//     "p.m." → "pm", "i.e." → "ie", "LL.D." → "lld", "Co.'s" → "co's".
//   - Every other period separates words: "end.The" → "end the",
//     "www.example.com" → "www example com", "Mr. Smith" → "mr smith".
//     Titles are not expanded: "Mr." → "mr", as LJSpeech's transcripts spell it.
//
// Apostrophes (contractions and possessives are kept, quotation marks are
// not):
//   - Apostrophes inside a word are kept: "don't", "o'clock", "O'Connor" →
//     "o'connor", "d'être" → "d'etre". Runs of apostrophes become one.
//   - A leading apostrophe is an opening quote and is dropped ("'Victoria" →
//     "victoria"), except in the elisions 'tis 'twas 'twere 'twill 'twould 'em
//     'un 'til 'cause 'bout 'neath: "a stiff 'un" keeps it.
//   - A trailing apostrophe is kept as a plural possessive after s, z or x
//     ("the boys'", "Fritz'", "Burgess'") or as a dropped g after "in"
//     ("nothin'"), and dropped after any other letter ("side'" → "side").
//   - A trailing apostrophe that follows a dropped opening quote closes the
//     quote and is dropped, even after s: "the 'gods' at" → "the gods at",
//     "'Lennie's' men" → "lennie's men". An apostrophe standing alone
//     ("Land,'" ends with one once the comma is gone) also closes a quote.
//   - Apostrophes standing alone are dropped.
//
// Every normalised transcript of the LJSpeech 1.1 splits the project uses
// (12,914 of its 13,100 utterances) normalises to non-empty vocabulary-only
// text (TestNormalizeLJSpeechCorpus, given ASRKIT_LJSPEECH_TEXT); a sample
// with the hard cases, checked by hand, lives in
// testdata/text/ljspeech_sample.txt. On LJSpeech's raw transcripts, numbers
// normalise to the same words as in its normalised column.
package text
