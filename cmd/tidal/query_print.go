package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/timestreamquery/types"
)

// The printers of tidal query: table, csv and json.

// resultPrinter writes a result as it arrives page by page.
type resultPrinter interface {
	start(cols []types.ColumnInfo)
	rows(rows []types.Row) error
	finish() error
}

// datumText renders a datum as text: scalars as sent, NULL as null, arrays
// as [a, b], rows as {name=value, ...} and time series as
// [{time=..., value=...}, ...], the way Trino's CLI does.
func datumText(d *types.Datum, t *types.Type, null string) string {
	var b strings.Builder
	writeDatumText(&b, d, t, null)
	return b.String()
}

func writeDatumText(b *strings.Builder, d *types.Datum, t *types.Type, null string) {
	switch {
	case d.NullValue != nil && *d.NullValue:
		b.WriteString(null)
	case d.ScalarValue != nil:
		b.WriteString(*d.ScalarValue)
	case d.ArrayValue != nil:
		var et *types.Type
		if t != nil && t.ArrayColumnInfo != nil {
			et = t.ArrayColumnInfo.Type
		}
		b.WriteByte('[')
		for i := range d.ArrayValue {
			if i > 0 {
				b.WriteString(", ")
			}
			writeDatumText(b, &d.ArrayValue[i], et, "NULL")
		}
		b.WriteByte(']')
	case d.RowValue != nil:
		b.WriteByte('{')
		for i := range d.RowValue.Data {
			if i > 0 {
				b.WriteString(", ")
			}
			name, ft := fieldInfo(t, i)
			b.WriteString(name)
			b.WriteByte('=')
			writeDatumText(b, &d.RowValue.Data[i], ft, "NULL")
		}
		b.WriteByte('}')
	case d.TimeSeriesValue != nil:
		var et *types.Type
		if t != nil && t.TimeSeriesMeasureValueColumnInfo != nil {
			et = t.TimeSeriesMeasureValueColumnInfo.Type
		}
		b.WriteByte('[')
		for i, p := range d.TimeSeriesValue {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{time=")
			b.WriteString(aws.ToString(p.Time))
			b.WriteString(", value=")
			if p.Value != nil {
				writeDatumText(b, p.Value, et, "NULL")
			} else {
				b.WriteString("NULL")
			}
			b.WriteByte('}')
		}
		b.WriteByte(']')
	default:
		b.WriteString(null)
	}
}

// fieldInfo returns the name and type of field i of a ROW type; unnamed
// fields are called field0, field1, ...
func fieldInfo(t *types.Type, i int) (string, *types.Type) {
	if t != nil && i < len(t.RowColumnInfo) {
		f := t.RowColumnInfo[i]
		if name := aws.ToString(f.Name); name != "" {
			return name, f.Type
		}
		return "field" + strconv.Itoa(i), f.Type
	}
	return "field" + strconv.Itoa(i), nil
}

// tablePrinter collects the whole result and prints an aligned table no
// wider than width (<= 0: no limit), truncating long cells with "…".
type tablePrinter struct {
	w      io.Writer
	width  int
	cols   []types.ColumnInfo
	header []string
	cells  [][]string
}

func (p *tablePrinter) start(cols []types.ColumnInfo) {
	p.cols = cols
	p.header = make([]string, len(cols))
	for i, c := range cols {
		p.header[i] = aws.ToString(c.Name)
	}
}

func (p *tablePrinter) rows(rows []types.Row) error {
	for _, r := range rows {
		line := make([]string, len(p.cols))
		for i := range line {
			if i < len(r.Data) {
				line[i] = datumText(&r.Data[i], p.cols[i].Type, "NULL")
			}
		}
		p.cells = append(p.cells, line)
	}
	return nil
}

func (p *tablePrinter) finish() error {
	if p.cols == nil {
		return nil
	}
	widths := make([]int, len(p.cols))
	for i, h := range p.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, line := range p.cells {
		for i, c := range line {
			widths[i] = max(widths[i], cellWidth(c))
		}
	}
	fitWidths(widths, p.width)
	right := make([]bool, len(p.cols))
	for i, c := range p.cols {
		if c.Type != nil {
			switch c.Type.ScalarType {
			case types.ScalarTypeBigint, types.ScalarTypeInteger, types.ScalarTypeDouble:
				right[i] = true
			}
		}
	}
	bw := bufio.NewWriter(p.w)
	writeTableLine(bw, p.header, widths, nil)
	for i, w := range widths {
		if i > 0 {
			bw.WriteByte('+')
		}
		bw.WriteString(strings.Repeat("-", w+2))
	}
	bw.WriteByte('\n')
	for _, line := range p.cells {
		writeTableLine(bw, line, widths, right)
	}
	return bw.Flush()
}

// cellWidth is the display width of a cell: runes, with newlines shown as
// spaces.
func cellWidth(s string) int { return utf8.RuneCountInString(s) }

// fitWidths shrinks the widest columns until the table (cells plus " | "
// separators and the outer spaces) fits in total; no column goes below 4.
func fitWidths(widths []int, total int) {
	if total <= 0 || len(widths) == 0 {
		return
	}
	const minWidth = 4
	overhead := 3*len(widths) - 1
	for {
		sum := overhead
		widest := 0
		for i, w := range widths {
			sum += w
			if w > widths[widest] {
				widest = i
			}
		}
		if sum <= total || widths[widest] <= minWidth {
			return
		}
		// Take the excess from the widest column, but not below the
		// next widest, so wide columns shrink together.
		second := minWidth
		for i, w := range widths {
			if i != widest && w > second {
				second = w
			}
		}
		cut := min(sum-total, max(widths[widest]-second, 1))
		widths[widest] = max(widths[widest]-cut, minWidth)
	}
}

// controlSpaces shows line breaks and tabs in table cells as spaces.
var controlSpaces = strings.NewReplacer("\n", " ", "\r", " ", "\t", " ")

func writeTableLine(bw *bufio.Writer, cells []string, widths []int, right []bool) {
	for i, w := range widths {
		if i > 0 {
			bw.WriteString("|")
		}
		c := controlSpaces.Replace(cells[i])
		c = truncateCell(c, w)
		pad := strings.Repeat(" ", w-utf8.RuneCountInString(c))
		bw.WriteByte(' ')
		if right != nil && right[i] {
			bw.WriteString(pad)
			bw.WriteString(c)
		} else {
			bw.WriteString(c)
			if i < len(widths)-1 {
				bw.WriteString(pad)
			}
		}
		if i < len(widths)-1 {
			bw.WriteByte(' ')
		}
	}
	bw.WriteByte('\n')
}

// truncateCell shortens s to w runes, ending in "…" when cut.
func truncateCell(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	if w <= 1 {
		return "…"
	}
	n := 0
	for i := range s {
		if n == w-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// csvPrinter writes RFC 4180 CSV with a header line; NULL is empty.
type csvPrinter struct {
	w    *csv.Writer
	cols []types.ColumnInfo
}

func (p *csvPrinter) start(cols []types.ColumnInfo) {
	p.cols = cols
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = aws.ToString(c.Name)
	}
	_ = p.w.Write(header) // errors surface from Flush/Error
}

func (p *csvPrinter) rows(rows []types.Row) error {
	for _, r := range rows {
		line := make([]string, len(p.cols))
		for i := range line {
			if i < len(r.Data) {
				line[i] = datumText(&r.Data[i], p.cols[i].Type, "")
			}
		}
		if err := p.w.Write(line); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	return nil
}

func (p *csvPrinter) finish() error {
	p.w.Flush()
	return p.w.Error()
}

// jsonPrinter writes one JSON object per row, keys in column order, with
// BIGINT, INTEGER and finite DOUBLE values as numbers, BOOLEAN as booleans,
// NULL as null, arrays and time series as arrays and rows as objects.
type jsonPrinter struct {
	w    *bufio.Writer
	cols []types.ColumnInfo
	buf  []byte
}

func (p *jsonPrinter) start(cols []types.ColumnInfo) { p.cols = cols }

func (p *jsonPrinter) rows(rows []types.Row) error {
	for _, r := range rows {
		b := append(p.buf[:0], '{')
		for i, c := range p.cols {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONText(b, aws.ToString(c.Name))
			b = append(b, ':')
			if i < len(r.Data) {
				b = appendDatumJSON(b, &r.Data[i], c.Type)
			} else {
				b = append(b, "null"...)
			}
		}
		b = append(b, '}', '\n')
		p.buf = b
		if _, err := p.w.Write(b); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
	}
	return nil
}

func (p *jsonPrinter) finish() error { return p.w.Flush() }

func appendJSONText(b []byte, s string) []byte {
	data, _ := json.Marshal(s) // a string always marshals
	return append(b, data...)
}

func appendDatumJSON(b []byte, d *types.Datum, t *types.Type) []byte {
	switch {
	case d.NullValue != nil && *d.NullValue:
		return append(b, "null"...)
	case d.ScalarValue != nil:
		s := *d.ScalarValue
		st := types.ScalarTypeVarchar
		if t != nil {
			st = t.ScalarType
		}
		switch st {
		case types.ScalarTypeBigint, types.ScalarTypeInteger:
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				return append(b, s...)
			}
		case types.ScalarTypeDouble:
			if f, err := strconv.ParseFloat(s, 64); err == nil && !isNonFinite(s) {
				return strconv.AppendFloat(b, f, 'g', -1, 64)
			}
		case types.ScalarTypeBoolean:
			if s == "true" || s == "false" {
				return append(b, s...)
			}
		}
		return appendJSONText(b, s)
	case d.ArrayValue != nil:
		var et *types.Type
		if t != nil && t.ArrayColumnInfo != nil {
			et = t.ArrayColumnInfo.Type
		}
		b = append(b, '[')
		for i := range d.ArrayValue {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDatumJSON(b, &d.ArrayValue[i], et)
		}
		return append(b, ']')
	case d.RowValue != nil:
		b = append(b, '{')
		for i := range d.RowValue.Data {
			if i > 0 {
				b = append(b, ',')
			}
			name, ft := fieldInfo(t, i)
			b = appendJSONText(b, name)
			b = append(b, ':')
			b = appendDatumJSON(b, &d.RowValue.Data[i], ft)
		}
		return append(b, '}')
	case d.TimeSeriesValue != nil:
		var et *types.Type
		if t != nil && t.TimeSeriesMeasureValueColumnInfo != nil {
			et = t.TimeSeriesMeasureValueColumnInfo.Type
		}
		b = append(b, '[')
		for i, pt := range d.TimeSeriesValue {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"time":`...)
			b = appendJSONText(b, aws.ToString(pt.Time))
			b = append(b, `,"value":`...)
			if pt.Value != nil {
				b = appendDatumJSON(b, pt.Value, et)
			} else {
				b = append(b, "null"...)
			}
			b = append(b, '}')
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

func isNonFinite(s string) bool {
	return strings.Contains(s, "NaN") || strings.Contains(s, "Infinity")
}
