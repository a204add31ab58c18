package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes r as readable tables.
func WriteTable(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	s := r.Shape
	p("model      %s (revision %d)\n", r.Model, r.Revision)
	p("shape      %d layers (%d attention, %d Mamba-2), hidden %d, ffn %d, vocab %d, %s, %.3g M params\n",
		s.Layers, s.AttentionLayers, s.MambaLayers, s.Hidden, s.Intermediate, s.Vocab, s.DType, float64(s.Params)/1e6)
	p("backend    %s on %s\n", r.Backend, r.Device)
	p("weights    %.1f MB read per token: %s\n", float64(r.Weights.BytesPerToken)/1e6, r.Weights.Counted)
	if r.Bandwidth.BytesPerSec > 0 {
		p("bandwidth  %.1f GB/s: %s\n", r.Bandwidth.BytesPerSec/1e9, r.Bandwidth.Method)
	}
	p("context    %d positions in the session; prefill in passes of %d rows\n", r.MaxContext, r.PrefillChunk)
	for _, n := range r.Notes {
		p("note       %s\n", n)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	row := func(cells ...any) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprint(tw, "\t\n")
	}
	d := r.Decode
	fmt.Fprintf(tw, "\ndecode: batch 1, greedy, %d tokens after a %d-token prompt, each fed to the next step by the %s\n", d.Tokens, d.PromptTokens, d.Feed)
	row("tok/s", "ms/token", "limit tok/s", "fraction of bandwidth")
	row(f1(d.TokensPerSec), fmt.Sprintf("%.3f", d.MsPerToken), f1(d.LimitTokensPerSec), fmt.Sprintf("%.3f", d.BandwidthFraction))
	if len(r.Prefill) > 0 {
		fmt.Fprintf(tw, "\nprefill from an empty context\n")
		row("tokens", "tok/s", "best tok/s", "seconds")
		for _, x := range r.Prefill {
			row(x.Tokens, f1(x.TokensPerSec), f1(x.BestTokensPerSec), fmt.Sprintf("%.4f", x.Seconds))
		}
	}
	if len(r.Context) > 0 {
		fmt.Fprintf(tw, "\ndecode at long context (fraction counts KV cache and SSM state bytes too)\n")
		row("context", "tokens", "tok/s", "vs first", "state MB/token", "fraction of bandwidth")
		for _, x := range r.Context {
			row(x.Context, x.Tokens, f1(x.TokensPerSec), fmt.Sprintf("%.3f", x.RelativeToFirst),
				fmt.Sprintf("%.2f", float64(x.StateBytesPerToken)/1e6), fmt.Sprintf("%.3f", x.BandwidthFraction))
		}
	}
	for _, pr := range r.Profile {
		fmt.Fprintf(tw, "\nprofile: %s (%d tokens; %s; ops %.3f ms of %.3f ms wall)\n",
			pr.Phase, pr.Tokens, pr.Method, pr.OpSeconds*1e3, pr.WallSeconds*1e3)
		// The op name comes last: a line's last cell is left out of the
		// right-aligned columns, so names read left-aligned.
		fmt.Fprint(tw, "count\tms\tµs/token\tshare\t  op\n")
		for _, op := range pr.Ops {
			fmt.Fprintf(tw, "%d\t%.3f\t%.1f\t%.1f%%\t  %s\n", op.Count, op.Seconds*1e3,
				op.Seconds*1e6/float64(max(pr.Tokens, 1)), 100*op.Share, op.Op)
		}
	}
	return tw.Flush()
}

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }
