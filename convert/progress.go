package convert

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line bar with bytes and rate, at most ten times a
// second. A nil writer makes every method a no-op.
type progress struct {
	w     io.Writer
	total int64
	n     int64
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

func (p *progress) add(n int64) {
	if p.w == nil {
		return
	}
	p.n += n
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || p.n == p.total {
		p.last = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.n) / float64(p.total)
	}
	k := int(frac * width)
	rate := 0.0
	if s := now.Sub(p.start).Seconds(); s > 0 {
		rate = float64(p.n) / s
	}
	fmt.Fprintf(p.w, "\r[%s%s] %s / %s  %s/s ", strings.Repeat("=", k), strings.Repeat(" ", width-k),
		humanBytes(float64(p.n)), humanBytes(float64(p.total)), humanBytes(rate))
}

func (p *progress) done() {
	if p.w == nil {
		return
	}
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}

func humanBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", b, units[i])
	}
	return fmt.Sprintf("%.2f %s", b, units[i])
}
