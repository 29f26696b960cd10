package console

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"

	"github.com/huella-abis/huella"
	"github.com/huella-abis/huella/imgproc"
	"github.com/huella-abis/huella/wsq"
)

// browserFormats are the image formats browsers show as they are; others
// are converted to PNG for display.
var browserFormats = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "bmp": "image/bmp"}

// handleImage serves a sample's image, decrypted, after auditing the read
// as the API does (sample.read). WSQ, TIFF and PGM images are converted to
// grey PNG so that any browser shows them.
func (c *Console) handleImage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	smp, e, err := c.cfg.Store.FindSample(ctx, r.PathValue("id"))
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	if !req.user.CanAccessSite(e.SiteCode) {
		c.renderError(w, r, req.user, huella.Errorf(huella.EFORBIDDEN, "the sample is at a site you do not work at"))
		return
	}
	c.serveImage(w, r, req, smp, e.SiteCode, string(smp.Modality))
}

// serveImage sends a sample's image, decrypted and in a format browsers
// show, after auditing the read (sample.read, with the site and detail
// given).
func (c *Console) serveImage(w http.ResponseWriter, r *http.Request, req *request, smp *huella.Sample, site, detail string) {
	ctx := r.Context()
	data, err := c.cfg.Blobs.Get(ctx, smp.ImageRef)
	if err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	contentType, ok := browserFormats[smp.Format]
	if !ok {
		if data, err = toPNG(smp.Format, data); err != nil {
			c.renderError(w, r, req.user, err)
			return
		}
		contentType = "image/png"
	}
	if err := c.audit(ctx, huella.ActionSampleRead, "sample/"+smp.ID, site, detail); err != nil {
		c.renderError(w, r, req.user, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(data)
}

// toPNG converts a stored image the browser cannot show to grey PNG.
func toPNG(format string, data []byte) ([]byte, error) {
	var err error
	var buf bytes.Buffer
	if format == "wsq" {
		f, derr := wsq.DecodeFile(data)
		if derr != nil {
			return nil, fmt.Errorf("console: decode wsq: %w", derr)
		}
		err = png.Encode(&buf, f.Image)
	} else {
		g, derr := imgproc.DecodeGray(data)
		if derr != nil {
			return nil, huella.Errorf(huella.EUNSUPPORTED, "the %s image cannot be shown", format)
		}
		err = png.Encode(&buf, g)
	}
	if err != nil {
		return nil, fmt.Errorf("console: encode png: %w", err)
	}
	return buf.Bytes(), nil
}
