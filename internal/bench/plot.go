package bench

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Plot draws ops/s per phase as a grouped bar chart, one bar per target
// and mode in each phase group, and saves it to file; the extension picks
// the format (.png, .svg, .pdf).
func (r *Report) Plot(file string) error {
	type series struct{ target, mode string }
	var order []series
	vals := map[series]plotter.Values{}
	idx := map[string]int{}
	for i, ph := range r.Phases {
		idx[ph] = i
	}
	for _, x := range r.Results {
		s := series{x.Target, x.Mode}
		if _, ok := vals[s]; !ok {
			order = append(order, s)
			vals[s] = make(plotter.Values, len(r.Phases))
		}
		vals[s][idx[x.Phase]] = x.OpsPerSec
	}
	if len(order) == 0 {
		return fmt.Errorf("bench: plot: no results")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("fsmeta bench: %d items x %d clients", r.Items, r.Clients)
	p.Y.Label.Text = "ops/s"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	groupWidth := vg.Points(24 * float64(max(len(order), 3)))
	w := groupWidth / vg.Length(len(order))
	for i, s := range order {
		b, err := plotter.NewBarChart(vals[s], w)
		if err != nil {
			return fmt.Errorf("bench: plot: %w", err)
		}
		b.Color = plotutil.Color(i)
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
	top := 0.0
	for _, v := range vals {
		for _, x := range v {
			top = max(top, x)
		}
	}
	p.Y.Max = top * (1.15 + 0.06*float64(len(order))) // room for the legend
	width := vg.Length(len(r.Phases))*(groupWidth+vg.Points(24)) + vg.Points(80)
	if width < 6*vg.Inch {
		width = 6 * vg.Inch
	}
	if err := p.Save(width, 4*vg.Inch, file); err != nil {
		return fmt.Errorf("bench: plot: %w", err)
	}
	return nil
}
