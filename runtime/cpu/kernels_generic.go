package cpu

const kernelName = "portable"

func dotF32(a, b []float32) float32           { return dotF32Go(a, b) }
func dotF16(w []uint16, x []float32) float32  { return dotF16Go(w, x) }
func dotBF16(w []uint16, x []float32) float32 { return dotBF16Go(w, x) }
func dotQ8(q []byte, x []float32) float32     { return dotQ8Go(q, x) }
