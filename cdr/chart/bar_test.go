package chart

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// parse checks that svg is well-formed XML and returns its text content and
// the count of each element.
func parse(t *testing.T, svg string) (string, map[string]int) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var text strings.Builder
	elems := map[string]int{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed SVG: %v\n%s", err, svg)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			elems[tk.Name.Local]++
		case xml.CharData:
			text.Write(tk)
			text.WriteByte('|')
		}
	}
	return text.String(), elems
}

func TestBarChartSVG(t *testing.T) {
	t.Run("bars, axis labels and tooltips", func(t *testing.T) {
		svg, err := BarChart{Title: "Calls per day", Bars: []Bar{{"03-01", 3}, {"03-02", 7}, {"03-03", 0}}}.SVG()
		if err != nil {
			t.Fatal(err)
		}
		text, elems := parse(t, string(svg))
		if elems["svg"] != 1 || elems["rect"] != 3 {
			t.Errorf("elements %v, want one svg and three rects", elems)
		}
		// The axis goes up to 8 in steps of 2, the round step that reaches 7 in four.
		for _, want := range []string{"Calls per day|", "|0|", "|2|", "|4|", "|6|", "|8|", "03-01|", "03-02: 7|", "03-03: 0|"} {
			if !strings.Contains(text, want) {
				t.Errorf("text %q lacks %q", text, want)
			}
		}
	})
	t.Run("text with markup is escaped, not run", func(t *testing.T) {
		svg, err := BarChart{Title: `<script>alert(1)</script>`, Unit: `"&`, Bars: []Bar{{`<b onload="x">`, 1}}}.SVG()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(svg), "<script") || strings.Contains(string(svg), "<b ") {
			t.Errorf("markup reached the SVG: %s", svg)
		}
		text, elems := parse(t, string(svg))
		if elems["script"] != 0 || !strings.Contains(text, "<script>alert(1)</script>") || !strings.Contains(text, `<b onload="x">: 1"&`) {
			t.Errorf("text %q, elements %v", text, elems)
		}
	})
	t.Run("a fixed maximum caps the bars", func(t *testing.T) {
		svg, _ := BarChart{Max: 100, Unit: "%", Height: 240, Bars: []Bar{{"a", 150}, {"b", 50}}}.SVG()
		// The plot is 240-28-40 = 172 px high; the first bar fills it, the second half.
		if !strings.Contains(string(svg), `height="172.0"`) || !strings.Contains(string(svg), `height="86.0"`) {
			t.Errorf("bar heights wrong: %s", svg)
		}
		if text, _ := parse(t, string(svg)); !strings.Contains(text, "|100%|") {
			t.Errorf("axis lacks 100%%: %q", text)
		}
	})
	t.Run("counts get whole steps", func(t *testing.T) {
		svg, _ := BarChart{Counts: true, Bars: []Bar{{"a", 1}}}.SVG()
		if text, _ := parse(t, string(svg)); strings.Contains(text, "0.") || !strings.Contains(text, "|1|") {
			t.Errorf("axis %q, want 0 and 1 only", text)
		}
	})
	t.Run("no bars says so", func(t *testing.T) {
		svg, _ := BarChart{Title: "Empty"}.SVG()
		if text, _ := parse(t, string(svg)); !strings.Contains(text, "No data") {
			t.Errorf("text %q", text)
		}
	})
	t.Run("many bars get at most ten x labels", func(t *testing.T) {
		bars := make([]Bar, 90)
		for i := range bars {
			bars[i] = Bar{Label: "d", Value: float64(i)}
		}
		svg, _ := BarChart{Bars: bars}.SVG()
		_, elems := parse(t, string(svg))
		// The y labels (one per grid line), the title, and the x labels.
		if x := elems["text"] - strings.Count(string(svg), `stroke="#ddd"`) - 1; x > 10 || x < 9 {
			t.Errorf("%d x labels, want 9 or 10", x)
		}
	})
}

func TestNiceStep(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0, 1}, {-3, 1}, {0.3, 0.5}, {1, 1}, {1.1, 2}, {2.5, 5}, {7, 10}, {21, 50}, {100, 100}, {101, 200},
	} {
		if got := NiceStep(tt.in); got != tt.want {
			t.Errorf("NiceStep(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{{0, "0"}, {12, "12"}, {2.5, "2.5"}, {33.3333, "33.33"}, {0.005, "0.01"}} {
		if got := Format(tt.in); got != tt.want {
			t.Errorf("Format(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzBarChart(f *testing.F) {
	f.Add("Calls", "03-01", 3.0, "")
	f.Add("<x>", "&amp;", -1.0, "%")
	f.Fuzz(func(t *testing.T, title, label string, v float64, unit string) {
		svg, err := BarChart{Title: title, Unit: unit, Bars: []Bar{{label, v}, {label, v * 2}}}.SVG()
		if err != nil {
			return
		}
		dec := xml.NewDecoder(strings.NewReader(string(svg)))
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				return
			}
			if err != nil {
				// Invalid UTF-8 or XML-forbidden control characters in the
				// input may make the XML unparseable; markup must never appear.
				return
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local != "svg" && se.Name.Local != "title" &&
				se.Name.Local != "text" && se.Name.Local != "line" && se.Name.Local != "rect" {
				t.Fatalf("unexpected element %q from input", se.Name.Local)
			}
		}
	})
}
