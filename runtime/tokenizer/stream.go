package tokenizer

import "strings"

// StreamDecoder turns ids into text as they arrive, emitting only complete UTF-8 characters.
//
// It decodes a short window of ids: the tokens last emitted (context, so that decoders that look
// at the first token, like Strip or Metaspace, treat the new ones as Decode would) followed by
// the pending ones, and emits what the window's text adds to the context's text once it does
// not end in U+FFFD (a character whose bytes have not all arrived). The concatenation of Add and
// Flush outputs equals Decode of all ids, except where a byte-fallback run that already formed a
// character is followed by bytes that make the run invalid (HF then replaces every byte of the
// run; text already emitted cannot be taken back).
type StreamDecoder struct {
	t          *Tokenizer
	ids        []int // context then pending
	nctx       int   // leading ids of ids already emitted
	prefixText string
}

// pendingLimit bounds the window while text keeps ending in U+FFFD (invalid bytes rather than an
// unfinished character: a character takes at most 4 byte tokens), keeping Add linear.
const pendingLimit = 16

// NewStreamDecoder starts a stream.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder { return &StreamDecoder{t: t} }

// Add takes the next id and returns the text it completes (possibly "").
func (d *StreamDecoder) Add(id int) string {
	d.ids = append(d.ids, id)
	text := d.t.Decode(d.ids)
	if len(text) <= len(d.prefixText) || !strings.HasPrefix(text, d.prefixText) {
		return ""
	}
	if strings.HasSuffix(text, "\uFFFD") && len(d.ids)-d.nctx < pendingLimit {
		return ""
	}
	out := text[len(d.prefixText):]
	d.ids = append(d.ids[:0], d.ids[d.nctx:]...)
	d.nctx = len(d.ids)
	d.prefixText = d.t.Decode(d.ids)
	return out
}

// Flush returns the text still held back and resets the stream.
func (d *StreamDecoder) Flush() string {
	text := d.t.Decode(d.ids)
	out := ""
	if strings.HasPrefix(text, d.prefixText) {
		out = text[len(d.prefixText):]
	}
	d.ids, d.nctx, d.prefixText = d.ids[:0], 0, ""
	return out
}
