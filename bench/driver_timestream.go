package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite"
	"github.com/aws/aws-sdk-go-v2/service/timestreamwrite/types"

	"github.com/tidaldb/tidal/bench/tsbs"
)

// timestreamMaxRecords is Timestream's limit of records per WriteRecords.
const timestreamMaxRecords = 100

// Retention the Timestream driver gives the tables it creates: the largest
// memory-store retention Timestream allows, so that back-dated workloads
// are accepted.
const (
	timestreamMemoryHours  = 8766
	timestreamMagneticDays = 73000
)

// timestreamDriver writes with the AWS SDK v2 timestreamwrite client, as a
// Timestream user would: one single-measure DOUBLE record per field, the
// point's tags as dimensions, one table per measurement (the TSBS
// Timestream loader's shape), at most 100 records per WriteRecords.
type timestreamDriver struct {
	c *timestreamwrite.Client
	// memoryHours is the memory-store retention of the tables Prepare
	// creates; 0 means the largest Timestream allows.
	memoryHours int64
}

func newTimestreamDriver(baseURL string, hc *http.Client) *timestreamDriver {
	return &timestreamDriver{c: timestreamwrite.New(timestreamwrite.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("tidal-bench", "tidal-bench", ""),
		BaseEndpoint: aws.String(baseURL),
		HTTPClient:   hc,
		EndpointDiscovery: timestreamwrite.EndpointDiscoveryOptions{
			EnableEndpointDiscovery: aws.EndpointDiscoveryDisabled,
		},
		RetryMaxAttempts: 3,
	})}
}

func (d *timestreamDriver) Name() string  { return DriverTimestream }
func (d *timestreamDriver) MaxBatch() int { return timestreamMaxRecords }

// Prepare creates the database and one table per measurement; existing
// ones are kept.
func (d *timestreamDriver) Prepare(ctx context.Context, measurements []string) error {
	var conflict *types.ConflictException
	_, err := d.c.CreateDatabase(ctx, &timestreamwrite.CreateDatabaseInput{DatabaseName: aws.String(Database)})
	if err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("create database %s: %w", Database, err)
	}
	mem := d.memoryHours
	if mem <= 0 || mem > timestreamMemoryHours {
		mem = timestreamMemoryHours
	}
	for _, m := range measurements {
		_, err := d.c.CreateTable(ctx, &timestreamwrite.CreateTableInput{
			DatabaseName: aws.String(Database),
			TableName:    aws.String(m),
			RetentionProperties: &types.RetentionProperties{
				MemoryStoreRetentionPeriodInHours:  aws.Int64(mem),
				MagneticStoreRetentionPeriodInDays: aws.Int64(timestreamMagneticDays),
			},
		})
		if err != nil && !errors.As(err, &conflict) {
			return fmt.Errorf("create table %s.%s: %w", Database, m, err)
		}
	}
	return nil
}

// Write sends pts in WriteRecords calls of at most 100 records, one table
// per call: the points of each measurement are sent together, in order,
// so that interleaved measurements (the IoT trucks' readings and
// diagnostics) still fill whole requests.
func (d *timestreamDriver) Write(ctx context.Context, pts []tsbs.Point) error {
	var order []string
	byTable := map[string][]int{}
	for i := range pts {
		m := pts[i].Measurement
		if _, ok := byTable[m]; !ok {
			order = append(order, m)
		}
		byTable[m] = append(byTable[m], i)
	}
	recs := make([]types.Record, 0, timestreamMaxRecords)
	for _, table := range order {
		flush := func() error {
			if len(recs) == 0 {
				return nil
			}
			_, err := d.c.WriteRecords(ctx, &timestreamwrite.WriteRecordsInput{
				DatabaseName: aws.String(Database), TableName: aws.String(table), Records: recs,
			})
			recs = recs[:0]
			if err != nil {
				return fmt.Errorf("write records to %s.%s: %w", Database, table, err)
			}
			return nil
		}
		for _, pi := range byTable[table] {
			p := &pts[pi]
			dims := make([]types.Dimension, len(p.Tags))
			for i, t := range p.Tags {
				dims[i] = types.Dimension{Name: aws.String(t.Key), Value: aws.String(t.Value), DimensionValueType: types.DimensionValueTypeVarchar}
			}
			ts := aws.String(strconv.FormatInt(p.Time, 10))
			for fi := range p.Fields {
				f := &p.Fields[fi]
				recs = append(recs, types.Record{
					Dimensions:       dims,
					MeasureName:      aws.String(f.Name),
					MeasureValue:     aws.String(strconv.FormatFloat(f.Value(), 'f', -1, 64)),
					MeasureValueType: types.MeasureValueTypeDouble,
					Time:             ts,
					TimeUnit:         types.TimeUnitNanoseconds,
				})
				if len(recs) == timestreamMaxRecords {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
	}
	return nil
}
