package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ReportVersion is the version of the JSON schema of Report.
const ReportVersion = 1

// Report is the result of Run. Its JSON form (WriteJSON) is the
// machine-readable output of `fsmeta bench --json`:
//
//	{
//	  "version": 1,                      // ReportVersion
//	  "started": "2026-12-02T12:00:00Z", // RFC 3339, UTC
//	  "items_per_client": 2000,
//	  "clients": 4,
//	  "phases": ["mkdir", ...],          // in the order they ran
//	  "modes": ["unique", "shared"],
//	  "results": [{
//	    "target": "memkv", "mode": "unique", "phase": "mkdir",
//	    "ops": 8000,                     // items_per_client * clients
//	    "seconds": 0.41,                 // wall time of the phase
//	    "ops_per_sec": 19512.2,
//	    "p50_us": 180.2, "p99_us": 950.1, "max_us": 4100.7, // per-op latency
//	    "retries": 3                     // transaction retries; absent when the FS does not count them
//	  }, ...],
//	  "fsck": [{"target": "memkv", "ok": true, "inodes": 1, "dirs": 1, "entries": 0, "problems": []}]
//	}
type Report struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	Items   int       `json:"items_per_client"`
	Clients int       `json:"clients"`
	Phases  []string  `json:"phases"`
	Modes   []string  `json:"modes"`
	Results []Result  `json:"results"`
	Fsck    []Fsck    `json:"fsck"`
}

// Result is one phase of one mode on one target.
type Result struct {
	Target    string  `json:"target"`
	Mode      string  `json:"mode"`
	Phase     string  `json:"phase"`
	Ops       int     `json:"ops"`
	Seconds   float64 `json:"seconds"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50       float64 `json:"p50_us"`
	P99       float64 `json:"p99_us"`
	Max       float64 `json:"max_us"`
	Retries   *int64  `json:"retries,omitempty"`
}

// Fsck is the consistency check of one target after its run.
type Fsck struct {
	Target   string   `json:"target"`
	OK       bool     `json:"ok"`
	Inodes   int      `json:"inodes"`
	Dirs     int      `json:"dirs"`
	Entries  int      `json:"entries"`
	Problems []string `json:"problems"`
}

// OK reports whether fsck found every target clean.
func (r *Report) OK() bool {
	for _, f := range r.Fsck {
		if !f.OK {
			return false
		}
	}
	return true
}

func summarize(target, mode, phase string, lat []time.Duration, wall time.Duration) Result {
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	res := Result{Target: target, Mode: mode, Phase: phase, Ops: len(lat), Seconds: wall.Seconds()}
	if wall > 0 {
		res.OpsPerSec = float64(len(lat)) / wall.Seconds()
	}
	if len(lat) > 0 {
		res.P50 = us(percentile(lat, 50))
		res.P99 = us(percentile(lat, 99))
		res.Max = us(lat[len(lat)-1])
	}
	return res
}

// percentile is the nearest-rank percentile p of sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the summary table, names left-aligned and figures
// right-aligned, and the fsck lines.
func (r *Report) WriteTable(w io.Writer) error {
	rows := [][]string{{"target", "mode", "phase", "ops", "seconds", "ops/s", "p50", "p99", "retries"}}
	for _, x := range r.Results {
		retries := "-"
		if x.Retries != nil {
			retries = strconv.FormatInt(*x.Retries, 10)
		}
		rows = append(rows, []string{x.Target, x.Mode, x.Phase, strconv.Itoa(x.Ops),
			fmt.Sprintf("%.3f", x.Seconds), fmt.Sprintf("%.0f", x.OpsPerSec), fmtUS(x.P50), fmtUS(x.P99), retries})
	}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, c := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i < 3:
				b.WriteString(c + pad)
			default:
				b.WriteString(pad + c)
			}
			if i < len(row)-1 {
				b.WriteString("  ")
			}
		}
		b.WriteString("\n")
	}
	for _, f := range r.Fsck {
		state := "clean"
		if !f.OK {
			state = fmt.Sprintf("%d PROBLEMS", len(f.Problems))
		}
		fmt.Fprintf(&b, "fsck %s: %d inodes, %d directories, %d entries: %s\n", f.Target, f.Inodes, f.Dirs, f.Entries, state)
		for _, p := range f.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtUS formats microseconds as a short duration.
func fmtUS(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.2fs", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.2fms", us/1e3)
	default:
		return fmt.Sprintf("%.0fµs", us)
	}
}
