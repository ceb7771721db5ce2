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

// logPositive returns ln(x) for finite x > 0 within 1e-13 of math.Log
// (TestLogPositive), far below the float32 resolution of the features, about
// three times faster and without a division: with x = 2^e·m, m in [1, 2), and
// c the table point just below m, ln x = e·ln 2 + ln c + ln(1 + r) with
// r = m/c − 1 in [0, 1/128), and ln(1 + r) by its series to r^5. The log-mel
// step calls it 80 times per frame. Subnormal, infinite and NaN x fall back to
// math.Log.
func logPositive(x float64) float64 {
	b := math.Float64bits(x)
	exp := int(b>>52) & 0x7ff
	if exp == 0 || exp == 0x7ff || b>>63 != 0 {
		return math.Log(x)
	}
	m := math.Float64frombits(b&(1<<52-1) | 1023<<52) // [1, 2)
	tab := &logTable[(b>>45)&127]
	r := m*tab[0] - 1
	p := r * (1 - r*(1.0/2-r*(1.0/3-r*(1.0/4-r*(1.0/5)))))
	return float64(exp-1023)*math.Ln2 + tab[1] + p
}
