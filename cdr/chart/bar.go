package chart

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"strconv"
)

// Bar is one bar: its label on the x axis and its value.
type Bar struct {
	Label string
	Value float64
}

// BarChart is a vertical bar chart with a value axis starting at zero.
type BarChart struct {
	Title string // shown above the chart and as the SVG's accessible title
	Unit  string // appended to the value axis labels, e.g. "%" or " min"
	Bars  []Bar
	// Max fixes the top of the value axis (e.g. 100 for percentages); 0 picks a
	// round number above the largest value.
	Max float64
	// Counts makes the value axis' steps whole numbers (calls, participants).
	Counts bool
	// Width and Height are the SVG's size in pixels; 0 means 640×240.
	Width, Height int
}

// Layout of the plot area inside the SVG, in pixels.
const (
	marginLeft   = 56
	marginRight  = 12
	marginTop    = 28
	marginBottom = 40
	// maxXLabels is how many x labels fit without overlapping; others are
	// skipped evenly (each bar keeps its value in its tooltip).
	maxXLabels = 10
	yTicks     = 4
)

type svgBar struct {
	X, Y, W, H string
	Tip        string
}

type svgTick struct {
	Y, Label string
}

type svgLabel struct {
	X, Label string
}

type svgData struct {
	Title          string
	Width, Height  int
	Left, Right    int
	Top, Bottom    int
	PlotBottom     int
	XLabelY        int
	Bars           []svgBar
	YTicks         []svgTick
	XLabels        []svgLabel
	Empty          bool
	EmptyX, EmptyY int
}

var svgTemplate = template.Must(template.New("svg").Parse(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}">
<title>{{.Title}}</title>
<text class="chart-title" x="{{.Left}}" y="18" font-size="14" font-weight="bold">{{.Title}}</text>
{{- range .YTicks}}
<line x1="{{$.Left}}" x2="{{$.Right}}" y1="{{.Y}}" y2="{{.Y}}" stroke="#ddd"/>
<text x="{{$.Left}}" dx="-6" y="{{.Y}}" dy="4" font-size="11" text-anchor="end">{{.Label}}</text>
{{- end}}
<line x1="{{.Left}}" x2="{{.Left}}" y1="{{.Top}}" y2="{{.PlotBottom}}" stroke="#333"/>
<line x1="{{.Left}}" x2="{{.Right}}" y1="{{.PlotBottom}}" y2="{{.PlotBottom}}" stroke="#333"/>
{{- range .Bars}}
<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#3b6ea8"><title>{{.Tip}}</title></rect>
{{- end}}
{{- range .XLabels}}
<text x="{{.X}}" y="{{$.XLabelY}}" font-size="11" text-anchor="middle">{{.Label}}</text>
{{- end}}
{{- if .Empty}}
<text x="{{.EmptyX}}" y="{{.EmptyY}}" font-size="12" text-anchor="middle" fill="#666">No data</text>
{{- end}}
</svg>`))

// SVG renders the chart as an inline SVG element.
func (c BarChart) SVG() (template.HTML, error) {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 640
	}
	if h <= 0 {
		h = 240
	}
	d := svgData{Title: c.Title, Width: w, Height: h, Left: marginLeft, Right: w - marginRight, Top: marginTop,
		PlotBottom: h - marginBottom, XLabelY: h - marginBottom + 16}
	plotW, plotH := float64(d.Right-d.Left), float64(d.PlotBottom-d.Top)
	// The value axis: Max in four steps, or round steps (1, 2 or 5 times a
	// power of ten) up to the largest value, so counts get whole labels.
	ticks, step := yTicks, c.Max/yTicks
	if c.Max <= 0 {
		var m float64
		for _, b := range c.Bars {
			if !math.IsNaN(b.Value) && !math.IsInf(b.Value, 0) {
				m = max(m, b.Value)
			}
		}
		step = NiceStep(m / yTicks)
		if c.Counts {
			step = max(step, 1)
		}
		ticks = max(1, int(math.Ceil(m/step-1e-9)))
	}
	top := step * float64(ticks)
	for i := 0; i <= ticks; i++ {
		v := step * float64(i)
		y := float64(d.PlotBottom) - plotH*float64(i)/float64(ticks)
		d.YTicks = append(d.YTicks, svgTick{Y: px(y), Label: Format(v) + c.Unit})
	}
	n := len(c.Bars)
	if n == 0 {
		d.Empty, d.EmptyX, d.EmptyY = true, (d.Left+d.Right)/2, (d.Top+d.PlotBottom)/2
	}
	every := 1 // x label on every bar, or on every few
	if n > maxXLabels {
		every = (n + maxXLabels - 1) / maxXLabels
	}
	for i, b := range c.Bars {
		slot := plotW / float64(n)
		v := b.Value
		if math.IsNaN(v) || v < 0 {
			v = 0
		}
		bh := plotH * min(v/top, 1)
		x := float64(d.Left) + slot*float64(i) + slot*0.1
		d.Bars = append(d.Bars, svgBar{X: px(x), Y: px(float64(d.PlotBottom) - bh), W: px(slot * 0.8), H: px(bh),
			Tip: b.Label + ": " + Format(b.Value) + c.Unit})
		if i%every == 0 {
			d.XLabels = append(d.XLabels, svgLabel{X: px(x + slot*0.4), Label: b.Label})
		}
	}
	var buf bytes.Buffer
	if err := svgTemplate.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("chart: %w", err)
	}
	return template.HTML(buf.String()), nil //nolint:gosec // produced by html/template above
}

// px formats a coordinate with one decimal.
func px(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// NiceStep returns the smallest of 1, 2 or 5 times a power of ten that is at
// least v (1 for v ≤ 0): the step between a value axis' labels.
func NiceStep(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5} {
		if m*p >= v*(1-1e-12) {
			return m * p
		}
	}
	return 10 * p
}

// Format writes a value for an axis or tooltip: whole numbers without
// decimals, others with up to two.
func Format(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}
