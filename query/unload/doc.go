// Package unload owns Timestream's UNLOAD statement: it reads the
// statement's TO target and WITH options, runs the inner SELECT through
// exec.Engine.Stream and writes the rows, as they come, into CSV or
// Parquet files (optionally gzip-compressed and partitioned into
// col=value folders) on a Target (file:// under a configured root, or
// s3:// on an S3-compatible endpoint), then writes Timestream's manifest
// and metadata files and answers with Timestream's UNLOAD result row
// (rows, metadataFile, manifestFile).
//
// Engine wraps an exec.Engine so that the Query API runs UNLOAD like any
// other statement; everything else passes through untouched. The result
// is never materialised: at most one row group per open output file is
// buffered (Parquet), or one upload part per open file (s3://).
//
// Layout under TO 'scheme://bucket/prefix/' (QID is the query's id):
//
//	prefix/results/[col=value/...]QID_<n>.csv[.gz] | .parquet
//	prefix/QID_manifest.json
//	prefix/QID_metadata.json
//
// The manifest and metadata files are written last and only when every
// data file is complete, so a failed UNLOAD leaves no manifest.
package unload
