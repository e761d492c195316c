package scheduled

import (
	"fmt"
	"math"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/query/exec"
)

// mapper turns result rows into records as a TimestreamConfiguration
// says. It is compiled once per run against the result columns.
type mapper struct {
	timeCol  int
	dims     []dimCol
	nameCol  int // MeasureNameColumn, -1 when unset
	multi    *multiMap
	mixed    []mixedMap
	colNames []string
}

type dimCol struct {
	name string
	col  int
}

type attrCol struct {
	name string
	col  int
	typ  ingest.ValueType
}

type multiMap struct {
	measureName string // fixed name, or "" to take nameCol
	attrs       []attrCol
}

type mixedMap struct {
	match       string // row's MeasureNameColumn must equal it when nameCol >= 0
	measureName string
	single      *attrCol // single-measure source
	attrs       []attrCol
}

// mappingError is a result that does not fit the target mapping; it fails
// the run (and is a ValidationException at create time).
type mappingError struct{ msg string }

func (e *mappingError) Error() string { return e.msg }

func mappingErrorf(format string, args ...any) error {
	return &mappingError{msg: fmt.Sprintf(format, args...)}
}

// compileMapping checks tc against the result columns cols.
func compileMapping(tc *TimestreamConfiguration, cols []exec.Column) (*mapper, error) {
	idx := make(map[string]int, len(cols))
	m := &mapper{nameCol: -1, colNames: make([]string, len(cols))}
	for i, c := range cols {
		idx[c.Name] = i
		m.colNames[i] = c.Name
	}
	find := func(what, name string, kinds ...exec.Kind) (int, error) {
		i, ok := idx[name]
		if !ok {
			return 0, mappingErrorf("The %s '%s' is not a column of the query result.", what, name)
		}
		k := cols[i].Type.Kind
		if k == exec.KindUnknown {
			return i, nil // An all-NULL column fits any type.
		}
		for _, want := range kinds {
			if k == want {
				return i, nil
			}
		}
		return 0, mappingErrorf("The %s '%s' has type %s; expected %s.", what, name, cols[i].Type, kinds[0])
	}
	var err error
	if m.timeCol, err = find("time column", tc.TimeColumn, exec.KindTimestamp); err != nil {
		return nil, err
	}
	for _, d := range tc.DimensionMappings {
		i, err := find("dimension", d.Name, exec.KindVarchar)
		if err != nil {
			return nil, err
		}
		m.dims = append(m.dims, dimCol{name: d.Name, col: i})
	}
	if tc.MeasureNameColumn != "" {
		if m.nameCol, err = find("measure name column", tc.MeasureNameColumn, exec.KindVarchar); err != nil {
			return nil, err
		}
	}
	attrs := func(ms []MultiMeasureAttributeMapping) ([]attrCol, error) {
		out := make([]attrCol, 0, len(ms))
		for _, a := range ms {
			ac, err := attr(a.SourceColumn, a.TargetMultiMeasureAttributeName, a.MeasureValueType, find)
			if err != nil {
				return nil, err
			}
			out = append(out, ac)
		}
		return out, nil
	}
	if mm := tc.MultiMeasureMappings; mm != nil {
		m.multi = &multiMap{measureName: mm.TargetMultiMeasureName}
		if m.multi.measureName == "" && m.nameCol < 0 {
			return nil, mappingErrorf("TargetMultiMeasureName is required when MeasureNameColumn is not given.")
		}
		if m.multi.attrs, err = attrs(mm.MultiMeasureAttributeMappings); err != nil {
			return nil, err
		}
	}
	for _, mx := range tc.MixedMeasureMappings {
		mm := mixedMap{match: mx.MeasureName, measureName: mx.TargetMeasureName}
		if mm.measureName == "" {
			mm.measureName = mx.MeasureName
		}
		if mx.MeasureValueType == "MULTI" {
			if mm.measureName == "" {
				return nil, mappingErrorf("A MULTI mixed measure mapping needs TargetMeasureName or MeasureName.")
			}
			if mm.attrs, err = attrs(mx.MultiMeasureAttributeMappings); err != nil {
				return nil, err
			}
		} else {
			if mx.SourceColumn == "" {
				return nil, mappingErrorf("A single-measure mixed measure mapping needs SourceColumn.")
			}
			ac, err := attr(mx.SourceColumn, "", mx.MeasureValueType, find)
			if err != nil {
				return nil, err
			}
			if mm.measureName == "" {
				mm.measureName = mx.SourceColumn
			}
			mm.single = &ac
		}
		m.mixed = append(m.mixed, mm)
	}
	return m, nil
}

