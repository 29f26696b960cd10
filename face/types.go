package face

// Point is a position in image pixels.
type Point struct {
	X, Y float64
}
