package curves

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Panel names, for [Options.Panels].
const (
	PanelLoss  = "loss"  // training loss, validation loss dashed
	PanelLR    = "lr"    // learning rate
	PanelGrad  = "grad"  // gradient norm
	PanelSpeed = "speed" // audio seconds trained per second
	PanelWER   = "wer"   // validation WER and CER (%), CER dashed
)

// Panels lists the panel names in the order they are drawn.
var Panels = []string{PanelLoss, PanelLR, PanelGrad, PanelSpeed, PanelWER}

// Options configures [Render]. Every zero field means the default named on
// it.
type Options struct {
	// Format is "png" or "svg". Empty means "png".
	Format string
	// Width is the image's width in pixels. Zero means 1200.
	Width int
	// Height is the image's height in pixels. Zero means 330 per row of
	// panels (two panels a row), and 24 for the legend above them.
	Height int
	// Smoothing is the weight of TensorBoard's smoothing of the training
	// curves, in [0, 1): 0 draws them as they are, larger is smoother (the
	// raw curve stays faint behind).
	Smoothing float64
	// LogY draws the loss, learning rate, gradient norm and throughput on
	// logarithmic axes (error rates stay linear, from 0%).
	LogY bool
	// Panels names the panels to draw ([Panels]). Empty means every panel
	// that some run has data for.
	Panels []string
}

// palette is the colour of the i-th run; the web interface uses the same.
var palette = []color.RGBA{
	{0x3b, 0x5b, 0xdb, 0xff}, {0xe8, 0x59, 0x0c, 0xff}, {0x2b, 0x8a, 0x3e, 0xff}, {0xae, 0x3e, 0xc9, 0xff},
	{0xc9, 0x2a, 0x2a, 0xff}, {0x0c, 0x85, 0x99, 0xff}, {0xf0, 0x8c, 0x00, 0xff}, {0x5c, 0x94, 0x0d, 0xff},
	{0xd6, 0x33, 0x6c, 0xff}, {0x49, 0x50, 0x57, 0xff},
}

// Color is the colour of the i-th run.
func Color(i int) color.RGBA { return palette[i%len(palette)] }

// panelDef says what one panel draws.
type panelDef struct {
	name, title, ylabel string
	// solid and dashed are a run's curves (dashed may be nil).
	solid, dashed func(r *Run) []Point
	// solidName and dashedName label the two kinds of line in the legend.
	solidName, dashedName string
	smooth                bool // the solid curve is a training curve: smoothed
	percent               bool // fractions shown as percentages, from 0
}

var panelDefs = map[string]panelDef{
	PanelLoss: {name: PanelLoss, title: "Loss (CTC, per token)", ylabel: "loss",
		solid: func(r *Run) []Point { return r.Loss }, dashed: func(r *Run) []Point { return r.ValLoss },
		solidName: "training loss", dashedName: "validation loss", smooth: true},
	PanelLR: {name: PanelLR, title: "Learning rate", ylabel: "",
		solid: func(r *Run) []Point { return r.LearningRate }},
	PanelGrad: {name: PanelGrad, title: "Gradient norm (before clipping)", ylabel: "norm",
		solid: func(r *Run) []Point { return r.GradNorm }, smooth: true},
	PanelSpeed: {name: PanelSpeed, title: "Throughput (audio seconds per second)", ylabel: "audio s/s",
		solid: func(r *Run) []Point { return r.Speed }, smooth: true},
	PanelWER: {name: PanelWER, title: "Validation error rates", ylabel: "%",
		solid: func(r *Run) []Point { return r.WER }, dashed: func(r *Run) []Point { return r.CER },
		solidName: "WER", dashedName: "CER", percent: true},
}

