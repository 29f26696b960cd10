package enroll

import (
	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/imgproc"
)

// checkCaptureSize reads the image's header and refuses, before a single
// pixel is decoded, a size no capture device of the sample's modality
// produces: a few kilobytes of PNG can declare 10000×10000 pixels, which
// would take seconds and hundreds of megabytes to decode and search.
// Bytes whose header does not read are left to the decoder to report.
func checkCaptureSize(smp *huella.Sample, data []byte) error {
	h, err := imgproc.ReadHeader(data)
	if err != nil {
		return nil
	}
	limit := imgproc.LimitFor(string(smp.Modality), smp.PPI)
	if err := limit.Check(h.Width, h.Height); err != nil {
		where := ""
		if smp.Modality == huella.ModalityFinger && smp.PPI <= 600 {
			where = " up to 600 ppi (declare ppi for a 1000 ppi print)"
		}
		return huella.Errorf(huella.EINVALID, "%s image of %dx%d pixels is larger than a %s capture%s: at most %dx%d",
			h.Format, h.Width, h.Height, smp.Modality, where, limit.MaxSide, limit.MaxSide)
	}
	return nil
}
