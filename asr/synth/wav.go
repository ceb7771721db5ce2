package synth

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// writeWAV16 writes mono samples in [-1, 1] as a 16-bit PCM WAV file at the
// given rate (the LJSpeech format at 22,050 Hz). Samples outside [-1, 1] are
// clipped.
func writeWAV16(w io.Writer, samples []float32, rate int) error {
	if rate <= 0 {
		return fmt.Errorf("wav: sample rate %d", rate)
	}
	n := len(samples)
	if 2*int64(n) > math.MaxUint32-36 {
		return fmt.Errorf("wav: %d samples do not fit a WAV file", n)
	}
	b := make([]byte, 44+2*n)
	le := binary.LittleEndian
	copy(b, "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1) // PCM
	le.PutUint16(b[22:], 1) // mono
	le.PutUint32(b[24:], uint32(rate))
	le.PutUint32(b[28:], uint32(2*rate))
	le.PutUint16(b[32:], 2)
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n))
	for i, v := range samples {
		x := math.Round(float64(v) * 32767)
		x = max(-32768, min(32767, x))
		le.PutUint16(b[44+2*i:], uint16(int16(x)))
	}
	_, err := w.Write(b)
	return err
}