// Render draws the runs' curves, overlaid, one panel per quantity (two
// panels a row), to w. It fails when there are no runs, when no chosen
// panel has data, or on bad options.
func Render(w io.Writer, runs []Run, opts Options) (err error) {
	if len(runs) == 0 {
		return errors.New("curves: no runs to draw")
	}
	if opts.Format == "" {
		opts.Format = "png"
	}
	if opts.Format != "png" && opts.Format != "svg" {
		return fmt.Errorf("curves: format %q: want png or svg", opts.Format)
	}
	if opts.Smoothing < 0 || opts.Smoothing >= 1 || math.IsNaN(opts.Smoothing) {
		return fmt.Errorf("curves: smoothing %v: want a weight in [0, 1)", opts.Smoothing)
	}
	if opts.Width < 0 || opts.Height < 0 || opts.Width > 20000 || opts.Height > 20000 {
		return fmt.Errorf("curves: image size %dx%d: want 1 to 20000 pixels a side (0: the default)", opts.Width, opts.Height)
	}
	names := opts.Panels
	if len(names) == 0 {
		names = Panels
	}
	var defs []panelDef
	for _, n := range names {
		d, ok := panelDefs[n]
		if !ok {
			return fmt.Errorf("curves: no panel %q: want some of %s", n, strings.Join(Panels, ", "))
		}
		if slices.ContainsFunc(defs, func(x panelDef) bool { return x.name == n }) {
			continue
		}
		if hasData(d, runs) {
			defs = append(defs, d)
		} else if len(opts.Panels) > 0 {
			return fmt.Errorf("curves: no run has data for the %s panel", n)
		}
	}
	if len(defs) == 0 {
		return errors.New("curves: the runs have no metrics or evaluations to draw")
	}
	// gonum/plot panics on some inputs; none must leave the package.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("curves: drawing failed: %v", r)
		}
	}()

	cols := min(2, len(defs))
	rows := (len(defs) + cols - 1) / cols
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	for i, d := range defs {
		plots[i/cols][i%cols] = drawPanel(d, runs, opts)
	}

	width, height := opts.Width, opts.Height
	if width == 0 {
		width = 1200
	}
	if height == 0 {
		height = 330*rows + 24
	}
	const dpi = 96
	wl, hl := vg.Length(width)*vg.Inch/dpi, vg.Length(height)*vg.Inch/dpi
	var canvas interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch opts.Format {
	case "svg":
		canvas = vgsvg.New(wl, hl)
	default:
		canvas = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(wl, hl), vgimg.UseDPI(dpi))}
	}
	dc := draw.New(canvas)
	sty := draw.TextStyle{Color: color.Black, Font: sans(10), Handler: plot.DefaultTextHandler, YAlign: draw.YCenter}
	items := legend(runs, defs)
	_, _, lines := legendLayout(items, sty, dc.Max.X-dc.Min.X-vg.Points(20))
	header := vg.Points(16*float64(lines) + 6)
	drawLegend(draw.Crop(dc, vg.Points(10), -vg.Points(10), dc.Max.Y-dc.Min.Y-header, -vg.Points(3)), items, sty)
	dc = draw.Crop(dc, 0, 0, 0, -header)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(14),
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10)}
	// Each panel in its tile (plot.Align would line the data areas up, but
	// shifts the log-scaled ones).
	for r := range plots {
		for c, p := range plots[r] {
			if p != nil {
				p.Draw(tiles.At(dc, c, r))
			}
		}
	}
	if _, err := canvas.WriteTo(w); err != nil {
		return fmt.Errorf("curves: writing the %s: %w", opts.Format, err)
	}
	return nil
}

