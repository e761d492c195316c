// Package plugin is the backend of TidalDB's Grafana data source. It owns
// the translation between Grafana's plugin protocol and TidalDB's
// Timestream-compatible Query API: settings and credentials (basic, bearer,
// SigV4), the Timestream macros, running a query with NextToken paging and
// cancellation, turning results into data frames (table, time series, one
// frame per TIMESERIES value), the health check, and the resource calls
// behind the query editor's pickers.
package plugin
