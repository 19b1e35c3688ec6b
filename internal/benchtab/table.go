package benchtab

import (
	"fmt"
	"io"
	"strings"
)

// WriteTable writes results as a Markdown table, one row per result:
// metric | subject | reference | ratio | target | verdict. Subject and
// reference are the medians, as CPU per unit for cost rows and units per
// core for capacity rows.
func WriteTable(w io.Writer, results []Result) error {
	rows := [][]string{{"metric", "subject", "reference", "ratio", "target", "verdict"}}
	for _, r := range results {
		ratio := "—"
		if r.Err == nil {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		subject, reference := r.Metric.value(r.SubjectCost), r.Metric.value(r.ReferenceCost)
		if r.Metric.Kind == Count {
			reference = "—" // a count has no reference
			if r.Err != nil {
				subject = "—"
			}
		}
		rows = append(rows, []string{
			r.Metric.Label(),
			subject,
			reference,
			ratio,
			r.Metric.Target.String(),
			r.Verdict(),
		})
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for i, c := range row {
			b.WriteString(" ")
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c))))
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	line(rows[0])
	b.WriteString("|")
	for _, w := range widths {
		b.WriteString(strings.Repeat("-", w+2))
		b.WriteString("|")
	}
	b.WriteString("\n")
	for _, row := range rows[1:] {
		line(row)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