// sans is the charts' font, of size points.
func sans(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// dashes is the pattern of the dashed curves (validation loss, CER).
var dashes = []vg.Length{vg.Points(5), vg.Points(3)}

// legendItem is one entry of the legend: a line sample and its label.
type legendItem struct {
	line  draw.LineStyle
	label string
}

// legend is the items of the legend above the panels: each run in its
// colour, then what solid and dashed lines mean where panels have both.
func legend(runs []Run, defs []panelDef) []legendItem {
	var items []legendItem
	for i := range runs {
		items = append(items, legendItem{draw.LineStyle{Color: Color(i), Width: vg.Points(2.5)}, runs[i].Name})
	}
	var solid, dashed []string
	for _, d := range defs {
		if d.dashed != nil && hasDashed(d, runs) {
			solid = append(solid, d.solidName)
			dashed = append(dashed, d.dashedName)
		}
	}
	if len(solid) > 0 {
		gray := color.RGBA{0x6c, 0x75, 0x7d, 0xff}
		items = append(items,
			legendItem{draw.LineStyle{Color: gray, Width: vg.Points(2)}, strings.Join(solid, ", ")},
			legendItem{draw.LineStyle{Color: gray, Width: vg.Points(1.5), Dashes: dashes}, strings.Join(dashed, ", ")})
	}
	return items
}

// legendLayout places the items in lines across width; it returns each
// item's line and x, and the number of lines.
func legendLayout(items []legendItem, sty draw.TextStyle, width vg.Length) (line []int, x []vg.Length, lines int) {
	const sample, gap, space = 22, 5, 18 // points: line sample, sample to text, between items
	cur, n := vg.Length(0), 0
	for _, it := range items {
		w := vg.Points(sample+gap) + sty.Width(it.label)
		if cur > 0 && cur+w > width {
			n++
			cur = 0
		}
		line = append(line, n)
		x = append(x, cur)
		cur += w + vg.Points(space)
	}
	return line, x, n + 1
}

// drawLegend draws the items in the strip c, centred.
func drawLegend(c draw.Canvas, items []legendItem, sty draw.TextStyle) {
	const sample, gap, lineH = 22, 5, 16
	line, x, lines := legendLayout(items, sty, c.Max.X-c.Min.X)
	// Each line is centred: find its width.
	widths := make([]vg.Length, lines)
	for i, it := range items {
		widths[line[i]] = x[i] + vg.Points(sample+gap) + sty.Width(it.label)
	}
	for i, it := range items {
		left := c.Min.X + (c.Max.X-c.Min.X-widths[line[i]])/2 + x[i]
		y := c.Max.Y - vg.Points(lineH)*vg.Length(line[i]) - vg.Points(lineH)/2
		c.StrokeLine2(it.line, left, y, left+vg.Points(sample), y)
		c.FillText(sty, vg.Point{X: left + vg.Points(sample+gap), Y: y}, it.label)
	}
}

func hasData(d panelDef, runs []Run) bool {
	for i := range runs {
		if len(d.solid(&runs[i])) > 0 || d.dashed != nil && len(d.dashed(&runs[i])) > 0 {
			return true
		}
	}
	return false
}

// drawPanel makes one panel's plot.
func drawPanel(d panelDef, runs []Run, opts Options) *plot.Plot {
	p := plot.New()
	p.Title.Text = d.title
	p.Title.TextStyle.Font = sans(12)
	p.X.Label.Text = "step"
	p.Y.Label.Text = d.ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(10)
		a.Tick.Label.Font = sans(9)
	}
	p.Add(plotter.NewGrid())
	logY := opts.LogY && !d.percent

	scale := 1.0
	if d.percent {
		scale = 100
	}
	// values keeps the points that the axis can show.
	values := func(ps []Point) plotter.XYs {
		xy := make(plotter.XYs, 0, len(ps))
		for _, pt := range ps {
			v := pt.Value * scale
			if logY && v <= 0 {
				continue
			}
			xy = append(xy, plotter.XY{X: float64(pt.Step), Y: v})
		}
		return xy
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	track := func(xy plotter.XYs) {
		for _, q := range xy {
			lo, hi = min(lo, q.Y), max(hi, q.Y)
		}
	}
	for i := range runs {
		run := &runs[i]
		col := Color(i)
		raw := values(d.solid(run))
		if len(raw) > 0 {
			if d.smooth && opts.Smoothing > 0 && len(raw) > 2 {
				faint := color.NRGBA{R: col.R, G: col.G, B: col.B, A: 0x50}
				addLine(p, raw, faint, 1, nil, false)
				pts := make([]Point, len(raw))
				for j, q := range raw {
					pts[j] = Point{Step: int64(q.X), Value: q.Y}
				}
				raw = values(Smooth(pts, opts.Smoothing))
			}
			track(raw)
			addLine(p, raw, col, 2, nil, d.percent)
		}
		if d.dashed != nil {
			xy := values(d.dashed(run))
			if len(xy) > 0 {
				track(xy)
				addLine(p, xy, col, 1.5, dashes, true)
			}
		}
	}
	switch {
	case d.percent:
		p.Y.Tick.Marker = niceTicks{}
		p.Y.Min = 0
		if hi <= 0 || math.IsInf(hi, 0) {
			p.Y.Max = 1
		} else {
			p.Y.Max = hi * 1.05
		}
	case logY && !math.IsInf(lo, 0):
		p.Y.Scale = plot.LogScale{}
		if hi/lo >= 30 {
			p.Y.Tick.Marker = decadeTicks{}
			// Whole decades: the axis ends on labelled ticks.
			p.Y.Min, p.Y.Max = decade(math.Floor(math.Log10(lo))), decade(math.Ceil(math.Log10(hi)))
		} else {
			p.Y.Tick.Marker = niceTicks{} // within a decade or so: LogTicks would label one tick or none
		}
		if lo == hi {
			p.Y.Min, p.Y.Max = lo/2, hi*2
		}
	default:
		p.Y.Tick.Marker = niceTicks{}
	}
	p.X.Tick.Marker = niceTicks{integer: true}
	return p
}

// niceTicks labels about five ticks 1, 2 or 5 × 10^k apart, with the
// shortest labels ("0.25", "1e-05", "20000"), and marks minor ticks
// between them. With integer, the spacing is at least 1 (steps).
type niceTicks struct{ integer bool }

// Ticks implements plot.Ticker.
func (nt niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []plot.Tick{{Value: lo, Label: label(lo)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	if nt.integer && step < 1 {
		step = 1
	}
	minor := step / 5
	if step/mag == 2 || step/mag == 20 {
		minor = step / 4
	}
	if nt.integer && minor < 1 {
		minor = 1
	}
	start := math.Ceil(lo/minor) * minor
	n := int(math.Floor((hi-start)/minor+1e-9)) + 1
	if n < 1 || n > 1000 || start+minor == start {
		// A range too narrow for the floats' precision (a constant curve).
		return []plot.Tick{{Value: lo, Label: label(lo)}, {Value: hi, Label: label(hi)}}
	}
	var ticks []plot.Tick
	for i := range n {
		v := start + float64(i)*minor
		if math.Abs(math.Remainder(v, step)) < minor*1e-6 {
			v = math.Round(v/step) * step
			ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// decade is 10^e, exactly as the literal 1eE reads.
func decade(e float64) float64 {
	v, _ := strconv.ParseFloat(fmt.Sprintf("1e%d", int(e)), 64)
	return v
}

// decadeTicks labels the powers of ten of a logarithmic axis ("1e-05",
// "0.001", "100"), with minor ticks at their multiples 2 to 9.
type decadeTicks struct{}

// Ticks implements plot.Ticker.
func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if !(lo > 0) || !(hi >= lo) || math.IsInf(hi, 0) {
		return ticks
	}
	for e := int(math.Floor(math.Log10(lo))); e <= int(math.Ceil(math.Log10(hi))) && len(ticks) < 400; e++ {
		p := decade(float64(e))
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 {
				t.Label = label(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func label(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func hasDashed(d panelDef, runs []Run) bool {
	for i := range runs {
		if len(d.dashed(&runs[i])) > 0 {
			return true
		}
	}
	return false
}

// addLine adds a line (with its points when marks, for sparse curves such
// as evaluations).
func addLine(p *plot.Plot, xy plotter.XYs, c color.Color, width float64, dashes []vg.Length, marks bool) {
	l, err := plotter.NewLine(xy)
	if err != nil {
		panic(err) // values are finite by construction; Render recovers
	}
	l.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(width), Dashes: dashes}
	p.Add(l)
	if marks && len(xy) <= 60 {
		s, err := plotter.NewScatter(xy)
		if err != nil {
			panic(err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(s)
	}
}
