package data

// Split names one of the three sets of a corpus.
type Split string

// The three sets.
const (
	Train Split = "train"
	Val   Split = "val"
	Test  Split = "test"
)

// Splits lists the sets in their usual order.
var Splits = []Split{Train, Val, Test}

// Utterance is one audio clip with its transcript.
type Utterance struct {
	// ID identifies the utterance within its corpus (LJSpeech: "LJ001-0001";
	// manifests: the "id" field, or the audio path relative to the manifest
	// without its extension).
	ID string `json:"id"`
	// Audio is the path of the audio file.
	Audio string `json:"audio"`
	// Text is the transcript as the source gives it (LJSpeech: the
	// normalised-transcription column).
	Text string `json:"text"`
	// Target is Text after text.Normalize: what Labels encode.
	Target string `json:"target,omitempty"`
	// Labels are the vocabulary ids of Target (no blanks).
	Labels []int32 `json:"labels,omitempty"`
	// Duration is the audio length in seconds, known once checked.
	Duration float64 `json:"duration,omitempty"`
	// Frames is the number of feature frames, known once checked.
	Frames int `json:"frames,omitempty"`
	// Copies are the cached versions of a training utterance when
	// datasets.augment is set (the clean audio among them only when a copy
	// drew no perturbation); empty otherwise, and for validation and test
	// utterances. A copy with Frames 0 is unusable (longer than
	// max_duration, or too short for CTC, after perturbation).
	Copies []Copy `json:"copies,omitempty"`
	// Split is the set the utterance belongs to.
	Split Split `json:"split,omitempty"`
	// Speaker identifies the speaker when the source says (a manifest's
	// "speaker" field); empty otherwise.
	Speaker string `json:"speaker,omitempty"`
	// Corpus names the corpus the utterance comes from, for per-corpus
	// sampling weights (datasets.weights): a manifest's "corpus" field, else
	// the first folder of its relative audio path ("speechocean762" for
	// "speechocean762/SPEAKER0001/a.mp3"), else the manifest's file name
	// without extension; for an LJSpeech folder, the folder's name.
	Corpus string `json:"corpus,omitempty"`
	// Source and Line locate the utterance's row (file and 1-based line).
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// ctcMinFrames returns the fewest model output frames that can emit labels
// under CTC: one per label plus one blank between each pair of equal
// neighbours.
func ctcMinFrames(labels []int32) int {
	n := len(labels)
	for i := 1; i < len(labels); i++ {
		if labels[i] == labels[i-1] {
			n++
		}
	}
	return n
}
