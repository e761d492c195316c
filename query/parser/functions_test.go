package parser

import (
	"strings"
	"testing"
)

// referenceFunctions lists every function named in the Timestream query
// language reference (docs/../reference timestream.md section 5).
const referenceFunctions = `CREATE_TIME_SERIES bin ago from_milliseconds from_nanoseconds to_milliseconds
to_nanoseconds interpolate_linear interpolate_spline_cubic interpolate_locf interpolate_fill
derivative_linear non_negative_derivative_linear integral_trapezoidal correlate_pearson
correlate_spearman filter reduce transform now current_timezone date last_day_of_month
from_iso8601_timestamp from_iso8601_date to_iso8601 from_unixtime to_unixtime date_trunc date_add
date_diff parse_duration human_readable_seconds date_format date_parse format_datetime
parse_datetime year quarter month week week_of_year day day_of_month day_of_week dow day_of_year
doy hour minute second millisecond year_of_week yow count count_if sum avg min max min_by max_by
arbitrary array_agg bool_and every bool_or geometric_mean bitwise_and_agg bitwise_or_agg map_agg
map_union multimap_agg approx_distinct approx_percentile stddev stddev_pop stddev_samp variance
var_pop var_samp corr covar_pop covar_samp regr_intercept regr_slope skewness kurtosis row_number
rank dense_rank percent_rank cume_dist ntile first_value last_value nth_value lag lead IF COALESCE
NULLIF TRY typeof GREATEST LEAST abs cbrt ceil ceiling degrees e exp floor ln log2 log10 mod pi pow
power radians rand random round sign sqrt truncate to_base from_base acos asin atan atan2 cos cosh
sin tan tanh infinity nan is_finite is_infinite is_nan chr codepoint concat hamming_distance length
levenshtein_distance lower upper lpad rpad ltrim rtrim trim replace reverse split split_part strpos
position substr to_utf8 from_utf8 regexp_extract_all regexp_extract regexp_like regexp_replace
regexp_split element_at cardinality contains array_distinct array_intersect array_union
array_except array_join array_max array_min array_position array_remove array_sort arrays_overlap
flatten ngrams repeat sequence shuffle slice zip zip_with bit_count bitwise_and bitwise_not
bitwise_or bitwise_xor to_base64 from_base64 xxhash64`

func TestReferenceFunctions(t *testing.T) {
	for _, name := range strings.Fields(referenceFunctions) {
		for _, args := range []string{"", "x", "x, 1h", "DISTINCT x", "x, y -> y + 1"} {
			sql := "SELECT " + name + "(" + args + ") FROM db.t"
			st, err := Parse(sql)
			if err != nil {
				t.Errorf("Parse(%q): %v", sql, err)
				continue
			}
			c, ok := st.(*Query).Body.(*Select).Items[0].Expr.(*Call)
			if !ok || len(c.Name.Parts) != 1 || c.Name.Parts[0].Value != name {
				t.Errorf("Parse(%q) item = %#v, want a call to %s", sql, st.(*Query).Body.(*Select).Items[0].Expr, name)
				continue
			}
			if got := Format(st); got != sql {
				t.Errorf("Format(Parse(%q)) = %q", sql, got)
			}
		}
	}
}
