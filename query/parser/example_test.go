package parser_test

import (
	"fmt"

	"github.com/tidaldb/tidal/query/parser"
)

func ExampleParse() {
	st, err := parser.Parse(`select bin(time, 60s) as minute, max(measure_value::double) from "devops"."cpu"
		where time > ago(1h) and hostname IN ('host_1', 'host_2') group by 1 order by 1 desc limit 5`)
	if err != nil {
		fmt.Println(err)
		return
	}
	sel := st.(*parser.Query).Body.(*parser.Select)
	fmt.Println(sel.From[0].(*parser.Table).Name.Parts[1].Value)
	fmt.Println(parser.Format(st))

	_, err = parser.Parse("SELECT a, b FORM t")
	fmt.Println(err)
	// Output:
	// cpu
	// SELECT bin(time, 1m) AS minute, max(measure_value::double) FROM "devops"."cpu" WHERE time > ago(1h) AND hostname IN ('host_1', 'host_2') GROUP BY 1 ORDER BY 1 DESC LIMIT 5
	// line 1:18: mismatched input 't'. Expecting: ',', ';', 'EXCEPT', 'FROM', 'GROUP', 'HAVING', 'INTERSECT', 'LIMIT', 'OFFSET', 'ORDER', 'UNION', 'WHERE', <EOF>
}

func ExampleParseExpr() {
	e, err := parser.ParseExpr("time BETWEEN @scheduled_runtime - 1h AND @scheduled_runtime")
	if err != nil {
		fmt.Println(err)
		return
	}
	b := e.(*parser.Between)
	fmt.Println(b.Low.(*parser.Binary).R.(*parser.Duration).Nanos)
	// Output:
	// 3600000000000
}
