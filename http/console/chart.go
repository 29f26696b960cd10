package console

import (
	"fmt"
	"sort"
)

// Chart geometry, in SVG user units (the SVG scales to its box).
const (
	chartWidth   = 720
	chartHeight  = 280
	chartLeft    = 48 // room for the value axis
	chartBottom  = 36 // room for the category labels
	chartTop     = 12
	chartRight   = 12
	barRowHeight = 24
	barLabelW    = 110
	seriesColors = 6 // CSS classes series-0 … series-5
)

// chart is an SVG bar chart laid out in Go, so that the template only
// draws rectangles and text.
type chart struct {
	ID            string // for aria-labelledby
	Title         string
	Width, Height int
	Bars          []chartBar
	Labels        []chartText // category labels
	Ticks         []chartTick // value axis
	Legend        []chartLegend
	Empty         bool
	AxisX, AxisY  int // origin of the axes
	AxisW, AxisH  int
}

type chartBar struct {
	X, Y, W, H int
	Series     int
	Tip        string // shown on hover and read by screen readers
}

type chartText struct {
	X, Y   int
	Text   string
	Anchor string
}

type chartTick struct {
	Y     int
	Value int
}

type chartLegend struct {
	Series int
	Label  string
}

// stackedColumns lays out one column per category with one segment per
// series: values[category][series].
func stackedColumns(id, title string, categories, series []string, values [][]int) chart {
	c := chart{ID: id, Title: title, Width: chartWidth, Height: chartHeight}
	plotW := chartWidth - chartLeft - chartRight
	plotH := chartHeight - chartTop - chartBottom
	c.AxisX, c.AxisY, c.AxisW, c.AxisH = chartLeft, chartHeight-chartBottom, plotW, plotH
	max := 0
	for _, row := range values {
		sum := 0
		for _, v := range row {
			sum += v
		}
		max = maxInt(max, sum)
	}
	c.Empty = max == 0
	top := niceCeil(max)
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		c.Ticks = append(c.Ticks, chartTick{Y: c.AxisY - plotH*i/4, Value: v})
	}
	if len(categories) == 0 {
		return c
	}
	step := plotW / len(categories)
	barW := maxInt(step*7/10, 2)
	for i, cat := range categories {
		x := chartLeft + i*step + (step-barW)/2
		y := c.AxisY
		for s, v := range values[i] {
			if v == 0 {
				continue
			}
			h := maxInt(plotH*v/top, 1)
			y -= h
			c.Bars = append(c.Bars, chartBar{X: x, Y: y, W: barW, H: h, Series: s % seriesColors,
				Tip: fmt.Sprintf("%s · %s: %d", cat, series[s], v)})
		}
		c.Labels = append(c.Labels, chartText{X: x + barW/2, Y: c.AxisY + 18, Text: cat, Anchor: "middle"})
	}
	for s, name := range series {
		c.Legend = append(c.Legend, chartLegend{Series: s % seriesColors, Label: name})
	}
	return c
}

// horizontalBars lays out one bar per category, largest first, at most limit.
func horizontalBars(id, title string, counts map[string]int, label func(string) string, limit int) (chart, []countRow) {
	rows := sortedCounts(counts, label)
	shown := rows
	if len(shown) > limit {
		shown = shown[:limit]
	}
	c := chart{ID: id, Title: title, Width: chartWidth, Height: chartTop*2 + maxInt(len(shown), 1)*barRowHeight}
	c.Empty = len(shown) == 0
	max := 1
	for _, r := range shown {
		max = maxInt(max, r.Count)
	}
	plotW := chartWidth - barLabelW - chartRight - 48
	for i, r := range shown {
		y := chartTop + i*barRowHeight
		w := maxInt(plotW*r.Count/max, 1)
		c.Bars = append(c.Bars, chartBar{X: barLabelW, Y: y + 3, W: w, H: barRowHeight - 6, Series: 0,
			Tip: fmt.Sprintf("%s: %d", r.Label, r.Count)})
		c.Labels = append(c.Labels, chartText{X: barLabelW - 6, Y: y + barRowHeight/2 + 5, Text: r.Key, Anchor: "end"})
		c.Labels = append(c.Labels, chartText{X: barLabelW + w + 6, Y: y + barRowHeight/2 + 5, Text: fmt.Sprint(r.Count), Anchor: "start"})
	}
	return c, rows
}

// countRow is one line of a chart's table.
type countRow struct {
	Key, Label string
	Count      int
}

func sortedCounts(counts map[string]int, label func(string) string) []countRow {
	var rows []countRow
	for k, n := range counts {
		rows = append(rows, countRow{Key: k, Label: label(k), Count: n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Count != rows[j].Count {
			return rows[i].Count > rows[j].Count
		}
		return rows[i].Key < rows[j].Key
	})
	return rows
}

// niceCeil returns the top of the value axis: four ticks of 1, 2 or 5
// times a power of ten, at least n.
func niceCeil(n int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if 4*m*p >= n {
				return 4 * m * p
			}
		}
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
