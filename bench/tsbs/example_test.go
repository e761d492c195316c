package tsbs_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tidaldb/tidal/bench/tsbs"
)

func Example() {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	g, err := tsbs.New(tsbs.Config{UseCase: "cpu-only", Scale: 2, Start: start, End: start.Add(20 * time.Second), Seed: 123})
	if err != nil {
		fmt.Println(err)
		return
	}
	var p tsbs.Point
	var buf []byte
	n := 0
	for g.Next(&p) {
		buf = p.AppendInflux(buf)
		n++
	}
	fmt.Println(n, "points,", len(tsbs.ToRecords(&p, false)), "records in the last one")
	name, labels, value := p.Labels(0, nil)
	fmt.Println(name, labels[0], value)
	// Output:
	// 4 points, 10 records in the last one
	// cpu_usage_user {arch x64} 82
}

func ExampleReadInflux() {
	in := "cpu,hostname=host_0,region=eu-west-1 usage_user=58i,usage_system=2i 1704067200000000000\n"
	err := tsbs.ReadInflux(strings.NewReader(in), func(p *tsbs.Point) error {
		fmt.Println(p.Measurement, p.Tags, p.Fields[0].Name, p.Fields[0].Int, p.Time)
		os.Stdout.Write(p.AppendInflux(nil))
		return nil
	})
	fmt.Println(err)
	// Output:
	// cpu [{hostname host_0} {region eu-west-1}] usage_user 58 1704067200000000000
	// cpu,hostname=host_0,region=eu-west-1 usage_user=58i,usage_system=2i 1704067200000000000
	// <nil>
}
