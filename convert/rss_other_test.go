//go:build !linux

package convert

func resetPeakRSS()  {}
func peakRSS() int64 { return 0 }
