package features

import "math"

// logTable holds, for c = 1 + i/128 (i = 0..127), 1/c and ln c.
var logTable = func() (t [128][2]float64) {
	for i := range t {
		c := 1 + float64(i)/128
		t[i] = [2]float64{1 / c, math.Log(c)}
	}
	return t
}()

// logEnergies replaces each energy x in v by ln(x + guard), computed in
// float64 within 1e-13 of math.Log (TestLogEnergies), so the float32 results
// are math.Log's rounded, and about twice as fast, without a division: with
// y = x + guard = 2^e·m, m in [1, 2), and c the table point just below m,
// ln y = e·ln 2 + ln c + ln(1 + r) with r = m/c − 1 in [0, 1/128), and
// ln(1 + r) by its series to r^5. Zero, negative, subnormal, infinite and NaN
// y fall back to math.Log.
func logEnergies(v []float32, guard float64) {
	for i, x := range v {
		y := float64(x) + guard
		b := math.Float64bits(y)
		exp := int(b>>52) & 0x7ff
		if exp == 0 || exp == 0x7ff || b>>63 != 0 {
			v[i] = float32(math.Log(y))
			continue
		}
		m := math.Float64frombits(b&(1<<52-1) | 1023<<52) // [1, 2)
		tab := &logTable[(b>>45)&127]
		r := m*tab[0] - 1
		v[i] = float32(float64(exp-1023)*math.Ln2 + tab[1] + r*(1-r*(1.0/2-r*(1.0/3-r*(1.0/4-r*(1.0/5))))))
	}
}
