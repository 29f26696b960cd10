//go:build !amd64 || purego

package face

func dotInt8(codes []int8, probe []int16, dots []int32) { dotInt8Go(codes, probe, dots) }
