package features

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteNPY writes m as a float32 array of shape (Frames, Bands) in NumPy's
// .npy format (version 1.0, little-endian, C order), readable with
// numpy.load.
func (m *LogMel) WriteNPY(w io.Writer) error {
	if len(m.Data) != m.Frames*m.Bands {
		return fmt.Errorf("features: LogMel holds %d values, not %d×%d", len(m.Data), m.Frames, m.Bands)
	}
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", m.Frames, m.Bands)
	// Magic (6) + version (2) + header length (2) + header + '\n' is padded
	// with spaces to a multiple of 64 bytes.
	total := 10 + len(header) + 1
	header += strings.Repeat(" ", (64-total%64)%64) + "\n"
	bw := bufio.NewWriter(w)
	bw.WriteString("\x93NUMPY\x01\x00")
	binary.Write(bw, binary.LittleEndian, uint16(len(header)))
	bw.WriteString(header)
	buf := make([]byte, 4*min(len(m.Data), 1<<16))
	for data := m.Data; len(data) > 0; {
		n := min(len(data), len(buf)/4)
		for i, v := range data[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := bw.Write(buf[:4*n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return bw.Flush()
}
