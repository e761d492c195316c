package magnetic

import (
	"github.com/tidaldb/tidal/internal/fileutil"

	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tidaldb/tidal/magnetic/encoding"
)

// Partition widths. A table's partitions all have one of these widths,
// chosen when its first part is written (see Options) and never changed.
const (
	// HourPartitionWidth is the width of very high-rate tables.
	HourPartitionWidth = time.Hour
	// DefaultPartitionWidth is the width of tables without a layout file
	// (all format version 1 data) and of medium-rate tables.
	DefaultPartitionWidth = 24 * time.Hour
	// WeekPartitionWidth is the width of very low-rate tables; week
	// partitions start on Monday 00:00 UTC.
	WeekPartitionWidth = 7 * 24 * time.Hour
)

// Default thresholds of the width rule (rows per day).
const (
	DefaultHourPartitionRowsPerDay = 50_000_000
	DefaultWeekPartitionRowsPerDay = 100_000
)

// minRateSpan is the shortest time span a rate estimate divides by, so that
// a first write of a few rows at one instant never looks like a high rate.
const minRateSpan = time.Hour

// partitionOrigin is the first Monday of the Unix epoch, 1970-01-05T00:00Z:
// partitions of every width are aligned to it. Hour and day boundaries are
// the same as with origin 0; week partitions start on Mondays.
const partitionOrigin = int64(4 * 24 * time.Hour)

const (
	layoutFile    = "layout"
	layoutMagic   = "TIDALLAY"
	layoutVersion = 1
	layoutSize    = 24
)

// ErrBadLayout reports a table layout file whose bytes do not follow
// docs/format/part.md, or a partition directory that does not fit its
// table's layout.
var ErrBadLayout = errors.New("magnetic: bad table layout")

// validWidth reports whether w is one of the supported partition widths.
func validWidth(w time.Duration) bool {
	return w == HourPartitionWidth || w == DefaultPartitionWidth || w == WeekPartitionWidth
}

// chooseWidth applies the width rule to a first write of rows rows whose
// times span [minT, maxT]: the rate is rows per day over the span (at least
// minRateSpan); above hourRows per day the width is one hour, below
// weekRows one week, else one day.
func chooseWidth(rows int, minT, maxT int64, hourRows, weekRows int64) time.Duration {
	span := float64(maxT) - float64(minT)
	span = max(span, float64(minRateSpan))
	perDay := float64(rows) * float64(24*time.Hour) / span
	switch {
	case perDay > float64(hourRows):
		return HourPartitionWidth
	case perDay < float64(weekRows):
		return WeekPartitionWidth
	}
	return DefaultPartitionWidth
}

// encodeLayout returns the bytes of a layout file: magic, u32 version,
// u64 width in nanoseconds, u32 CRC-32C of the preceding 20 bytes.
func encodeLayout(w time.Duration) []byte {
	b := make([]byte, 0, layoutSize)
	b = append(b, layoutMagic...)
	b = binary.LittleEndian.AppendUint32(b, layoutVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(w))
	return binary.LittleEndian.AppendUint32(b, encoding.Checksum(b))
}

// decodeLayout parses a layout file written by encodeLayout.
func decodeLayout(b []byte) (time.Duration, error) {
	if len(b) != layoutSize || string(b[:8]) != layoutMagic {
		return 0, fmt.Errorf("%w: size %d or magic", ErrBadLayout, len(b))
	}
	if encoding.Checksum(b[:20]) != binary.LittleEndian.Uint32(b[20:]) {
		return 0, fmt.Errorf("%w: checksum mismatch", ErrBadLayout)
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != layoutVersion {
		return 0, fmt.Errorf("%w: version %d", ErrUnsupportedVersion, v)
	}
	w := binary.LittleEndian.Uint64(b[12:])
	if w > math.MaxInt64 || !validWidth(time.Duration(w)) {
		return 0, fmt.Errorf("%w: width %d ns", ErrBadLayout, w)
	}
	return time.Duration(w), nil
}

// readLayout returns the width in tdir's layout file, or 0 if it has none.
func readLayout(tdir string) (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(tdir, layoutFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read layout: %w", err)
	}
	w, err := decodeLayout(b)
	if err != nil {
		return 0, fmt.Errorf("read layout %s: %w", tdir, err)
	}
	return w, nil
}

// writeLayout makes the layout file of a table durable: it creates the
// table directory if needed, writes layout.tmp, fsyncs it, renames it to
// layout and fsyncs the table directory.
func writeLayout(fsys fileutil.FS, tdir string, w time.Duration) error {
	if err := ensureDir(fsys, tdir); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	if err := fileutil.WriteFileAtomic(fsys, filepath.Join(tdir, layoutFile), encodeLayout(w), 0o644); err != nil {
		return fmt.Errorf("write layout: %w", err)
	}
	return nil
}

// partitionStart returns the start of the partition of width w holding
// time t (ns), and false if that start is before the first representable
// time.
func partitionStart(t int64, w time.Duration) (int64, bool) {
	wi := int64(w)
	m := (t%wi - partitionOrigin%wi) % wi
	if m < 0 {
		m += wi
	}
	if t < math.MinInt64+m {
		return 0, false
	}
	return t - m, true
}

// partitionLast returns the last nanosecond of the partition of width w
// starting at start, saturating at math.MaxInt64.
func partitionLast(start int64, w time.Duration) int64 {
	if start > math.MaxInt64-int64(w)+1 {
		return math.MaxInt64
	}
	return start + int64(w) - 1
}

// Partition directory names: sortable and unambiguous per width.
const (
	hourDirLayout = "2006010215" // then "h"
	dayDirLayout  = "20060102"
	weekDirLayout = "20060102" // then "w", a Monday
)

// partitionName returns the directory name of the partition of width w
// starting at start.
func partitionName(start int64, w time.Duration) string {
	t := time.Unix(0, start).UTC()
	switch w {
	case HourPartitionWidth:
		return t.Format(hourDirLayout) + "h"
	case WeekPartitionWidth:
		return t.Format(weekDirLayout) + "w"
	}
	return t.Format(dayDirLayout)
}

// parsePartitionName parses a partition directory name of any width. It
// returns false for names that are not partition directories; a name is
// accepted only if it is exactly what partitionName prints for an aligned
// partition start.
func parsePartitionName(name string) (start int64, w time.Duration, ok bool) {
	layout := dayDirLayout
	w = DefaultPartitionWidth
	digits := name
	switch {
	case len(name) == len(hourDirLayout)+1 && strings.HasSuffix(name, "h"):
		layout, w, digits = hourDirLayout, HourPartitionWidth, name[:len(name)-1]
	case len(name) == len(weekDirLayout)+1 && strings.HasSuffix(name, "w"):
		layout, w, digits = weekDirLayout, WeekPartitionWidth, name[:len(name)-1]
	case len(name) != len(dayDirLayout):
		return 0, 0, false
	}
	if _, err := strconv.ParseUint(digits, 10, 64); err != nil {
		return 0, 0, false
	}
	t, err := time.Parse(layout, digits)
	if err != nil {
		return 0, 0, false
	}
	start = t.UnixNano()
	if st, ok := partitionStart(start, w); !ok || st != start || partitionName(start, w) != name {
		return 0, 0, false
	}
	return start, w, true
}
