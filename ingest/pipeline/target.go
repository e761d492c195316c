package pipeline

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tidaldb/tidal/catalog"
	"github.com/tidaldb/tidal/ingest"
)

// DefaultMaxTargets bounds the distinct tables a templated target may
// create.
const DefaultMaxTargets = 100

// nameTemplate is a database or table name with {{.field}} parts taken from
// each JSON object ("{{.device_type}}", "fleet_{{.meta.region}}").
type nameTemplate struct {
	parts []tmplPart
}

// tmplPart is a literal, or (field != "") a field's value.
type tmplPart struct {
	lit, field string
}

// parseTemplate parses s; a name without "{{" is one literal.
func parseTemplate(s string) (nameTemplate, error) {
	var t nameTemplate
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			if strings.Contains(s, "}}") {
				return t, fmt.Errorf("template %q: '}}' without '{{'", s)
			}
			t.parts = append(t.parts, tmplPart{lit: s})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return t, fmt.Errorf("template %q: '{{' without '}}'", s)
		}
		f := strings.TrimSpace(s[i+2 : i+j])
		if !strings.HasPrefix(f, ".") || len(f) < 2 || strings.ContainsAny(f, " {}") || strings.Contains(f, "..") || strings.HasSuffix(f, ".") {
			return t, fmt.Errorf("template %q: want {{.field}} or {{.path.to.field}}, got {{%s}}", s, f)
		}
		t.parts = append(t.parts, tmplPart{field: f[1:]})
		s = s[i+j+2:]
	}
	return t, nil
}

// templated reports whether t takes a field's value.
func (t nameTemplate) templated() bool {
	return slices.ContainsFunc(t.parts, func(p tmplPart) bool { return p.field != "" })
}

// render fills t from the record's field values.
func (t nameTemplate) render(value func(field string) (string, bool)) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == "" {
			b.WriteString(p.lit)
			continue
		}
		v, ok := value(p.field)
		if !ok {
			return "", fmt.Errorf("field %q is missing", p.field)
		}
		b.WriteString(v)
	}
	name := b.String()
	if !catalog.ValidName(name) {
		return "", fmt.Errorf("%q is not a valid name (%d to %d letters, digits, '_', '.' or '-')", name, catalog.MinNameLen, catalog.MaxNameLen)
	}
	return name, nil
}

// target is one resolved database and table.
type target struct{ db, table string }

// targets resolves each record's database and table when the mapping's
// are templated. A template field that is not a configured dimension is
// decoded as a hidden one and stripped from the record.
type targets struct {
	db, table nameTemplate
	// hidden are the dimension names added for template fields only.
	hidden []string
	// defaultMeasure: records named after the table template get the
	// resolved table as measure name.
	tableMeasure string
	max          int
}

// newTargets parses m's target templates; nil when neither is templated.
// It returns the mapping the decoder must use (with the hidden
// dimensions).
func newTargets(m Mapping, format string) (*targets, Mapping, error) {
	db, err := parseTemplate(m.Database)
	if err != nil {
		return nil, m, fmt.Errorf("mapping.database: %w", err)
	}
	table, err := parseTemplate(m.Table)
	if err != nil {
		return nil, m, fmt.Errorf("mapping.table: %w", err)
	}
	if !db.templated() && !table.templated() {
		return nil, m, nil
	}
	if format != FormatJSON {
		return nil, m, errors.New("mapping: a templated database or table needs format json")
	}
	if db.templated() && m.DeadLetterDatabase == "" {
		return nil, m, errors.New("mapping.dead_letter_database is required when the database is templated")
	}
	t := &targets{db: db, table: table, max: m.MaxTargets}
	if t.max <= 0 {
		t.max = DefaultMaxTargets
	}
	if m.MeasureName == "" && !m.Single {
		t.tableMeasure = m.Table
	}
	dm := m
	dm.Dimensions = slices.Clone(m.Dimensions)
	for _, tp := range [][]tmplPart{db.parts, table.parts} {
		for _, p := range tp {
			if p.field == "" || slices.Contains(dm.Dimensions, p.field) {
				continue
			}
			if slices.ContainsFunc(dm.Dimensions, func(d string) bool { return lastElem(d) == lastElem(p.field) }) {
				return nil, m, fmt.Errorf("mapping: template field %q has the name of another dimension", p.field)
			}
			dm.Dimensions = append(dm.Dimensions, p.field)
			t.hidden = append(t.hidden, lastElem(p.field))
		}
	}
	return t, dm, nil
}

// resolve returns r's target and strips the hidden dimensions from r.
func (t *targets) resolve(r *ingest.Record) (target, error) {
	value := func(field string) (string, bool) {
		n := lastElem(field)
		for _, d := range r.Dimensions {
			if d.Name == n {
				return d.Value, true
			}
		}
		return "", false
	}
	db, err := t.db.render(value)
	if err != nil {
		return target{}, fmt.Errorf("database template: %w", err)
	}
	table, err := t.table.render(value)
	if err != nil {
		return target{}, fmt.Errorf("table template: %w", err)
	}
	if len(t.hidden) > 0 {
		dims := make([]ingest.Dimension, 0, len(r.Dimensions))
		for _, d := range r.Dimensions {
			if !slices.Contains(t.hidden, d.Name) {
				dims = append(dims, d)
			}
		}
		r.Dimensions = dims
	}
	if t.tableMeasure != "" && r.MeasureName == t.tableMeasure {
		r.MeasureName = table
	}
	return target{db, table}, nil
}
