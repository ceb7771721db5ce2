package features

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// SpectrogramOptions controls [Spectrogram]. The zero value gives the
// defaults.
type SpectrogramOptions struct {
	// Title is drawn above the plot; empty for none.
	Title string
	// DynamicRange is the range in dB below the loudest value that gets a
	// colour (quieter values are drawn as the darkest); 0 means 80.
	DynamicRange float64
	// MaxWidth is the largest plot width in pixels: longer features are
	// averaged over groups of frames; 0 means 2400. Each frame gets one
	// pixel column otherwise.
	MaxWidth int
	// Colormap is "magma" (the default when empty, as librosa's specshow)
	// or "viridis".
	Colormap string
}

// minPlotWidth is the narrowest plot: shorter features get wider columns.
const minPlotWidth = 480

// Spectrogram draws log-mel features as a picture: time (seconds) across, mel
// bands up (labelled in Hz), colour from a perceptual colour map (magma or
// viridis) over the dynamic range, and a colour bar in dB relative to the
// loudest value. cfg is the config the features were computed with.
func Spectrogram(m *LogMel, cfg Config, opts SpectrogramOptions) (*image.RGBA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	if m.Bands != cfg.NumMels || len(m.Data) != m.Frames*m.Bands {
		return nil, fmt.Errorf("features: spectrogram of %d×%d features (%d values) with a %d-band config", m.Frames, m.Bands, len(m.Data), cfg.NumMels)
	}
	if m.Frames == 0 {
		return nil, fmt.Errorf("features: spectrogram of empty features")
	}
	cmap := magma
	switch opts.Colormap {
	case "", "magma":
	case "viridis":
		cmap = viridis
	default:
		return nil, fmt.Errorf("features: unknown colour map %q (magma or viridis)", opts.Colormap)
	}
	rangeDB := opts.DynamicRange
	if rangeDB <= 0 {
		rangeDB = 80
	}
	maxW := opts.MaxWidth
	if maxW <= 0 {
		maxW = 2400
	}
	cols, group, db, _ := m.ColumnsDB(maxW)
	colW := max(1, (minPlotWidth+cols-1)/cols) // short clips: widen each column
	plotW := cols * colW
	rowH := max(1, 320/m.Bands)
	plotH := m.Bands * rowH

	face := basicfont.Face7x13
	const left, right, bottom = 64, 84, 44
	top := 12
	if opts.Title != "" {
		top = 28
	}
	width, height := left+plotW+right, top+plotH+bottom
	if opts.Title != "" {
		width = max(width, left+font.MeasureString(face, opts.Title).Ceil()+8)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	ink := color.RGBA{0x20, 0x20, 0x20, 0xff}
	text := func(s string, x, y int, align float64) { // align: 0 left, 0.5 centre, 1 right; y is the baseline
		d := &font.Drawer{Dst: img, Src: image.NewUniform(ink), Face: face}
		w := d.MeasureString(s).Ceil()
		d.Dot = fixed.P(x-int(align*float64(w)), y)
		d.DrawString(s)
	}

	for cx := range cols {
		for b := range m.Bands {
			c := cmap(1 + db[cx*m.Bands+b]/rangeDB)
			y0 := top + plotH - (b+1)*rowH
			for y := y0; y < y0+rowH; y++ {
				for x := left + cx*colW; x < left+(cx+1)*colW; x++ {
					img.SetRGBA(x, y, c)
				}
			}
		}
	}

	// Frame around the plot.
	for x := left - 1; x <= left+plotW; x++ {
		img.SetRGBA(x, top-1, ink)
		img.SetRGBA(x, top+plotH, ink)
	}
	for y := top - 1; y <= top+plotH; y++ {
		img.SetRGBA(left-1, y, ink)
		img.SetRGBA(left+plotW, y, ink)
	}

	// Frequency axis: ticks at round frequencies, placed on the mel scale
	// (band b is centred on edge b+1 of the n_mels+2 equally spaced points).
	htk := cfg.MelScale == "htk"
	lo, hi := HzToMel(cfg.FMin, htk), HzToMel(cfg.FMax, htk)
	step := (hi - lo) / float64(m.Bands+1)
	for _, f := range []float64{0, 250, 500, 1000, 2000, 4000, 8000, 16000} {
		if f < cfg.FMin || f > cfg.FMax {
			continue
		}
		pos := (HzToMel(f, htk)-lo)/step - 1 // in bands
		if pos < -1.01 || pos > float64(m.Bands)+0.01 {
			continue
		}
		// f_min and f_max lie half a band outside the plot: put them on its edge.
		y := top + plotH - int(math.Round((pos+0.5)*float64(rowH)))
		y = max(top, min(top+plotH-1, y))
		for x := left - 5; x < left-1; x++ {
			img.SetRGBA(x, y, ink)
		}
		text(hzLabel(f), left-8, y+4, 1)
	}
	text("Hz", 6, top+plotH/2+4, 0)

	// Time axis: a round step giving at most about one label per 70 px.
	frameSec := float64(cfg.HopLength) / float64(cfg.SampleRate)
	total := float64(m.Frames) * frameSec
	tstep := 0.05
	for _, s := range []float64{0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		tstep = s
		if total/s*60 <= float64(plotW) {
			break
		}
	}
	for i := 0; float64(i)*tstep <= total; i++ {
		sec := float64(i) * tstep
		x := left + int(math.Round(sec/frameSec/float64(group)*float64(colW)))
		if x > left+plotW {
			break
		}
		for y := top + plotH + 1; y < top+plotH+5; y++ {
			img.SetRGBA(x, y, ink)
		}
		decimals := 0
		switch {
		case tstep < 0.1:
			decimals = 2
		case tstep < 1:
			decimals = 1
		}
		text(strconv.FormatFloat(sec, 'f', decimals, 64), x, top+plotH+17, 0.5)
	}
	text("time (s)", left+plotW/2, top+plotH+34, 0.5)

	// Colour bar, 0 dB (the loudest) at the top.
	barX := left + plotW + 14
	for y := range plotH {
		c := cmap(1 - float64(y)/float64(plotH-1))
		for x := barX; x < barX+12; x++ {
			img.SetRGBA(x, top+y, c)
		}
	}
	for db := 0.0; db <= rangeDB+1e-9; db += 20 {
		y := top + int(math.Round(db/rangeDB*float64(plotH-1)))
		img.SetRGBA(barX+12, y, ink)
		img.SetRGBA(barX+13, y, ink)
		label := strconv.FormatFloat(-db, 'f', -1, 64)
		if db == 0 {
			label = "0 dB"
		}
		text(label, barX+16, y+4, 0)
	}
	if opts.Title != "" {
		text(opts.Title, left, 18, 0)
	}
	return img, nil
}

// ColumnsDB averages the frames of m in groups of group frames, at most
// maxColumns columns (the last may hold fewer frames), and returns each
// column's bands in dB below the loudest value of m (≤ 0; natural-log
// energy × 10/ln 10), column after column (cols × m.Bands values), and
// that loudest value in dB. A spectrogram's picture ([Spectrogram]) and
// its data (the service's /v1/spectrogram) are both made from it.
func (m *LogMel) ColumnsDB(maxColumns int) (cols, group int, db []float64, maxDB float64) {
	if m.Frames == 0 || maxColumns <= 0 {
		return 0, 1, nil, math.Inf(-1)
	}
	group = (m.Frames + maxColumns - 1) / maxColumns
	cols = (m.Frames + group - 1) / group
	vmax := float32(math.Inf(-1))
	for _, v := range m.Data {
		vmax = max(vmax, v)
	}
	toDB := 10 / math.Ln10
	db = make([]float64, cols*m.Bands)
	for c := range cols {
		t0, t1 := c*group, min((c+1)*group, m.Frames)
		col := db[c*m.Bands : (c+1)*m.Bands]
		for t := t0; t < t1; t++ {
			for b, v := range m.Frame(t) {
				col[b] += float64(v)
			}
		}
		for b := range col {
			col[b] = (col[b]/float64(t1-t0) - float64(vmax)) * toDB
		}
	}
	return cols, group, db, float64(vmax) * toDB
}

func hzLabel(f float64) string {
	if f >= 1000 {
		return strconv.FormatFloat(f/1000, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Perceptual colour maps as 6th-degree polynomial fits of matplotlib's magma
// and viridis (after Matt Zucker's public-domain fits), t in [0, 1].
var (
	magmaCoef = [7][3]float64{
		{-0.002136485053939582, -0.000749655052795221, -0.005386127855323933},
		{0.2516605407371642, 0.6775232436837668, 2.494026599312351},
		{8.353717279216625, -3.577719514958484, 0.3144679030132573},
		{-27.66873308576866, 14.26473078096533, -13.64921318813922},
		{52.17613981234068, -27.94360607168351, 12.94416944238394},
		{-50.76852536473588, 29.04658282127291, 4.23415299384598},
		{18.65570506591883, -11.48977351997711, -5.601961508734096},
	}
	viridisCoef = [7][3]float64{
		{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
		{0.1050930431085774, 1.404613529898575, 1.384590162594685},
		{-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
		{-4.634230498983486, -5.799100973351585, -19.33244095627987},
		{6.228269936347081, 14.17993336680509, 56.69055260068105},
		{4.776384997670288, -13.74514537774601, -65.35303263337234},
		{-5.435455855934631, 4.645852612178535, 26.3124352495832},
	}
)

func polyColor(c *[7][3]float64, t float64) color.RGBA {
	t = max(0, min(1, t))
	var rgb [3]uint8
	for i := range 3 {
		v := c[6][i]
		for k := 5; k >= 0; k-- {
			v = v*t + c[k][i]
		}
		rgb[i] = uint8(math.Round(255 * max(0, min(1, v))))
	}
	return color.RGBA{rgb[0], rgb[1], rgb[2], 0xff}
}

func magma(t float64) color.RGBA   { return polyColor(&magmaCoef, t) }
func viridis(t float64) color.RGBA { return polyColor(&viridisCoef, t) }
