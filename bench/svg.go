package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// barChart is a horizontal bar chart: one group per category, one bar per
// series in each group. It renders to standalone SVG with no dependency.
type barChart struct {
	Title  string
	Unit   string
	Series []string
	Groups []barGroup
}

type barGroup struct {
	Label string
	// Values has one entry per series; NaN means no bar (missing value).
	Values []float64
}

var barColors = []string{"#1f6fb2", "#e07b25", "#3a9a4a", "#b8403a", "#7a55a8", "#8c6d4f"}

// Layout of a bar chart, in pixels.
const (
	svgWidth    = 760
	svgLabelW   = 190
	svgValueW   = 90
	svgBarH     = 14
	svgGroupGap = 10
	svgTop      = 40
)

// SVG renders the chart.
func (c *barChart) SVG() string {
	maxV := 0.0
	for _, g := range c.Groups {
		for _, v := range g.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				maxV = math.Max(maxV, v)
			}
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	plotW := float64(svgWidth - svgLabelW - svgValueW)
	groupH := len(c.Series)*svgBarH + svgGroupGap
	legendH := 20
	height := svgTop + len(c.Groups)*groupH + legendH + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", 10, html.EscapeString(c.Title+" ("+c.Unit+")"))
	y := svgTop
	for _, g := range c.Groups {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", svgLabelW-6, y+len(c.Series)*svgBarH/2+4, html.EscapeString(g.Label))
		for si, v := range g.Values {
			by := y + si*svgBarH
			if math.IsNaN(v) || math.IsInf(v, 0) {
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#888">n/a</text>`+"\n", svgLabelW+2, by+svgBarH-3)
				continue
			}
			w := v / maxV * plotW
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", svgLabelW, by+1, w, svgBarH-2, barColors[si%len(barColors)])
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", float64(svgLabelW)+w+4, by+svgBarH-3, html.EscapeString(formatValue(v)))
		}
		y += groupH
	}
	x := 10
	for si, s := range c.Series {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", x, y+2, barColors[si%len(barColors)], x+14, y+11, html.EscapeString(s))
		x += 24 + 7*len(s)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// formatValue prints v with three significant digits and a K/M/G suffix.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case a >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case a >= 1e4:
		return fmt.Sprintf("%.3gK", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
