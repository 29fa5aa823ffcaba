package bench

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot draws ops/s per phase as a grouped bar chart, one bar per target
// and mode in each phase group, and saves it to file; the extension picks
// the format (.png, .svg, .pdf). When the figures span more than a factor
// of 20 (an in-process engine next to a remote one) the axis is
// logarithmic, so that every bar stays readable.
func (r *Report) Plot(file string) error {
	type series struct{ target, mode string }
	var order []series
	vals := map[series]plotter.Values{}
	idx := map[string]int{}
	for i, ph := range r.Phases {
		idx[ph] = i
	}
	lo, hi := math.Inf(1), 0.0
	for _, x := range r.Results {
		s := series{x.Target, x.Mode}
		if _, ok := vals[s]; !ok {
			order = append(order, s)
			vals[s] = make(plotter.Values, len(r.Phases))
		}
		vals[s][idx[x.Phase]] = x.OpsPerSec
		if x.OpsPerSec > 0 {
			lo, hi = min(lo, x.OpsPerSec), max(hi, x.OpsPerSec)
		}
	}
	if len(order) == 0 || hi == 0 {
		return fmt.Errorf("bench: plot: no results")
	}
	logScale := hi/lo > 20

	p := plot.New()
	p.Title.Text = fmt.Sprintf("fsmeta bench: %d items x %d clients", r.Items, r.Clients)
	p.Y.Label.Text = "ops/s"
	p.Add(plotter.NewGrid())
	// Room above the bars for the legend, one line per series.
	head := 1.1 + 0.05*float64(len(order))
	p.Y.Min, p.Y.Max = 0, hi*head
	if logScale {
		// Bars of log10(ops/s) over 1 op/s, labelled in ops/s.
		p.Y.Label.Text = "ops/s (log scale)"
		for _, s := range order {
			for i, v := range vals[s] {
				vals[s][i] = math.Log10(max(v, 1))
			}
		}
		top := math.Log10(hi)
		p.Y.Min, p.Y.Max = 0, top*head
		p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
			var ts []plot.Tick
			for k := 0.0; k <= math.Ceil(top); k++ {
				ts = append(ts, plot.Tick{Value: k, Label: siCount(math.Pow(10, k))})
				for m := 2.0; m < 10 && k+math.Log10(m) <= math.Ceil(top); m++ {
					ts = append(ts, plot.Tick{Value: k + math.Log10(m)})
				}
			}
			return ts
		})
	}
	p.Legend.Top = true

	width := vg.Length(len(r.Phases)*len(order))*vg.Points(16) + 1.5*vg.Inch
	width = max(6*vg.Inch, min(12*vg.Inch, width))
	groupWidth := (width - 1.2*vg.Inch) / vg.Length(len(r.Phases)) * 0.8
	w := groupWidth / vg.Length(len(order))
	// One hue per target; a second mode is a lighter shade of it.
	var targets []string
	for _, s := range order {
		if !slices.Contains(targets, s.target) {
			targets = append(targets, s.target)
		}
	}
	for i, s := range order {
		b, err := plotter.NewBarChart(vals[s], w)
		if err != nil {
			return fmt.Errorf("bench: plot: %w", err)
		}
		b.Color = plotutil.Color(slices.Index(targets, s.target))
		if m := slices.Index(r.Modes, s.mode); m > 0 {
			b.Color = lighter(b.Color, 0.45*float64(m))
		}
		b.LineStyle.Color = color.Black
		b.LineStyle.Width = vg.Points(0.5)
		b.Offset = w * vg.Length(float64(i)-float64(len(order)-1)/2)
		p.Add(b)
		label := s.target
		if len(r.Modes) > 1 {
			label += " (" + s.mode + ")"
		}
		p.Legend.Add(label, b)
	}
	p.NominalX(r.Phases...)
	if err := p.Save(width, 4.5*vg.Inch, file); err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	return nil
}

// lighter blends c with white by f (0..1).
func lighter(c color.Color, f float64) color.Color {
	r, g, b, _ := c.RGBA()
	mix := func(v uint32) uint8 { return uint8(float64(v>>8) + (255-float64(v>>8))*min(f, 1)) }
	return color.RGBA{mix(r), mix(g), mix(b), 255}
}

// siCount is a tick label: 1, 10, 100, 1k, 10k, 100k, 1M.
func siCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%gk", v/1e3)
	}
	return fmt.Sprintf("%g", v)
}
