package finger

import (
	"fmt"
	"math"

	"github.com/huella-abis/huella/iso19794"
)

// Minutia directions: ours run from the x axis towards the y axis of the
// image (y pointing down) and point away from the ridge for endings; the
// records count counter-clockwise with the opposite sense. Measured on the
// SecuGen-made ISO templates beside FVC2002: record = π − ours.
func recordAngle(direction float64) float64 { return normAngle(math.Pi - direction) }

// Record converts the template to a one-view finger minutiae record of the
// given format (ISO/IEC 19794-2:2005 or ANSI INCITS 378) at 500 ppi.
func (t *Template) Record(format iso19794.FingerFormat, position iso19794.FingerPosition) *iso19794.FingerMinutiaeRecord {
	const ppcm = 197 // 500 ppi
	v := iso19794.FingerView{Position: position, Quality: uint8(min(max(t.Quality, 0), 100))}
	for _, m := range t.Minutiae {
		typ := iso19794.MinutiaEnding
		if m.Type == Bifurcation {
			typ = iso19794.MinutiaBifurcation
		}
		v.Minutiae = append(v.Minutiae, iso19794.Minutia{
			Type:    typ,
			X:       uint16(m.X),
			Y:       uint16(m.Y),
			Angle:   format.RawAngle(recordAngle(m.Direction) * 180 / math.Pi),
			Quality: max(m.Quality, 1),
		})
	}
	if format == iso19794.FingerANSI378v2007 {
		v.Width, v.Height, v.XResolution, v.YResolution = uint16(t.Width), uint16(t.Height), ppcm, ppcm
	}
	return &iso19794.FingerMinutiaeRecord{
		Format: format,
		Width:  uint16(t.Width), Height: uint16(t.Height),
		XResolution: ppcm, YResolution: ppcm,
		Views: []iso19794.FingerView{v},
	}
}

// TemplateFromRecord converts view i of a finger minutiae record to a
// template at 500 ppi (rescaling by the record's resolution, 500 ppi when
// it gives none).
func TemplateFromRecord(r *iso19794.FingerMinutiaeRecord, i int) (*Template, error) {
	if r == nil || i < 0 || i >= len(r.Views) {
		return nil, fmt.Errorf("finger: record has no view %d", i)
	}
	w, h, xres, yres := r.ImageGeometry(i)
	sx, sy := 1.0, 1.0
	if xres != 0 {
		sx = StandardPPI / iso19794.PixelsPerInch(xres)
	}
	if yres != 0 {
		sy = StandardPPI / iso19794.PixelsPerInch(yres)
	}
	if sx < 0.25 || sx > 4 || sy < 0.25 || sy > 4 {
		return nil, fmt.Errorf("%w: resolution %dx%d px/cm", ErrBadResolution, xres, yres)
	}
	v := &r.Views[i]
	t := &Template{Width: int(math.Round(float64(w) * sx)), Height: int(math.Round(float64(h) * sy)), Quality: int(min(v.Quality, 100))}
	for _, m := range v.Minutiae {
		typ := Ending
		if m.Type == iso19794.MinutiaBifurcation {
			typ = Bifurcation
		}
		x, y := int(math.Round(float64(m.X)*sx)), int(math.Round(float64(m.Y)*sy))
		t.Width, t.Height = max(t.Width, x+1), max(t.Height, y+1)
		t.Minutiae = append(t.Minutiae, Minutia{
			X: x, Y: y, Type: typ,
			Direction: normAngle(math.Pi - m.Radians(r.Format)),
			Quality:   min(m.Quality, 100),
		})
	}
	return t, nil
}