func attr(src, target, typ string, find func(string, string, ...exec.Kind) (int, error)) (attrCol, error) {
	vt, err := ingest.ParseValueType(typ)
	if err != nil || typ == "" || vt == ingest.TypeMulti {
		return attrCol{}, mappingErrorf("MeasureValueType '%s' of '%s' is not one of BIGINT, BOOLEAN, DOUBLE, VARCHAR, TIMESTAMP.", typ, src)
	}
	var kinds []exec.Kind
	switch vt {
	case ingest.TypeBigint:
		kinds = []exec.Kind{exec.KindBigint, exec.KindInteger}
	case ingest.TypeDouble:
		kinds = []exec.Kind{exec.KindDouble, exec.KindBigint, exec.KindInteger}
	case ingest.TypeVarchar:
		kinds = []exec.Kind{exec.KindVarchar}
	case ingest.TypeBoolean:
		kinds = []exec.Kind{exec.KindBoolean}
	case ingest.TypeTimestamp:
		kinds = []exec.Kind{exec.KindTimestamp}
	}
	i, err := find("source column", src, kinds...)
	if err != nil {
		return attrCol{}, err
	}
	if target == "" {
		target = src
	}
	return attrCol{name: target, col: i, typ: vt}, nil
}

// convert returns v as a measure value of type t; ok is false for NULL.
func convert(v exec.Value, t ingest.ValueType) (ingest.Value, bool, error) {
	if v.Null || v.Kind == exec.KindUnknown {
		return ingest.Value{}, false, nil
	}
	switch t {
	case ingest.TypeDouble:
		f := v.F
		if v.Kind != exec.KindDouble {
			f = float64(v.I)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return ingest.Value{}, false, fmt.Errorf("DOUBLE value %v cannot be written", f)
		}
		return ingest.Float(f), true, nil
	case ingest.TypeBigint:
		return ingest.Int(v.I), true, nil
	case ingest.TypeVarchar:
		return ingest.String(v.S), true, nil
	case ingest.TypeBoolean:
		return ingest.Bool(v.B), true, nil
	case ingest.TypeTimestamp:
		return ingest.Timestamp(v.I), true, nil
	}
	return ingest.Value{}, false, fmt.Errorf("unsupported measure value type %s", t)
}

// records appends the records of one result row to dst. A row with a NULL
// time, or whose measures are all NULL, yields nothing; a value that
// cannot be written is an error naming the column.
func (m *mapper) records(dst []ingest.Record, row []exec.Value) ([]ingest.Record, error) {
	tv := row[m.timeCol]
	if tv.Null {
		return dst, mappingErrorf("The time column '%s' is NULL.", m.colNames[m.timeCol])
	}
	var dims []ingest.Dimension
	for _, d := range m.dims {
		v := row[d.col]
		if v.Null || v.S == "" {
			continue
		}
		dims = append(dims, ingest.Dimension{Name: d.name, Value: v.S})
	}
	rowName := ""
	if m.nameCol >= 0 {
		if v := row[m.nameCol]; !v.Null {
			rowName = v.S
		}
	}
	measures := func(attrs []attrCol) ([]ingest.Measure, error) {
		var out []ingest.Measure
		for _, a := range attrs {
			val, ok, err := convert(row[a.col], a.typ)
			if err != nil {
				return nil, fmt.Errorf("column '%s': %w", m.colNames[a.col], err)
			}
			if ok {
				out = append(out, ingest.Measure{Name: a.name, Value: val})
			}
		}
		return out, nil
	}
	if m.multi != nil {
		name := m.multi.measureName
		if m.nameCol >= 0 {
			name = rowName
		}
		ms, err := measures(m.multi.attrs)
		if err != nil {
			return dst, err
		}
		if len(ms) > 0 && name != "" {
			dst = append(dst, ingest.Record{Time: tv.I, Dimensions: dims, MeasureName: name, Measures: ms})
		}
		return dst, nil
	}
	for _, mx := range m.mixed {
		if m.nameCol >= 0 && mx.match != "" && mx.match != rowName {
			continue
		}
		rec := ingest.Record{Time: tv.I, Dimensions: dims, MeasureName: mx.measureName}
		if mx.single != nil {
			val, ok, err := convert(row[mx.single.col], mx.single.typ)
			if err != nil {
				return dst, fmt.Errorf("column '%s': %w", m.colNames[mx.single.col], err)
			}
			if !ok {
				continue
			}
			rec.Value = val
		} else {
			ms, err := measures(mx.attrs)
			if err != nil {
				return dst, err
			}
			if len(ms) == 0 {
				continue
			}
			rec.Measures = ms
		}
		dst = append(dst, rec)
	}
	return dst, nil
}
