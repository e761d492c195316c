package main

import (
	"fmt"

	"github.com/tidaldb/tidal/ingest"
	"github.com/tidaldb/tidal/ingest/pipeline"
	"github.com/tidaldb/tidal/internal/config"
)

// pipelineOptions maps one configured pipeline onto pipeline.Options.
func pipelineOptions(c config.Pipeline, metrics *pipeline.Metrics) (pipeline.Options, error) {
	m := pipeline.Mapping{
		Database: c.Mapping.Database, Table: c.Mapping.Table, DeadLetterTable: c.Mapping.DeadLetterTable,
		Time:       pipeline.TimeField{Field: c.Mapping.Time.Field, Unit: c.Mapping.Time.Unit, Layout: c.Mapping.Time.Layout},
		Dimensions: c.Mapping.Dimensions, Single: c.Mapping.Records == "single", MeasureName: c.Mapping.MeasureName,
	}
	for _, ms := range c.Mapping.Measures {
		typ, err := ingest.ParseValueType(ms.Type)
		if err != nil {
			return pipeline.Options{}, fmt.Errorf("pipeline %s: measure %s: %w", c.Name, ms.Field, err)
		}
		m.Measures = append(m.Measures, pipeline.MeasureField{Field: ms.Field, Type: typ})
	}
	return pipeline.Options{Name: c.Name, Source: c.Source.Kind(), Format: c.Format, Mapping: m, Metrics: metrics}, nil
}
