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
	// Split is the set the utterance belongs to.
	Split Split `json:"split,omitempty"`
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
